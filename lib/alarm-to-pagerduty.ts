import {
  Annotations,
  ArnFormat,
  Duration,
  PhysicalName,
  RemovalPolicy,
  Stack,
  Tags,
  Token,
  Validations,
} from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { bundledFunction } from './private/bundled-function';
import { Construct } from 'constructs';
import {
  ALL_TAG_KEYS,
  checkPagingOptions,
  isValidTagValue,
  tagsFor,
  type AlarmPagingOptions,
  type AlarmSettingsEntry,
  type InsufficientDataPolicy,
} from './paging-options';
import { AlarmEventsIntake } from './eventbridge-intake';
import { allowCloudWatchToPublish, allowCloudWatchToUseKey } from './private/cloudwatch-publishing';
import { encryptedQueue } from './private/dead-letter-queue';
import { DeployMarker } from './deploy-marker';
import { MetricGraphImages, type MetricGraphSettings } from './metric-graph-images';
import { isMultiTimeSeriesAlarm } from './private/metrics-insights';
import { grantTriageModel, triageEnvironment, triageWidgets } from './private/model-triage';
import { estimateAlarmArn, literalAlarmName } from './private/alarm-arns';
import { grantHandler } from './private/handler-grants';
import { handlerEnvironment } from './private/handler-environment';
import { ledgerTable } from './private/ledger-table';
import { ReconcileSweep, reconcileSources } from './reconcile-sweep';
import { RETRY_QUEUE, maxReceiveCount } from './private/retry-queue';
import { denyOtherPublishers, denyOtherSenders } from './private/topic-policies';
import { checkProps } from './private/validate-props';
import { PipelineHealth } from './pipeline-health';
import type { PublishingPolicy, IntakePipeline } from './intake-pipeline';
import type { AlarmToPagerDutyProps } from './alarm-to-pagerduty-props';
import { topicForAlarm } from './regional-intake';

export type { AlarmPagingOptions, InsufficientDataPolicy, Severity } from './paging-options';
export type { TriageOptions } from './private/model-triage';
export type { AlarmToPagerDutyProps } from './alarm-to-pagerduty-props';

export { HANDLER_ENTRY } from './private/handler-bundle';

/** Lambda allows 4 KB of environment in total; the rest of our variables need well under 1 KB. */
export const ALARM_SETTINGS_MAX_BYTES = 3072;

interface AttachedAlarm {
  readonly alarm: cloudwatch.AlarmBase;
  /** The ARN the handler sees in `AlarmArn`, without a reference to another stack. */
  readonly arn: string;
  readonly settings: AlarmSettingsEntry;
}

/**
 * CloudWatch alarms → SNS (CMK-encrypted) → Lambda → PagerDuty Events API v2, with a DynamoDB ledger that
 * orders and de-duplicates notifications, a retry queue the function drains itself, a parked queue for what
 * retrying cannot deliver, and health alarms and a dashboard for the pipeline itself.
 */
export class AlarmToPagerDuty extends Construct implements IntakePipeline {
  /** The topic alarms notify. Attach alarms with `addAlarm`, or use its ARN from other stacks/accounts. */
  public readonly topic: sns.Topic;
  /** The function that pages PagerDuty (arm64, Node.js 24, ESM bundle). */
  public readonly handler: NodejsFunction;
  /** One item per dedup key: the newest state change applied, its route, whether it was delivered. */
  public readonly ledger: dynamodb.Table;
  /**
   * Lambda's on-failure destination and the SNS subscription's dead-letter queue: the handler consumes it and
   * retries each letter at least every 4 minutes (its visibility timeout) for `retryWindow`.
   */
  public readonly retryQueue: sqs.Queue;
  /**
   * Where letters end that retrying cannot deliver (a 400, an unreadable letter) or that outlived the retry window,
   * each with its reason; the health alarm watches it and `npm run redrive` replays it.
   */
  public readonly parkedQueue: sqs.Queue;
  /** Encrypts the topics and the queues; CloudWatch and SNS may use it. */
  public readonly key: kms.Key;
  /** Receives the pipeline's health alarms: the `opsTopic` prop, or the topic this construct creates. */
  public readonly opsTopic: sns.ITopic;
  /** The `opsEmail` prop: subscribed to the ops topic, and to the ops topic of each intake `addAlarm` creates. */
  public readonly opsEmail?: string;
  /** The pipeline's own alarms; they notify `opsTopic`. */
  public readonly healthAlarms: readonly cloudwatch.Alarm[];
  /** The pipeline's CloudWatch dashboard: notifications, deliveries, errors, the retry and parked queues. */
  public readonly dashboard: cloudwatch.Dashboard;
  /** The EventBridge intake, when `alarmEvents` is set. */
  public readonly alarmEvents?: AlarmEventsIntake;
  /** Whether the topics deny publishers other than CloudWatch and `publisherRoleArns`; intakes follow it. */
  public readonly publishing: PublishingPolicy;
  /** Present when `metricGraphs` is on. */
  public readonly metricGraphImages?: MetricGraphImages;
  /** Present unless `deployChangeEvents` is off. */
  public readonly deployMarker?: DeployMarker;
  /** The reconciliation sweep (function, role, schedule), unless `reconcile` is off. */
  public readonly reconcileSweep?: ReconcileSweep;

  private readonly routeNames: readonly string[];
  private readonly defaultInsufficientData: InsufficientDataPolicy;
  private readonly propagateAlarmTags: boolean;
  private readonly attached = new Map<string, AttachedAlarm>();

  constructor(scope: Construct, id: string, props: AlarmToPagerDutyProps) {
    super(scope, id);
    checkProps(props);
    const stack = Stack.of(this);
    this.routeNames = Object.keys(props.routes);
    this.defaultInsufficientData = props.insufficientDataPolicy ?? 'ignore';
    this.propagateAlarmTags = props.propagateAlarmTags ?? true;
    this.publishing = {
      restricted: props.restrictPublishing ?? false,
      roleArns: props.publisherRoleArns ?? [],
    };
    const publisherAccounts = [stack.account, ...(props.publisherAccountIds ?? [])];
    const retryWindowHours = (props.retryWindow ?? Duration.hours(24)).toHours();

    this.key = new kms.Key(this, 'Key', {
      description: 'Encrypts the alarm-to-PagerDuty topics and queues',
      enableKeyRotation: true,
    });
    allowCloudWatchToUseKey(this.key, publisherAccounts);
    this.topic = this.createTopic(props, publisherAccounts);
    this.parkedQueue = encryptedQueue(this, 'ParkedQueue', { key: this.key });
    this.retryQueue = this.createRetryQueue(retryWindowHours);
    this.ledger = ledgerTable(this, 'Ledger', props.removalPolicy ?? RemovalPolicy.RETAIN);
    const { function: handler, role } = this.createHandler(props, retryWindowHours);
    this.handler = handler;
    for (const queue of [this.retryQueue, this.parkedQueue]) denyOtherSenders(queue, [role.roleArn]);
    this.opsTopic = props.opsTopic ?? this.createOpsTopic(props.opsEmail);
    this.opsEmail = props.opsEmail;
    this.reconcileSweep = this.createReconcileSweep(props, retryWindowHours);

    const health = new PipelineHealth(this, 'Health', {
      topic: this.topic,
      handler: this.handler,
      sweep: this.reconcileSweep,
      retryQueue: this.retryQueue,
      parkedQueue: this.parkedQueue,
      opsTopic: this.opsTopic,
    });
    this.healthAlarms = health.alarms;
    this.dashboard = health.dashboard;
    if (props.triage) {
      grantTriageModel(role, stack, props.triage.modelId);
      this.dashboard.addWidgets(...triageWidgets());
    }
    this.alarmEvents = this.createAlarmEvents(props);
    this.metricGraphImages = this.createMetricGraphImages(props);
    this.deployMarker = this.createDeployMarker(props);

    this.acknowledgeNagFindings(role, (props.tracing ?? lambda.Tracing.DISABLED) !== lambda.Tracing.DISABLED);
    this.node.addValidation({ validate: () => this.checkAlarmSettingsSize() });
  }

  private createReconcileSweep(
    props: AlarmToPagerDutyProps,
    retryWindowHours: number,
  ): ReconcileSweep | undefined {
    if (!(props.reconcile ?? true)) {
      if (props.reconcileInterval !== undefined) {
        throw new Error('AlarmToPagerDuty: reconcileInterval has no effect with reconcile: false');
      }
      return undefined;
    }
    return new ReconcileSweep(this, 'Reconcile', {
      bundleAwsSdk: props.bundleAwsSdk,
      environment: this.handlerEnvironment(props, retryWindowHours),
      sources: () => reconcileSources(this, props.alarmEvents),
      otherEnvironmentBytes: () => this.alarmSettingsBytes() + 1024,
      ledger: this.ledger,
      secrets: Object.values(props.routes),
      key: this.key,
      opsTopic: this.opsTopic,
      interval: props.reconcileInterval,
      memorySize: props.memorySize,
      logRetention: props.logRetention,
      tracing: props.tracing,
      runtime: props.runtime,
    });
  }

  private createTopic(props: AlarmToPagerDutyProps, publisherAccounts: string[]): sns.Topic {
    const topic = new sns.Topic(this, 'Topic', {
      displayName: 'CloudWatch alarms to PagerDuty',
      masterKey: this.key,
      enforceSSL: true,
    });
    allowCloudWatchToPublish(topic, publisherAccounts);
    if (this.publishing.restricted) denyOtherPublishers(topic, this.publishing.roleArns);
    return topic;
  }

  /**
   * The handler parks what it cannot deliver itself; the retry queue's redrive policy is the backstop for a letter
   * the handler never answers for (it crashes or times out on it), well after the handler would have parked it.
   */
  private createRetryQueue(retryWindowHours: number): sqs.Queue {
    const retryQueue = encryptedQueue(this, 'RetryQueue', {
      key: this.key,
      visibilityTimeout: RETRY_QUEUE.visibilityTimeout,
      deadLetterQueue: { queue: this.parkedQueue, maxReceiveCount: maxReceiveCount(retryWindowHours) },
    });
    // The subscription DLQ: SNS encrypts what it cannot deliver with this key. Scoped to this account's topics
    // in this region, not to our topic's ARN: the topic already refers to the key, that would be a cycle.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowSnsToUseTheRetryQueue',
        principals: [new iam.ServicePrincipal('sns.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'aws:SourceArn': Stack.of(this).formatArn({
              service: 'sns',
              resource: '*',
              arnFormat: ArnFormat.NO_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    return retryQueue;
  }

  /** The paging function, its role's grants, its SNS subscription and its retry-queue mapping. */
  private createHandler(props: AlarmToPagerDutyProps, retryWindowHours: number) {
    const parts = bundledFunction(this, {
      fn: 'handler',
      ids: { logs: 'HandlerLogs', role: 'HandlerRole', function: 'Handler' },
      roleDescription: 'alarm-to-PagerDuty handler',
      description: 'CloudWatch alarm notifications to PagerDuty incidents',
      bundleAwsSdk: props.bundleAwsSdk,
      logRetention: props.logRetention,
      runtime: props.runtime,
      // Named only if an intake in another region or account refers to it (an ARN must then be literal).
      functionName: PhysicalName.GENERATE_IF_NEEDED,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(90),
      reservedConcurrentExecutions: props.reservedConcurrency,
      // A failed invocation goes to the retry queue at once: its consumers pace PagerDuty's rate limit, where
      // Lambda's own retries (1 and 2 minutes later) would leave free slots unused (the storm simulation).
      retryAttempts: 0,
      maxEventAge: props.maxEventAge ?? Duration.hours(6),
      // Not SqsDestination: its grant adds kms:Encrypt and kms:ReEncrypt*, which sending does not need.
      onFailure: { bind: () => ({ destination: this.retryQueue.queueArn }) },
      tracing: props.tracing ?? lambda.Tracing.DISABLED,
      // Triage only for notifications; the sweep pages without it (a sweep re-page reuses nothing).
      environment: {
        ...this.handlerEnvironment(props, retryWindowHours),
        ...(props.triage ? triageEnvironment(props.triage) : {}),
      },
    });
    grantHandler(parts.role, {
      secrets: Object.values(props.routes),
      ledger: this.ledger,
      retryQueue: this.retryQueue,
      parkedQueue: this.parkedQueue,
      key: this.key,
    });
    this.topic.addSubscription(
      new subscriptions.LambdaSubscription(parts.function, { deadLetterQueue: this.retryQueue }),
    );
    // The function's role polls the queue; the mapping's creation fails unless the role's policy is already there,
    // which the function's dependency on that policy ensures.
    parts.function.addEventSourceMapping('RetryQueueMapping', {
      eventSourceArn: this.retryQueue.queueArn,
      batchSize: RETRY_QUEUE.batchSize,
      maxConcurrency: RETRY_QUEUE.maxConcurrency,
      reportBatchItemFailures: true,
    });
    return parts;
  }

  private handlerEnvironment(props: AlarmToPagerDutyProps, retryWindowHours: number): Record<string, string> {
    return handlerEnvironment(this, props, {
      ledger: this.ledger,
      parkedQueue: this.parkedQueue,
      topic: this.topic,
      insufficientData: this.defaultInsufficientData,
      retryWindowHours,
      alarmSettings: () => this.renderAlarmSettings(),
    });
  }

  private createOpsTopic(opsEmail: string | undefined): sns.Topic {
    const opsTopic = new sns.Topic(this, 'OpsTopic', {
      displayName: 'Alarm-to-PagerDuty pipeline health',
      masterKey: this.key,
      enforceSSL: true,
    });
    allowCloudWatchToPublish(opsTopic, [Stack.of(this).account]);
    if (opsEmail) opsTopic.addSubscription(new subscriptions.EmailSubscription(opsEmail));
    return opsTopic;
  }

  private createAlarmEvents(props: AlarmToPagerDutyProps): AlarmEventsIntake | undefined {
    if (props.alarmEvents === undefined) return undefined;
    return new AlarmEventsIntake(this, 'AlarmEvents', {
      ...props.alarmEvents,
      handler: this.handler,
      key: this.key,
      opsTopic: this.opsTopic,
    });
  }

  private createMetricGraphImages(props: AlarmToPagerDutyProps): MetricGraphImages | undefined {
    const { metricGraphs } = props;
    if (metricGraphs === undefined || metricGraphs === false) return undefined;
    const settings: MetricGraphSettings = metricGraphs === true ? {} : metricGraphs;
    return new MetricGraphImages(this, 'MetricGraphs', {
      linkTtl: settings.linkTtl,
      timeout: settings.timeout,
      crossAccount: settings.crossAccount,
      handler: this.handler,
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
      bundleAwsSdk: props.bundleAwsSdk,
      runtime: props.runtime,
      endpointConcurrency: props.imageEndpointConcurrency,
    });
  }

  private createDeployMarker(props: AlarmToPagerDutyProps): DeployMarker | undefined {
    if (!(props.deployChangeEvents ?? true)) return undefined;
    return new DeployMarker(this, 'DeployMarker', {
      routingKeySecret: props.routes.default!,
      opsTopic: this.opsTopic,
      version: props.deployVersion,
      pagerDutyEventsUrl: props.pagerDutyEventsUrl,
      environment: props.environment,
      logRetention: props.logRetention,
      bundleAwsSdk: props.bundleAwsSdk,
      runtime: props.runtime,
    });
  }

  /**
   * Pages PagerDuty for this alarm: ALARM triggers, OK resolves, and INSUFFICIENT_DATA follows the alarm's
   * policy. The options become `pagerduty:*` tags on the alarm and are also recorded in the handler's
   * ALARM_SETTINGS, for notifications that carry no tags.
   *
   * Works for `Alarm` and `CompositeAlarm` defined in this app. An imported alarm cannot be changed here:
   * add the topic ARN as its actions where it is defined.
   */
  public addAlarm(alarm: cloudwatch.IAlarm, options: AlarmPagingOptions = {}): void {
    const where = alarm.node.path;
    const cfn = alarm.node.defaultChild;
    if (
      !(alarm instanceof cloudwatch.AlarmBase) ||
      !(cfn instanceof cloudwatch.CfnAlarm || cfn instanceof cloudwatch.CfnCompositeAlarm)
    ) {
      throw new Error(
        `addAlarm(${where}): this alarm is imported (fromAlarmArn/fromAlarmName), so CDK cannot change its actions. ` +
          'Where the alarm is defined, add the topic ARN (AlarmToPagerDuty.topic.topicArn) as its alarm, OK and ' +
          '(if wanted) insufficient-data action, and set pagerduty:* tags on it for routing.',
      );
    }
    const settings = checkPagingOptions(where, options, this.routeNames);
    if (settings.repageMinutes !== undefined && this.reconcileSweep === undefined) {
      throw new Error(
        `addAlarm(${where}): repageInterval needs the reconciliation sweep, which reconcile: false turns off.`,
      );
    }
    const arn = this.arnWithoutCrossStackReference(alarm, settings);
    if (this.attached.has(where)) {
      throw new Error(`addAlarm(${where}): this alarm is already attached to ${this.node.path}.`);
    }

    this.addPagingActions(alarm, cfn, settings);
    tagAlarm(alarm, settings);
    if (this.propagateAlarmTags && cfn.actionConfiguration === undefined) propagateTagsToActions(cfn);
    this.attached.set(where, { alarm, arn, settings });
  }

  /** CloudWatch only notifies a topic in the alarm's region: the central topic, or that environment's intake. */
  private addPagingActions(
    alarm: cloudwatch.AlarmBase,
    cfn: cloudwatch.CfnAlarm | cloudwatch.CfnCompositeAlarm,
    settings: AlarmSettingsEntry,
  ): void {
    const action = new SnsAction(topicForAlarm(this, alarm));
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    if ((settings.insufficientData ?? this.defaultInsufficientData) === 'ignore') return;
    if (isMultiTimeSeriesAlarm(cfn)) {
      Annotations.of(alarm).addWarningV2(
        'alarm-to-pagerduty:insufficientDataMultiTimeSeries',
        'No insufficient-data action: the contributors of a multi-time-series Metrics Insights alarm are never ' +
          'INSUFFICIENT_DATA, so the action could not act on any contributor incident.',
      );
    } else {
      alarm.addInsufficientDataAction(action);
    }
  }

  /** ALARM_SETTINGS: alarm ARN → the options given to addAlarm; alarms without options are left out. */
  private renderAlarmSettings(): string {
    const entries = [...this.attached.values()].filter((a) => Object.keys(a.settings).length > 0);
    return Stack.of(this).toJsonString(Object.fromEntries(entries.map((a) => [a.arn, a.settings])));
  }

  /** About how many bytes ALARM_SETTINGS will take, with unresolved ARNs at a realistic length. */
  private alarmSettingsBytes(): number {
    const entries = [...this.attached.values()].filter((a) => Object.keys(a.settings).length > 0);
    const estimate = JSON.stringify(
      Object.fromEntries(entries.map((a) => [estimateAlarmArn(a.alarm), a.settings])),
    );
    return Buffer.byteLength(estimate, 'utf8');
  }

  private checkAlarmSettingsSize(): string[] {
    const entries = [...this.attached.values()].filter((a) => Object.keys(a.settings).length > 0);
    const bytes = this.alarmSettingsBytes();
    if (bytes <= ALARM_SETTINGS_MAX_BYTES) return [];
    return [
      `ALARM_SETTINGS would be about ${bytes} bytes for ${entries.length} alarms, over the ${ALARM_SETTINGS_MAX_BYTES}-byte ` +
        "budget (Lambda allows 4 KB of environment in total). Pass fewer options to addAlarm and set the alarms' " +
        'pagerduty:* tags instead (propagated by default), or split the alarms across several pipelines.',
    ];
  }

  /**
   * The alarm's ARN as a value this stack can hold. An alarm in another stack already depends on this one
   * (for the topic ARN), so referring back to it would be a cycle: build its ARN from its literal name.
   */
  private arnWithoutCrossStackReference(alarm: cloudwatch.AlarmBase, settings: AlarmSettingsEntry): string {
    const alarmStack = Stack.of(alarm);
    if (alarmStack === Stack.of(this) || Object.keys(settings).length === 0) return alarm.alarmArn;
    const name = literalAlarmName(alarm);
    if (name === undefined) {
      throw new Error(
        `addAlarm(${alarm.node.path}): an alarm in another stack needs an explicit alarmName for its options ` +
          'to be recorded, or attach it without options and set pagerduty:* tags on it.',
      );
    }
    return alarmStack.formatArn({
      service: 'cloudwatch',
      resource: 'alarm',
      resourceName: name,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  /** Suppress only the cdk-nag findings that are inherent to this design, each on the narrowest construct. */
  private acknowledgeNagFindings(role: iam.Role, tracing: boolean): void {
    const policy = role.node.tryFindChild('DefaultPolicy');
    if (!policy || !tracing) return;
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Active tracing sends segments with xray:PutTraceSegments and xray:PutTelemetryRecords, which accept only Resource "*".',
    });
  }
}

/** The alarm's paging options as pagerduty:* tags, except values CloudWatch tags cannot hold (with a warning). */
function tagAlarm(alarm: cloudwatch.AlarmBase, settings: AlarmSettingsEntry): void {
  for (const { key, value } of tagsFor(settings)) {
    if (Token.isUnresolved(value) || isValidTagValue(value)) {
      Tags.of(alarm).add(key, value);
    } else {
      Annotations.of(alarm).addWarningV2(
        'alarm-to-pagerduty:tagValue',
        `${key} is not set as a tag: "${value}" has characters CloudWatch tags do not allow (such as ? & # %). ` +
          'The handler still gets it from ALARM_SETTINGS.',
      );
    }
  }
}

/** Alarm tag propagation, limited to the pagerduty:* keys: the tags arrive in the alarm's notifications. */
function propagateTagsToActions(cfn: cloudwatch.CfnAlarm | cloudwatch.CfnCompositeAlarm): void {
  cfn.actionConfiguration = {
    alarmTagsPropagation: { enabled: true, includedTagKeys: [...ALL_TAG_KEYS] },
  };
  // CloudFormation has this property (aws-cdk-lib's L1 is generated from its schema), but the schema bundled
  // with cfn-lint 1.51 predates it and reports E3002 "additional property"; silence that check here only.
  cfn.addMetadata('cfn-lint', { config: { ignore_checks: ['E3002'] } });
}
