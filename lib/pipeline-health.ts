import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  METRICS_NAMESPACE,
  PIPELINE_METRICS,
  SERVICE_NAME,
  SWEEP_CORRECTION_METRICS,
  type PipelineMetricName,
} from '../lambda/shared/contract';
import { queueNotEmptyAlarm } from './private/dead-letter-queue';

export { METRICS_NAMESPACE, PIPELINE_METRICS, SERVICE_NAME, type PipelineMetricName };

/** The retry queue's oldest letter has failed at least one retry from the queue. */
export const RETRY_AGING_SECONDS = 300;

export interface PipelineHealthProps {
  /** The topic alarms publish to. */
  readonly topic: sns.ITopic;
  readonly handler: lambda.IFunction;
  /** Failed notifications the handler retries from (on-failure destination and subscription DLQ). */
  readonly retryQueue: sqs.IQueue;
  /** What retrying could not deliver, waiting for a person. */
  readonly parkedQueue: sqs.IQueue;
  /** Where the health alarms notify: people who run the pipeline, never the PagerDuty pipeline itself. */
  readonly opsTopic: sns.ITopic;
  /**
   * The reconciliation sweep's functions: its alarms and graphs.
   * @default - no sweep
   */
  readonly sweep?: SweepFunctions;
}

/** The reconciliation sweep's functions: the first at once, every one once its shards are cut (at synthesis). */
export interface SweepFunctions {
  readonly function: lambda.IFunction;
  whenShardsComplete(callback: (functions: readonly lambda.IFunction[]) => void): void;
}

/** Half the dashboard's width: two graphs to a row. */
const HALF_WIDTH = 12;
const FIVE_MINUTES = Duration.minutes(5);
const QUEUE_STATISTIC = { statistic: 'Maximum', period: Duration.minutes(1) };

/** Health alarms of the pipeline (to the ops topic) and its dashboard. */
export class PipelineHealth extends Construct {
  public readonly alarms: readonly cloudwatch.Alarm[];
  public readonly dashboard: cloudwatch.Dashboard;
  private readonly props: PipelineHealthProps;
  private readonly opsAction: SnsAction;
  /** Every sweep function, once the sweep's shards are cut (the dashboard renders after that). */
  private sweepFunctions: readonly lambda.IFunction[] = [];

  constructor(scope: Construct, id: string, props: PipelineHealthProps) {
    super(scope, id);
    this.props = props;
    this.opsAction = new SnsAction(props.opsTopic);
    this.alarms = [
      ...this.queueAlarms(),
      ...this.handlerAlarms(),
      ...this.topicAlarms(),
      ...this.pipelineAlarms(),
      ...(props.sweep === undefined ? [] : this.sweepAlarms(props.sweep)),
    ];
    this.dashboard = this.createDashboard(props.sweep);
  }

  /** An alarm on any datapoint at or over 1 (unless `options` says otherwise) that notifies the ops topic both ways. */
  private opsAlarm(
    id: string,
    metric: cloudwatch.IMetric,
    description: string,
    options: Partial<cloudwatch.AlarmProps> = {},
  ): cloudwatch.Alarm {
    const created = new cloudwatch.Alarm(this, id, {
      metric,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
      ...options,
    });
    created.addAlarmAction(this.opsAction);
    created.addOkAction(this.opsAction);
    return created;
  }

  /** Letters waiting for a person (parked) or failing for a while (retry queue). */
  private queueAlarms(): cloudwatch.Alarm[] {
    return [
      queueNotEmptyAlarm(this, 'ParkedQueueNotEmpty', {
        queue: this.props.parkedQueue,
        opsTopic: this.props.opsTopic,
        description:
          'Alarm notifications that retrying cannot deliver are waiting in the parked queue: PagerDuty refused them ' +
          '(400), the letter is unreadable, or they kept failing for the whole retry window. The handler gives each ' +
          'its reason in the `reason` message attribute (a letter the queue itself moved there after too many ' +
          'receives has none: see the function logs). Fix the cause, then replay them with ' +
          '`npm run redrive -- --queue <ParkedQueueUrl>`.',
      }),
      // SQS leaves a letter received 3 times or more out of this metric, so a quiet outage (no new letters) drops
      // back below the threshold after about 10 minutes: stay in ALARM for 15 minutes after the last breach
      // (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html).
      this.opsAlarm(
        'RetryQueueAging',
        this.retryOldest(),
        'Failed alarm notifications have been waiting in the retry queue for 5 minutes or more: PagerDuty (or the ' +
          'pipeline) has been failing for a while. The handler retries each letter every 5 minutes for ' +
          'RETRY_WINDOW_HOURS, then parks it; nothing to do unless this lasts. The dashboard shows the queue depth ' +
          '(this metric leaves out letters already received 3 times).',
        { threshold: RETRY_AGING_SECONDS, evaluationPeriods: 15, datapointsToAlarm: 1 },
      ),
    ];
  }

  /** The handler's invocations as Lambda sees them: errors, throttles and asynchronous events it gave up on. */
  private handlerAlarms(): cloudwatch.Alarm[] {
    return [
      this.opsAlarm(
        'HandlerErrors',
        this.handlerMetric('Errors'),
        'The PagerDuty handler failed an invocation. For an alarm notification Lambda runs it twice more (after ' +
          'about 1 and 2 minutes), then sends it to the retry queue, where the handler retries it. Check the ' +
          'function logs.',
      ),
      this.opsAlarm(
        'HandlerThrottles',
        this.handlerMetric('Throttles'),
        'Lambda throttled the PagerDuty handler: no concurrency was left (the account’s unreserved concurrency, or ' +
          'reservedConcurrency when set). Throttled notifications wait in Lambda’s async queue up to maxEventAge ' +
          'and are retried; then they go to the retry queue.',
      ),
      this.opsAlarm(
        'AsyncDestinationFailures',
        this.handlerMetric('DestinationDeliveryFailures'),
        'Lambda could not put failed notifications into the retry queue: those notifications are lost. ' +
          'Check the queue, the function role’s sqs:SendMessage and the KMS key.',
      ),
      // AWS's definition: events dropped without a successful run, counting those sent to the on-failure
      // destination (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html).
      this.opsAlarm(
        'AsyncEventsDropped',
        this.handlerMetric('AsyncEventsDropped'),
        'Lambda gave up on alarm notifications without a successful run of the handler (retries exhausted or ' +
          'maxEventAge passed). AWS counts the ones it sent to the on-failure destination too: those are in the ' +
          'retry queue and are retried from there. Only AsyncDestinationFailures means some were lost.',
      ),
    ];
  }

  /** SNS deliveries to the handler that failed, and those that were lost. */
  private topicAlarms(): cloudwatch.Alarm[] {
    return [
      this.opsAlarm(
        'NotificationsFailed',
        this.topicMetric('NumberOfNotificationsFailed'),
        'SNS could not invoke the PagerDuty handler; it put the undelivered messages in the retry queue (the ' +
          'subscription’s dead-letter queue), where the handler retries them.',
      ),
      this.opsAlarm(
        'NotificationsLost',
        this.topicMetric('NumberOfNotificationsFailedToRedriveToDlq'),
        'SNS could neither invoke the handler nor put the message in the retry queue: alarm notifications ' +
          'were lost. Check the queue policy and the KMS key policy for sns.amazonaws.com.',
      ),
    ];
  }

  /** What the handler reports of itself: paging without its ledger, refusing a foreign alarm. */
  private pipelineAlarms(): cloudwatch.Alarm[] {
    return [
      this.opsAlarm(
        'LedgerUnavailable',
        pipelineMetric('LedgerUnavailable'),
        'The handler paged without its DynamoDB ledger (fail-open): duplicates and stale notifications may reach ' +
          'PagerDuty until the table is reachable again.',
      ),
      this.opsAlarm(
        'ForeignAlarmsRefused',
        pipelineMetric('ForeignAlarmsRefused'),
        'The handler refused a notification that claims an alarm its intake may not carry (another account or ' +
          'region than the topic or EventBridge event that delivered it): someone who can publish to an intake, or ' +
          "send to the retry queue, tried to open or resolve another account's incident. Nothing was sent. The " +
          'function log (ERROR, outcome "refused") names the carrier and the claim.',
      ),
    ];
  }

  private createDashboard(sweep: SweepFunctions | undefined): cloudwatch.Dashboard {
    return new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(6),
      widgets: [
        [this.alarmStatus()],
        [this.snsNotifications(), this.handlerInvocations()],
        [this.handlerDurationAndEventAge(), this.retryAndParkedQueues()],
        [this.pagerDutyEventsSent(), this.pagerDutyLatency()],
        [this.notificationsNotSent(), this.degradedOperation()],
        ...(sweep === undefined
          ? []
          : [[this.sweepCorrections(), this.sweepProblems()], [this.sweepDuration(sweep.function)]]),
      ],
    });
  }

  private sweepAlarms(sweep: SweepFunctions): cloudwatch.Alarm[] {
    const alarms = [
      this.opsAlarm(
        'MissedNotifications',
        pipelineMetric('MissedNotifications'),
        'The reconciliation sweep paged an alarm in ALARM, wired to the pipeline, that had no open incident: its ' +
          'notification never reached the handler. Check the alarm history for failed SNS publishes (key or topic ' +
          'policy), the subscriptions, the dead-letter and parked queues. The sweep log names each alarm and why.',
      ),
      this.opsAlarm(
        'SweepErrors',
        pipelineMetric('SweepErrors'),
        'The reconciliation sweep could not read a source (an error, a throttle or AccessDenied: the read role in ' +
          'another account, its trust policy) or a mute rule; nothing is resolved on an error, and the source is ' +
          'read again at the next sweep. The sweep log names the source and the error.',
      ),
    ];
    const functionErrors = this.opsAlarm(
      'SweepFunctionErrors',
      sweepErrors(sweep.function),
      'A run of the reconciliation sweep failed (an error or its timeout); the next one, one interval later, reads ' +
        "the state afresh. Check the sweep function's logs.",
    );
    this.sweepFunctions = [sweep.function];
    sweep.whenShardsComplete((functions) => {
      this.sweepFunctions = functions;
      if (functions.length > 1) alarmOnSum(functionErrors, functions.map(sweepErrors));
    });
    return [...alarms, functionErrors];
  }

  private sweepCorrections(): cloudwatch.IWidget {
    return new cloudwatch.GraphWidget({
      title: 'Sweep: corrections by kind',
      width: HALF_WIDTH,
      left: [
        ...SWEEP_CORRECTION_METRICS.map((name) => pipelineMetric(name)),
        pipelineMetric('MissedNotifications'),
        pipelineMetric('Repages'),
      ],
    });
  }

  private sweepProblems(): cloudwatch.IWidget {
    return new cloudwatch.GraphWidget({
      title: 'Sweep: missed notifications, errors, incomplete sweeps',
      width: HALF_WIDTH,
      left: [
        pipelineMetric('MissedNotifications'),
        pipelineMetric('SweepErrors'),
        pipelineMetric('SweepIncomplete'),
        pipelineMetric('SweepPagerDutyUnavailable'),
      ],
    });
  }

  /** SweepDuration has no function dimension (every shard's runs), the errors a line per sweep function. */
  private sweepDuration(first: lambda.IFunction): cloudwatch.IWidget {
    const graph = (functions: readonly lambda.IFunction[]) =>
      new cloudwatch.GraphWidget({
        title: 'Sweep: duration (ms)',
        width: HALF_WIDTH,
        left: [pipelineMetric('SweepDuration', 'p50'), pipelineMetric('SweepDuration', 'Maximum')],
        right: functions.map((fn, i) =>
          sweepErrors(fn).with(functions.length > 1 ? { label: `Errors (shard ${i + 1})` } : {}),
        ),
      });
    return new DeferredWidget(graph([first]), () => graph(this.sweepFunctions));
  }

  private alarmStatus(): cloudwatch.IWidget {
    return new cloudwatch.AlarmStatusWidget({
      title: 'Pipeline health',
      alarms: [...this.alarms],
      width: 24,
    });
  }

  private snsNotifications(): cloudwatch.IWidget {
    return new cloudwatch.GraphWidget({
      title: 'SNS: alarm notifications',
      width: HALF_WIDTH,
      left: [
        this.topicMetric('NumberOfMessagesPublished'),
        this.topicMetric('NumberOfNotificationsDelivered'),
        this.topicMetric('NumberOfNotificationsFailed'),
        this.topicMetric('NumberOfNotificationsRedrivenToDlq'),
        this.topicMetric('NumberOfNotificationsFailedToRedriveToDlq'),
      ],
    });
  }

  private handlerInvocations(): cloudwatch.IWidget {
    return new cloudwatch.GraphWidget({
      title: 'Handler: invocations, errors, throttles',
      width: HALF_WIDTH,
      left: [
        this.handlerMetric('Invocations'),
        this.handlerMetric('Errors'),
        this.handlerMetric('Throttles'),
      ],
      right: [this.handlerMetric('ConcurrentExecutions', 'Maximum')],
      rightYAxis: { label: 'concurrency', showUnits: false },
    });
  }

  private handlerDurationAndEventAge(): cloudwatch.IWidget {
    return new cloudwatch.GraphWidget({
      title: 'Handler: duration and async event age',
      width: HALF_WIDTH,
      left: [this.handlerMetric('Duration', 'p99'), this.handlerMetric('Duration', 'p50')],
      right: [this.handlerMetric('AsyncEventAge', 'p99')],
    });
  }

  private retryAndParkedQueues(): cloudwatch.IWidget {
    const { retryQueue } = this.props;
    return new cloudwatch.GraphWidget({
      title: 'Retry and parked queues, async delivery',
      width: HALF_WIDTH,
      left: [
        retryQueue
          .metricApproximateNumberOfMessagesVisible(QUEUE_STATISTIC)
          .with({ label: 'Retry queue: waiting' }),
        retryQueue
          .metricApproximateNumberOfMessagesNotVisible(QUEUE_STATISTIC)
          .with({ label: 'Retry queue: being retried' }),
        this.parkedDepth().with({ label: 'Parked queue' }),
      ],
      right: [
        this.retryOldest().with({ label: 'Retry queue: oldest letter (s)' }),
        this.handlerMetric('DestinationDeliveryFailures'),
        this.handlerMetric('AsyncEventsDropped'),
      ],
    });
  }

  private pagerDutyEventsSent(): cloudwatch.IWidget {
    return new cloudwatch.GraphWidget({
      title: 'PagerDuty: events sent and delivery',
      width: HALF_WIDTH,
      left: [
        pipelineMetric('EventsSent'),
        new cloudwatch.MathExpression({
          expression: `SEARCH('{${METRICS_NAMESPACE},action,service} MetricName="EventsSent"', 'Sum', 300)`,
          label: 'EventsSent by action',
          period: FIVE_MINUTES,
        }),
      ],
      right: [
        pipelineMetric('DeliveryFailures'),
        pipelineMetric('DeliveryRetries'),
        pipelineMetric('Compensations'),
        // Deliveries that waited for an earlier send of the same alert to end (the ledger's lease).
        pipelineMetric('LeaseWaits'),
      ],
    });
  }

  private pagerDutyLatency(): cloudwatch.IWidget {
    return new cloudwatch.GraphWidget({
      title: 'PagerDuty: delivery latency (ms)',
      width: HALF_WIDTH,
      left: [pipelineMetric('DeliveryLatency', 'p50'), pipelineMetric('DeliveryLatency', 'p99')],
    });
  }

  private notificationsNotSent(): cloudwatch.IWidget {
    return new cloudwatch.GraphWidget({
      title: 'Notifications not sent, and why',
      width: HALF_WIDTH,
      left: [
        pipelineMetric('DuplicatesSkipped'),
        pipelineMetric('StaleSkipped'),
        pipelineMetric('PolicySkipped'),
        pipelineMetric('UnrecognisedMessages'),
        pipelineMetric('UnrecognisedDropped'),
        pipelineMetric('ForeignAlarmsRefused'),
      ],
    });
  }

  private degradedOperation(): cloudwatch.IWidget {
    return new cloudwatch.GraphWidget({
      title: 'Degraded: ledger unavailable, cached routing key, bad tags',
      width: HALF_WIDTH,
      left: [
        pipelineMetric('LedgerUnavailable'),
        pipelineMetric('StaleRoutingKeyUsed'),
        pipelineMetric('TagProblems'),
      ],
    });
  }

  private handlerMetric(metricName: string, statistic = 'Sum'): cloudwatch.Metric {
    return this.props.handler.metric(metricName, { statistic, period: FIVE_MINUTES });
  }

  private topicMetric(metricName: string): cloudwatch.Metric {
    return this.props.topic.metric(metricName, { statistic: 'Sum', period: FIVE_MINUTES });
  }

  private parkedDepth(): cloudwatch.Metric {
    return this.props.parkedQueue.metricApproximateNumberOfMessagesVisible(QUEUE_STATISTIC);
  }

  private retryOldest(): cloudwatch.Metric {
    return this.props.retryQueue.metricApproximateAgeOfOldestMessage(QUEUE_STATISTIC);
  }
}

/** One of the handler's EMF metrics. */
export function pipelineMetric(metricName: PipelineMetricName, statistic = 'Sum'): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: SERVICE_NAME },
    statistic,
    period: Duration.minutes(5),
  });
}

const sweepErrors = (fn: lambda.IFunction) => fn.metricErrors({ statistic: 'Sum', period: FIVE_MINUTES });

/**
 * Points an alarm made on one metric at the sum of several, by metric math (at most 10 metrics: MAX_SWEEP_SHARDS).
 * Done on its CloudFormation resource because the sweep's shards are cut after the alarm exists.
 */
function alarmOnSum(alarm: cloudwatch.Alarm, metrics: readonly cloudwatch.Metric[]): void {
  const resource = alarm.node.defaultChild as cloudwatch.CfnAlarm;
  const ids = metrics.map((_, i) => `shard${i + 1}`);
  resource.namespace = undefined;
  resource.metricName = undefined;
  resource.dimensions = undefined;
  resource.statistic = undefined;
  resource.period = undefined;
  resource.metrics = [
    {
      id: 'total',
      expression: `SUM([${ids.join(',')}])`,
      label: 'Errors of every sweep function',
      returnData: true,
    },
    ...metrics.map((metric, i) => ({
      id: ids[i]!,
      returnData: false,
      metricStat: {
        metric: {
          namespace: metric.namespace,
          metricName: metric.metricName,
          dimensions: Object.entries(metric.dimensions ?? {}).map(([name, value]) => ({
            name,
            value: String(value),
          })),
        },
        period: metric.period.toSeconds(),
        stat: metric.statistic,
      },
    })),
  ];
}

/** A widget laid out now (its size is `placeholder`'s) and rendered from `render` when the dashboard resolves. */
class DeferredWidget extends cloudwatch.ConcreteWidget {
  constructor(
    placeholder: cloudwatch.IWidget,
    private readonly render: () => cloudwatch.IWidget,
  ) {
    super(placeholder.width, placeholder.height);
  }

  public toJson(): unknown[] {
    const widget = this.render();
    widget.position(this.x ?? 0, this.y ?? 0);
    return widget.toJson();
  }
}
