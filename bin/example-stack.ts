import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Node } from 'constructs';
import { Construct } from 'constructs';
import { AlarmToPagerDuty } from '../lib/alarm-to-pagerduty';
import type { AlarmEventsSelection } from '../lib/eventbridge-intake';
import type { IntakeEnvironment } from '../lib/regional-intake';

export const DEFAULT_ROUTING_KEY_SECRET_NAME = 'pagerduty/routing-key';
export const EXAMPLE_RUNBOOK_URL = 'https://example.com/runbooks/alarm-to-pagerduty-drill';

export interface ExampleStackProps extends StackProps {
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
   * Email subscribed to the pipeline's health alarms.
   * @default - none
   */
  readonly opsEmail?: string;
  /**
   * Environment name carried in every incident.
   * @default - none
   */
  readonly environmentName?: string;
  /**
   * Accounts whose CloudWatch alarms may publish to the topic.
   * @default - only this account
   */
  readonly publisherAccountIds?: string[];
  /**
   * Only CloudWatch and `publisherRoleArns` may publish (see AlarmToPagerDutyProps.restrictPublishing).
   * @default false
   */
  readonly restrictPublishing?: boolean;
  /**
   * Roles that may still publish with `restrictPublishing` (drills, console tests).
   * @default - none
   */
  readonly publisherRoleArns?: string[];
  /**
   * Reserved concurrency of the handler (see AlarmToPagerDutyProps.reservedConcurrency).
   * @default - none
   */
  readonly reservedConcurrency?: number;
  /**
   * Alarm tag propagation on attached alarms (see AlarmToPagerDutyProps.propagateAlarmTags).
   * @default true
   */
  readonly propagateAlarmTags?: boolean;
  /**
   * The EventBridge intake (see AlarmToPagerDutyProps.alarmEvents).
   * @default - off
   */
  readonly alarmEvents?: AlarmEventsSelection;
  /**
   * Metric graph images in incidents (see AlarmToPagerDutyProps.metricGraphs).
   * @default false
   */
  readonly metricGraphs?: boolean;
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

    this.pipeline = new AlarmToPagerDuty(this, 'AlarmToPagerDuty', {
      routes,
      environment: props.environmentName,
      opsEmail: props.opsEmail,
      publisherAccountIds: props.publisherAccountIds,
      restrictPublishing: props.restrictPublishing,
      publisherRoleArns: props.publisherRoleArns,
      reservedConcurrency: props.reservedConcurrency,
      propagateAlarmTags: props.propagateAlarmTags,
      alarmEvents: props.alarmEvents,
      metricGraphs: props.metricGraphs,
    });

    // Never published, so it stays OK until set by hand; CloudWatch then sets it back to OK on its next
    // evaluation, which resolves the incident: a full open-and-close drill.
    this.exampleAlarm = new cloudwatch.Alarm(this, 'ExampleAlarm', {
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
    this.pipeline.addAlarm(this.exampleAlarm, { severity: 'warning', runbookUrl: EXAMPLE_RUNBOOK_URL });

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
 * environment, publisherAccountIds and publisherRoleArns (JSON array or comma-separated), restrictPublishing,
 * propagateAlarmTags and metricGraphs (true/false), reservedConcurrency (a number). `version` (the deploy's
 * change event) is read by the construct itself.
 */
export function examplePropsFromContext(node: Node): ExampleStackProps {
  const text = (key: string): string | undefined => {
    const value: unknown = node.tryGetContext(key);
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') throw new Error(`Context "${key}" must be a string`);
    return value;
  };
  const json = (key: string): unknown => {
    const value: unknown = node.tryGetContext(key);
    if (typeof value !== 'string') return value;
    if (value.trim() === '') return undefined;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  };

  const routesValue = json('routes');
  let routes: Record<string, string> | undefined;
  if (routesValue !== undefined && routesValue !== null) {
    const isMap =
      typeof routesValue === 'object' &&
      !Array.isArray(routesValue) &&
      Object.values(routesValue).every((v) => typeof v === 'string' && v !== '');
    if (!isMap) {
      throw new Error(
        'Context "routes" must be a JSON object of route name → secret name, e.g. -c routes=\'{"database":"pagerduty/database"}\'',
      );
    }
    routes = routesValue as Record<string, string>;
  }

  const accountsValue = json('publisherAccountIds');
  let publisherAccountIds: string[] | undefined;
  if (typeof accountsValue === 'string') {
    publisherAccountIds = accountsValue.split(',').map((a) => a.trim());
  } else if (typeof accountsValue === 'number') {
    publisherAccountIds = [String(accountsValue).padStart(12, '0')];
  } else if (Array.isArray(accountsValue)) {
    publisherAccountIds = accountsValue.map((a) => String(a));
  } else if (accountsValue !== undefined && accountsValue !== null) {
    throw new Error(
      'Context "publisherAccountIds" must be a JSON array or a comma-separated list of account IDs',
    );
  }

  const alarmEventsValue = json('alarmEvents');
  let alarmEvents: AlarmEventsSelection | undefined;
  if (alarmEventsValue === true) {
    alarmEvents = {};
  } else if (
    typeof alarmEventsValue === 'object' &&
    alarmEventsValue !== null &&
    !Array.isArray(alarmEventsValue) &&
    Object.keys(alarmEventsValue).every((k) => k === 'routeTagged' || k === 'alarmNamePrefixes')
  ) {
    alarmEvents = alarmEventsValue;
  } else if (alarmEventsValue !== undefined && alarmEventsValue !== null && alarmEventsValue !== false) {
    throw new Error(
      'Context "alarmEvents" must be true or a JSON object such as \'{"alarmNamePrefixes":["prod-"],"routeTagged":true}\'',
    );
  }

  const rolesValue = json('publisherRoleArns');
  let publisherRoleArns: string[] | undefined;
  if (typeof rolesValue === 'string') {
    publisherRoleArns = rolesValue.split(',').map((a) => a.trim());
  } else if (Array.isArray(rolesValue)) {
    publisherRoleArns = rolesValue.map((a) => String(a));
  } else if (rolesValue !== undefined && rolesValue !== null) {
    throw new Error(
      'Context "publisherRoleArns" must be a JSON array or a comma-separated list of role ARNs',
    );
  }

  const reserved = json('reservedConcurrency');
  if (reserved !== undefined && reserved !== null && typeof reserved !== 'number') {
    throw new Error('Context "reservedConcurrency" must be a number, e.g. -c reservedConcurrency=10');
  }

  const flag = (key: string): boolean | undefined => {
    const value = json(key);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') throw new Error(`Context "${key}" must be true or false`);
    return value;
  };

  const metricGraphs = flag('metricGraphs');

  return {
    routingKeySecretName: text('routingKeySecretName'),
    routes,
    opsEmail: text('opsEmail'),
    environmentName: text('environment'),
    publisherAccountIds,
    restrictPublishing: flag('restrictPublishing'),
    publisherRoleArns,
    reservedConcurrency: reserved ?? undefined,
    propagateAlarmTags: flag('propagateAlarmTags'),
    alarmEvents,
    metricGraphs,
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
