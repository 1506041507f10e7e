import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Node } from 'constructs';
import { Construct } from 'constructs';
import { AlarmToPagerDuty } from './alarm-to-pagerduty';

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
   * Alarm tag propagation on attached alarms (see AlarmToPagerDutyProps.propagateAlarmTags).
   * @default true
   */
  readonly propagateAlarmTags?: boolean;
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
      propagateAlarmTags: props.propagateAlarmTags,
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
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.pipeline.deadLetterQueue.queueUrl });
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
 * environment, publisherAccountIds (JSON array or comma-separated), propagateAlarmTags (true/false),
 * metricGraphs (true/false). `version` (the deploy's change event) is read by the construct itself.
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

  const propagate = json('propagateAlarmTags');
  if (propagate !== undefined && propagate !== null && typeof propagate !== 'boolean') {
    throw new Error('Context "propagateAlarmTags" must be true or false');
  }

  const metricGraphs = json('metricGraphs');
  if (metricGraphs !== undefined && metricGraphs !== null && typeof metricGraphs !== 'boolean') {
    throw new Error('Context "metricGraphs" must be true or false');
  }

  return {
    routingKeySecretName: text('routingKeySecretName'),
    routes,
    opsEmail: text('opsEmail'),
    environmentName: text('environment'),
    publisherAccountIds,
    propagateAlarmTags: propagate ?? undefined,
    metricGraphs: metricGraphs ?? undefined,
  };
}
