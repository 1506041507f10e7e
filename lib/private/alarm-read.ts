import { PhysicalName, Stack, Validations, type CfnResource } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { nagText } from './nag-text';

/** What the reconciliation sweep calls on CloudWatch: reads of alarms, their contributors and mute rules. */
export const ALARM_READ_ACTIONS = [
  'cloudwatch:DescribeAlarms',
  'cloudwatch:DescribeAlarmContributors',
  'cloudwatch:ListAlarmMuteRules',
  'cloudwatch:GetAlarmMuteRule',
] as const;

export const ALARM_READ_NAG_REASON =
  'The sweep needs cloudwatch:DescribeAlarms on "*": CloudWatch returns composite alarms only to callers allowed it on "*" ' +
  '(https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html). ' +
  "DescribeAlarmContributors is on this account's alarms, the mute-rule reads on its mute rules, each of which " +
  'the sweep reads all of: read-only.';

/**
 * The read-only statements of the sweep on one account's alarms: `region` limits them to one region (a read role),
 * or `'*'` (the sweep's own role, which reads its account in every region an intake serves).
 */
export function alarmReadStatements(scope: Construct, region: string): iam.PolicyStatement[] {
  const stack = Stack.of(scope);
  const arn = (resource: string) =>
    `arn:${stack.partition}:cloudwatch:${region}:${stack.account}:${resource}:*`;
  const conditions = region === '*' ? undefined : { StringEquals: { 'aws:RequestedRegion': region } };
  return [
    new iam.PolicyStatement({
      sid: 'DescribeAlarms',
      actions: ['cloudwatch:DescribeAlarms'],
      resources: ['*'],
      conditions,
    }),
    new iam.PolicyStatement({
      sid: 'DescribeAlarmContributors',
      actions: ['cloudwatch:DescribeAlarmContributors'],
      resources: [arn('alarm')],
      conditions,
    }),
    // The service authorization reference puts both on the alarm-mute-rule resource type.
    new iam.PolicyStatement({
      sid: 'ReadAlarmMuteRules',
      actions: ['cloudwatch:ListAlarmMuteRules', 'cloudwatch:GetAlarmMuteRule'],
      resources: [arn('alarm-mute-rule')],
      conditions,
    }),
  ];
}

/**
 * Acknowledges the wildcards of `alarmReadStatements` on the role's policy, each with its reason; and tells cfn-lint
 * (1.51, whose IAM action list predates DescribeAlarmContributors: W3037) that the action is known.
 */
export function acknowledgeAlarmRead(role: iam.Role, region: string, extraReason = ''): void {
  const policy = role.node.tryFindChild('DefaultPolicy');
  if (!policy) return;
  const stack = Stack.of(role);
  const wildcards = alarmReadStatements(role, region)
    .flatMap((statement) =>
      [(statement.toStatementJson() as { Resource: string | string[] }).Resource].flat(),
    )
    .filter((resource) => resource !== '*');
  Validations.of(policy).acknowledge(
    { id: 'AwsSolutions-IAM5[Resource::*]', reason: ALARM_READ_NAG_REASON + extraReason },
    ...wildcards.map((resource) => ({
      id: `AwsSolutions-IAM5[Resource::${nagText(stack, resource)}]`,
      reason: ALARM_READ_NAG_REASON,
    })),
  );
  const cfn = policy.node.defaultChild as CfnResource | undefined;
  cfn?.addMetadata('cfn-lint', { config: { ignore_checks: ['W3037'] } });
}

/** Properties of {@link SweepReadRole}; a `RegionalIntake` in another account creates it while the sweep is on. */
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
  /** The role the sweep assumes to read this account's alarms in this region. */
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
    acknowledgeAlarmRead(this.role, region);
  }
}
