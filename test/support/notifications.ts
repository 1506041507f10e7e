import type {
  AlarmCondition,
  AlarmNotification,
  AlarmSettings,
  SingleMetricCondition,
  SnsEnvelope,
  UnrecognisedNotification,
} from '../../lambda/messages/notification';

export const lambdaErrors: SingleMetricCondition = {
  kind: 'metric',
  metric: {
    namespace: 'AWS/Lambda',
    metricName: 'Errors',
    dimensions: [{ name: 'FunctionName', value: 'myfunc' }],
  },
  statistic: 'Sum',
  period: 60,
  threshold: 5,
  comparisonOperator: 'GreaterThanThreshold',
  evaluationPeriods: 1,
  datapointsToAlarm: 1,
  treatMissingData: 'missing',
};

/** A parsed alarm notification, as parseNotification returns it, with `overrides` applied. */
export function alarm(
  overrides: Partial<Omit<AlarmNotification, 'condition'>> & { condition?: AlarmCondition } = {},
): AlarmNotification {
  return {
    type: 'alarm',
    alarmName: 'HighErrorRate',
    alarmArn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighErrorRate',
    accountId: '123456789012',
    regionName: 'US East (N. Virginia)',
    regionCode: 'us-east-1',
    partition: 'aws',
    newState: 'ALARM',
    oldState: 'OK',
    reason:
      'Threshold Crossed: 1 out of the last 1 datapoints [7.0 (10/11/21 02:44:00)] was greater than the threshold (5.0).',
    stateChangeTime: '2021-11-10T02:45:55.640+0000',
    stateChangeEpochMs: 1636512355640,
    condition: lambdaErrors,
    tags: {},
    ...overrides,
  };
}

export function unrecognised(overrides: Partial<UnrecognisedNotification> = {}): UnrecognisedNotification {
  return {
    type: 'unrecognised',
    why: 'the SNS message body is plain text, not JSON',
    subject: 'Test',
    body: 'hello',
    publishedEpochMs: 1636512355703,
    topicArn: 'arn:aws:sns:us-east-1:123456789012:alarms',
    ...overrides,
  };
}

export function settings(overrides: Partial<AlarmSettings> = {}): AlarmSettings {
  return { route: 'default', severity: 'critical', insufficientData: 'ignore', problems: [], ...overrides };
}

/** An SNS envelope carrying `message` (stringified unless it already is a string). */
export function envelope(message: unknown, overrides: Partial<SnsEnvelope> = {}): SnsEnvelope {
  return {
    messageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e',
    topicArn: 'arn:aws:sns:us-east-1:123456789012:alarms',
    subject: 'ALARM: "HighErrorRate" in US East (N. Virginia)',
    timestamp: '2021-11-10T02:45:55.703Z',
    message: typeof message === 'string' ? message : JSON.stringify(message),
    ...overrides,
  };
}

/** A current-format single-metric alarm message (the JSON inside `Sns.Message`). */
export function alarmMessage(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    AlarmName: 'HighErrorRate',
    AlarmDescription: null,
    AWSAccountId: '123456789012',
    AlarmConfigurationUpdatedTimestamp: '2021-11-01T09:12:01.114+0000',
    NewStateValue: 'ALARM',
    NewStateReason:
      'Threshold Crossed: 1 out of the last 1 datapoints [7.0 (10/11/21 02:44:00)] was greater than the threshold (5.0).',
    StateChangeTime: '2021-11-10T02:45:55.640+0000',
    Region: 'US East (N. Virginia)',
    AlarmArn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighErrorRate',
    OldStateValue: 'OK',
    OKActions: [],
    AlarmActions: ['arn:aws:sns:us-east-1:123456789012:alarms'],
    InsufficientDataActions: [],
    Trigger: {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      StatisticType: 'Statistic',
      Statistic: 'SUM',
      Unit: null,
      Dimensions: [{ value: 'myfunc', name: 'FunctionName' }],
      Period: 60,
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 5.0,
      TreatMissingData: 'missing',
      EvaluateLowSampleCountPercentile: '',
    },
    ...overrides,
  };
}
