import { alarmConsoleUrl, metricConsoleUrl, snsTopicConsoleUrl } from '../messages/console-links';
import { fitDedupKey } from '../pipeline/dedup-key';
import type {
  AlarmNotification,
  AlarmSettings,
  Dimension,
  Evaluation,
  MathMetric,
  Notification,
  UnrecognisedNotification,
} from '../messages/notification';
import { contributorWords } from '../messages/alarm-fields';
import type { PagerDutyAlertEvent } from './types';
import {
  serviceSeverity,
  unrecognisedHeadline,
  type ServiceSeverities,
} from '../messages/service-notification';
import { cutText, displayLine, firstLine, formatPath } from '../shared/text';
import { isAwsConsoleUrl } from '../shared/regions';

/** PagerDuty's limit on `payload.summary`, in characters (counted here as UTF-16 units, the stricter reading). */
export const MAX_SUMMARY_LENGTH = 1024;
/** PagerDuty limits a whole event to 512 KB; counted as 512,000 bytes, safe whichever KB is meant. */
export const MAX_EVENT_BYTES = 512_000;

export interface EventOptions {
  readonly clientName: string;
  /** SERVICE_SEVERITIES: the severity of recognised AWS service notifications, by `service[:kind]`. */
  readonly serviceSeverities?: ServiceSeverities;
}

type Link = NonNullable<PagerDutyAlertEvent['links']>[number];

/** The PagerDuty event for a decision about a notification, within the Events API limits. */
export function buildAlertEvent(
  notification: Notification,
  settings: AlarmSettings,
  action: 'trigger' | 'resolve',
  dedupKey: string,
  options: EventOptions,
): PagerDutyAlertEvent {
  // PagerDuty ignores any payload on resolve; the dedup key is all that matters.
  if (action === 'resolve') return fitToLimits({ event_action: 'resolve', dedup_key: dedupKey });
  return fitToLimits(
    notification.type === 'alarm'
      ? alarmTrigger(notification, settings, dedupKey, options)
      : unrecognisedTrigger(notification, settings, dedupKey, options),
  );
}

function alarmTrigger(
  alarm: AlarmNotification,
  settings: AlarmSettings,
  dedupKey: string,
  options: EventOptions,
): PagerDutyAlertEvent {
  const alarmUrl = alarmConsoleUrl(alarm);
  const metricUrl = metricConsoleUrl(alarm);
  const where = whereOf(alarm);
  const links: Link[] = [
    ...(alarmUrl ? [{ href: alarmUrl, text: 'CloudWatch alarm' }] : []),
    ...settingsLinks(settings),
    ...(metricUrl ? [{ href: metricUrl, text: 'Metric graph (last 3 hours)' }] : []),
  ];
  return {
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: compact({
      summary: alarmSummary(alarm, settings),
      source: `cloudwatch:${where}:${alarm.accountId}`,
      severity: settings.severity,
      timestamp: new Date(alarm.stateChangeEpochMs).toISOString(),
      component: componentOf(alarm),
      group: settings.environment ?? `${alarm.accountId}/${where}`,
      class:
        alarm.condition.kind === 'metric'
          ? alarm.condition.metric.namespace
          : CLASS_BY_KIND[alarm.condition.kind],
      custom_details: alarmDetails(alarm, settings),
    }),
    ...(links.length > 0 ? { links } : {}),
    client: options.clientName,
    ...(alarmUrl ? { client_url: alarmUrl } : {}),
  };
}

const CLASS_BY_KIND = {
  'metric-math': 'metric-math',
  anomaly: 'anomaly-detection',
  composite: 'composite',
  unknown: 'cloudwatch-alarm',
} as const;

/** The region code, else the region name as written, else words that say it is unknown. */
function whereOf(alarm: AlarmNotification): string {
  return alarm.regionCode ?? (alarm.regionName.trim() || 'an unknown region');
}

function unrecognisedTrigger(
  notification: UnrecognisedNotification,
  settings: AlarmSettings,
  dedupKey: string,
  options: EventOptions,
): PagerDutyAlertEvent {
  const topicUrl = snsTopicConsoleUrl(notification.topicArn);
  const service = notification.service;
  const links: Link[] = [
    // A publisher writes these (CodePipeline's external URL, RDS's Identifier Link): only AWS console links pass.
    ...(service?.links ?? []).filter((link) => isAwsConsoleUrl(link.href)),
    ...(topicUrl ? [{ href: topicUrl, text: 'SNS topic' }] : []),
    ...settingsLinks(settings),
  ];
  // Without a subject, a JSON body's first line is a wall of JSON, and an empty body says nothing: the why does.
  const start = notification.body.trimStart()[0];
  const looksLikeJson = start === '[' || start === '{';
  const headline =
    notification.subject?.trim() ||
    (looksLikeJson ? notification.why : firstLine(notification.body)) ||
    notification.why;
  // Cut here, in one pass, to what the event has room for: shrinking it later costs a JSON.stringify a step.
  const body = cutToJsonBytes(notification.body, BODY_BYTES);
  return {
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: compact({
      summary: `${environmentPrefix(settings)}${
        service
          ? service.summary
          : notification.intake === 'eventbridge'
            ? `EventBridge event: ${cutText(headline, 300)}`
            : unrecognisedHeadline(notification)
      }`,
      source:
        service?.source ??
        (notification.topicArn || (notification.intake === 'eventbridge' ? 'eventbridge' : 'sns')),
      severity: service ? serviceSeverity(service, options.serviceSeverities) : settings.severity,
      timestamp:
        notification.publishedEpochMs > 0 ? new Date(notification.publishedEpochMs).toISOString() : undefined,
      component: service?.component,
      group: settings.environment,
      class: service?.class ?? (notification.intake === 'eventbridge' ? 'eventbridge-event' : 'sns-message'),
      custom_details: compact({
        ...(service
          ? { ...service.details, service: service.service, kind: service.kind, outcome: service.outcome }
          : {}),
        why: notification.why,
        subject: notification.subject,
        body,
        topic_arn: notification.topicArn,
        published_at:
          notification.publishedEpochMs > 0
            ? new Date(notification.publishedEpochMs).toISOString()
            : undefined,
        route: settings.route,
        settings_problems: settings.problems.length > 0 ? settings.problems : undefined,
        _truncated:
          body === notification.body
            ? undefined
            : [`body: cut from ${notification.body.length} to ${body.length} characters`],
      }),
    }),
    ...(links.length > 0 ? { links } : {}),
    client: options.clientName,
    ...(topicUrl ? { client_url: topicUrl } : {}),
  };
}

function settingsLinks(settings: AlarmSettings): Link[] {
  return [
    ...(settings.runbookUrl ? [{ href: settings.runbookUrl, text: 'Runbook' }] : []),
    ...(settings.dashboardUrl ? [{ href: settings.dashboardUrl, text: 'Dashboard' }] : []),
  ];
}

function environmentPrefix(settings: AlarmSettings): string {
  return settings.environment ? `[${settings.environment}] ` : '';
}

/**
 * One line for a person woken at 3 a.m.: environment, state, alarm, the condition in words, the key dimension
 * values, region and account, e.g.
 * `[prod] ALARM: HighErrorRate — Errors Sum > 5 for 1 datapoint within 1 minute (myfunc) in us-east-1 (123456789012)`.
 */
export function alarmSummary(alarm: AlarmNotification, settings: AlarmSettings): string {
  const contributor = alarm.contributor ? ` [${contributorWords(alarm.contributor)}]` : '';
  const account = alarm.accountId ? ` (${alarm.accountId})` : '';
  return displayLine(
    `${environmentPrefix(settings)}${alarm.newState}: ${alarm.alarmName}${contributor} — ${describeCondition(alarm)} in ${whereOf(alarm)}${account}`,
  );
}

const COMPARISONS: ReadonlyMap<string, string> = new Map([
  ['GreaterThanThreshold', '>'],
  ['GreaterThanOrEqualToThreshold', '>='],
  ['LessThanThreshold', '<'],
  ['LessThanOrEqualToThreshold', '<='],
]);

const BAND_COMPARISONS: ReadonlyMap<string, string> = new Map([
  ['GreaterThanUpperThreshold', 'above the expected band'],
  ['LessThanLowerThreshold', 'below the expected band'],
  ['LessThanLowerOrGreaterThanUpperThreshold', 'outside the expected band'],
]);

const UNIT_SUFFIXES: ReadonlyMap<string, string> = new Map([
  ['Percent', '%'],
  ['Seconds', ' s'],
  ['Milliseconds', ' ms'],
  ['Microseconds', ' µs'],
  ['Count', ''],
  ['None', ''],
]);

/** The alarm's condition in words: `Errors Sum > 5 for 1 datapoint within 1 minute (myfunc)`. */
export function describeCondition(alarm: AlarmNotification): string {
  const c = alarm.condition;
  switch (c.kind) {
    case 'metric': {
      const unit = c.unit === undefined ? '' : (UNIT_SUFFIXES.get(c.unit) ?? ` ${c.unit}`);
      const comparison = comparisonWords(c.comparisonOperator, c.threshold, unit);
      return `${c.metric.metricName} ${c.statistic}${comparison} ${windowWords(c, c.period)}${dimensionWords(c.metric.dimensions)}`;
    }
    case 'metric-math': {
      const alarmed = c.metrics.find((m) => m.returnData) ?? c.metrics[0];
      const comparison = comparisonWords(c.comparisonOperator, c.threshold, '');
      return `${mathMetricWords(alarmed)}${comparison} ${windowWords(c, periodOf(c.period, c.metrics))}${dimensionWords(mathDimensions(c.metrics))}`;
    }
    case 'anomaly': {
      const band =
        c.comparisonOperator === undefined
          ? 'outside the expected band'
          : (BAND_COMPARISONS.get(c.comparisonOperator) ??
            `outside the expected band (${c.comparisonOperator})`);
      return `${mathMetricWords(bandBaseMetric(c.metrics, c.thresholdMetricId))} ${band} ${windowWords(c, periodOf(c.period, c.metrics))}${dimensionWords(mathDimensions(c.metrics))}`;
    }
    case 'unknown':
      return c.label ?? 'condition of an unknown kind';
    case 'composite': {
      const names = c.triggeringChildren.map((child) => cutText(child.name, 100));
      if (names.length === 0) return 'composite alarm state set by hand (no triggering child alarm)';
      const shown = names.slice(0, 3).join(', ');
      return `composite alarm triggered by ${shown}${names.length > 3 ? ` and ${names.length - 3} more` : ''}`;
    }
  }
}

/** ` > 5%`; ` > ?` when the threshold is not known (EventBridge events), empty when neither is. */
function comparisonWords(operator: string | undefined, threshold: number | undefined, unit: string): string {
  if (operator === undefined && threshold === undefined) return '';
  const comparison = operator === undefined ? 'vs' : (COMPARISONS.get(operator) ?? operator);
  return ` ${comparison} ${threshold === undefined ? '?' : `${String(threshold)}${unit}`}`;
}

function windowWords(e: Evaluation, period: number | undefined): string {
  const periods = e.evaluationPeriods;
  if (periods === undefined) return period === undefined ? '' : `over ${durationWords(period)}`;
  const datapoints = e.datapointsToAlarm ?? periods;
  const points =
    datapoints === periods
      ? `${datapoints} datapoint${datapoints === 1 ? '' : 's'}`
      : `${datapoints} of ${periods} datapoints`;
  return period === undefined ? `for ${points}` : `for ${points} within ${durationWords(periods * period)}`;
}

function durationWords(seconds: number): string {
  const units: [number, string][] = [
    [86_400, 'day'],
    [3_600, 'hour'],
    [60, 'minute'],
  ];
  for (const [size, name] of units) {
    if (seconds % size === 0) return plural(seconds / size, name);
  }
  return plural(seconds, 'second');
}

function plural(count: number, unit: string): string {
  return `${count} ${unit}${count === 1 ? '' : 's'}`;
}

function dimensionWords(dimensions: readonly Dimension[]): string {
  const values = [...new Set(dimensions.map((d) => d.value))].filter((value) => value !== '');
  if (values.length === 0) return '';
  const shown = values.slice(0, 3).map((value) => cutText(displayLine(value), 64));
  return ` (${shown.join(', ')}${values.length > 3 ? ` +${values.length - 3}` : ''})`;
}

function mathMetricWords(metric: MathMetric | undefined): string {
  if (metric === undefined) return 'the metric';
  if (metric.label) return metric.label;
  if (metric.metricStat) return `${metric.metricStat.metric.metricName} ${metric.metricStat.stat}`;
  return metric.expression ?? metric.id;
}

/** The metric whose band it is: the first argument of `ANOMALY_DETECTION_BAND(m1, 2)`. */
function bandBaseMetric(metrics: readonly MathMetric[], bandId: string): MathMetric | undefined {
  const band = metrics.find((m) => m.id === bandId);
  const baseId =
    band?.expression && /ANOMALY_DETECTION_BAND\s*\(\s*([A-Za-z0-9_]+)/i.exec(band.expression)?.[1];
  return (
    metrics.find((m) => m.id === baseId) ??
    metrics.find((m) => m.id !== bandId && m.metricStat !== undefined) ??
    metrics.find((m) => m.id !== bandId)
  );
}

function mathDimensions(metrics: readonly MathMetric[]): Dimension[] {
  return metrics.flatMap((m) => m.metricStat?.metric.dimensions ?? []);
}

function periodOf(period: number | undefined, metrics: readonly MathMetric[]): number | undefined {
  return period ?? metrics.find((m) => m.metricStat)?.metricStat?.period;
}

function componentOf(alarm: AlarmNotification): string | undefined {
  const attribute = alarm.contributor ? Object.values(alarm.contributor.attributes)[0] : undefined;
  if (attribute) return attribute;
  const c = alarm.condition;
  const metric =
    c.kind === 'metric'
      ? c.metric
      : c.kind === 'composite' || c.kind === 'unknown'
        ? undefined
        : c.metrics.find((m) => m.metricStat)?.metricStat?.metric;
  if (metric === undefined) return undefined;
  return metric.dimensions[0]?.value || `${metric.namespace}/${metric.metricName}`;
}

function alarmDetails(alarm: AlarmNotification, settings: AlarmSettings): Record<string, unknown> {
  return compact({
    state_reason: alarm.reason || undefined,
    state_change: alarm.oldState === undefined ? alarm.newState : `${alarm.oldState} → ${alarm.newState}`,
    state_change_time: alarm.stateChangeTime,
    condition: describeCondition(alarm),
    ...conditionDetails(alarm),
    contributor: alarm.contributor
      ? { id: alarm.contributor.id, attributes: alarm.contributor.attributes }
      : undefined,
    alarm_name: alarm.alarmName,
    alarm_description: alarm.alarmDescription,
    alarm_arn: alarm.alarmArn,
    account: alarm.accountId,
    region: alarm.regionName,
    region_code: alarm.regionCode,
    tags: Object.keys(alarm.tags).length > 0 ? alarm.tags : undefined,
    tags_status: alarm.tagsStatus,
    action_executed_after_mute_window: alarm.actionExecutedAfterMuteWindow,
    received_via: alarm.intake === 'eventbridge' ? 'EventBridge' : undefined,
    route: settings.route,
    settings_problems: settings.problems.length > 0 ? settings.problems : undefined,
  });
}

function conditionDetails(alarm: AlarmNotification): Record<string, unknown> {
  const c = alarm.condition;
  if (c.kind === 'unknown') {
    return { condition_unreadable: c.why, condition_raw: c.raw };
  }
  if (c.kind === 'composite') {
    return {
      alarm_rule: c.alarmRule,
      triggering_children: c.triggeringChildren.map((child) =>
        compact({ name: child.name, state: child.state, timestamp: child.timestamp, arn: child.arn }),
      ),
    };
  }
  const evaluation = {
    comparison_operator: c.comparisonOperator,
    evaluation_periods: c.evaluationPeriods,
    datapoints_to_alarm: c.datapointsToAlarm,
    treat_missing_data: c.treatMissingData,
    evaluate_low_sample_count_percentile: c.evaluateLowSampleCountPercentile,
  };
  if (c.kind === 'metric') {
    return {
      metric: compact({
        namespace: c.metric.namespace,
        name: c.metric.metricName,
        dimensions: dimensionObject(c.metric.dimensions),
      }),
      statistic: c.statistic,
      unit: c.unit,
      threshold: c.threshold,
      period_seconds: c.period,
      ...evaluation,
    };
  }
  const band = c.kind === 'anomaly' ? c.metrics.find((m) => m.id === c.thresholdMetricId) : undefined;
  return {
    metrics: c.metrics.map(mathMetricDetails),
    ...(c.kind === 'metric-math'
      ? { threshold: c.threshold }
      : { anomaly_band_id: c.thresholdMetricId, anomaly_band_expression: band?.expression }),
    period_seconds: periodOf(c.period, c.metrics),
    ...evaluation,
  };
}

function mathMetricDetails(m: MathMetric): Record<string, unknown> {
  const stat = m.metricStat;
  return compact({
    id: m.id,
    label: m.label,
    expression: m.expression,
    metric: stat
      ? {
          namespace: stat.metric.namespace,
          name: stat.metric.metricName,
          dimensions: dimensionObject(stat.metric.dimensions),
        }
      : undefined,
    stat: stat?.stat,
    period_seconds: stat?.period,
    unit: stat?.unit,
    return_data: m.returnData,
  });
}

function dimensionObject(dimensions: readonly Dimension[]): Record<string, string> {
  return Object.fromEntries(dimensions.map((d) => [d.name, d.value]));
}

function compact<T extends Record<string, unknown>>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as T;
}

/** Room for an unrecognised message's raw text: the event's limit less ample room for everything else. */
const BODY_BYTES = MAX_EVENT_BYTES - 32_000;

/** Source, component, group and class are one-line labels: cut to this many characters. */
const MAX_DISPLAY_FIELD_LENGTH = 1024;

function displayField(text: string): string | undefined {
  return cutText(displayLine(text), MAX_DISPLAY_FIELD_LENGTH) || undefined;
}

const ROUTING_KEY_STAND_IN = '0'.repeat(32);
// Only strings over 1 KB are cut (a smaller cut saves less than its note costs), and to no less than 256 bytes.
const CUT_ABOVE_BYTES = 1024;
const MIN_KEPT_BYTES = 256;
const NOTES_KEY_BYTES = Buffer.byteLength(',"_truncated":');

/** The UTF-8 size of the event as sent: with its 32-character routing key. */
export function eventBytes(event: PagerDutyAlertEvent): number {
  return Buffer.byteLength(JSON.stringify({ routing_key: ROUTING_KEY_STAND_IN, ...event }), 'utf8');
}

/**
 * Enforces the Events API limits by shrinking, never by failing: dedup_key ≤ 255 characters, summary ≤ 1024
 * characters, and the whole event ≤ 512 KB, cutting custom_details (largest strings first) and saying what was
 * cut in `custom_details._truncated`.
 */
export function fitToLimits(event: PagerDutyAlertEvent): PagerDutyAlertEvent {
  const dedupKey = fitDedupKey(event.dedup_key);
  if (event.payload === undefined) return { ...event, dedup_key: dedupKey };
  // What PagerDuty displays as one line gets no control, bidi or invisible character, whatever built it.
  const shown = event.payload;
  const payload = compact({
    ...shown,
    summary: cutText(displayLine(shown.summary) || '(no summary)', MAX_SUMMARY_LENGTH),
    source: cutText(displayLine(shown.source) || 'unknown', MAX_DISPLAY_FIELD_LENGTH),
    component: shown.component === undefined ? undefined : displayField(shown.component),
    group: shown.group === undefined ? undefined : displayField(shown.group),
    class: shown.class === undefined ? undefined : displayField(shown.class),
  });
  const fitted: PagerDutyAlertEvent = { ...event, dedup_key: dedupKey, payload };
  if (eventBytes(fitted) <= MAX_EVENT_BYTES) return fitted;

  const withDetails = (details: Record<string, unknown>): PagerDutyAlertEvent => ({
    ...fitted,
    payload: { ...payload, custom_details: details },
  });
  const room = MAX_EVENT_BYTES - eventBytes(withDetails({})) + jsonBytes({});
  const shrunk = withDetails(shrinkDetails(payload.custom_details ?? {}, room));
  if (eventBytes(shrunk) <= MAX_EVENT_BYTES) return shrunk;
  // Only links and client fields are left to drop; the events built here never get this far.
  return { event_action: shrunk.event_action, dedup_key: dedupKey, payload: shrunk.payload };
}

interface Leaf {
  readonly path: readonly (string | number)[];
  readonly value: string;
  readonly bytes: number;
}

function shrinkDetails(details: Record<string, unknown>, maxBytes: number): Record<string, unknown> {
  const copy = structuredClone(details);
  const notes: string[] = [];
  const noted = () => (notes.length > 0 ? { ...copy, _truncated: notes } : copy);
  // Bytes that `,"_truncated":[…]` adds to the object, kept as notes are added.
  let notesBytes = 0;
  const notesBytesWith = (note: string) =>
    (notesBytes === 0 ? NOTES_KEY_BYTES + 2 : notesBytes + 1) + jsonBytes(note);
  let total = jsonBytes(copy);

  for (const leaf of stringLeaves(copy, []).sort((a, b) => b.bytes - a.bytes)) {
    if (total + notesBytes <= maxBytes || leaf.bytes <= CUT_ABOVE_BYTES) break;
    const note = (to: number) =>
      `${formatPath(leaf.path)}: cut from ${leaf.value.length} to ${to} characters`;
    // The final note is no longer than this one: the cut length has no more digits than the original.
    const excess = total + notesBytesWith(note(leaf.value.length)) - maxBytes;
    const cut = cutToJsonBytes(leaf.value, Math.max(MIN_KEPT_BYTES, leaf.bytes - excess));
    setAt(copy, leaf.path, cut);
    total -= leaf.bytes - jsonBytes(cut);
    notesBytes = notesBytesWith(note(cut.length));
    notes.push(note(cut.length));
  }
  if (jsonBytes(noted()) <= maxBytes) return noted();

  // Many small values: drop whole top-level entries, largest first.
  const entries = Object.entries(copy).sort(([, a], [, b]) => jsonBytes(b) - jsonBytes(a));
  for (const [key, value] of entries) {
    notes.push(`${key}: removed (${jsonBytes(value)} bytes)`);
    delete copy[key];
    if (jsonBytes(noted()) <= maxBytes) return noted();
  }
  return { _truncated: ['custom_details: removed, too large to send'] };
}

function stringLeaves(value: unknown, path: (string | number)[]): Leaf[] {
  if (typeof value === 'string') return [{ path, value, bytes: jsonBytes(value) }];
  if (Array.isArray(value)) return value.flatMap((item, i) => stringLeaves(item, [...path, i]));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => stringLeaves(item, [...path, key]));
  }
  return [];
}

function setAt(root: Record<string, unknown>, path: readonly (string | number)[], value: string): void {
  let parent: unknown = root;
  for (const key of path.slice(0, -1)) parent = (parent as Record<string | number, unknown>)[key];
  const last = path[path.length - 1];
  if (last !== undefined) (parent as Record<string | number, unknown>)[last] = value;
}

/**
 * The longest cut of `text` (as cutText makes it, with its one-character ellipsis) whose JSON form fits in
 * `maxBytes` UTF-8 bytes. One pass counting each character's escaped size: a binary search of JSON.stringify calls
 * took 1.6 s on a 256 KB body of lone surrogates, each escaped to 6 bytes.
 */
function cutToJsonBytes(text: string, maxBytes: number): string {
  const ellipsisBytes = 3;
  let bytes = 2 + ellipsisBytes;
  let kept = 0;
  while (kept < text.length) {
    const width = jsonCharAt(text, kept);
    // The size is width >> 2, the UTF-16 length width & 3: one number, so the loop allocates nothing.
    if (bytes + (width >> 2) > maxBytes) break;
    bytes += width >> 2;
    kept += width & 3;
  }
  return kept === text.length ? text : cutText(text, kept + 1);
}

/** The character at `index`: its UTF-8 size in JSON.stringify's output × 4 + its length in UTF-16 units. */
function jsonCharAt(text: string, index: number): number {
  const code = text.charCodeAt(index);
  if (code < 0x20)
    return (code === 8 || code === 9 || code === 10 || code === 12 || code === 13 ? 2 : 6) * 4 + 1;
  if (code === 0x22 || code === 0x5c) return 2 * 4 + 1;
  if (code < 0x80) return 1 * 4 + 1;
  if (code < 0x800) return 2 * 4 + 1;
  if (code >= 0xd800 && code <= 0xdbff) {
    const next = text.charCodeAt(index + 1);
    // A pair is 4 bytes; a lone surrogate is escaped as `\udXXX`.
    return next >= 0xdc00 && next <= 0xdfff ? 4 * 4 + 2 : 6 * 4 + 1;
  }
  if (code >= 0xdc00 && code <= 0xdfff) return 6 * 4 + 1;
  return 3 * 4 + 1;
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}
