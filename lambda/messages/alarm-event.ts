// EventBridge alarm state changes → the same typed alarm as an SNS notification, with the same dedup key.
// Shapes: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html
// (single metric, metric math, anomaly detection, composite with actionsSuppressedBy, Metrics Insights contributor,
// muteDetail) and https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-cloudwatch.html (detail types).
import * as z from 'zod/mini';
import {
  boundAlarm,
  boundedJson,
  conditionLabel,
  count,
  describeValue,
  jsonDepthExceeds,
  listIssues,
  MAX_BODY_LENGTH,
  MAX_JSON_DEPTH,
  MAX_NAME_LENGTH,
  MAX_TEXT_LENGTH,
  normaliseStatistic,
  normaliseTreatMissingData,
  optionalText,
  parseAlarmArn,
  lazySchema,
  parseWith,
  pruneLists,
  readAttributes,
  readContributorId,
  readTags,
  text,
  threshold,
  timestamp,
  triggeringChild,
  type Parsed,
} from './alarm-fields';
import type {
  AlarmCondition,
  AlarmNotification,
  AlarmState,
  Dimension,
  MathMetric,
  Notification,
  SuppressedActions,
  TriggeringChild,
  UnrecognisedNotification,
} from './notification';
import { errorMessage } from '../shared/errors';
import { isRecord } from '../shared/json';
import { parseTimestamp } from '../shared/timestamp';
import { ALARM_DETAIL_TYPES, ALARM_STATE_CHANGE } from '../shared/contract';
import { isRegionCode, partitionForRegion, regionCodeFromName } from '../shared/regions';
import { cutText, wellFormed } from '../shared/text';

/**
 * Whether `value` has the shape of an alarm state-change event: an EventBridge event of either detail type, or the
 * payload of a Lambda alarm action (`alarmArn` + `alarmData`, the same detail under another name).
 */
export function isAlarmEventShaped(value: unknown): value is Record<string, unknown> {
  if (!isRecord(value)) return false;
  const detailType = value['detail-type'];
  if (typeof detailType === 'string' && ALARM_DETAIL_TYPES.includes(detailType)) return true;
  return typeof value.alarmArn === 'string' && isRecord(value.alarmData);
}

/**
 * Parses an EventBridge "CloudWatch Alarm State Change" or "CloudWatch Alarm Contributor State Change" event (or a
 * Lambda alarm action's payload). Never throws: anything else becomes an `UnrecognisedNotification` saying why.
 * Where CloudWatch would run no action (suppressed, muted), the alarm carries `actionsSuppressed`.
 */
export function parseAlarmEvent(event: unknown): Notification {
  try {
    return parseEvent(event);
  } catch (error) {
    return unrecognisedEvent(event, `the event could not be parsed (${errorMessage(error)})`);
  }
}

const STATES = ['OK', 'ALARM', 'INSUFFICIENT_DATA'] as const satisfies readonly AlarmState[];

const stateSchema = () =>
  z.object({
    value: z.enum(STATES),
    reason: z.catch(z.nullish(z.string()), undefined),
    reasonData: z.catch(z.nullish(z.string()), undefined),
    timestamp,
    actionsSuppressedBy: z.catch(optionalText, undefined),
    actionsSuppressedReason: z.catch(optionalText, undefined),
  });

const eventSchema = lazySchema(() =>
  z.object({
    account: z.catch(optionalText, undefined),
    region: z.catch(optionalText, undefined),
    resources: z.catch(z.nullish(z.array(z.unknown())), undefined),
    detail: z.object({
      alarmName: z.catch(optionalText, undefined),
      state: stateSchema(),
      previousState: z.catch(z.nullish(z.object({ value: z.enum(STATES) })), undefined),
      alarmTagsStatus: z.catch(optionalText, undefined),
    }),
  }),
);

const configurationSchema = lazySchema(() =>
  z.object({
    description: z.catch(optionalText, undefined),
    alarmRule: z.catch(optionalText, undefined),
    thresholdMetricId: z.catch(optionalText, undefined),
    threshold: z.catch(z.nullish(threshold), undefined),
    comparisonOperator: z.catch(optionalText, undefined),
    evaluationPeriods: z.catch(z.nullish(count), undefined),
    datapointsToAlarm: z.catch(z.nullish(count), undefined),
    treatMissingData: z.catch(optionalText, undefined),
  }),
);

const eventMetric = () =>
  z.object({
    id: text,
    expression: optionalText,
    label: optionalText,
    returnData: z.catch(z.nullish(z.boolean()), undefined),
    period: z.catch(z.nullish(count), undefined),
    metricStat: z.nullish(
      z.object({
        metric: z.object({ namespace: text, name: text, dimensions: z.optional(z.unknown()) }),
        period: count,
        stat: text,
        unit: z.catch(optionalText, undefined),
      }),
    ),
  });
const eventMetrics = lazySchema(() => z.array(eventMetric()).check(z.minLength(1)));

function parseEvent(raw: unknown): Notification {
  if (!isRecord(raw)) return unrecognisedEvent(raw, `the event is ${describeValue(raw)}, not an object`);
  const pruned = pruneLists(raw) as Record<string, unknown>;
  const event = isRecord(pruned.alarmData) ? fromLambdaAction(pruned) : pruned;
  const detailType = event['detail-type'];
  if (typeof detailType === 'string' && !ALARM_DETAIL_TYPES.includes(detailType)) {
    return unrecognisedEvent(
      raw,
      `an EventBridge event of detail-type ${JSON.stringify(cutText(detailType, 60))}, not an alarm state change (${ALARM_DETAIL_TYPES.join(' or ')})`,
    );
  }
  const parsed = parseWith(eventSchema(), event);
  if (!parsed.ok) {
    const kind = typeof detailType === 'string' ? JSON.stringify(cutText(detailType, 60)) : 'alarm';
    return unrecognisedEvent(raw, `looks like a ${kind} event but ${listIssues(parsed.issues)}`);
  }
  const head = parsed.value.detail;
  const detail = event.detail as Record<string, unknown>;
  const configuration = isRecord(detail.configuration) ? detail.configuration : {};
  const config = parseWith(configurationSchema(), configuration);
  const settings: Configuration = config.ok ? config.value : {};

  const location = alarmLocation(parsed.value);
  if (typeof location === 'string') return unrecognisedEvent(raw, location);
  const state = head.state;
  const contributor = isRecord(detail.alarmContributor) ? detail.alarmContributor : undefined;
  const contributorId = readContributorId(contributor?.id);
  const actionsSuppressed = suppressedActions(state, detail.muteDetail);

  const alarm: AlarmNotification = {
    type: 'alarm',
    alarmName: location.alarmName,
    alarmDescription: settings.description,
    alarmArn: location.alarmArn,
    accountId: location.accountId,
    regionName: location.regionName,
    regionCode: location.regionCode,
    partition: location.partition,
    newState: state.value,
    oldState: head.previousState?.value,
    reason: state.reason ?? '',
    stateChangeTime: state.timestamp.raw,
    stateChangeEpochMs: state.timestamp.epochMs,
    condition: eventCondition(configuration, settings, state.reasonData),
    tags: readTags(detail.alarmTags),
    tagsStatus: head.alarmTagsStatus,
    intake: 'eventbridge',
    ...(contributorId === undefined
      ? {}
      : { contributor: { id: contributorId, attributes: readAttributes(contributor?.attributes) } }),
    ...(actionsSuppressed === undefined ? {} : { actionsSuppressed }),
  };
  return boundAlarm(alarm);
}

/** Which alarm, and where: as the event says, else as the alarm ARN in its resources says. */
interface AlarmLocation {
  readonly alarmName: string;
  readonly accountId: string;
  readonly alarmArn: string | undefined;
  readonly regionName: string;
  readonly regionCode: string | undefined;
  readonly partition: string;
}

/** The alarm's name, account and region, or why the event does not name them. */
function alarmLocation({
  account,
  region,
  resources,
  detail,
}: z.infer<ReturnType<typeof eventSchema>>): AlarmLocation | string {
  const arnText = resources?.find((r): r is string => typeof r === 'string' && r.includes(':alarm:'));
  const arn = arnText === undefined ? undefined : parseAlarmArn(arnText);
  const alarmName = detail.alarmName ?? arn?.alarmName;
  const accountId = account ?? arn?.accountId;
  if (alarmName === undefined || accountId === undefined) {
    const missing = alarmName === undefined ? 'detail.alarmName' : 'account';
    return `looks like an alarm event but ${missing}: missing, and no alarm ARN in resources names it`;
  }
  const regionCode =
    arn?.region ??
    (region === undefined ? undefined : isRegionCode(region) ? region : regionCodeFromName(region));
  return {
    alarmName,
    accountId,
    alarmArn: arnText,
    regionName: region ?? regionCode ?? '',
    regionCode,
    partition: arn?.partition ?? (regionCode === undefined ? 'aws' : partitionForRegion(regionCode)),
  };
}

/** The payload of a Lambda alarm action, as an EventBridge event: `alarmData` is the event's `detail`. */
function fromLambdaAction(payload: Record<string, unknown>): Record<string, unknown> {
  return {
    'detail-type': ALARM_STATE_CHANGE,
    source: payload.source,
    account: payload.accountId,
    region: payload.region,
    time: payload.time,
    resources: [payload.alarmArn],
    detail: payload.alarmData,
  };
}

type Configuration = Partial<z.output<ReturnType<typeof configurationSchema>>>;

function eventCondition(
  configuration: Record<string, unknown>,
  settings: Configuration,
  reasonData: string | null | undefined,
): AlarmCondition {
  const evaluation = {
    comparisonOperator: settings.comparisonOperator,
    evaluationPeriods: settings.evaluationPeriods ?? undefined,
    datapointsToAlarm: settings.datapointsToAlarm ?? undefined,
    treatMissingData: normaliseTreatMissingData(settings.treatMissingData),
  };
  if (settings.alarmRule !== undefined) {
    return {
      kind: 'composite',
      alarmRule: settings.alarmRule,
      triggeringChildren: triggeringAlarms(reasonData),
    };
  }
  const parsed: Parsed<z.output<ReturnType<typeof eventMetrics>>> =
    configuration.metrics === undefined
      ? { ok: false, issues: ['detail.configuration has neither metrics nor alarmRule'] }
      : parseWith(eventMetrics(), configuration.metrics, ['detail', 'configuration', 'metrics']);
  if (!parsed.ok) {
    return {
      kind: 'unknown',
      why: listIssues(parsed.issues),
      label: conditionLabel(configuration),
      raw: Object.keys(configuration).length === 0 ? undefined : boundedJson(configuration),
    };
  }
  const metrics = parsed.value.map(toMathMetric);
  const period = parsed.value.find((m) => m.period != null)?.period ?? undefined;
  const band =
    metrics.find((m) => m.id === settings.thresholdMetricId) ??
    metrics.find((m) => m.expression !== undefined && /ANOMALY_DETECTION_BAND/i.test(m.expression));
  if (band !== undefined) {
    return { kind: 'anomaly', ...evaluation, metrics, period, thresholdMetricId: band.id };
  }
  const only = metrics.length === 1 ? metrics[0] : undefined;
  if (only?.metricStat !== undefined && only.expression === undefined) {
    const stat = only.metricStat;
    return {
      kind: 'metric',
      ...evaluation,
      metric: stat.metric,
      statistic: normaliseStatistic(stat.stat),
      unit: stat.unit,
      period: stat.period,
      threshold: settings.threshold ?? undefined,
    };
  }
  return { kind: 'metric-math', ...evaluation, metrics, period, threshold: settings.threshold ?? undefined };
}

function toMathMetric(m: z.output<ReturnType<typeof eventMetric>>): MathMetric {
  const stat = m.metricStat;
  return {
    id: m.id,
    label: m.label,
    returnData: m.returnData ?? true,
    expression: m.expression,
    metricStat: stat
      ? {
          metric: {
            namespace: stat.metric.namespace,
            metricName: stat.metric.name,
            dimensions: dimensionsOf(stat.metric.dimensions),
          },
          period: stat.period,
          stat: stat.stat,
          unit: stat.unit,
        }
      : undefined,
  };
}

/** EventBridge writes dimensions as a map `{InstanceId: "i-…"}`. */
function dimensionsOf(raw: unknown): Dimension[] {
  return Object.entries(readAttributes(raw)).map(([name, value]) => ({ name, value }));
}

/** A composite alarm's children in ALARM, from `state.reasonData` (`{"triggeringAlarms":[{arn, state}]}`). */
function triggeringAlarms(reasonData: string | null | undefined): TriggeringChild[] {
  if (!reasonData || reasonData.length > MAX_BODY_LENGTH || jsonDepthExceeds(reasonData, MAX_JSON_DEPTH))
    return [];
  let data: unknown;
  try {
    data = JSON.parse(reasonData);
  } catch {
    return [];
  }
  if (!isRecord(data) || !Array.isArray(data.triggeringAlarms)) return [];
  return data.triggeringAlarms.flatMap((child: unknown): TriggeringChild[] => {
    if (!isRecord(child) || typeof child.arn !== 'string' || child.arn === '') return [];
    const state = isRecord(child.state) ? child.state : {};
    return [
      triggeringChild(
        child.arn,
        typeof state.value === 'string' ? state.value : undefined,
        typeof state.timestamp === 'string' ? state.timestamp : undefined,
      ),
    ];
  });
}

/**
 * Why CloudWatch runs no action for this change, if it does not: `state.actionsSuppressedBy` (a composite alarm's
 * suppressor, its wait or extension period), or a mute rule (`muteDetail`) whose window holds the change. A mute
 * rule mutes every action of its alarms while its window is open:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutAlarmMuteRule.html
 */
function suppressedActions(
  state: z.output<ReturnType<typeof stateSchema>>,
  muteDetail: unknown,
): SuppressedActions | undefined {
  if (state.actionsSuppressedBy !== undefined) {
    return {
      by: cutText(state.actionsSuppressedBy, 64),
      reason: cutText(
        state.actionsSuppressedReason ?? `actions suppressed by ${state.actionsSuppressedBy}`,
        MAX_TEXT_LENGTH,
      ),
    };
  }
  if (!isRecord(muteDetail)) return undefined;
  const rule = typeof muteDetail.mutedByArn === 'string' ? muteDetail.mutedByArn : undefined;
  const start = typeof muteDetail.muteWindowStart === 'string' ? muteDetail.muteWindowStart : undefined;
  const end = typeof muteDetail.muteWindowEnd === 'string' ? muteDetail.muteWindowEnd : undefined;
  if (rule === undefined && start === undefined && end === undefined) return undefined;
  const startMs = start === undefined ? undefined : parseTimestamp(start);
  const endMs = end === undefined ? undefined : parseTimestamp(end);
  const at = state.timestamp.epochMs;
  // A change outside the window it names was not muted; without a readable window, trust the event's word.
  if ((startMs !== undefined && at < startMs) || (endMs !== undefined && at >= endMs)) return undefined;
  return {
    by: 'MuteRule',
    reason: cutText(
      `actions muted by ${rule === undefined ? 'a mute rule' : `mute rule ${rule}`}${end === undefined ? '' : ` until ${end}`}`,
      MAX_NAME_LENGTH,
    ),
  };
}

function unrecognisedEvent(event: unknown, why: string): UnrecognisedNotification {
  const time = isRecord(event) && typeof event.time === 'string' ? parseTimestamp(event.time) : undefined;
  return {
    type: 'unrecognised',
    why: cutText(why, MAX_NAME_LENGTH),
    body: wellFormed(boundedJson(event, MAX_BODY_LENGTH)),
    publishedEpochMs: time ?? 0,
    topicArn: '',
    intake: 'eventbridge',
  };
}
