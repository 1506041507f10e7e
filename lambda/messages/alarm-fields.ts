// Field readers shared by the two parsers of alarm state changes: SNS notifications (alarm-message.ts) and
// EventBridge events (alarm-event.ts). Every reader is linear in its input and never throws.
import * as z from 'zod/mini';
import type { AlarmContributor, AlarmNotification, Notification, TriggeringChild } from './notification';
import { isRecord } from '../shared/json';
import { isRegionCode } from '../shared/regions';
import { parseTimestamp } from '../shared/timestamp';
import { cutText, displayLine, formatPath, wellFormed } from '../shared/text';

/** Names, ids, keys, values: CloudWatch caps them at 255 (contributor ids and attribute values at 1024). */
export const MAX_NAME_LENGTH = 1024;
/** Reasons, descriptions, alarm rules (10,240 at most), expressions, queries. */
export const MAX_TEXT_LENGTH = 10_240;
/** Lists and maps: dimensions (30), metrics, children (100), tags (50), contributor attributes (30 or 150). */
export const MAX_ENTRIES = 200;
/** What an SNS message can hold; a direct invoke can carry more. */
export const MAX_BODY_LENGTH = 262_144;
/** Alarm messages nest 6 levels deep; deeper JSON is refused before JSON.parse, which is slow on deep nesting. */
export const MAX_JSON_DEPTH = 64;

const LONG_TEXT_FIELDS: ReadonlySet<string> = new Set([
  'reason',
  'alarmDescription',
  'alarmRule',
  'expression',
  'why',
  'raw',
  'label',
]);

/**
 * `value` with every string cut to its bound and every list and map to MAX_ENTRIES: applied to each typed alarm
 * the parsers produce, so no field a forged message fills can outgrow what is stored or sent.
 */
export function boundAlarm(alarm: AlarmNotification): AlarmNotification {
  return boundValue(alarm, '') as AlarmNotification;
}

function boundValue(value: unknown, key: string): unknown {
  if (typeof value === 'string') {
    // Well-formed too: a lone surrogate is not UTF-8, and JSON.stringify escapes it 20 times slower.
    return wellFormed(cutText(value, LONG_TEXT_FIELDS.has(key) ? MAX_TEXT_LENGTH : MAX_NAME_LENGTH));
  }
  if (Array.isArray(value)) return value.slice(0, MAX_ENTRIES).map((item) => boundValue(item, key));
  if (isRecord(value)) {
    return Object.fromEntries(
      Object.entries(value)
        .slice(0, MAX_ENTRIES)
        .map(([k, v]) => [wellFormed(cutText(k, MAX_NAME_LENGTH)), boundValue(v, k)]),
    );
  }
  return value;
}

/**
 * `value` with every list, and every map below the top level, cut to MAX_ENTRIES, down to `depth` levels (alarm
 * messages nest 6), before any schema or reader walks it: their cost grows with the entries they visit, and
 * entries past the bound would be cut anyway. The top level keeps every key: the alarm's own fields may come last.
 */
export function pruneLists(value: unknown, depth = 8, top = true): unknown {
  if (depth === 0) return value;
  if (Array.isArray(value))
    return value.slice(0, MAX_ENTRIES).map((item) => pruneLists(item, depth - 1, false));
  if (!isRecord(value)) return value;
  const entries: [string, unknown][] = [];
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    if (!top && entries.length >= MAX_ENTRIES) break;
    entries.push([key, pruneLists(value[key], depth - 1, false)]);
  }
  // fromEntries defines own properties: an own "__proto__" key stays data.
  return Object.fromEntries(entries);
}

/** The alarm name as the ledger stores it: at most MAX_NAME_LENGTH characters, the contributor named. */
export function storedAlarmName(notification: Notification): string {
  if (notification.type === 'unrecognised')
    return cutText(`(unrecognised) ${notification.subject ?? ''}`, MAX_NAME_LENGTH);
  const contributor = notification.contributor ? ` [${contributorWords(notification.contributor)}]` : '';
  return cutText(`${notification.alarmName}${contributor}`, MAX_NAME_LENGTH);
}

/** `TableName=orders, Region=eu` (at most 3 attributes), else `contributor <id>`. */
export function contributorWords(contributor: AlarmContributor): string {
  const pairs = Object.entries(contributor.attributes);
  if (pairs.length === 0) return `contributor ${contributor.id}`;
  const shown = pairs
    .slice(0, 3)
    .map(([key, value]) => `${cutText(displayLine(key), 40)}=${cutText(displayLine(value), 64)}`);
  return shown.join(', ') + (pairs.length > 3 ? ` +${pairs.length - 3}` : '');
}

/**
 * Whether JSON `text` nests deeper than `maxDepth`. One pass over the characters, skipping strings, so it can run
 * before JSON.parse: V8's parser takes ~0.5 µs a level, and a 256 KB message nests 128 K levels.
 */
export function jsonDepthExceeds(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c) i += 1;
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x7b || code === 0x5b) {
      depth += 1;
      if (depth > maxDepth) return true;
    } else if (code === 0x7d || code === 0x5d) depth -= 1;
  }
  return false;
}

/**
 * Compact JSON of `value` cut to `maxLength`, for the details: never deeper than 16 levels (deeper values become
 * `"…"`), and it stops building once long enough, so neither size nor nesting costs more than the bound.
 */
export function boundedJson(value: unknown, maxLength = MAX_TEXT_LENGTH): string {
  const parts: string[] = [];
  let length = 0;
  const push = (part: string): boolean => {
    parts.push(part);
    length += part.length;
    return length < maxLength;
  };
  const write = (item: unknown, depth: number): boolean => {
    if (item === null || typeof item === 'number' || typeof item === 'boolean') {
      return push(JSON.stringify(item) ?? 'null');
    }
    if (typeof item === 'string') return push(JSON.stringify(cutText(item, maxLength)));
    if (typeof item !== 'object' || depth >= 16) return push('"…"');
    const entries: [string | undefined, unknown][] = Array.isArray(item)
      ? item.map((element) => [undefined, element])
      : Object.entries(item as Record<string, unknown>);
    if (!push(Array.isArray(item) ? '[' : '{')) return false;
    for (let i = 0; i < entries.length; i++) {
      const [key, element] = entries[i]!;
      if (i > 0 && !push(',')) return false;
      if (key !== undefined && !push(`${JSON.stringify(cutText(key, maxLength))}:`)) return false;
      if (!write(element, depth + 1)) return false;
    }
    return push(Array.isArray(item) ? ']' : '}');
  };
  write(value, 0);
  return cutText(parts.join(''), maxLength);
}

// zod/mini: the functional, tree-shakeable API (the classic `z.string().min()` chain pulls in all of zod).
// What classic zod spells `schema.transform(fn)`: the output of `schema`, then `fn`.
export function transformed<A extends z.ZodMiniType, O>(
  schema: A,
  fn: (value: z.output<A>, ctx: z.core.ParsePayload) => O,
): z.ZodMiniPipe<A, z.ZodMiniTransform<O, z.output<A>>> {
  return z.pipe(schema, z.transform(fn));
}

// What classic zod's `ctx.addIssue({ code: 'custom', ... })` does inside a transform; the caller returns z.NEVER.
export function addIssue(ctx: z.core.ParsePayload, message: string, path?: PropertyKey[]): void {
  ctx.issues.push({ code: 'custom', message, input: ctx.value, ...(path === undefined ? {} : { path }) });
}

const NUMBER_TEXT = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** `"60"` → 60: older messages write numbers as strings. */
export const numeric = (value: unknown): unknown => {
  if (typeof value !== 'string' || value.length > 40) return value;
  const trimmed = value.trim();
  return NUMBER_TEXT.test(trimmed) ? Number(trimmed) : value;
};

export const text = z.string().check(z.minLength(1));
/** `text`, read by hand: a non-empty string, else UNSURE. */
export const textValue = (value: unknown): string | typeof UNSURE =>
  typeof value === 'string' && value !== '' ? value : UNSURE;
/** `z.catch(optionalText, undefined)`, read by hand: never UNSURE. */
export const optionalTextValue = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value : undefined;
/** `z.nullish(z.string())`, read by hand. */
export const nullishStringValue = (value: unknown): string | null | undefined | typeof UNSURE =>
  value == null || typeof value === 'string' ? value : UNSURE;
/** `z.catch(z.nullish(z.string()), undefined)`, read by hand: never UNSURE. */
export const caughtStringValue = (value: unknown): string | null | undefined =>
  value === null || typeof value === 'string' ? value : undefined;
/** `count`, read by hand: a whole number above 0 (or one written as a string), else UNSURE. */
export const countValue = (value: unknown): number | typeof UNSURE => {
  const number = numeric(value);
  return typeof number === 'number' && Number.isSafeInteger(number) && number > 0 ? number : UNSURE;
};
/** `threshold`, read by hand: a finite number (or one written as a string), else UNSURE. */
export const thresholdValue = (value: unknown): number | typeof UNSURE => {
  const number = numeric(value);
  return typeof number === 'number' && Number.isFinite(number) ? number : UNSURE;
};
export const optionalText = transformed(z.nullish(z.string()), (value) =>
  value == null || value.trim() === '' ? undefined : value,
);
// What classic zod spells `z.preprocess(fn, schema)`.
export const count = z.pipe(z.transform(numeric), z.number().check(z.int(), z.positive()));
export const threshold = z.pipe(z.transform(numeric), z.number());

export const timestamp = transformed(z.string(), (raw, ctx) => {
  const epochMs = parseTimestamp(raw);
  if (epochMs === undefined) {
    addIssue(ctx, `${describeValue(raw)} is not a timestamp like 2021-11-10T02:45:55.640+0000`);
    return z.NEVER;
  }
  return { raw, epochMs };
});

export type Parsed<T> = { ok: true; value: T } | { ok: false; issues: string[] };

/** What a fast reader answers when the input is not of the well-formed shape it knows: zod reads it instead. */
export const UNSURE: unique symbol = Symbol('unsure');

/**
 * A zod schema and a hand-written reader of its common, well-formed shape that gives the same value zod would, or
 * UNSURE; zod reads everything else, so every issue reads as before. For the schemas every alarm passes through:
 * zod's parse of a metric alarm cost more than the rest of the parser (bench/profile-warm.ts).
 */
export class FastSchema<T> {
  readonly #schema: () => z.ZodMiniType<T>;
  constructor(
    schema: () => z.ZodMiniType<T>,
    readonly read: (input: unknown) => T | typeof UNSURE,
  ) {
    this.#schema = lazySchema(schema);
  }
  /** The zod schema, built at its first use: a well-formed alarm never needs it. */
  get schema(): z.ZodMiniType<T> {
    return this.#schema();
  }
}

/**
 * A schema built when first asked for, then kept. Building every message schema at load was most of zod's share of
 * a cold start (about 6 ms of module load, bench/ and `node --cpu-prof`), for schemas most containers never use.
 */
export function lazySchema<S>(build: () => S): () => S {
  let schema: S | undefined;
  return () => (schema ??= build());
}

export function parseWith<T>(
  schema: z.ZodMiniType<T> | FastSchema<T>,
  input: unknown,
  prefix: readonly PropertyKey[] = [],
): Parsed<T> {
  if (schema instanceof FastSchema) {
    const value = schema.read(input);
    if (value !== UNSURE) return { ok: true, value };
    return parseWith(schema.schema, input, prefix);
  }
  const result = schema.safeParse(input, { error: describeIssue });
  if (result.success) return { ok: true, value: result.data };
  return {
    ok: false,
    issues: result.error.issues.map((issue) => `${formatPath([...prefix, ...issue.path])}: ${issue.message}`),
  };
}

/** Up to 10 issues in one sentence. */
export function listIssues(issues: readonly string[]): string {
  return issues.slice(0, 10).join('; ') + (issues.length > 10 ? `; … ${issues.length - 10} more` : '');
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
export function normaliseStatistic(statistic: string): string {
  return STATISTIC_NAMES.get(statistic.trim().toUpperCase()) ?? statistic;
}

const TREAT_MISSING_DATA: ReadonlyMap<string, string> = new Map([
  ['missing', 'missing'],
  ['breaching', 'breaching'],
  ['notbreaching', 'notBreaching'],
  // Old messages' `- TreatMissingData: NonBreaching`: the setting CloudWatch's API and console call notBreaching.
  ['nonbreaching', 'notBreaching'],
  ['ignore', 'ignore'],
]);

const TREAT_MISSING_DATA_LABEL = 'treatmissingdata:';

/**
 * `missing`, or the old `- TreatMissingData:                    missing`, → `missing`; empty → undefined. String
 * operations: the regex this replaces, with two optional runs of spaces, was quadratic on a long run of them.
 */
export function normaliseTreatMissingData(raw: string | null | undefined): string | undefined {
  if (raw == null) return undefined;
  let value = raw.trim();
  if (value.startsWith('-')) value = value.slice(1).trimStart();
  if (value.slice(0, TREAT_MISSING_DATA_LABEL.length).toLowerCase() === TREAT_MISSING_DATA_LABEL) {
    value = value.slice(TREAT_MISSING_DATA_LABEL.length).trimStart();
  } else {
    value = raw.trim();
  }
  if (value === '') return undefined;
  return TREAT_MISSING_DATA.get(value.toLowerCase()) ?? value;
}

/** Propagated alarm tags as a map `{k: v}` or a list `[{Key, Value}]` / `[{key, value}]`; `aws:` keys dropped. */
export function readTags(raw: unknown): Record<string, string> {
  return readStringMap(raw, (key) => !key.toLowerCase().startsWith('aws:'));
}

/**
 * Contributor attributes: a map (as documented), a `[{Key, Value}]` list, or the same map written as a JSON
 * string; only string-like values are kept.
 */
export function readAttributes(raw: unknown): Record<string, string> {
  if (typeof raw === 'string' && raw.length <= MAX_TEXT_LENGTH && raw.trimStart().startsWith('{')) {
    try {
      return readStringMap(JSON.parse(raw), () => true);
    } catch {
      return {};
    }
  }
  return readStringMap(raw, () => true);
}

function readStringMap(raw: unknown, keep: (key: string) => boolean): Record<string, string> {
  const pairs: [unknown, unknown][] = Array.isArray(raw)
    ? raw
        .slice(0, MAX_ENTRIES)
        .filter(isRecord)
        .map((tag) => [tag.Key ?? tag.key, tag.Value ?? tag.value])
    : isRecord(raw)
      ? Object.entries(raw).slice(0, MAX_ENTRIES)
      : [];
  return Object.fromEntries(
    pairs.flatMap(([key, value]): [string, string][] => {
      if (typeof key !== 'string' || key === '' || !keep(key)) return [];
      if (typeof value === 'string') return [[key, value]];
      if (typeof value === 'number' || typeof value === 'boolean') return [[key, String(value)]];
      return [];
    }),
  );
}

/** A contributor id as written (a string; a number is taken as its digits); undefined when absent or empty. */
export function readContributorId(raw: unknown): string | undefined {
  if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw);
  if (typeof raw !== 'string' || raw.trim() === '') return undefined;
  return raw;
}

export interface AlarmArnParts {
  readonly partition: string;
  readonly region?: string;
  readonly accountId?: string;
  readonly alarmName?: string;
}

const ALARM_ARN = /^arn:([a-z][a-z0-9-]*):cloudwatch:([^:]*):([^:]*):alarm:/;

/** `arn:aws:cloudwatch:us-east-1:123456789012:alarm:Name` → its parts; undefined when not an alarm ARN. */
export function parseAlarmArn(arn: string): AlarmArnParts | undefined {
  const m = ALARM_ARN.exec(arn);
  if (!m || m[1] === undefined || m[2] === undefined) return undefined;
  const name = arn.slice(m[0].length);
  return {
    partition: m[1],
    region: isRegionCode(m[2]) ? m[2] : undefined,
    accountId: m[3] !== undefined && /^\d{12}$/.test(m[3]) ? m[3] : undefined,
    alarmName: name === '' ? undefined : name,
  };
}

/** A triggering child from its ARN: the name is what follows `:alarm:`. */
export function triggeringChild(arn: string, state?: string, timestamp?: string): TriggeringChild {
  const marker = arn.indexOf(':alarm:');
  return {
    arn,
    name: marker >= 0 ? arn.slice(marker + ':alarm:'.length) : arn,
    state,
    timestamp,
  };
}

/**
 * Words for an alarm whose condition cannot be read, when something recognisable is there: a PromQL query
 * (`EvaluationCriteria.PromQLCriteria.Query`, as PutMetricAlarm takes it) or a Logs query
 * (`ScheduledQueryConfiguration.QueryString`, as PutLogAlarm takes it), looked for in `where` and one level down.
 */
export function conditionLabel(where: unknown): string | undefined {
  if (!isRecord(where)) return undefined;
  const criteria = isRecord(where.EvaluationCriteria) ? where.EvaluationCriteria : where;
  const promQl = isRecord(criteria.PromQLCriteria) ? criteria.PromQLCriteria.Query : undefined;
  if (typeof promQl === 'string' && promQl.trim() !== '') return `PromQL ${cutText(promQl.trim(), 200)}`;
  const scheduled = isRecord(where.ScheduledQueryConfiguration) ? where.ScheduledQueryConfiguration : where;
  const query = scheduled.QueryString;
  if (typeof query === 'string' && query.trim() !== '') return `Logs query ${cutText(query.trim(), 200)}`;
  return undefined;
}

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(cutText(value, 60));
  // Only primitives reach this line (null, arrays and objects returned above).
  // eslint-disable-next-line @typescript-eslint/no-base-to-string
  return `${typeof value} ${String(value)}`;
}

export function describeIssue(issue: z.core.$ZodRawIssue): string {
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
