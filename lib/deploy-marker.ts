import { CustomResource, Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { bundledFunction } from './private/bundled-function';
import { grantSecretValue } from './private/handler-grants';
import { METRICS_NAMESPACE, SERVICE_NAME, pipelineMetric } from './pipeline-health';

/** Properties of {@link DeployMarker}; `AlarmToPagerDuty` creates it unless `deployChangeEvents` is false. */
export interface DeployMarkerProps {
  /** The default route's secret: its integration key receives the change events. */
  readonly routingKeySecret: secretsmanager.ISecret;
  /** Gets the alarm when a deploy's change event could not be sent. */
  readonly opsTopic: sns.ITopic;
  /**
   * The version being deployed, e.g. a commit (`cdk deploy -c version=$(git rev-parse --short HEAD)`). The custom
   * resource runs when it changes, so with a fixed version only deploys of a new version are marked.
   * @default - the `version` context value, else the synthesis time (every deploy is marked)
   */
  readonly version?: string;
  /**
   * Base URL of the PagerDuty Events API.
   * @default - https://events.pagerduty.com
   */
  readonly pagerDutyEventsUrl?: string;
  /**
   * Environment name shown in the change event.
   * @default - none
   */
  readonly environment?: string;
  /**
   * Retention of the function's log group.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Bundle the AWS SDK into the function.
   * @default true
   */
  readonly bundleAwsSdk?: boolean;
  /**
   * The function's runtime: Node.js 24 or newer (the bundle's target).
   * @default lambda.Runtime.NODEJS_24_X
   */
  readonly runtime?: lambda.Runtime;
}

/**
 * Puts every deploy of the stack on PagerDuty's change timeline: a custom resource whose function sends a change
 * event to the default route on create and update. It never fails the deploy; a change event that could not be
 * sent is logged, counted (`ChangeEventFailures`) and alarmed to the ops topic.
 */
export class DeployMarker extends Construct {
  /** The function that sends the change event and answers CloudFormation. */
  public readonly function: NodejsFunction;
  /** The custom resource (`Custom::PagerDutyChangeEvent`); it runs when the version changes. */
  public readonly resource: CustomResource;
  /** In ALARM when a deploy's change event could not be sent. */
  public readonly failureAlarm: cloudwatch.Alarm;
  /** The version this synthesis marks. */
  public readonly version: string;

  constructor(scope: Construct, id: string, props: DeployMarkerProps) {
    super(scope, id);
    const context: unknown = this.node.tryGetContext('version');
    this.version =
      props.version ??
      (typeof context === 'string' && context !== '' ? context : `synthesized ${new Date().toISOString()}`);

    const environment: Record<string, string> = {
      ROUTING_KEY_SECRET_ID: props.routingKeySecret.secretFullArn ?? props.routingKeySecret.secretName,
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      NODE_OPTIONS: '--enable-source-maps',
    };
    if (props.pagerDutyEventsUrl !== undefined) environment.PAGERDUTY_EVENTS_URL = props.pagerDutyEventsUrl;

    const { function: marker, role } = bundledFunction(this, {
      fn: 'deploy-marker',
      ids: { logs: 'Logs', role: 'Role', function: 'Function' },
      roleDescription: 'alarm-to-PagerDuty deploy marker (PagerDuty change events)',
      description: 'Sends a PagerDuty change event for each deploy of this stack',
      bundleAwsSdk: props.bundleAwsSdk,
      logRetention: props.logRetention,
      runtime: props.runtime,
      memorySize: 256,
      // The change event gets at most 20 s; the rest is for answering CloudFormation.
      timeout: Duration.seconds(60),
      environment,
    });
    this.function = marker;
    grantSecretValue(role, props.routingKeySecret);

    this.failureAlarm = new cloudwatch.Alarm(this, 'ChangeEventFailures', {
      metric: pipelineMetric('ChangeEventFailures'),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription:
        "A deploy's PagerDuty change event could not be sent (the deploy itself went on). The deploy marker's log " +
        'says why: PagerDuty unreachable or refusing, or the default route integration key unreadable.',
    });
    const opsAction = new SnsAction(props.opsTopic);
    this.failureAlarm.addAlarmAction(opsAction);
    this.failureAlarm.addOkAction(opsAction);

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: this.function.functionArn,
      resourceType: 'Custom::PagerDutyChangeEvent',
      properties: {
        Version: this.version,
        Pipeline: this.node.scope?.node.path ?? this.node.path,
        ...(props.environment ? { Environment: props.environment } : {}),
      },
    });
    // The alarm exists before the first change event can fail, so that failure is not missed.
    this.resource.node.addDependency(this.failureAlarm);
  }
}
