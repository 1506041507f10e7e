import { randomUUID } from 'node:crypto';
import type { SNSEvent } from 'aws-lambda';
import { parseNotification } from '../lambda/messages/parse-notification';
import type { AlarmState } from '../lambda/messages/notification';

export interface MetricAlarmShape {
  readonly alarmName?: string;
  readonly state: AlarmState;
  readonly oldState?: AlarmState;
  /** Epoch milliseconds; rendered the way CloudWatch writes it (`2021-11-10T02:45:55.640+0000`). */
  readonly stateChangeMs: number;
  readonly accountId?: string;
  readonly regionCode?: string;
  readonly regionName?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly reason?: string;
}

const REGION_NAMES: Record<string, string> = {
  'us-east-1': 'US East (N. Virginia)',
  'us-west-2': 'US West (Oregon)',
  'eu-west-1': 'Europe (Ireland)',
  'ap-northeast-1': 'Asia Pacific (Tokyo)',
};

/** CloudWatch's timestamp format: millisecond precision and `+0000` instead of `Z`. */
export function cloudWatchTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace('Z', '+0000');
}

/** A single-metric alarm notification as CloudWatch publishes it to SNS. */
export function metricAlarmMessage(shape: MetricAlarmShape): Record<string, unknown> {
  const alarmName = shape.alarmName ?? 'checkout-api-5xx';
  const accountId = shape.accountId ?? '123456789012';
  const regionCode = shape.regionCode ?? 'us-east-1';
  const message: Record<string, unknown> = {
    AlarmName: alarmName,
    AlarmDescription: 'Checkout API returns 5xx errors',
    AWSAccountId: accountId,
    AlarmConfigurationUpdatedTimestamp: '2026-11-01T09:00:00.000+0000',
    NewStateValue: shape.state,
    NewStateReason:
      shape.reason ??
      (shape.state === 'ALARM'
        ? 'Threshold Crossed: 1 out of the last 1 datapoints [12.0 (23/11/26 02:44:00)] was greater than the threshold (5.0) (minimum 1 datapoint for OK -> ALARM transition).'
        : 'Threshold Crossed: 1 out of the last 1 datapoints [0.0 (23/11/26 02:49:00)] was not greater than the threshold (5.0) (minimum 1 datapoint for ALARM -> OK transition).'),
    StateChangeTime: cloudWatchTime(shape.stateChangeMs),
    Region: shape.regionName ?? REGION_NAMES[regionCode] ?? regionCode,
    AlarmArn: `arn:aws:cloudwatch:${regionCode}:${accountId}:alarm:${alarmName}`,
    OldStateValue: shape.oldState ?? (shape.state === 'ALARM' ? 'OK' : 'ALARM'),
    OKActions: [`arn:aws:sns:${regionCode}:${accountId}:alarm-to-pagerduty`],
    AlarmActions: [`arn:aws:sns:${regionCode}:${accountId}:alarm-to-pagerduty`],
    InsufficientDataActions: [],
    Trigger: {
      MetricName: '5XXError',
      Namespace: 'AWS/ApiGateway',
      StatisticType: 'Statistic',
      Statistic: 'SUM',
      Unit: null,
      Dimensions: [
        { value: 'checkout', name: 'ApiName' },
        { value: 'prod', name: 'Stage' },
      ],
      Period: 60,
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 5.0,
      TreatMissingData: 'notBreaching',
      EvaluateLowSampleCountPercentile: '',
    },
  };
  if (shape.tags) {
    message.AlarmTags = shape.tags;
    message.AlarmTagsStatus = 'SUCCESS';
  }
  return message;
}

const LOCAL_TOPIC = 'arn:aws:sns:us-east-1:123456789012:alarm-to-pagerduty';

/**
 * The topic CloudWatch would publish this message to: one of the alarm's own account and region (an intake), as
 * the pipeline requires (decision 15); the local topic for anything that is not an alarm.
 */
export function cloudWatchTopicFor(message: string): string {
  const read = parseNotification({ messageId: 'local', topicArn: LOCAL_TOPIC, timestamp: '', message });
  if (read.type !== 'alarm' || read.regionCode === undefined || read.accountId === '') return LOCAL_TOPIC;
  return `arn:${read.partition}:sns:${read.regionCode}:${read.accountId}:alarm-to-pagerduty`;
}

export interface EnvelopeShape {
  readonly subject?: string;
  readonly messageId?: string;
  readonly timestamp?: string;
  readonly topicArn?: string;
}

/** An SNS event for Lambda with one record per message (objects are JSON-encoded, strings sent as they are). */
export function snsEvent(
  messages: readonly (Record<string, unknown> | string)[],
  shape: EnvelopeShape = {},
): SNSEvent {
  return {
    Records: messages.map((message) => {
      const text = typeof message === 'string' ? message : JSON.stringify(message);
      const subject =
        shape.subject ??
        (typeof message === 'string'
          ? undefined
          : `${String(message.NewStateValue)}: "${String(message.AlarmName)}" in ${String(message.Region)}`);
      return {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: 'arn:aws:sns:us-east-1:123456789012:alarm-to-pagerduty:sub',
        Sns: {
          Type: 'Notification',
          MessageId: shape.messageId ?? randomUUID(),
          TopicArn: shape.topicArn ?? LOCAL_TOPIC,
          Subject: subject ?? null,
          Message: text,
          Timestamp: shape.timestamp ?? new Date().toISOString(),
          SignatureVersion: '1',
          Signature: 'local',
          SigningCertUrl: 'https://sns.us-east-1.amazonaws.com/local.pem',
          UnsubscribeUrl: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe',
          MessageAttributes: {},
        },
      } as SNSEvent['Records'][number];
    }),
  };
}

/** A Lambda context with a fixed time budget, enough for the handler's deadline arithmetic. */
export function lambdaContext(budgetMs = 30_000): {
  awsRequestId: string;
  getRemainingTimeInMillis(): number;
} {
  const end = Date.now() + budgetMs;
  return { awsRequestId: randomUUID(), getRemainingTimeInMillis: () => end - Date.now() };
}
