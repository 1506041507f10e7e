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
  type PipelineMetricName,
} from '../lambda/contract';

export { METRICS_NAMESPACE, PIPELINE_METRICS, SERVICE_NAME, type PipelineMetricName };

export interface PipelineHealthProps {
  /** The topic alarms publish to. */
  readonly topic: sns.ITopic;
  readonly handler: lambda.IFunction;
  readonly deadLetterQueue: sqs.IQueue;
  /** Where the health alarms notify: people who run the pipeline, never the PagerDuty pipeline itself. */
  readonly opsTopic: sns.ITopic;
}

/** Health alarms of the pipeline (to the ops topic) and its dashboard. */
export class PipelineHealth extends Construct {
  public readonly alarms: readonly cloudwatch.Alarm[];
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: PipelineHealthProps) {
    super(scope, id);
    const { topic, handler, deadLetterQueue, opsTopic } = props;
    const fiveMinutes = Duration.minutes(5);
    const lambdaMetric = (metricName: string, statistic = 'Sum') =>
      handler.metric(metricName, { statistic, period: fiveMinutes });
    const topicMetric = (metricName: string) =>
      topic.metric(metricName, { statistic: 'Sum', period: fiveMinutes });
    const dlqDepth = deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      statistic: 'Maximum',
      period: Duration.minutes(1),
    });

    const opsAction = new SnsAction(opsTopic);
    const alarm = (id: string, metric: cloudwatch.IMetric, description: string) => {
      const created = new cloudwatch.Alarm(this, id, {
        metric,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      created.addAlarmAction(opsAction);
      created.addOkAction(opsAction);
      return created;
    };

    this.alarms = [
      alarm(
        'DeadLetterQueueNotEmpty',
        dlqDepth,
        'Alarm notifications that could not be delivered to PagerDuty are waiting in the dead-letter queue. ' +
          'Read the error in the messages, fix the cause, then replay them with `npm run redrive`.',
      ),
      alarm(
        'HandlerErrors',
        lambdaMetric('Errors'),
        'The PagerDuty handler failed; Lambda retries twice, then the event goes to the dead-letter queue. ' +
          'Check the function logs.',
      ),
      alarm(
        'HandlerThrottles',
        lambdaMetric('Throttles'),
        'The PagerDuty handler hit its reserved concurrency (an alarm storm?). Throttled events wait in the ' +
          'async queue up to the maximum event age; raise reservedConcurrency if this persists.',
      ),
      alarm(
        'AsyncDestinationFailures',
        lambdaMetric('DestinationDeliveryFailures'),
        'Lambda could not put failed events into the dead-letter queue: those events are lost. ' +
          'Check the queue policy and KMS key policy.',
      ),
      alarm(
        'AsyncEventsDropped',
        lambdaMetric('AsyncEventsDropped'),
        'Lambda dropped async events without running the handler to completion or reaching the dead-letter queue.',
      ),
      alarm(
        'NotificationsFailed',
        topicMetric('NumberOfNotificationsFailed'),
        'SNS could not invoke the PagerDuty handler; undelivered messages go to the dead-letter queue.',
      ),
      alarm(
        'NotificationsLost',
        topicMetric('NumberOfNotificationsFailedToRedriveToDlq'),
        'SNS could neither invoke the handler nor put the message in the dead-letter queue: alarm notifications ' +
          'were lost. Check the queue policy and the KMS key policy for sns.amazonaws.com.',
      ),
      alarm(
        'LedgerUnavailable',
        pipelineMetric('LedgerUnavailable'),
        'The handler paged without its DynamoDB ledger (fail-open): duplicates and stale notifications may reach ' +
          'PagerDuty until the table is reachable again.',
      ),
    ];

    const wide = 12;
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(6),
    });
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Pipeline health', alarms: [...this.alarms], width: 24 }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'SNS: alarm notifications',
        width: wide,
        left: [
          topicMetric('NumberOfMessagesPublished'),
          topicMetric('NumberOfNotificationsDelivered'),
          topicMetric('NumberOfNotificationsFailed'),
          topicMetric('NumberOfNotificationsRedrivenToDlq'),
          topicMetric('NumberOfNotificationsFailedToRedriveToDlq'),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Handler: invocations, errors, throttles',
        width: wide,
        left: [lambdaMetric('Invocations'), lambdaMetric('Errors'), lambdaMetric('Throttles')],
        right: [lambdaMetric('ConcurrentExecutions', 'Maximum')],
        rightYAxis: { label: 'concurrency', showUnits: false },
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Handler: duration and async event age',
        width: wide,
        left: [lambdaMetric('Duration', 'p99'), lambdaMetric('Duration', 'p50')],
        right: [lambdaMetric('AsyncEventAge', 'p99')],
      }),
      new cloudwatch.GraphWidget({
        title: 'Failures: dead-letter queue and async delivery',
        width: wide,
        left: [dlqDepth],
        right: [lambdaMetric('DestinationDeliveryFailures'), lambdaMetric('AsyncEventsDropped')],
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'PagerDuty: events sent and delivery',
        width: wide,
        left: [
          pipelineMetric('EventsSent'),
          new cloudwatch.MathExpression({
            expression: `SEARCH('{${METRICS_NAMESPACE},action,service} MetricName="EventsSent"', 'Sum', 300)`,
            label: 'EventsSent by action',
            period: fiveMinutes,
          }),
        ],
        right: [
          pipelineMetric('DeliveryFailures'),
          pipelineMetric('DeliveryRetries'),
          pipelineMetric('Compensations'),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'PagerDuty: delivery latency (ms)',
        width: wide,
        left: [pipelineMetric('DeliveryLatency', 'p50'), pipelineMetric('DeliveryLatency', 'p99')],
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Notifications not sent, and why',
        width: wide,
        left: [
          pipelineMetric('DuplicatesSkipped'),
          pipelineMetric('StaleSkipped'),
          pipelineMetric('PolicySkipped'),
          pipelineMetric('UnrecognisedMessages'),
          pipelineMetric('UnrecognisedDropped'),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Degraded: ledger unavailable, cached routing key, bad tags',
        width: wide,
        left: [
          pipelineMetric('LedgerUnavailable'),
          pipelineMetric('StaleRoutingKeyUsed'),
          pipelineMetric('TagProblems'),
        ],
      }),
    );
    this.dashboard = dashboard;
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
