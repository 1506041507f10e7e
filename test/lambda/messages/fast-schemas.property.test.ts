// The hand-written readers of the two schemas every alarm passes through (the alarm's fields, a single-metric
// Trigger) must give what zod gives, or step aside: for any mix of well-formed, missing, null and wrong values,
// parseWith through the fast reader equals parseWith through zod alone, issues included.
import fc from 'fast-check';
import { alarmSchema, singleMetricTrigger } from '../../../lambda/messages/alarm-message';
import * as z from 'zod/mini';
import { FastSchema, parseWith, UNSURE } from '../../../lambda/messages/alarm-fields';
import { alarmMessage } from '../../support/notifications';

const anyOf = (...values: unknown[]) => fc.constantFrom(...values);
const odd = anyOf(undefined, null, '', ' ', 'x', 0, -1, 1.5, true, 'true', [], {}, Infinity);
const text = fc.oneof(anyOf('cpu', 'AWS/EC2', ' padded ', 'GreaterThanThreshold'), odd);
const number = fc.oneof(anyOf(1, 60, 300, '60', ' 5 ', '1e2', '2.5', '-3', 2 ** 53, 1e21, -0.5, 0), odd);
const dimension = fc.oneof(
  fc.record({ name: text, value: text }),
  fc.record({ Name: text, Value: text }),
  fc.record({ name: text, Name: text, value: text }),
  odd,
);
const trigger = fc.record(
  {
    MetricName: text,
    Namespace: text,
    StatisticType: fc.oneof(anyOf('Statistic', 'ExtendedStatistic'), odd),
    Statistic: fc.oneof(anyOf('AVERAGE', 'Maximum', 'SAMPLE_COUNT'), odd),
    ExtendedStatistic: fc.oneof(anyOf('p99', 'tm90'), odd),
    Unit: text,
    Dimensions: fc.oneof(fc.array(dimension, { maxLength: 3 }), odd),
    Period: number,
    Threshold: number,
    EvaluationPeriods: number,
    DatapointsToAlarm: number,
    ComparisonOperator: text,
    TreatMissingData: text,
    EvaluateLowSampleCountPercentile: text,
  },
  { requiredKeys: [] },
);
const state = fc.oneof(anyOf('OK', 'ALARM', 'INSUFFICIENT_DATA', 'alarm'), odd);
const alarm = fc.record(
  {
    AlarmName: text,
    AlarmDescription: text,
    AWSAccountId: text,
    NewStateValue: state,
    OldStateValue: state,
    NewStateReason: text,
    StateChangeTime: fc.oneof(
      anyOf('2021-11-10T02:45:55.640+0000', '2021-11-10T02:45:55Z', 'yesterday'),
      odd,
    ),
    Region: text,
    AlarmArn: text,
    AlarmTagsStatus: text,
    ActionExecutedAfterMuteWindow: fc.oneof(anyOf(true, false, 'true', 'false', 'yes'), odd),
  },
  { requiredKeys: [] },
);

describe('the fast readers of the hot schemas', () => {
  it.each([
    ['a single-metric Trigger', singleMetricTrigger, trigger],
    ['an alarm', alarmSchema, alarm],
  ] as const)('read %s as zod does, or leave it to zod', (_what, schema, input) => {
    fc.assert(
      fc.property(input, (value: unknown) => {
        expect(parseWith(schema as FastSchema<unknown>, value, ['Trigger'])).toEqual(
          parseWith(schema.schema as never, value, ['Trigger']),
        );
      }),
      { numRuns: 3000 },
    );
  });

  it('read the alarm CloudWatch sends without zod', () => {
    const message = alarmMessage();
    expect(alarmSchema.read(message)).not.toBe(UNSURE);
    expect(singleMetricTrigger.read(message.Trigger)).not.toBe(UNSURE);
    expect({ ok: true, value: singleMetricTrigger.read(message.Trigger) }).toEqual(
      parseWith(singleMetricTrigger.schema as never, message.Trigger),
    );
  });
});

describe('a FastSchema builds its zod schema only when its reader steps aside', () => {
  it('builds it at the first input the reader leaves to zod, and once', () => {
    const build = jest.fn(() => z.object({ n: z.number() }));
    const schema = new FastSchema(build, (input) =>
      typeof input === 'object' && input !== null && typeof (input as { n?: unknown }).n === 'number'
        ? (input as { n: number })
        : UNSURE,
    );
    expect(parseWith(schema, { n: 1 })).toEqual({ ok: true, value: { n: 1 } });
    expect(build).not.toHaveBeenCalled();
    expect(parseWith(schema, { n: 'one' })).toMatchObject({ ok: false });
    expect(parseWith(schema, {})).toMatchObject({ ok: false });
    expect(build).toHaveBeenCalledTimes(1);
  });
});
