// Hostile and malformed alarm messages of the largest size SNS carries, for the parser's timing property and for
// `npm run bench`: long runs of one character in each field, deep nesting, many keys or entries, repeated
// separators, invisible and control characters. Built from families, so new fields are covered by adding a path.
import fc from 'fast-check';
import { parseAlarmEvent } from '../../lambda/messages/alarm-event';
import { parseNotification } from '../../lambda/messages/parse-notification';
import { decideAction } from '../../lambda/pipeline/decide';
import { dedupKeyFor } from '../../lambda/pipeline/dedup-key';
import type { AlarmSettings, Notification, SnsEnvelope } from '../../lambda/messages/notification';
import { buildAlertEvent } from '../../lambda/pagerduty/event';

/** What SNS carries at most: 256 KiB. */
export const MESSAGE_BYTES = 262_144;
/** The budget for parsing one message and building its event. */
export const PARSE_BUDGET_MS = 50;

/** Builds one input when called: all of them at once would hold half a gigabyte of strings. */
export type AdversarialCase = () => AdversarialInput;

export interface AdversarialInput {
  readonly name: string;
  /** An SNS message body, or an EventBridge event. */
  readonly sns?: string;
  readonly event?: unknown;
}

const SETTINGS: AlarmSettings = {
  route: 'default',
  severity: 'critical',
  insufficientData: 'trigger',
  problems: [],
};

const alarmTemplate = (): Record<string, unknown> => ({
  AlarmName: 'HighErrorRate',
  AlarmDescription: 'Errors',
  AWSAccountId: '123456789012',
  NewStateValue: 'ALARM',
  NewStateReason: 'Threshold Crossed',
  StateChangeTime: '2021-11-10T02:45:55.640+0000',
  Region: 'US East (N. Virginia)',
  AlarmArn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighErrorRate',
  OldStateValue: 'OK',
  AlarmContributorId: '6d442278dba546f6',
  AlarmContributorAttributes: { TableName: 'orders' },
  AlarmTags: { 'pagerduty:route': 'default' },
  Trigger: {
    MetricName: 'Errors',
    Namespace: 'AWS/Lambda',
    StatisticType: 'Statistic',
    Statistic: 'SUM',
    Unit: null,
    Dimensions: [{ value: 'myfunc', name: 'FunctionName' }],
    Period: 60,
    EvaluationPeriods: 1,
    ComparisonOperator: 'GreaterThanThreshold',
    Threshold: 5,
    TreatMissingData: '- TreatMissingData:                    missing',
    EvaluateLowSampleCountPercentile: '',
  },
});

const mathTrigger = {
  Period: 60,
  EvaluationPeriods: 5,
  ComparisonOperator: 'GreaterThanThreshold',
  Threshold: 5,
  Metrics: [
    { Id: 'e1', Expression: '100 * m2 / m1', Label: 'Error rate', ReturnData: true },
    {
      Id: 'm1',
      MetricStat: {
        Metric: {
          Dimensions: [{ value: 'a', name: 'ApiName' }],
          MetricName: 'Count',
          Namespace: 'AWS/ApiGateway',
        },
        Period: 60,
        Stat: 'Sum',
      },
      ReturnData: false,
    },
  ],
};

const eventTemplate = (): Record<string, unknown> => ({
  version: '0',
  id: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
  'detail-type': 'CloudWatch Alarm Contributor State Change',
  source: 'aws.cloudwatch',
  account: '123456789012',
  time: '2019-10-02T17:04:40Z',
  region: 'us-east-1',
  resources: ['arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh'],
  detail: {
    alarmName: 'ServerCpuTooHigh',
    alarmContributor: { id: '6d442278dba546f6', attributes: { TableName: 'orders' } },
    state: {
      value: 'ALARM',
      reason: 'Threshold Crossed',
      reasonData: '{"triggeringAlarms":[]}',
      timestamp: '2019-10-02T17:04:40.989+0000',
    },
    previousState: { value: 'OK', timestamp: '2019-10-02T17:03:40.989+0000' },
    configuration: {
      description: 'CPU',
      metrics: [
        {
          id: 'm1',
          metricStat: {
            metric: { dimensions: { InstanceId: 'i-1' }, name: 'CPUUtilization', namespace: 'AWS/EC2' },
            period: 300,
            stat: 'Average',
          },
          returnData: true,
        },
      ],
    },
    muteDetail: {
      mutedByArn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm-mute-rule:m',
      muteWindowStart: '2026-01-01T10:00:00.000+0000',
      muteWindowEnd: '2026-01-01T12:00:00.000+0000',
    },
    alarmTags: { team: 'a' },
  },
});

/** Every string field the parsers read, as paths into the templates. */
const SNS_FIELDS: readonly (readonly string[])[] = [
  ['AlarmName'],
  ['AlarmDescription'],
  ['AWSAccountId'],
  ['NewStateValue'],
  ['NewStateReason'],
  ['StateChangeTime'],
  ['Region'],
  ['AlarmArn'],
  ['OldStateValue'],
  ['AlarmContributorId'],
  ['AlarmContributorAttributes', 'TableName'],
  ['AlarmTags', 'pagerduty:route'],
  ['AlarmTagsStatus'],
  ['ActionExecutedAfterMuteWindow'],
  ['Trigger', 'MetricName'],
  ['Trigger', 'Namespace'],
  ['Trigger', 'StatisticType'],
  ['Trigger', 'Statistic'],
  ['Trigger', 'ExtendedStatistic'],
  ['Trigger', 'Unit'],
  ['Trigger', 'Period'],
  ['Trigger', 'EvaluationPeriods'],
  ['Trigger', 'Threshold'],
  ['Trigger', 'ComparisonOperator'],
  ['Trigger', 'TreatMissingData'],
  ['Trigger', 'EvaluateLowSampleCountPercentile'],
  ['Trigger', 'ThresholdMetricId'],
  ['Trigger', 'Dimensions', '0', 'name'],
  ['Trigger', 'Dimensions', '0', 'value'],
  ['AlarmRule'],
];

const EVENT_FIELDS: readonly (readonly string[])[] = [
  ['detail-type'],
  ['account'],
  ['region'],
  ['time'],
  ['resources', '0'],
  ['detail', 'alarmName'],
  ['detail', 'alarmContributor', 'id'],
  ['detail', 'alarmContributor', 'attributes', 'TableName'],
  ['detail', 'state', 'value'],
  ['detail', 'state', 'reason'],
  ['detail', 'state', 'reasonData'],
  ['detail', 'state', 'timestamp'],
  ['detail', 'state', 'actionsSuppressedBy'],
  ['detail', 'previousState', 'value'],
  ['detail', 'configuration', 'description'],
  ['detail', 'configuration', 'alarmRule'],
  ['detail', 'configuration', 'metrics', '0', 'id'],
  ['detail', 'configuration', 'metrics', '0', 'expression'],
  ['detail', 'configuration', 'metrics', '0', 'metricStat', 'stat'],
  ['detail', 'configuration', 'metrics', '0', 'metricStat', 'metric', 'name'],
  ['detail', 'configuration', 'metrics', '0', 'metricStat', 'metric', 'dimensions', 'InstanceId'],
  ['detail', 'muteDetail', 'mutedByArn'],
  ['detail', 'muteDetail', 'muteWindowEnd'],
  ['detail', 'alarmTags', 'team'],
];

/** Runs of these, long enough to fill a message: whitespace, separators, invisible and control characters. */
export const FILLERS: readonly string[] = [
  ' ',
  '\t',
  '\n',
  '- ',
  ' - ',
  'a - ',
  '-',
  ':',
  ':alarm:',
  'arn:aws:cloudwatch:',
  'us-',
  '/',
  '~',
  '(',
  '9',
  '9.',
  '1e',
  'ANOMALY_DETECTION_BAND(',
  'TreatMissingData:',
  '\u202e',
  '\u2066',
  '\u200b',
  '\ufeff',
  '\u0000',
  '\u001b[31m',
  '\ud800',
  '\udc00',
  '😀',
  '"',
  '\\',
  '{',
  '[',
  'a',
];

/** A string of `unit` repeated to about `chars` characters. */
function run(unit: string, chars: number): string {
  return unit.repeat(Math.max(1, Math.floor(chars / unit.length)));
}

function setAt(root: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node: Record<string, unknown> = root;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

/** The room left for a filler once the rest of the message is counted. */
const ROOM = MESSAGE_BYTES - 4_000;

function snsWith(path: readonly string[], value: unknown, template = alarmTemplate()): string {
  setAt(template, path, value);
  return JSON.stringify(template);
}

function eventWith(path: readonly string[], value: unknown): unknown {
  const event = eventTemplate();
  setAt(event, path, value);
  return event;
}

/** UTF-8 bytes of `unit` as it travels: JSON-escaped inside a message, a lone surrogate as U+FFFD. */
function bytesPerUnit(unit: string, escaped: boolean): number {
  return Buffer.byteLength(escaped ? JSON.stringify(unit).slice(1, -1) : unit, 'utf8');
}

/** `unit` repeated to fill ROOM bytes: inside a JSON string (`escaped`) or as the raw body. */
function fill(unit: string, escaped = true): string {
  return run(unit, Math.floor((ROOM * unit.length) / bytesPerUnit(unit, escaped)));
}

function manyEntries<T>(count: number, make: (i: number) => T): T[] {
  return Array.from({ length: count }, (_, i) => make(i));
}

/** Every adversarial input, one per family and place; deterministic, for the benchmark. */
export function adversarialCases(): AdversarialCase[] {
  const inputs: AdversarialCase[] = [];
  for (const unit of FILLERS) {
    const filler = fill(unit);
    const label = JSON.stringify(unit);
    for (const path of SNS_FIELDS)
      inputs.push(() => ({ name: `sns ${path.join('.')} = ${label}×n`, sns: snsWith(path, filler) }));
    for (const path of EVENT_FIELDS) {
      inputs.push(() => ({ name: `event ${path.join('.')} = ${label}×n`, event: eventWith(path, filler) }));
    }
    inputs.push(() => ({ name: `sns body = ${label}×n`, sns: fill(unit, false) }));
    inputs.push(() => ({
      name: `sns body = ${label}×n + alarm`,
      sns: fill(unit, false).slice(0, -1_500) + JSON.stringify(alarmTemplate()),
    }));
    inputs.push(() => ({
      name: `sns Trigger.Metrics[0].Expression = ${label}×n`,
      sns: snsWith(['Trigger'], {
        ...mathTrigger,
        Metrics: [{ Id: 'e1', Expression: filler, ReturnData: true }, mathTrigger.Metrics[1]],
      }),
    }));
  }
  const deep = 60_000;
  inputs.push(() => ({ name: 'sns body = [×n]×n', sns: '['.repeat(deep * 2) + ']'.repeat(deep * 2) }));
  inputs.push(() => ({ name: 'sns body = {"a":×n', sns: '{"a":'.repeat(deep) + '1' + '}'.repeat(deep) }));
  inputs.push(() => ({ name: 'sns body = [×n (unclosed)', sns: '['.repeat(ROOM) }));
  for (const path of [
    ['Trigger'],
    ['AlarmTags'],
    ['Trigger', 'Dimensions'],
    ['AlarmContributorAttributes'],
    ['Trigger', 'Metrics'],
  ]) {
    inputs.push(() => ({
      name: `sns ${path.join('.')} nested 60k deep`,
      sns:
        '{"AlarmName":"a","AWSAccountId":"123456789012","NewStateValue":"ALARM","StateChangeTime":"2021-11-10T02:45:55.640+0000","Region":"us-east-1",' +
        path.map((key) => `"${key}":{`).join('') +
        '"x":' +
        '['.repeat(deep) +
        ']'.repeat(deep) +
        '}'.repeat(path.length) +
        '}',
    }));
  }
  const entries = 12_000;
  inputs.push(() => ({
    name: 'sns top-level keys ×n',
    sns: snsWith(
      ['x'],
      0,
      Object.assign(alarmTemplate(), Object.fromEntries(manyEntries(entries, (i) => [`k${i}`, i]))),
    ),
  }));
  inputs.push(() => ({
    name: 'sns Trigger keys ×n',
    sns: snsWith(
      ['Trigger'],
      Object.assign(
        { ...(alarmTemplate().Trigger as object) },
        Object.fromEntries(manyEntries(entries, (i) => [`k${i}`, i])),
      ),
    ),
  }));
  inputs.push(() => ({
    name: 'sns AlarmTags map ×n',
    sns: snsWith(['AlarmTags'], Object.fromEntries(manyEntries(entries, (i) => [`k${i}`, `v${i}`]))),
  }));
  inputs.push(() => ({
    name: 'sns AlarmTags list ×n',
    sns: snsWith(
      ['AlarmTags'],
      manyEntries(entries / 2, (i) => ({ Key: `k${i}`, Value: `v${i}` })),
    ),
  }));
  inputs.push(() => ({
    name: 'sns AlarmContributorAttributes ×n',
    sns: snsWith(
      ['AlarmContributorAttributes'],
      Object.fromEntries(manyEntries(entries, (i) => [`k${i}`, `v${i}`])),
    ),
  }));
  inputs.push(() => ({
    name: 'sns Trigger.Dimensions ×n',
    sns: snsWith(
      ['Trigger', 'Dimensions'],
      manyEntries(entries / 2, (i) => ({ value: `v${i}`, name: `n${i}` })),
    ),
  }));
  inputs.push(() => ({
    name: 'sns Trigger.Metrics ×n',
    sns: snsWith(['Trigger'], {
      ...mathTrigger,
      Metrics: manyEntries(entries / 4, (i) => ({ Id: `e${i}`, Expression: 'm1', ReturnData: false })),
    }),
  }));
  inputs.push(() => ({
    name: 'sns TriggeringChildren ×n',
    sns: snsWith(
      ['TriggeringChildren'],
      manyEntries(entries / 4, (i) => ({
        Arn: `arn:aws:cloudwatch:us-east-1:123456789012:alarm:c${i}`,
        State: { Value: 'ALARM', Timestamp: '2021-11-10T02:45:55.640+0000' },
      })),
      Object.assign(alarmTemplate(), { Trigger: undefined, AlarmRule: 'ALARM(a)' }),
    ),
  }));
  inputs.push(() => ({
    name: 'event configuration.metrics ×n',
    event: eventWith(
      ['detail', 'configuration', 'metrics'],
      manyEntries(entries / 4, (i) => ({ id: `e${i}`, expression: 'm1', returnData: false })),
    ),
  }));
  inputs.push(() => ({
    name: 'event alarmTags ×n',
    event: eventWith(
      ['detail', 'alarmTags'],
      Object.fromEntries(manyEntries(entries, (i) => [`k${i}`, `v${i}`])),
    ),
  }));
  inputs.push(() => ({
    name: 'event attributes ×n',
    event: eventWith(
      ['detail', 'alarmContributor', 'attributes'],
      Object.fromEntries(manyEntries(entries, (i) => [`k${i}`, `v${i}`])),
    ),
  }));
  inputs.push(() => ({
    name: 'event resources ×n',
    event: eventWith(
      ['resources'],
      manyEntries(entries, () => 'arn:aws:cloudwatch:'),
    ),
  }));
  inputs.push(() => ({
    name: 'event reasonData children ×n',
    event: eventWith(
      ['detail', 'state', 'reasonData'],
      JSON.stringify({
        triggeringAlarms: manyEntries(entries / 8, (i) => ({
          arn: `arn:aws:cloudwatch:us-east-1:123456789012:alarm:c${i}`,
          state: { value: 'ALARM' },
        })),
      }),
    ),
  }));
  inputs.push(() => ({
    name: 'event reasonData nested 60k deep',
    event: eventWith(['detail', 'state', 'reasonData'], '['.repeat(deep) + ']'.repeat(deep)),
  }));
  // An event arrives parsed (the Lambda runtime ran JSON.parse), so its nesting is already paid for: the parser
  // must not walk it.
  const deepValue = JSON.parse('['.repeat(deep) + ']'.repeat(deep)) as unknown;
  for (const path of [
    ['detail'],
    ['detail', 'configuration'],
    ['detail', 'configuration', 'metrics'],
    ['detail', 'alarmTags'],
    ['detail', 'alarmContributor'],
    ['detail', 'muteDetail'],
  ]) {
    inputs.push(() => ({
      name: `event ${path.join('.')} nested 60k deep`,
      event: eventWith(path, deepValue),
    }));
  }
  return inputs;
}

/** Every adversarial input, built (a few hundred MB in all: build them one at a time where you can). */
export function adversarialInputs(): AdversarialInput[] {
  return adversarialCases().map((build) => build());
}

/** Any adversarial input, for fast-check. */
export function adversarialInput(): fc.Arbitrary<AdversarialInput> {
  const cases = adversarialCases();
  return fc.integer({ min: 0, max: cases.length - 1 }).map((i) => cases[i]!());
}

/**
 * Any field of an SNS message or of an EventBridge event filled with any short run of characters repeated to the
 * message's size: the families above cover what is known to hurt, this what nobody thought of.
 */
export function filledFieldInput(): fc.Arbitrary<AdversarialInput> {
  return fc
    .record({
      sns: fc.boolean(),
      path: fc.nat(),
      unit: fc.string({ unit: 'binary', minLength: 1, maxLength: 4 }),
    })
    .map(({ sns, path, unit }) => {
      const fields = sns ? SNS_FIELDS : EVENT_FIELDS;
      const at = fields[path % fields.length]!;
      const name = `${sns ? 'sns' : 'event'} ${at.join('.')} = ${JSON.stringify(unit)}×n`;
      return sns ? { name, sns: snsWith(at, fill(unit)) } : { name, event: eventWith(at, fill(unit)) };
    });
}

const ENVELOPE: Omit<SnsEnvelope, 'message'> = {
  messageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e',
  topicArn: 'arn:aws:sns:us-east-1:123456789012:alarms',
  subject: 'ALARM',
  timestamp: '2021-11-10T02:45:55.703Z',
};

/** What the handler does before any I/O: parse, key, decide, build the event (trigger and resolve). */
export function parseAndBuild(input: AdversarialInput): Notification {
  const n =
    input.sns !== undefined
      ? parseNotification({ ...ENVELOPE, message: input.sns })
      : parseAlarmEvent(input.event);
  const dedupKey = dedupKeyFor(n);
  decideAction(n, SETTINGS);
  buildAlertEvent(n, SETTINGS, 'trigger', dedupKey, { clientName: 'bench' });
  buildAlertEvent(n, SETTINGS, 'resolve', dedupKey, { clientName: 'bench' });
  return n;
}

/**
 * The fastest of `repeats` runs, in ms of this process's CPU time: the parser's own cost, without the time a
 * loaded machine (a CI runner, a laptop running the test suite) keeps the process waiting for a CPU.
 */
export function timeParse(input: AdversarialInput, repeats = 3): number {
  let best = Infinity;
  for (let i = 0; i < repeats; i++) {
    const start = process.cpuUsage();
    parseAndBuild(input);
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / 1000);
  }
  return best;
}

export interface ParserWorstCase {
  readonly inputs: number;
  readonly worst: { readonly name: string; readonly ms: number; readonly bytes: number };
  readonly medianMs: number;
}

/** The input's size in UTF-8 bytes (a 60k-deep event is too deep for JSON.stringify: counted as 2 bytes a level). */
export function bytesOf(input: AdversarialInput): number {
  if (input.sns !== undefined) return Buffer.byteLength(input.sns, 'utf8');
  try {
    return Buffer.byteLength(JSON.stringify(input.event), 'utf8');
  } catch {
    return 120_000 + Buffer.byteLength(JSON.stringify(eventTemplate()), 'utf8');
  }
}

/** For `npm run bench`: every adversarial input timed, and the slowest. */
export function parserWorstCase(repeats = 3): ParserWorstCase {
  const timed = adversarialCases().map((build) => {
    const input = build();
    return { name: input.name, ms: timeParse(input, repeats), bytes: bytesOf(input) };
  });
  const sorted = [...timed].sort((a, b) => a.ms - b.ms);
  return {
    inputs: timed.length,
    worst: sorted[sorted.length - 1]!,
    medianMs: sorted[Math.floor(sorted.length / 2)]!.ms,
  };
}
