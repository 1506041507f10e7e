import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Node } from 'constructs';
import { Construct } from 'constructs';
import { AlarmToPagerDuty, type AlarmToPagerDutyProps } from '../lib/alarm-to-pagerduty';
import { ContextReader } from './context-reader';
import type { IntakeEnvironment } from '../lib/regional-intake';

export const DEFAULT_ROUTING_KEY_SECRET_NAME = 'pagerduty/routing-key';
export const EXAMPLE_RUNBOOK_URL = 'https://example.com/runbooks/alarm-to-pagerduty-drill';

const PASSED_THROUGH = [
  'opsEmail',
  'publisherAccountIds',
  'restrictPublishing',
  'publisherRoleArns',
  'reservedConcurrency',
  'propagateAlarmTags',
  'alarmEvents',
  'metricGraphs',
  'reconcile',
  'reconcileInterval',
  'environmentRoutes',
] as const satisfies readonly (keyof AlarmToPagerDutyProps)[];

/** The construct's props that the example passes through unchanged. */
export type PassedThroughProps = Pick<AlarmToPagerDutyProps, (typeof PASSED_THROUGH)[number]>;

export interface ExampleStackProps extends StackProps, PassedThroughProps {
  /**
   * Name of the existing Secrets Manager secret holding the default route's integration key.
   * @default 'pagerduty/routing-key'
   */
  readonly routingKeySecretName?: string;
  /**
   * More routes: route name → name of the secret holding that service's integration key.
   * @default - only the default route
   */
  readonly routes?: Record<string, string>;
  /**
   * Environment name carried in every incident.
   * @default - none
   */
  readonly environmentName?: string;
}

/** The pipeline with its routing key secret(s) referenced by name, and one alarm to drill with. */
export class ExampleStack extends Stack {
  public readonly pipeline: AlarmToPagerDuty;
  public readonly exampleAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ExampleStackProps = {}) {
    super(scope, id, props);

    const secretNames: Record<string, string> = {
      ...props.routes,
      default: props.routingKeySecretName ?? DEFAULT_ROUTING_KEY_SECRET_NAME,
    };
    // Referenced, never created here: the integration key is put into the secret by hand, outside CDK.
    const routes = Object.fromEntries(
      Object.entries(secretNames).map(([route, secretName]) => [
        route,
        secretsmanager.Secret.fromSecretNameV2(this, `RoutingKey-${route}`, secretName),
      ]),
    );

    const passedThrough = Object.fromEntries(
      PASSED_THROUGH.map((name) => [name, props[name]]),
    ) as PassedThroughProps;
    this.pipeline = new AlarmToPagerDuty(this, 'AlarmToPagerDuty', {
      ...passedThrough,
      routes,
      environment: props.environmentName,
    });

    this.exampleAlarm = this.createExampleAlarm();
    this.pipeline.addAlarm(this.exampleAlarm, { severity: 'warning', runbookUrl: EXAMPLE_RUNBOOK_URL });
    this.addOutputs();
  }

  /**
   * Never published, so it stays OK until set by hand; CloudWatch then sets it back to OK on its next evaluation,
   * which resolves the incident: a full open-and-close drill.
   */
  private createExampleAlarm(): cloudwatch.Alarm {
    return new cloudwatch.Alarm(this, 'ExampleAlarm', {
      alarmName: `${this.stackName}-ExampleHeartbeat`,
      alarmDescription:
        'Drill alarm for the PagerDuty pipeline: aws cloudwatch set-alarm-state --alarm-name <name> ' +
        '--state-value ALARM --state-reason test',
      metric: new cloudwatch.Metric({
        namespace: 'AlarmToPagerDuty/Example',
        metricName: 'Heartbeat',
        statistic: 'Sum',
        period: Duration.minutes(1),
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  /** What an operator needs to drill and run it: the topic to wire alarms to, the queues, the alarm, the names. */
  private addOutputs(): void {
    new CfnOutput(this, 'TopicArn', {
      description: 'Add this as the alarm/OK action of any CloudWatch alarm that should page',
      value: this.pipeline.topic.topicArn,
    });
    new CfnOutput(this, 'ParkedQueueUrl', {
      description: 'What retrying could not deliver; replay with npm run redrive -- --queue <this>',
      value: this.pipeline.parkedQueue.queueUrl,
    });
    new CfnOutput(this, 'RetryQueueUrl', { value: this.pipeline.retryQueue.queueUrl });
    new CfnOutput(this, 'ExampleAlarmName', {
      description:
        'aws cloudwatch set-alarm-state --alarm-name <this> --state-value ALARM --state-reason test',
      value: this.exampleAlarm.alarmName,
    });
    new CfnOutput(this, 'LedgerTableName', { value: this.pipeline.ledger.tableName });
    new CfnOutput(this, 'FunctionName', { value: this.pipeline.handler.functionName });
    new CfnOutput(this, 'DashboardName', { value: this.pipeline.dashboard.dashboardName });
  }
}

/**
 * Reads the example stack's settings from CDK context (`-c key=value` arrives as a string, cdk.json
 * values keep their JSON type): routingKeySecretName, routes (JSON route → secret name), opsEmail,
 * environment, environmentRoutes (JSON environment → route), publisherAccountIds and publisherRoleArns (JSON array or comma-separated), restrictPublishing,
 * propagateAlarmTags, metricGraphs and reconcile (true/false), reservedConcurrency and reconcileInterval (minutes)
 * (numbers). `version` (the deploy's
 * change event) is read by the construct itself.
 */
export function examplePropsFromContext(node: Node): ExampleStackProps {
  const context = new ContextReader(node);
  return {
    routingKeySecretName: context.text('routingKeySecretName'),
    routes: context.routes(),
    environmentRoutes: context.environmentRoutes(),
    opsEmail: context.text('opsEmail'),
    environmentName: context.text('environment'),
    publisherAccountIds: context.accountIds(),
    restrictPublishing: context.flag('restrictPublishing'),
    publisherRoleArns: context.list('publisherRoleArns', 'role ARNs'),
    reservedConcurrency: context.number('reservedConcurrency', 'e.g. -c reservedConcurrency=10'),
    propagateAlarmTags: context.flag('propagateAlarmTags'),
    alarmEvents: context.alarmEvents(),
    metricGraphs: context.flag('metricGraphs'),
    reconcile: context.flag('reconcile'),
    reconcileInterval: minutes(context.number('reconcileInterval', 'minutes, e.g. -c reconcileInterval=10')),
  };
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const ACCOUNT = /^\d{12}$/;

/**
 * The environments of the regional intakes from context `intakes`: a JSON array (or comma-separated list) of
 * `region` (the central account) or `account/region`, e.g. -c intakes='["eu-west-1","123456789012/us-west-2"]'.
 */
export function intakesFromContext(node: Node, centralAccount: string | undefined): IntakeEnvironment[] {
  const value: unknown = node.tryGetContext('intakes');
  if (value === undefined || value === null || value === '') return [];
  let list: unknown = value;
  if (typeof value === 'string') {
    try {
      list = JSON.parse(value) as unknown;
    } catch {
      list = value.split(',').map((item) => item.trim());
    }
  }
  const usage = 'e.g. -c intakes=\'["eu-west-1","123456789012/us-west-2"]\'';
  if (!Array.isArray(list))
    throw new Error(`Context "intakes" must be a list of region or account/region, ${usage}`);
  const seen = new Set<string>();
  return list.map((item: unknown) => {
    const [first, second, ...rest] = typeof item === 'string' ? item.split('/') : [];
    const account = second === undefined ? centralAccount : first;
    const region = second === undefined ? first : second;
    if (region === undefined || !REGION.test(region) || rest.length > 0) {
      throw new Error(`Context "intakes": "${String(item)}" is not a region or account/region, ${usage}`);
    }
    if (account === undefined || !ACCOUNT.test(account)) {
      throw new Error(
        `Context "intakes": "${String(item)}" names no account and the central account is unknown; ` +
          'write account/region, or run cdk with credentials (a --profile) so CDK_DEFAULT_ACCOUNT is set',
      );
    }
    const key = `${account}/${region}`;
    if (seen.has(key)) throw new Error(`Context "intakes": ${key} is listed twice`);
    seen.add(key);
    return { account, region };
  });
}

function minutes(value: number | undefined): Duration | undefined {
  return value === undefined ? undefined : Duration.minutes(value);
}
