import fc from 'fast-check';
import { MAX_NAME_LENGTH, MAX_TEXT_LENGTH, storedAlarmName } from '../../../lambda/messages/alarm-fields';
import { parseNotification } from '../../../lambda/messages/parse-notification';
import { parseTimestamp } from '../../../lambda/shared/timestamp';
import type {
  AlarmNotification,
  Notification,
  UnrecognisedNotification,
} from '../../../lambda/messages/notification';
import { alarmMessage, envelope } from '../../support/notifications';

function parsedAlarm(message: Record<string, unknown>): AlarmNotification {
  const n = parseNotification(envelope(message));
  if (n.type !== 'alarm') throw new Error(`expected an alarm, got: ${n.why}`);
  return n;
}

function whyOf(n: Notification): string {
  if (n.type !== 'unrecognised') throw new Error('expected an unrecognised message');
  return n.why;
}

/** Why the condition of an alarm-shaped message could not be read (it still parses as an alarm). */
function unreadableWhy(n: Notification): string {
  if (n.type !== 'alarm' || n.condition.kind !== 'unknown')
    throw new Error('expected an alarm of unknown kind');
  return n.condition.why;
}

const withTrigger = (trigger: Record<string, unknown>) =>
  alarmMessage({ Trigger: { ...(alarmMessage().Trigger as object), ...trigger } });

describe('parseTimestamp', () => {
  it.each([
    ['2021-11-10T02:45:55.640+0000', Date.UTC(2021, 10, 10, 2, 45, 55, 640)],
    ['2021-11-10T02:45:55.640Z', Date.UTC(2021, 10, 10, 2, 45, 55, 640)],
    ['2021-11-10T02:45:55+0000', Date.UTC(2021, 10, 10, 2, 45, 55)],
    ['2021-11-10T02:45:55.640-0700', Date.UTC(2021, 10, 10, 9, 45, 55, 640)],
    ['2021-11-10T02:45:55.640+05:30', Date.UTC(2021, 10, 9, 21, 15, 55, 640)],
    ['2021-11-10T02:45:55.6401234Z', Date.UTC(2021, 10, 10, 2, 45, 55, 640)],
  ])('reads %s', (text, epochMs) => {
    expect(parseTimestamp(text)).toBe(epochMs);
  });

  it("agrees with V8's Date.parse on CloudWatch's +0000 form", () => {
    expect(parseTimestamp('2021-11-10T02:45:55.640+0000')).toBe(Date.parse('2021-11-10T02:45:55.640+0000'));
  });

  it.each([
    '2021-11-10 02:45:55',
    '12',
    '2021-02-30T00:00:00.000+0000',
    '2021-13-01T00:00:00Z',
    '2021-11-10T24:00:00Z',
    '',
  ])('refuses %j, which Date.parse may read as a local time or a year', (text) => {
    expect(parseTimestamp(text)).toBeUndefined();
  });
});

describe('parseNotification: single-metric alarms', () => {
  it('reads every field of a current-format message', () => {
    const n = parsedAlarm(alarmMessage({ AlarmDescription: 'Errors in checkout' }));
    expect(n).toEqual({
      type: 'alarm',
      alarmName: 'HighErrorRate',
      alarmDescription: 'Errors in checkout',
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
      condition: {
        kind: 'metric',
        metric: {
          namespace: 'AWS/Lambda',
          metricName: 'Errors',
          dimensions: [{ name: 'FunctionName', value: 'myfunc' }],
        },
        statistic: 'Sum',
        unit: undefined,
        period: 60,
        threshold: 5,
        comparisonOperator: 'GreaterThanThreshold',
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        treatMissingData: 'missing',
        evaluateLowSampleCountPercentile: undefined,
      },
      tags: {},
      tagsStatus: undefined,
      actionExecutedAfterMuteWindow: undefined,
    });
  });

  it.each([
    ['AVERAGE', 'Average'],
    ['SUM', 'Sum'],
    ['MINIMUM', 'Minimum'],
    ['MAXIMUM', 'Maximum'],
    ['SAMPLE_COUNT', 'SampleCount'],
    ['SampleCount', 'SampleCount'],
    ['Average', 'Average'],
  ])('normalises Statistic %s to %s', (statistic, expected) => {
    const n = parsedAlarm(withTrigger({ Statistic: statistic }));
    expect(n.condition).toMatchObject({ statistic: expected });
  });

  it('takes ExtendedStatistic as written', () => {
    const n = parsedAlarm(
      withTrigger({ StatisticType: 'ExtendedStatistic', Statistic: undefined, ExtendedStatistic: 'p99' }),
    );
    expect(n.condition).toMatchObject({ statistic: 'p99' });
    const tm = parsedAlarm(
      withTrigger({ StatisticType: undefined, Statistic: null, ExtendedStatistic: 'tm90' }),
    );
    expect(tm.condition).toMatchObject({ statistic: 'tm90' });
  });

  it.each([
    ['missing', 'missing'],
    ['- TreatMissingData:                    missing', 'missing'],
    ['- TreatMissingData:   notBreaching', 'notBreaching'],
    ['- TreatMissingData: NonBreaching', 'notBreaching'],
    ['breaching', 'breaching'],
    ['ignore', 'ignore'],
    ['', undefined],
    [undefined, undefined],
  ])('normalises TreatMissingData %j to %j', (raw, expected) => {
    const n = parsedAlarm(withTrigger({ TreatMissingData: raw }));
    expect(n.condition).toMatchObject({ treatMissingData: expected });
  });

  it('reads Unit null or a string, and EvaluateLowSampleCountPercentile', () => {
    expect(parsedAlarm(withTrigger({ Unit: null })).condition).toMatchObject({ unit: undefined });
    expect(
      parsedAlarm(withTrigger({ Unit: 'Seconds', EvaluateLowSampleCountPercentile: 'ignore' })).condition,
    ).toMatchObject({
      unit: 'Seconds',
      evaluateLowSampleCountPercentile: 'ignore',
    });
  });

  it('reads 0 to 30 dimensions, and numbers written as strings', () => {
    expect(parsedAlarm(withTrigger({ Dimensions: [] })).condition).toMatchObject({
      metric: { dimensions: [] },
    });
    const thirty = Array.from({ length: 30 }, (_, i) => ({ value: `v${i}`, name: `d${i}` }));
    const n = parsedAlarm(withTrigger({ Dimensions: thirty, Period: '300', Threshold: '0.5' }));
    expect(n.condition).toMatchObject({ period: 300, threshold: 0.5 });
    expect(n.condition.kind === 'metric' && n.condition.metric.dimensions).toHaveLength(30);
  });

  it('reads an old message: no ARN, old region name, no action lists, no StatisticType', () => {
    const old = alarmMessage({ Region: 'US - N. Virginia', StateChangeTime: '2012-03-23T00:01:43.726+0000' });
    for (const key of [
      'AlarmArn',
      'OKActions',
      'AlarmActions',
      'InsufficientDataActions',
      'AlarmConfigurationUpdatedTimestamp',
    ]) {
      delete old[key];
    }
    const trigger = { ...(old.Trigger as Record<string, unknown>) };
    delete trigger.StatisticType;
    delete trigger.DatapointsToAlarm;
    delete trigger.TreatMissingData;
    const n = parsedAlarm({ ...old, Trigger: { ...trigger, Statistic: 'AVERAGE' } });
    expect(n).toMatchObject({
      alarmArn: undefined,
      regionCode: 'us-east-1',
      partition: 'aws',
      stateChangeEpochMs: 1332460903726,
    });
    expect(n.condition).toMatchObject({
      statistic: 'Average',
      datapointsToAlarm: undefined,
      treatMissingData: undefined,
    });
  });

  it('takes the region and partition from the ARN before the region name', () => {
    const n = parsedAlarm(
      alarmMessage({
        AlarmArn: 'arn:aws-cn:cloudwatch:cn-northwest-1:123456789012:alarm:HighErrorRate',
        Region: 'China (Beijing)',
      }),
    );
    expect(n).toMatchObject({ regionCode: 'cn-northwest-1', partition: 'aws-cn' });
  });

  it('falls back to the region name when the ARN carries a placeholder', () => {
    const n = parsedAlarm(
      alarmMessage({
        AlarmArn: 'arn:aws:cloudwatch:REGION:ACCOUNT_NUMBER:alarm:EXAMPLE',
        Region: 'EU (Ireland)',
      }),
    );
    expect(n).toMatchObject({
      alarmArn: 'arn:aws:cloudwatch:REGION:ACCOUNT_NUMBER:alarm:EXAMPLE',
      regionCode: 'eu-west-1',
      partition: 'aws',
    });
  });

  it('derives the partition from the region name when there is no ARN', () => {
    const gov = alarmMessage({ Region: 'AWS GovCloud (US-East)' });
    delete gov.AlarmArn;
    expect(parsedAlarm(gov)).toMatchObject({ regionCode: 'us-gov-east-1', partition: 'aws-us-gov' });
  });

  it('reads AlarmDescription null as absent and keeps a missing reason as empty', () => {
    const message = alarmMessage({ AlarmDescription: null });
    delete message.NewStateReason;
    expect(parsedAlarm(message)).toMatchObject({ alarmDescription: undefined, reason: '' });
  });
});

describe('parseNotification: metric math and anomaly detection', () => {
  const metrics = [
    { Expression: '100 * m2 / m1', Id: 'e1', Label: 'Error rate', ReturnData: true },
    {
      Id: 'm1',
      MetricStat: {
        Metric: {
          Dimensions: [{ value: 'checkout', name: 'ApiName' }],
          MetricName: 'Count',
          Namespace: 'AWS/ApiGateway',
        },
        Period: 60,
        Stat: 'Sum',
        Unit: 'Count',
      },
      ReturnData: false,
    },
  ];
  const mathTrigger = {
    Period: 60,
    EvaluationPeriods: 5,
    DatapointsToAlarm: 3,
    ComparisonOperator: 'GreaterThanThreshold',
    Threshold: 5.0,
    TreatMissingData: '- TreatMissingData:                    missing',
    EvaluateLowSampleCountPercentile: '',
    Metrics: metrics,
  };

  it('reads a metric-math alarm: expressions and MetricStat metrics, no top-level MetricName', () => {
    const n = parsedAlarm(alarmMessage({ Trigger: mathTrigger }));
    expect(n.condition).toEqual({
      kind: 'metric-math',
      comparisonOperator: 'GreaterThanThreshold',
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      treatMissingData: 'missing',
      evaluateLowSampleCountPercentile: undefined,
      period: 60,
      threshold: 5,
      metrics: [
        {
          id: 'e1',
          label: 'Error rate',
          returnData: true,
          expression: '100 * m2 / m1',
          metricStat: undefined,
        },
        {
          id: 'm1',
          label: undefined,
          returnData: false,
          expression: undefined,
          metricStat: {
            metric: {
              namespace: 'AWS/ApiGateway',
              metricName: 'Count',
              dimensions: [{ name: 'ApiName', value: 'checkout' }],
            },
            period: 60,
            stat: 'Sum',
            unit: 'Count',
          },
        },
      ],
    });
  });

  it.each([
    'GreaterThanUpperThreshold',
    'LessThanLowerThreshold',
    'LessThanLowerOrGreaterThanUpperThreshold',
  ])('reads an anomaly-detection alarm with %s and no Threshold', (operator) => {
    const band = {
      Expression: 'ANOMALY_DETECTION_BAND(m1, 2)',
      Id: 'ad1',
      Label: 'Count (expected)',
      ReturnData: true,
    };
    const trigger = {
      ...mathTrigger,
      ComparisonOperator: operator,
      ThresholdMetricId: 'ad1',
      Metrics: [metrics[1], band],
    };
    delete (trigger as Record<string, unknown>).Threshold;
    const n = parsedAlarm(alarmMessage({ Trigger: trigger }));
    expect(n.condition).toMatchObject({
      kind: 'anomaly',
      thresholdMetricId: 'ad1',
      comparisonOperator: operator,
    });
    expect('threshold' in n.condition).toBe(false);
  });

  it('names the bad metric of a metric-math alarm', () => {
    const why = unreadableWhy(
      parseNotification(envelope(alarmMessage({ Trigger: { ...mathTrigger, Metrics: [{ Id: 'e1' }] } }))),
    );
    expect(why).toContain('Trigger.Metrics[0]: has neither Expression nor MetricStat');
    const noThreshold = { ...mathTrigger };
    delete (noThreshold as Record<string, unknown>).Threshold;
    expect(unreadableWhy(parseNotification(envelope(alarmMessage({ Trigger: noThreshold }))))).toContain(
      'Trigger.Threshold: missing',
    );
  });
});

describe('parseNotification: composite alarms', () => {
  const composite = (extra: Record<string, unknown>) => {
    const message = alarmMessage({ AlarmRule: 'ALARM(a) OR ALARM(b)', ...extra });
    delete message.Trigger;
    return message;
  };

  it('reads TriggeringChildren objects and names each child from its ARN', () => {
    const n = parsedAlarm(
      composite({
        TriggeringChildren: [
          {
            Arn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:a',
            State: { Value: 'ALARM', Timestamp: '2021-11-10T02:45:55.640+0000' },
          },
        ],
      }),
    );
    expect(n.condition).toEqual({
      kind: 'composite',
      alarmRule: 'ALARM(a) OR ALARM(b)',
      triggeringChildren: [
        {
          arn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:a',
          name: 'a',
          state: 'ALARM',
          timestamp: '2021-11-10T02:45:55.640+0000',
        },
      ],
    });
  });

  it('reads children written as ARN strings (the documented schema), empty, or absent', () => {
    const strings = parsedAlarm(
      composite({ TriggeringChildren: ['arn:aws:cloudwatch:us-east-1:123456789012:alarm:b:with:colons'] }),
    );
    expect(strings.condition).toMatchObject({
      triggeringChildren: [{ name: 'b:with:colons', state: undefined }],
    });
    expect(parsedAlarm(composite({ TriggeringChildren: [] })).condition).toMatchObject({
      triggeringChildren: [],
    });
    expect(parsedAlarm(composite({})).condition).toMatchObject({ triggeringChildren: [] });
  });

  it('names a bad child', () => {
    expect(unreadableWhy(parseNotification(envelope(composite({ TriggeringChildren: [42] }))))).toContain(
      'TriggeringChildren[0]: expected an alarm ARN or {Arn, State}',
    );
  });
});

describe('parseNotification: tags and newer fields', () => {
  it('accepts AlarmTags as a map and drops aws: keys', () => {
    const n = parsedAlarm(
      alarmMessage({
        AlarmTags: { team: 'data', 'aws:cloudformation:stack-name': 's', 'AWS:other': 'x', n: 5 },
        AlarmTagsStatus: 'SUCCESS',
      }),
    );
    expect(n.tags).toEqual({ team: 'data', n: '5' });
    expect(n.tagsStatus).toBe('SUCCESS');
  });

  it('accepts AlarmTags as [{Key, Value}] and [{key, value}] lists, skipping malformed entries', () => {
    const list = parsedAlarm(
      alarmMessage({
        AlarmTags: [
          { Key: 'team', Value: 'data' },
          { key: 'pagerduty:route', value: 'payments' },
          { Key: 'aws:createdBy', Value: 'x' },
          { Key: '', Value: 'no key' },
          { Key: 'object', Value: { nested: true } },
          'not a tag',
        ],
      }),
    );
    expect(list.tags).toEqual({ team: 'data', 'pagerduty:route': 'payments' });
    expect(parsedAlarm(alarmMessage({ AlarmTags: 'team=data' })).tags).toEqual({});
  });

  it('reads ActionExecutedAfterMuteWindow', () => {
    expect(
      parsedAlarm(alarmMessage({ ActionExecutedAfterMuteWindow: true })).actionExecutedAfterMuteWindow,
    ).toBe(true);
    expect(
      parsedAlarm(alarmMessage({ ActionExecutedAfterMuteWindow: 'false' })).actionExecutedAfterMuteWindow,
    ).toBe(false);
  });

  it('keeps an own "__proto__" tag as data', () => {
    const n = parsedAlarm(alarmMessage({ AlarmTags: JSON.parse('{"__proto__": "x", "team": "data"}') }));
    expect(Object.getPrototypeOf(n.tags)).toBe(Object.prototype);
    expect(n.tags.team).toBe('data');
  });
});

describe('parseNotification: anything else becomes unrecognised, saying why', () => {
  const cases: [string, string, string][] = [
    ['an empty body', '', 'the SNS message body is empty'],
    ['a blank body', ' \n\t', 'the SNS message body is empty'],
    ['a console test publish', 'Hello world', 'plain text, not JSON (a test publish from the SNS console'],
    [
      'truncated JSON',
      '{"AlarmName":"x","NewState',
      'starts like JSON but does not parse: it is truncated or malformed',
    ],
    ['a JSON array', '[1,2]', 'JSON an array, not an object'],
    ['a JSON string', '"ALARM"', 'JSON "ALARM", not an object'],
    ['JSON null', 'null', 'JSON null, not an object'],
    ['a JSON number', '42', 'JSON number 42, not an object'],
    [
      'other JSON',
      '{"hello":"world","n":1}',
      'JSON without AlarmName or NewStateValue, so not a CloudWatch alarm notification (its keys: hello, n)',
    ],
    ['an S3 event', '{"Records":[{"eventSource":"aws:s3"}]}', 'an event with "Records"'],
    [
      'an EventBridge event',
      '{"detail-type":"AWS Health Event","source":"aws.health","detail":{}}',
      'an EventBridge event (source "aws.health", detail-type "AWS Health Event"), not a CloudWatch alarm notification',
    ],
    [
      'a nested SNS notification',
      '{"Type":"Notification","Message":"{}"}',
      'a whole SNS notification inside the message',
    ],
  ];

  it.each(cases)('%s', (_what, body, why) => {
    const n = parseNotification(envelope(body, { subject: undefined }));
    expect(n).toMatchObject({
      type: 'unrecognised',
      body,
      subject: undefined,
      topicArn: 'arn:aws:sns:us-east-1:123456789012:alarms',
    });
    expect(whyOf(n)).toContain(why);
    expect((n as UnrecognisedNotification).publishedEpochMs).toBe(Date.UTC(2021, 10, 10, 2, 45, 55, 703));
  });

  it.each([
    [{ NewStateValue: undefined }, 'NewStateValue: missing'],
    [{ NewStateValue: 'FIRING' }, 'NewStateValue: "FIRING" is not one of OK, ALARM, INSUFFICIENT_DATA'],
    [
      { StateChangeTime: 'yesterday' },
      'StateChangeTime: "yesterday" is not a timestamp like 2021-11-10T02:45:55.640+0000',
    ],
    [{ StateChangeTime: 1636512355640 }, 'StateChangeTime: expected a string, got number 1636512355640'],
    [{ AlarmName: '', AlarmArn: undefined }, 'AlarmName: missing, and there is no AlarmArn that names it'],
    [
      { AWSAccountId: undefined, AlarmArn: undefined },
      'AWSAccountId: missing, and there is no AlarmArn that names it',
    ],
  ])('names the field when an alarm-looking message has %j', (change, why) => {
    const n = parseNotification(envelope(alarmMessage(change)));
    expect(whyOf(n)).toContain(`looks like a CloudWatch alarm notification`);
    expect(whyOf(n)).toContain(why);
  });

  it.each([
    [{ Trigger: 'Errors > 5' }, 'Trigger: expected an object, got "Errors > 5"'],
    [{ Trigger: {} }, 'Trigger has none of MetricName, Metrics and ThresholdMetricId'],
    [{ Trigger: { MetricName: 'Errors' } }, 'Trigger.Namespace: missing'],
    [{ Trigger: undefined }, 'neither Trigger (a metric alarm) nor AlarmRule (a composite alarm) is present'],
  ])(
    'keeps an alarm-shaped message with a condition it cannot read (%j) as an alarm, saying why',
    (change, why) => {
      const n = parseNotification(envelope(alarmMessage(change)));
      expect(n).toMatchObject({
        type: 'alarm',
        alarmArn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighErrorRate',
        condition: { kind: 'unknown' },
      });
      expect(unreadableWhy(n)).toContain(why);
    },
  );

  it('names a missing statistic and a bad period', () => {
    const why = unreadableWhy(
      parseNotification(envelope(withTrigger({ Statistic: undefined, Period: -60 }))),
    );
    expect(why).toContain('Trigger.Period: number -60 must be more than 0');
    const statistic = unreadableWhy(
      parseNotification(envelope(withTrigger({ Statistic: null, ExtendedStatistic: null }))),
    );
    expect(statistic).toContain('Trigger.Statistic: missing, and so is ExtendedStatistic');
  });

  it('keeps the subject and the SNS publish time', () => {
    const n = parseNotification(envelope('hi', { subject: 'Test', timestamp: '2024-01-02T03:04:05.006Z' }));
    expect(n).toMatchObject({
      type: 'unrecognised',
      subject: 'Test',
      publishedEpochMs: Date.UTC(2024, 0, 2, 3, 4, 5, 6),
    });
  });
});

describe('parseNotification never throws', () => {
  const check = (message: string) => {
    const n = parseNotification(envelope(message));
    expect(['alarm', 'unrecognised']).toContain(n.type);
    if (n.type === 'unrecognised') {
      expect(n.why.length).toBeGreaterThan(0);
      expect(n.body).toBe(message);
    }
  };

  it('on arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 2000 }), check), { numRuns: 500 });
  });

  it('on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => check(JSON.stringify(value) ?? '')),
      { numRuns: 500 },
    );
  });

  it('on alarm messages with any field replaced by any JSON value', () => {
    const base = alarmMessage();
    const keys = [
      ...Object.keys(base),
      'AlarmRule',
      'TriggeringChildren',
      'AlarmTags',
      'ActionExecutedAfterMuteWindow',
    ];
    const triggerKeys = Object.keys(base.Trigger as object).concat('Metrics', 'ThresholdMetricId');
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom(...keys), fc.jsonValue(), { maxKeys: 4 }),
        fc.dictionary(fc.constantFrom(...triggerKeys), fc.jsonValue(), { maxKeys: 4 }),
        (top, trigger) =>
          check(JSON.stringify({ ...base, Trigger: { ...(base.Trigger as object), ...trigger }, ...top })),
      ),
      { numRuns: 500 },
    );
  });

  it('on cut-off alarm messages', () => {
    const text = JSON.stringify(alarmMessage());
    fc.assert(
      fc.property(fc.integer({ min: 0, max: text.length - 1 }), (end) => {
        const n = parseNotification(envelope(text.slice(0, end)));
        expect(n.type).toBe('unrecognised');
      }),
    );
  });

  it('on an envelope with missing parts', () => {
    const n = parseNotification({ messageId: 'x' } as never);
    expect(n).toMatchObject({ type: 'unrecognised', body: '', topicArn: '', publishedEpochMs: 0 });
  });
});

describe('parseNotification: what hides around or inside the JSON', () => {
  it.each([
    ['a byte-order mark', '\ufeff'],
    ['zero-width spaces', '\u200b\u200b'],
    ['a left-to-right mark', '\u200e'],
    ['no-break spaces and a line separator', '\u00a0\u2028 '],
    ['controls', '\u0000\u0007'],
  ])('reads an alarm with %s before (and after) its JSON', (_what, junk) => {
    const n = parseNotification(envelope(`${junk}${JSON.stringify(alarmMessage())}${junk}`));
    expect(n).toMatchObject({
      type: 'alarm',
      alarmArn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighErrorRate',
    });
  });

  it('says a body of nothing but invisible characters is empty', () => {
    expect(whyOf(parseNotification(envelope('\ufeff\u200b \u202e')))).toContain(
      'the SNS message body is empty',
    );
  });

  it('refuses JSON nested deeper than any alarm message before parsing it', () => {
    expect(whyOf(parseNotification(envelope('['.repeat(100_000) + ']'.repeat(100_000))))).toContain(
      'nested more than 64 levels deep',
    );
    expect(whyOf(parseNotification(envelope('{"a":'.repeat(70) + '1' + '}'.repeat(70))))).toContain(
      'nested more',
    );
    // Brackets inside strings do not count.
    expect(parseNotification(envelope(alarmMessage({ AlarmDescription: '['.repeat(1_000) }))).type).toBe(
      'alarm',
    );
  });

  it('keeps names as written, bidi controls and all, for the details (the event neutralises them)', () => {
    const n = parseNotification(envelope(alarmMessage({ AlarmName: 'prod-\u202eeman\u202c' })));
    expect(n).toMatchObject({ type: 'alarm', alarmName: 'prod-\u202eeman\u202c' });
  });

  it('makes lone surrogates well-formed, so what is stored and sent is UTF-8', () => {
    const n = parseNotification(envelope(alarmMessage({ AlarmDescription: 'a\ud800b' })));
    expect(n).toMatchObject({ type: 'alarm', alarmDescription: 'a\ufffdb' });
    expect(parseNotification(envelope('plain \udc00 text'))).toMatchObject({ body: 'plain \ufffd text' });
  });
});

describe('parseNotification: bounds on what is stored or sent', () => {
  it('cuts names to 1 KB, reasons and rules to 10 KB, lists and maps to 200 entries', () => {
    const n = parseNotification(
      envelope(
        alarmMessage({
          AlarmName: 'n'.repeat(250_000),
          AlarmArn: undefined,
          NewStateReason: 'r'.repeat(100_000),
          AlarmTags: Object.fromEntries(
            Array.from({ length: 5_000 }, (_, i) => [`k${i}`, 'v'.repeat(2_000)]),
          ),
          AlarmContributorId: 'c'.repeat(5_000),
          AlarmContributorAttributes: { ['a'.repeat(5_000)]: 'b'.repeat(5_000) },
        }),
      ),
    );
    if (n.type !== 'alarm') throw new Error(n.why);
    expect(n.alarmName.length).toBe(MAX_NAME_LENGTH);
    expect(n.reason.length).toBe(MAX_TEXT_LENGTH);
    expect(Object.keys(n.tags)).toHaveLength(200);
    expect(Math.max(...Object.values(n.tags).map((v) => v.length))).toBe(MAX_NAME_LENGTH);
    expect(n.contributor!.id.length).toBe(MAX_NAME_LENGTH);
    expect(Object.entries(n.contributor!.attributes)[0]!.map((s) => s.length)).toEqual([
      MAX_NAME_LENGTH,
      MAX_NAME_LENGTH,
    ]);
    expect(storedAlarmName(n).length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
    expect(
      storedAlarmName(parseNotification(envelope('x', { subject: 's'.repeat(5_000) }))).length,
    ).toBeLessThanOrEqual(MAX_NAME_LENGTH);
  });

  it('names the contributor in the stored alarm name', () => {
    const n = parseNotification(
      envelope(
        alarmMessage({ AlarmContributorId: 'c1', AlarmContributorAttributes: { TableName: 'orders' } }),
      ),
    );
    expect(storedAlarmName(n)).toBe('HighErrorRate [TableName=orders]');
  });
});

describe('parseNotification: contributors', () => {
  it.each<[string, unknown, unknown, Record<string, string>]>([
    ['a map', 'c1', { TableName: 'orders', Shard: 3 }, { TableName: 'orders', Shard: '3' }],
    ['a JSON string', 'c1', '{"TableName":"orders"}', { TableName: 'orders' }],
    ['a [{Key, Value}] list', 'c1', [{ Key: 'TableName', Value: 'orders' }], { TableName: 'orders' }],
    ['nothing', 'c1', undefined, {}],
    ['junk', 'c1', 42, {}],
  ])('reads the attributes written as %s', (_what, id, attributes, expected) => {
    const n = parseNotification(
      envelope(alarmMessage({ AlarmContributorId: id, AlarmContributorAttributes: attributes })),
    );
    expect(n).toMatchObject({ type: 'alarm', contributor: { id: 'c1', attributes: expected } });
  });

  it('takes a numeric id as its digits, and ignores an empty one', () => {
    expect(parseNotification(envelope(alarmMessage({ AlarmContributorId: 42 })))).toMatchObject({
      contributor: { id: '42' },
    });
    const n = parseNotification(envelope(alarmMessage({ AlarmContributorId: ' ' })));
    expect(n.type === 'alarm' && n.contributor).toBeUndefined();
  });
});
