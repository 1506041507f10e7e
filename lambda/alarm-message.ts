// The one place where an SNS message becomes a typed value. Everything downstream trusts the result.
import * as z from 'zod/mini';
import type {
  AlarmCondition,
  AlarmNotification,
  AlarmState,
  MathMetric,
  Notification,
  SnsEnvelope,
  TriggeringChild,
  UnrecognisedNotification,
} from './notification';
import { isRegionCode, partitionForRegion, regionCodeFromName } from './regions';
import { recogniseServiceNotification, type ServiceNotification } from './service-notification';
import { cutText, formatPath } from './text';

/**
 * Parses one SNS record's message. Never throws: anything that is not a well-formed CloudWatch alarm
 * notification becomes an `UnrecognisedNotification` whose `why` says what was wrong, naming the field.
 */
export function parseNotification(envelope: SnsEnvelope): Notification {
  try {
    return parseMessage(envelope);
  } catch (error) {
    // A parser defect must still page, with the raw text, rather than lose the notification.
    return unrecognised(envelope, `the message could not be parsed (${describeError(error)})`);
  }
}

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2}):?(\d{2}))$/;

/**
 * `2021-11-10T02:45:55.640+0000` (CloudWatch) or `2021-11-10T02:45:55.640Z` (SNS) → epoch milliseconds.
 * Strict on purpose: V8's Date.parse also takes this form, but it takes `12` and zone-less local times too,
 * and the ledger orders state changes by this number.
 */
export function parseTimestamp(text: string): number | undefined {
  const m = TIMESTAMP.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const millis = Number((m[7] ?? '0').padEnd(3, '0').slice(0, 3));
  const local = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const check = new Date(local);
  if (
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    check.getUTCHours() !== hour ||
    check.getUTCMinutes() !== minute ||
    check.getUTCSeconds() !== second
  ) {
    return undefined;
  }
  if (m[8] === 'Z') return local;
  const offsetHours = Number(m[10]);
  const offsetMinutes = Number(m[11]);
  if (offsetHours > 23 || offsetMinutes > 59) return undefined;
  const offsetMs = (offsetHours * 60 + offsetMinutes) * 60_000;
  return m[9] === '+' ? local - offsetMs : local + offsetMs;
}

function parseMessage(envelope: SnsEnvelope): Notification {
  const body = typeof envelope.message === 'string' ? envelope.message : '';
  if (body.trim() === '') return unrecognised(envelope, 'the SNS message body is empty');

  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    const start = body.trimStart()[0];
    if (start === '{' || start === '[') {
      return unrecognised(
        envelope,
        `the SNS message body starts like JSON but does not parse: it is truncated or malformed (${describeError(error)})`,
      );
    }
    return unrecognised(
      envelope,
      'the SNS message body is plain text, not JSON (a test publish from the SNS console, or another publisher)',
      recogniseServiceNotification({ subject: envelope.subject, body }),
    );
  }

  if (!isRecord(json)) {
    return unrecognised(
      envelope,
      `the SNS message body is JSON ${describeValue(json)}, not an object, so not a CloudWatch alarm notification`,
    );
  }
  if (!ALARM_MARKERS.some((key) => key in json)) {
    return unrecognised(
      envelope,
      notAnAlarm(json),
      recogniseServiceNotification({ subject: envelope.subject, body, json }),
    );
  }
  return parseAlarm(json, envelope);
}

const ALARM_MARKERS = ['AlarmName', 'NewStateValue', 'StateChangeTime', 'AlarmArn', 'NewStateReason'];

function notAnAlarm(json: Record<string, unknown>): string {
  const detailType = json['detail-type'];
  if (typeof detailType === 'string' && typeof json.source === 'string') {
    const hint =
      detailType === 'CloudWatch Alarm State Change'
        ? ': this pipeline reads the notifications an alarm action publishes to SNS, not EventBridge events'
        : '';
    return `an EventBridge event (source ${JSON.stringify(json.source)}, detail-type ${JSON.stringify(detailType)}), not a CloudWatch alarm notification${hint}`;
  }
  if (Array.isArray(json.Records)) {
    return 'an event with "Records" (S3, SES, DynamoDB or similar), not a CloudWatch alarm notification';
  }
  if (json.Type === 'Notification' && 'Message' in json) {
    return 'a whole SNS notification inside the message (forwarded from another topic or queue), not a CloudWatch alarm notification';
  }
  const keys = Object.keys(json);
  const shown = keys.slice(0, 8).map((key) => cutText(key, 40));
  const more = keys.length > shown.length ? `, … ${keys.length - shown.length} more` : '';
  return `JSON without AlarmName or NewStateValue, so not a CloudWatch alarm notification (its keys: ${shown.join(', ') || 'none'}${more})`;
}

const STATES = ['OK', 'ALARM', 'INSUFFICIENT_DATA'] as const satisfies readonly AlarmState[];

const numeric = (value: unknown): unknown =>
  typeof value === 'string' && /^\s*-?\d+(\.\d+)?([eE][+-]?\d+)?\s*$/.test(value) ? Number(value) : value;

// zod/mini: the functional, tree-shakeable API (the classic `z.string().min()` chain pulls in all of zod).
// What classic zod spells `schema.transform(fn)`: the output of `schema`, then `fn`.
function transformed<A extends z.ZodMiniType, O>(
  schema: A,
  fn: (value: z.output<A>, ctx: z.core.ParsePayload) => O,
): z.ZodMiniPipe<A, z.ZodMiniTransform<O, z.output<A>>> {
  return z.pipe(schema, z.transform(fn));
}

// What classic zod's `ctx.addIssue({ code: 'custom', ... })` does inside a transform; the caller returns z.NEVER.
function addIssue(ctx: z.core.ParsePayload, message: string, path?: PropertyKey[]): void {
  ctx.issues.push({ code: 'custom', message, input: ctx.value, ...(path === undefined ? {} : { path }) });
}

const text = z.string().check(z.minLength(1));
const optionalText = transformed(z.nullish(z.string()), (value) =>
  value == null || value.trim() === '' ? undefined : value,
);
// What classic zod spells `z.preprocess(fn, schema)`.
const count = z.pipe(z.transform(numeric), z.number().check(z.int(), z.positive()));
const threshold = z.pipe(z.transform(numeric), z.number());

const timestamp = transformed(z.string(), (raw, ctx) => {
  const epochMs = parseTimestamp(raw);
  if (epochMs === undefined) {
    addIssue(ctx, `${describeValue(raw)} is not a timestamp like 2021-11-10T02:45:55.640+0000`);
    return z.NEVER;
  }
  return { raw, epochMs };
});

const alarmSchema = z.object({
  AlarmName: text,
  AlarmDescription: z.catch(optionalText, undefined),
  AWSAccountId: text,
  NewStateValue: z.enum(STATES),
  OldStateValue: z.catch(z.nullish(z.enum(STATES)), undefined),
  NewStateReason: z.nullish(z.string()),
  StateChangeTime: timestamp,
  Region: text,
  AlarmArn: z.nullish(z.string()),
  AlarmTagsStatus: z.catch(z.nullish(z.string()), undefined),
  ActionExecutedAfterMuteWindow: z.catch(
    z.nullish(z.union([z.boolean(), transformed(z.enum(['true', 'false']), (flag) => flag === 'true')])),
    undefined,
  ),
});

// SNS writes dimensions as {value, name}; accept {Name, Value} too.
const dimension = z.pipe(
  z.transform((value: unknown) =>
    isRecord(value) && !('name' in value) && 'Name' in value
      ? { name: value.Name, value: value.Value }
      : value,
  ),
  z.object({ name: z.string(), value: z.string() }),
);
const dimensions = transformed(z.nullish(z.array(dimension)), (list) => list ?? []);

const evaluation = {
  EvaluationPeriods: count,
  DatapointsToAlarm: z.nullish(count),
  ComparisonOperator: text,
  TreatMissingData: z.catch(z.nullish(z.string()), undefined),
  EvaluateLowSampleCountPercentile: z.catch(optionalText, undefined),
};

const singleMetricTrigger = transformed(
  z.object({
    MetricName: text,
    Namespace: text,
    StatisticType: z.nullish(z.string()),
    Statistic: z.nullish(z.string()),
    ExtendedStatistic: z.nullish(z.string()),
    Unit: z.catch(optionalText, undefined),
    Dimensions: dimensions,
    Period: count,
    Threshold: threshold,
    ...evaluation,
  }),
  (trigger, ctx) => {
    const extended = trigger.StatisticType === 'ExtendedStatistic' || !trigger.Statistic;
    const statistic = extended && trigger.ExtendedStatistic ? trigger.ExtendedStatistic : trigger.Statistic;
    if (!statistic) {
      addIssue(ctx, 'missing, and so is ExtendedStatistic', ['Statistic']);
      return z.NEVER;
    }
    return { ...trigger, statistic: extended ? statistic : normaliseStatistic(statistic) };
  },
);

const mathMetric = z
  .object({
    Id: text,
    Expression: optionalText,
    Label: optionalText,
    ReturnData: z.nullish(z.boolean()),
    MetricStat: z.nullish(
      z.object({
        Metric: z.object({ Dimensions: dimensions, MetricName: text, Namespace: text }),
        Period: count,
        Stat: text,
        Unit: z.catch(optionalText, undefined),
      }),
    ),
  })
  .check(
    z.refine((metric) => metric.Expression !== undefined || metric.MetricStat != null, {
      message: 'has neither Expression nor MetricStat',
    }),
  );

const mathTrigger = z.object({
  Period: z.nullish(count),
  Threshold: threshold,
  Metrics: z.array(mathMetric).check(z.minLength(1)),
  ...evaluation,
});

const anomalyTrigger = z.object({
  Period: z.nullish(count),
  ThresholdMetricId: text,
  Metrics: z.array(mathMetric).check(z.minLength(1)),
  ...evaluation,
});

// AWS documents TriggeringChildren as [String]; messages carry [{Arn, State{Value, Timestamp}}]. Take both.
const triggeringChild = z.union(
  [
    transformed(text, (arn) => ({ Arn: arn, State: undefined })),
    z.object({
      Arn: text,
      State: z.nullish(z.object({ Value: z.nullish(z.string()), Timestamp: z.nullish(z.string()) })),
    }),
  ],
  { error: 'expected an alarm ARN or {Arn, State}' },
);

const compositeFields = z.object({
  AlarmRule: text,
  TriggeringChildren: z.nullish(z.array(triggeringChild)),
});

type Parsed<T> = { ok: true; value: T } | { ok: false; issues: string[] };

function parseWith<T>(
  schema: z.ZodMiniType<T>,
  input: unknown,
  prefix: readonly PropertyKey[] = [],
): Parsed<T> {
  const result = schema.safeParse(input, { error: describeIssue });
  if (result.success) return { ok: true, value: result.data };
  return {
    ok: false,
    issues: result.error.issues.map((issue) => `${formatPath([...prefix, ...issue.path])}: ${issue.message}`),
  };
}

function parseAlarm(json: Record<string, unknown>, envelope: SnsEnvelope): Notification {
  const head = parseWith(alarmSchema, json);
  const condition = parseCondition(json);
  if (!head.ok || !condition.ok) {
    const issues = [...(head.ok ? [] : head.issues), ...(condition.ok ? [] : condition.issues)];
    const name = typeof json.AlarmName === 'string' ? ` ${JSON.stringify(cutText(json.AlarmName, 100))}` : '';
    const listed =
      issues.slice(0, 10).join('; ') + (issues.length > 10 ? `; … ${issues.length - 10} more` : '');
    return unrecognised(envelope, `looks like a CloudWatch alarm notification${name} but ${listed}`);
  }

  const message = head.value;
  // Not trimmed: an alarm name may end in a space, and the ARN must equal the one built for old messages.
  const alarmArn = message.AlarmArn == null || message.AlarmArn.trim() === '' ? undefined : message.AlarmArn;
  const arn = alarmArn === undefined ? undefined : parseAlarmArn(alarmArn);
  const regionCode = arn?.region ?? regionCodeFromName(message.Region);
  const alarm: AlarmNotification = {
    type: 'alarm',
    alarmName: message.AlarmName,
    alarmDescription: message.AlarmDescription,
    alarmArn,
    accountId: message.AWSAccountId,
    regionName: message.Region,
    regionCode,
    partition: arn?.partition ?? (regionCode === undefined ? 'aws' : partitionForRegion(regionCode)),
    newState: message.NewStateValue,
    oldState: message.OldStateValue ?? undefined,
    reason: message.NewStateReason ?? '',
    stateChangeTime: message.StateChangeTime.raw,
    stateChangeEpochMs: message.StateChangeTime.epochMs,
    condition: condition.value,
    tags: readTags(json.AlarmTags),
    tagsStatus: message.AlarmTagsStatus ?? undefined,
    actionExecutedAfterMuteWindow: message.ActionExecutedAfterMuteWindow ?? undefined,
  };
  return alarm;
}

function parseCondition(json: Record<string, unknown>): Parsed<AlarmCondition> {
  const trigger = json.Trigger;
  if (trigger == null) {
    if (json.AlarmRule === undefined) {
      return {
        ok: false,
        issues: ['neither Trigger (a metric alarm) nor AlarmRule (a composite alarm) is present'],
      };
    }
    const composite = parseWith(compositeFields, json);
    if (!composite.ok) return composite;
    return {
      ok: true,
      value: {
        kind: 'composite',
        alarmRule: composite.value.AlarmRule,
        triggeringChildren: (composite.value.TriggeringChildren ?? []).map(toTriggeringChild),
      },
    };
  }
  if (!isRecord(trigger))
    return { ok: false, issues: [`Trigger: expected an object, got ${describeValue(trigger)}`] };

  if (trigger.ThresholdMetricId != null && trigger.ThresholdMetricId !== '') {
    const parsed = parseWith(anomalyTrigger, trigger, ['Trigger']);
    if (!parsed.ok) return parsed;
    const t = parsed.value;
    return {
      ok: true,
      value: {
        kind: 'anomaly',
        ...evaluationOf(t),
        metrics: t.Metrics.map(toMathMetric),
        period: t.Period ?? undefined,
        thresholdMetricId: t.ThresholdMetricId,
      },
    };
  }
  if (trigger.Metrics != null) {
    const parsed = parseWith(mathTrigger, trigger, ['Trigger']);
    if (!parsed.ok) return parsed;
    const t = parsed.value;
    return {
      ok: true,
      value: {
        kind: 'metric-math',
        ...evaluationOf(t),
        metrics: t.Metrics.map(toMathMetric),
        period: t.Period ?? undefined,
        threshold: t.Threshold,
      },
    };
  }
  const parsed = parseWith(singleMetricTrigger, trigger, ['Trigger']);
  if (!parsed.ok) return parsed;
  const t = parsed.value;
  return {
    ok: true,
    value: {
      kind: 'metric',
      ...evaluationOf(t),
      metric: { namespace: t.Namespace, metricName: t.MetricName, dimensions: t.Dimensions },
      statistic: t.statistic,
      unit: t.Unit,
      period: t.Period,
      threshold: t.Threshold,
    },
  };
}

function evaluationOf(t: z.infer<z.ZodMiniObject<typeof evaluation>>) {
  return {
    comparisonOperator: t.ComparisonOperator,
    evaluationPeriods: t.EvaluationPeriods,
    datapointsToAlarm: t.DatapointsToAlarm ?? undefined,
    treatMissingData: normaliseTreatMissingData(t.TreatMissingData),
    evaluateLowSampleCountPercentile: t.EvaluateLowSampleCountPercentile,
  };
}

function toMathMetric(m: z.infer<typeof mathMetric>): MathMetric {
  const stat = m.MetricStat;
  return {
    id: m.Id,
    label: m.Label,
    returnData: m.ReturnData ?? true,
    expression: m.Expression,
    metricStat: stat
      ? {
          metric: {
            namespace: stat.Metric.Namespace,
            metricName: stat.Metric.MetricName,
            dimensions: stat.Metric.Dimensions,
          },
          period: stat.Period,
          stat: stat.Stat,
          unit: stat.Unit,
        }
      : undefined,
  };
}

function toTriggeringChild(child: z.infer<typeof triggeringChild>): TriggeringChild {
  const marker = child.Arn.indexOf(':alarm:');
  return {
    arn: child.Arn,
    name: marker >= 0 ? child.Arn.slice(marker + ':alarm:'.length) : child.Arn,
    state: child.State?.Value ?? undefined,
    timestamp: child.State?.Timestamp ?? undefined,
  };
}

const STATISTIC_NAMES: ReadonlyMap<string, string> = new Map([
  ['AVERAGE', 'Average'],
  ['SUM', 'Sum'],
  ['MINIMUM', 'Minimum'],
  ['MAXIMUM', 'Maximum'],
  ['SAMPLECOUNT', 'SampleCount'],
  ['SAMPLE_COUNT', 'SampleCount'],
]);

/** `AVERAGE` (as SNS writes it) → `Average` (as CloudWatch's API and console write it). */
function normaliseStatistic(statistic: string): string {
  return STATISTIC_NAMES.get(statistic.trim().toUpperCase()) ?? statistic;
}

const TREAT_MISSING_DATA: ReadonlyMap<string, string> = new Map([
  ['missing', 'missing'],
  ['breaching', 'breaching'],
  ['notbreaching', 'notBreaching'],
  ['ignore', 'ignore'],
]);

/** `missing`, or the old `- TreatMissingData:                    missing`, → `missing`; empty → undefined. */
function normaliseTreatMissingData(raw: string | null | undefined): string | undefined {
  if (raw == null) return undefined;
  const value = raw.replace(/^\s*-?\s*TreatMissingData:\s*/i, '').trim();
  if (value === '') return undefined;
  return TREAT_MISSING_DATA.get(value.toLowerCase()) ?? value;
}

/** Propagated alarm tags as a map `{k: v}` or a list `[{Key, Value}]` / `[{key, value}]`; `aws:` keys dropped. */
function readTags(raw: unknown): Record<string, string> {
  const pairs: [unknown, unknown][] = Array.isArray(raw)
    ? raw.filter(isRecord).map((tag) => [tag.Key ?? tag.key, tag.Value ?? tag.value])
    : isRecord(raw)
      ? Object.entries(raw)
      : [];
  return Object.fromEntries(
    pairs.flatMap(([key, value]): [string, string][] => {
      if (typeof key !== 'string' || key === '' || key.toLowerCase().startsWith('aws:')) return [];
      if (typeof value === 'string') return [[key, value]];
      if (typeof value === 'number' || typeof value === 'boolean') return [[key, String(value)]];
      return [];
    }),
  );
}

interface AlarmArnParts {
  readonly partition: string;
  readonly region?: string;
}

function parseAlarmArn(arn: string): AlarmArnParts | undefined {
  const m = /^arn:([a-z][a-z0-9-]*):cloudwatch:([^:]*):[^:]*:alarm:/.exec(arn);
  if (!m || m[1] === undefined || m[2] === undefined) return undefined;
  return { partition: m[1], region: isRegionCode(m[2]) ? m[2] : undefined };
}

function unrecognised(
  envelope: SnsEnvelope,
  why: string,
  service?: ServiceNotification,
): UnrecognisedNotification {
  const published = typeof envelope.timestamp === 'string' ? parseTimestamp(envelope.timestamp) : undefined;
  return {
    type: 'unrecognised',
    why,
    subject: typeof envelope.subject === 'string' && envelope.subject !== '' ? envelope.subject : undefined,
    body: typeof envelope.message === 'string' ? envelope.message : '',
    // 0 (the oldest) when SNS's own timestamp is unreadable, which SNS does not send.
    publishedEpochMs: published ?? 0,
    topicArn: typeof envelope.topicArn === 'string' ? envelope.topicArn : '',
    ...(service === undefined ? {} : { service }),
  };
}

/** A JSON object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(cutText(value, 60));
  return `${typeof value} ${String(value)}`;
}

function describeIssue(issue: z.core.$ZodRawIssue): string {
  if (issue.input === undefined) return 'missing';
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected === 'int' ? 'a whole number' : `a ${issue.expected}`}, got ${describeValue(issue.input)}`;
    case 'invalid_value':
      return `${describeValue(issue.input)} is not one of ${issue.values.map(String).join(', ')}`;
    case 'too_small':
      return issue.origin === 'string' || issue.origin === 'array'
        ? 'is empty'
        : `${describeValue(issue.input)} must be ${issue.inclusive ? 'at least' : 'more than'} ${String(issue.minimum)}`;
    default:
      return `${describeValue(issue.input)} is not valid`;
  }
}

function describeError(error: unknown): string {
  return cutText(error instanceof Error ? error.message : String(error), 200);
}
