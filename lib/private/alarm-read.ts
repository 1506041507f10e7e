import { PhysicalName, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** What the reconciliation sweep calls on CloudWatch: reads of alarms, their contributors and mute rules. */
export const ALARM_READ_ACTIONS = [
  'cloudwatch:DescribeAlarms',
  'cloudwatch:DescribeAlarmContributors',
  'cloudwatch:ListAlarmMuteRules',
  'cloudwatch:GetAlarmMuteRule',
] as const;

export const ALARM_READ_NAG_REASON =
  'CloudWatch returns composite alarms only to callers allowed cloudwatch:DescribeAlarms on "*" ' +
  '(https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html), and ' +
  'ListAlarmMuteRules is a list call; DescribeAlarmContributors is on this account\'s alarms, GetAlarmMuteRule on ' +
  "its mute rules (both ARN spellings AWS documents). Read-only; the sweep reads every wired alarm's state.";

/**
 * The read-only statements of the sweep on one account's alarms: `region` limits them to one region (a read role),
 * or `'*'` (the sweep's own role, which reads its account in every region an intake serves).
 */
export function alarmReadStatements(scope: Construct, region: string): iam.PolicyStatement[] {
  const stack = Stack.of(scope);
  const arn = (resource: string) => `arn:${stack.partition}:cloudwatch:${region}:${stack.account}:${resource}:*`;
  const conditions = region === '*' ? undefined : { StringEquals: { 'aws:RequestedRegion': region } };
  return [
    new iam.PolicyStatement({
      sid: 'DescribeAlarmsAndListMuteRules',
      actions: ['cloudwatch:DescribeAlarms', 'cloudwatch:ListAlarmMuteRules'],
      resources: ['*'],
      conditions,
    }),
    new iam.PolicyStatement({
      sid: 'DescribeAlarmContributors',
      actions: ['cloudwatch:DescribeAlarmContributors'],
      resources: [arn('alarm')],
      conditions,
    }),
    new iam.PolicyStatement({
      sid: 'GetAlarmMuteRule',
      actions: ['cloudwatch:GetAlarmMuteRule'],
      resources: [arn('alarm-mute-rule'), arn('alarm-mute')],
      conditions,
    }),
  ];
}

export interface SweepReadRoleProps {
  /** The central sweep's role: the only principal that may assume this one. */
  readonly sweepRole: iam.IRole;
  /** The central account. */
  readonly centralAccount: string;
}

/**
 * A read-only role in another account for the central reconciliation sweep: it reads this account's alarms in this
 * stack's region. Only the sweep's role may assume it: the central account is the principal and `aws:PrincipalArn`
 * must be the sweep role's ARN, which needs no role to exist yet (the intake deploys before the central stack).
 */
export class SweepReadRole extends Construct {
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: SweepReadRoleProps) {
    super(scope, id);
    const region = Stack.of(this).region;
    this.role = new iam.Role(this, 'Role', {
      // Named (from the stack and path) because the central stack names it in RECONCILE_SOURCES and its policy.
      roleName: PhysicalName.GENERATE_IF_NEEDED,
      description: `The central alarm-to-PagerDuty sweep reads this account's alarms in ${region}`,
      assumedBy: new iam.AccountPrincipal(props.centralAccount).withConditions({
        ArnEquals: { 'aws:PrincipalArn': props.sweepRole.roleArn },
      }),
    });
    for (const statement of alarmReadStatements(this, region)) this.role.addToPrincipalPolicy(statement);
    const policy = this.role.node.tryFindChild('DefaultPolicy');
    if (policy) Validations.of(policy).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: ALARM_READ_NAG_REASON });
  }
}
