// The one place where an SNS message becomes a typed value. Everything downstream trusts the result.
import * as z from 'zod/mini';
import { isAlarmEventShaped, parseAlarmEvent } from './alarm-event';
import {
  addIssue,
  boundAlarm,
  conditionLabel,
  boundedJson,
  count,
  describeValue,
  jsonDepthExceeds,
  listIssues,
  MAX_BODY_LENGTH,
  MAX_JSON_DEPTH,
  MAX_NAME_LENGTH,
  normaliseStatistic,
  normaliseTreatMissingData,
  optionalText,
  parseAlarmArn,
  parseWith,
  pruneLists,
  readAttributes,
  readContributorId,
  readTags,
  text,
  threshold,
  timestamp,
  transformed,
  triggeringChild as childFromArn,
  type Parsed,
  FastSchema,
  lazySchema,
  UNSURE,
  caughtStringValue,
  countValue,
  nullishStringValue,
  optionalTextValue,
  textValue,
  thresholdValue,
} from './alarm-fields';
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
import { errorMessage } from '../shared/errors';
import { lazyImport } from '../shared/lazy-import';
import { isRecord } from '../shared/json';
import { parseTimestamp } from '../shared/timestamp';
import { partitionForRegion, regionCodeFromName } from '../shared/regions';
import type { ServiceNotification, ServiceNotificationInput } from './services/types';
import { cutText, trimInvisible, wellFormed } from '../shared/text';

/**
 * Parses one SNS record's message. Never throws: anything that is not a CloudWatch alarm state change becomes an
 * `UnrecognisedNotification` whose `why` says what was wrong, naming the field, and which `recognise` may say
 * another service published. Linear in the message's size. With every recogniser: parseNotification.
 */
export function readNotification(envelope: SnsEnvelope, recognise: ServiceRecogniser): Notification {
  try {
    return parseMessage(envelope, recognise);
  } catch (error) {
    // A parser defect must still page, with the raw text, rather than lose the notification.
    return unrecognised(envelope, `the message could not be parsed (${errorMessage(error)})`);
  }
}

/** Says which other AWS service published a message that is not an alarm, if any does. */
export type ServiceRecogniser = (input: ServiceNotificationInput) => ServiceNotification | undefined;

const loadServiceNotification = lazyImport(() => import('./service-notification'));

/**
 * parseNotification (parse-notification.ts), with the service-notification recognisers loaded (a chunk of their
 * own) only for a message that is not an alarm: the alarm path never loads them. The same result.
 */
export async function parseNotificationOnDemand(envelope: SnsEnvelope): Promise<Notification> {
  let asked: ServiceNotificationInput | undefined;
  const notification = readNotification(envelope, (input) => {
    asked = input;
    return undefined;
  });
  if (asked === undefined || notification.type !== 'unrecognised') return notification;
  const { recogniseServiceNotification: recognise } = await loadServiceNotification();
  let service: ServiceNotification | undefined;
  try {
    service = recognise(asked);
  } catch (error) {
    return unrecognised(envelope, `the message could not be parsed (${errorMessage(error)})`);
  }
  return service === undefined ? notification : { ...notification, service };
}

function parseMessage(envelope: SnsEnvelope, recognise: ServiceRecogniser): Notification {
  const body = typeof envelope.message === 'string' ? envelope.message : '';
  // A byte-order mark, zero-width or bidi characters before the JSON say nothing, and JSON.parse rejects them.
  const content = trimInvisible(body);
  if (content === '') {
    return unrecognised(
      envelope,
      body === ''
        ? 'the SNS message body is empty'
        : 'the SNS message body is empty: it holds only blank or invisible characters',
    );
  }

  const start = content[0];
  const looksLikeJson = start === '{' || start === '[';
  if (looksLikeJson && jsonDepthExceeds(content, MAX_JSON_DEPTH)) {
    return unrecognised(
      envelope,
      `the SNS message body is JSON nested more than ${MAX_JSON_DEPTH} levels deep, so not a CloudWatch alarm notification (those nest 6)`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch (error) {
    return unrecognised(
      envelope,
      looksLikeJson
        ? `the SNS message body starts like JSON but does not parse: it is truncated or malformed (${errorMessage(error)})`
        : 'the SNS message body is plain text, not JSON (a test publish from the SNS console, or another publisher)',
      looksLikeJson ? undefined : recognise({ subject: envelope.subject, body: content }),
    );
  }

  if (!isRecord(json)) {
    return unrecognised(
      envelope,
      `the SNS message body is JSON ${describeValue(json)}, not an object, so not a CloudWatch alarm notification`,
    );
  }
  // In place at the top (the object is ours, fresh from JSON.parse): copying thousands of keys costs as much.
  for (const key in json) json[key] = pruneLists(json[key], 7, false);
  // An EventBridge rule that targets the topic delivers alarm state changes as events: the same alarms.
  if (isAlarmEventShaped(json)) {
    const event = parseAlarmEvent(json);
    return event.type === 'alarm' ? event : unrecognised(envelope, event.why);
  }
  if (!ALARM_MARKERS.some((key) => key in json)) {
    return unrecognised(
      envelope,
      notAnAlarm(json),
      recognise({ subject: envelope.subject, body: content, json }),
    );
  }
  return parseAlarm(json, envelope);
}

const ALARM_MARKERS = ['AlarmName', 'NewStateValue', 'StateChangeTime', 'AlarmArn', 'NewStateReason'];

function notAnAlarm(json: Record<string, unknown>): string {
  const detailType = json['detail-type'];
  if (typeof detailType === 'string' && typeof json.source === 'string') {
    return `an EventBridge event (source ${JSON.stringify(cutText(json.source, 60))}, detail-type ${JSON.stringify(cutText(detailType, 60))}), not a CloudWatch alarm notification`;
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

// What makes a message an alarm: a state, a time and an identity (an ARN, or a name and an account). The rest is
// read when it is there and readable, so a new kind of alarm still pages and resolves under its own ARN.
const alarmFields = () =>
  z.object({
    AlarmName: z.catch(optionalText, undefined),
    AlarmDescription: z.catch(optionalText, undefined),
    AWSAccountId: z.catch(optionalText, undefined),
    NewStateValue: z.enum(STATES),
    OldStateValue: z.catch(z.nullish(z.enum(STATES)), undefined),
    NewStateReason: z.catch(z.nullish(z.string()), undefined),
    StateChangeTime: timestamp,
    Region: z.catch(optionalText, undefined),
    AlarmArn: z.catch(optionalText, undefined),
    AlarmTagsStatus: z.catch(z.nullish(z.string()), undefined),
    ActionExecutedAfterMuteWindow: z.catch(
      z.nullish(z.union([z.boolean(), transformed(z.enum(['true', 'false']), (flag) => flag === 'true')])),
      undefined,
    ),
  });

const STATE_SET: ReadonlySet<unknown> = new Set(STATES);
const nullishState = (value: unknown) => (value == null || STATE_SET.has(value) ? value : undefined);

/** alarmFields, read by hand when the state and its time are readable (every alarm CloudWatch sends). */
export const alarmSchema = new FastSchema(alarmFields, (json) => {
  if (!isRecord(json) || !STATE_SET.has(json.NewStateValue) || typeof json.StateChangeTime !== 'string') {
    return UNSURE;
  }
  const epochMs = parseTimestamp(json.StateChangeTime);
  if (epochMs === undefined) return UNSURE;
  const muted = json.ActionExecutedAfterMuteWindow;
  return {
    AlarmName: optionalTextValue(json.AlarmName),
    AlarmDescription: optionalTextValue(json.AlarmDescription),
    AWSAccountId: optionalTextValue(json.AWSAccountId),
    NewStateValue: json.NewStateValue as AlarmState,
    OldStateValue: nullishState(json.OldStateValue) as AlarmState | null | undefined,
    NewStateReason: caughtStringValue(json.NewStateReason),
    StateChangeTime: { raw: json.StateChangeTime, epochMs },
    Region: optionalTextValue(json.Region),
    AlarmArn: optionalTextValue(json.AlarmArn),
    AlarmTagsStatus: caughtStringValue(json.AlarmTagsStatus),
    ActionExecutedAfterMuteWindow:
      muted == null || typeof muted === 'boolean'
        ? muted
        : muted === 'true' || muted === 'false'
          ? muted === 'true'
          : undefined,
  };
});

// SNS writes dimensions as {value, name}; accept {Name, Value} too.
const dimensionSpelling = (value: unknown) =>
  isRecord(value) && !('name' in value) && 'Name' in value ? { name: value.Name, value: value.Value } : value;
const dimension = () =>
  z.pipe(z.transform(dimensionSpelling), z.object({ name: z.string(), value: z.string() }));
const dimensions = () => transformed(z.nullish(z.array(dimension())), (list) => list ?? []);

/** `dimensions`, read by hand: a list of {name, value} strings (either spelling), else UNSURE. */
function dimensionsValue(value: unknown): { name: string; value: string }[] | typeof UNSURE {
  if (value == null) return [];
  if (!Array.isArray(value)) return UNSURE;
  const list: { name: string; value: string }[] = [];
  for (const item of value) {
    const spelled = dimensionSpelling(item);
    if (!isRecord(spelled) || typeof spelled.name !== 'string' || typeof spelled.value !== 'string')
      return UNSURE;
    list.push({ name: spelled.name, value: spelled.value });
  }
  return list;
}

const evaluation = () => ({
  EvaluationPeriods: count,
  DatapointsToAlarm: z.nullish(count),
  ComparisonOperator: text,
  TreatMissingData: z.catch(z.nullish(z.string()), undefined),
  EvaluateLowSampleCountPercentile: z.catch(optionalText, undefined),
});

const singleMetricObject = () =>
  z.object({
    MetricName: text,
    Namespace: text,
    StatisticType: z.nullish(z.string()),
    Statistic: z.nullish(z.string()),
    ExtendedStatistic: z.nullish(z.string()),
    Unit: z.catch(optionalText, undefined),
    Dimensions: dimensions(),
    Period: count,
    Threshold: threshold,
    ...evaluation(),
  });
const singleMetricFields = () =>
  transformed(singleMetricObject(), (trigger, ctx) => {
    const statistic = statisticOf(trigger);
    if (statistic === undefined) {
      addIssue(ctx, 'missing, and so is ExtendedStatistic', ['Statistic']);
      return z.NEVER;
    }
    return { ...trigger, statistic };
  });

function statisticOf(trigger: {
  StatisticType?: string | null;
  Statistic?: string | null;
  ExtendedStatistic?: string | null;
}): string | undefined {
  const extended = trigger.StatisticType === 'ExtendedStatistic' || !trigger.Statistic;
  const statistic = extended && trigger.ExtendedStatistic ? trigger.ExtendedStatistic : trigger.Statistic;
  if (!statistic) return undefined;
  return extended ? statistic : normaliseStatistic(statistic);
}

/** singleMetricFields, read by hand when every field has its documented type (every metric alarm CloudWatch sends). */
export const singleMetricTrigger = new FastSchema(singleMetricFields, (trigger) => {
  if (!isRecord(trigger)) return UNSURE;
  const fields = {
    MetricName: textValue(trigger.MetricName),
    Namespace: textValue(trigger.Namespace),
    StatisticType: nullishStringValue(trigger.StatisticType),
    Statistic: nullishStringValue(trigger.Statistic),
    ExtendedStatistic: nullishStringValue(trigger.ExtendedStatistic),
    Unit: optionalTextValue(trigger.Unit),
    Dimensions: dimensionsValue(trigger.Dimensions),
    Period: countValue(trigger.Period),
    Threshold: thresholdValue(trigger.Threshold),
    EvaluationPeriods: countValue(trigger.EvaluationPeriods),
    DatapointsToAlarm:
      trigger.DatapointsToAlarm == null ? trigger.DatapointsToAlarm : countValue(trigger.DatapointsToAlarm),
    ComparisonOperator: textValue(trigger.ComparisonOperator),
    TreatMissingData: caughtStringValue(trigger.TreatMissingData),
    EvaluateLowSampleCountPercentile: optionalTextValue(trigger.EvaluateLowSampleCountPercentile),
  };
  if (Object.values(fields).includes(UNSURE)) return UNSURE;
  // No field is UNSURE: each has the type zod gives it.
  const known = fields as z.output<ReturnType<typeof singleMetricObject>>;
  const statistic = statisticOf(known);
  return statistic === undefined ? UNSURE : { ...known, statistic };
});

const mathMetric = () =>
  z
    .object({
      Id: text,
      Expression: optionalText,
      Label: optionalText,
      ReturnData: z.nullish(z.boolean()),
      MetricStat: z.nullish(
        z.object({
          Metric: z.object({ Dimensions: dimensions(), MetricName: text, Namespace: text }),
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

const mathTrigger = lazySchema(() =>
  z.object({
    Period: z.nullish(count),
    Threshold: threshold,
    Metrics: z.array(mathMetric()).check(z.minLength(1)),
    ...evaluation(),
  }),
);

const anomalyTrigger = lazySchema(() =>
  z.object({
    Period: z.nullish(count),
    ThresholdMetricId: text,
    Metrics: z.array(mathMetric()).check(z.minLength(1)),
    ...evaluation(),
  }),
);

// AWS documents TriggeringChildren as [String]; messages carry [{Arn, State{Value, Timestamp}}]. Take both.
const triggeringChild = () =>
  z.union(
    [
      transformed(text, (arn) => ({ Arn: arn, State: undefined })),
      z.object({
        Arn: text,
        State: z.nullish(z.object({ Value: z.nullish(z.string()), Timestamp: z.nullish(z.string()) })),
      }),
    ],
    { error: 'expected an alarm ARN or {Arn, State}' },
  );

const compositeFields = lazySchema(() =>
  z.object({
    AlarmRule: text,
    TriggeringChildren: z.nullish(z.array(triggeringChild())),
  }),
);

function parseAlarm(json: Record<string, unknown>, envelope: SnsEnvelope): Notification {
  const head = parseWith(alarmSchema, json);
  const name = typeof json.AlarmName === 'string' ? ` ${JSON.stringify(cutText(json.AlarmName, 100))}` : '';
  if (!head.ok) {
    return unrecognised(
      envelope,
      `looks like a CloudWatch alarm notification${name} but ${listIssues(head.issues)}`,
    );
  }
  const message = head.value;
  // Not trimmed: an alarm name may end in a space, and the ARN must equal the one built for old messages.
  const arn = message.AlarmArn === undefined ? undefined : parseAlarmArn(message.AlarmArn);
  const alarmName = message.AlarmName ?? arn?.alarmName;
  const accountId = message.AWSAccountId ?? arn?.accountId;
  if (alarmName === undefined || (accountId === undefined && message.AlarmArn === undefined)) {
    const missing = alarmName === undefined ? 'AlarmName' : 'AWSAccountId';
    return unrecognised(
      envelope,
      `looks like a CloudWatch alarm notification${name} but ${missing}: missing, and there is no AlarmArn that names it`,
    );
  }
  const regionCode =
    arn?.region ?? (message.Region === undefined ? undefined : regionCodeFromName(message.Region));
  const condition = parseCondition(json);
  const contributorId = readContributorId(json.AlarmContributorId);
  const alarm: AlarmNotification = {
    type: 'alarm',
    alarmName,
    alarmDescription: message.AlarmDescription,
    alarmArn: message.AlarmArn,
    accountId: accountId ?? '',
    regionName: message.Region ?? regionCode ?? '',
    regionCode,
    partition: arn?.partition ?? (regionCode === undefined ? 'aws' : partitionForRegion(regionCode)),
    newState: message.NewStateValue,
    oldState: message.OldStateValue ?? undefined,
    reason: message.NewStateReason ?? '',
    stateChangeTime: message.StateChangeTime.raw,
    stateChangeEpochMs: message.StateChangeTime.epochMs,
    condition: condition.ok
      ? condition.value
      : {
          kind: 'unknown',
          why: listIssues(condition.issues),
          label: conditionLabel(json.Trigger),
          raw: json.Trigger === undefined ? undefined : boundedJson(json.Trigger),
        },
    tags: readTags(json.AlarmTags),
    tagsStatus: message.AlarmTagsStatus ?? undefined,
    actionExecutedAfterMuteWindow: message.ActionExecutedAfterMuteWindow ?? undefined,
    ...(contributorId === undefined
      ? {}
      : { contributor: { id: contributorId, attributes: readAttributes(json.AlarmContributorAttributes) } }),
  };
  return boundAlarm(alarm);
}

/** The alarm's condition, by the kind of alarm the message describes. */
function parseCondition(json: Record<string, unknown>): Parsed<AlarmCondition> {
  const trigger = json.Trigger;
  if (trigger == null) return compositeCondition(json);
  if (!isRecord(trigger))
    return { ok: false, issues: [`Trigger: expected an object, got ${describeValue(trigger)}`] };
  if (trigger.ThresholdMetricId != null && trigger.ThresholdMetricId !== '') return anomalyCondition(trigger);
  if (trigger.Metrics != null) return mathCondition(trigger);
  if (trigger.MetricName === undefined && trigger.Namespace === undefined) {
    return { ok: false, issues: [unreadTriggerKind(trigger)] };
  }
  return singleMetricCondition(trigger);
}

/** A composite alarm: its rule, and the children that triggered it. */
function compositeCondition(json: Record<string, unknown>): Parsed<AlarmCondition> {
  if (json.AlarmRule === undefined) {
    return {
      ok: false,
      issues: ['neither Trigger (a metric alarm) nor AlarmRule (a composite alarm) is present'],
    };
  }
  const composite = parseWith(compositeFields(), json);
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

/** An anomaly detection alarm: its band is the metric `ThresholdMetricId` names. */
function anomalyCondition(trigger: Record<string, unknown>): Parsed<AlarmCondition> {
  const parsed = parseWith(anomalyTrigger(), trigger, ['Trigger']);
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

/** A metric math alarm: its metrics and expressions against a threshold. */
function mathCondition(trigger: Record<string, unknown>): Parsed<AlarmCondition> {
  const parsed = parseWith(mathTrigger(), trigger, ['Trigger']);
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

/** Why a trigger with none of the keys this parser reads is not read, naming the keys it has. */
function unreadTriggerKind(trigger: Record<string, unknown>): string {
  const keys = Object.keys(trigger);
  const shown =
    keys
      .slice(0, 8)
      .map((key) => cutText(key, 40))
      .join(', ') || 'none';
  return `Trigger has none of MetricName, Metrics and ThresholdMetricId, so it is of a kind this pipeline does not read (its keys: ${shown}${keys.length > 8 ? ', …' : ''})`;
}

/** A single-metric alarm: one statistic of one metric against a threshold. */
function singleMetricCondition(trigger: Record<string, unknown>): Parsed<AlarmCondition> {
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

function evaluationOf(t: z.infer<z.ZodMiniObject<ReturnType<typeof evaluation>>>) {
  return {
    comparisonOperator: t.ComparisonOperator,
    evaluationPeriods: t.EvaluationPeriods,
    datapointsToAlarm: t.DatapointsToAlarm ?? undefined,
    treatMissingData: normaliseTreatMissingData(t.TreatMissingData),
    evaluateLowSampleCountPercentile: t.EvaluateLowSampleCountPercentile,
  };
}

function toMathMetric(m: z.infer<ReturnType<typeof mathMetric>>): MathMetric {
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

function toTriggeringChild(child: z.infer<ReturnType<typeof triggeringChild>>): TriggeringChild {
  return childFromArn(child.Arn, child.State?.Value ?? undefined, child.State?.Timestamp ?? undefined);
}

function unrecognised(
  envelope: SnsEnvelope,
  why: string,
  service?: ServiceNotification,
): UnrecognisedNotification {
  const published = typeof envelope.timestamp === 'string' ? parseTimestamp(envelope.timestamp) : undefined;
  return {
    type: 'unrecognised',
    why: cutText(why, MAX_NAME_LENGTH),
    subject:
      typeof envelope.subject === 'string' && envelope.subject !== ''
        ? cutText(envelope.subject, MAX_NAME_LENGTH)
        : undefined,
    // Well-formed: a lone surrogate is not UTF-8, and JSON.stringify escapes it 20 times slower.
    body: typeof envelope.message === 'string' ? wellFormed(cutText(envelope.message, MAX_BODY_LENGTH)) : '',
    // 0 (the oldest) when SNS's own timestamp is unreadable, which SNS does not send.
    publishedEpochMs: published ?? 0,
    topicArn: typeof envelope.topicArn === 'string' ? cutText(envelope.topicArn, MAX_NAME_LENGTH) : '',
    ...(service === undefined ? {} : { service }),
  };
}
