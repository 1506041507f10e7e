// The PagerDuty event for a decision about a notification: summary, links and details a responder reads.
import { alarmConsoleUrl, metricConsoleUrl, snsTopicConsoleUrl } from '../messages/console-links';
import type {
  AlarmNotification,
  AlarmSettings,
  Notification,
  UnrecognisedNotification,
} from '../messages/notification';
import { contributorWords } from '../messages/alarm-fields';
import type { PagerDutyAlertEvent } from './types';
import { unrecognisedHeadline } from '../messages/unrecognised-headline';
import { serviceSeverity } from '../messages/services/severities';
import type { ServiceSeverities } from '../messages/services/types';
import { cutText, displayLine, firstLine } from '../shared/text';
import { compact } from '../shared/json';
import { conditionDetails, describeCondition } from './condition';
import { cutToJsonBytes, fitToLimits, MAX_EVENT_BYTES } from './limits';
import { isAwsConsoleUrl } from '../shared/regions';

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
  const condition = describeCondition(alarm);
  const links: Link[] = [
    ...(alarmUrl ? [{ href: alarmUrl, text: 'CloudWatch alarm' }] : []),
    ...settingsLinks(settings),
    ...(metricUrl ? [{ href: metricUrl, text: 'Metric graph (last 3 hours)' }] : []),
  ];
  return {
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: compact({
      summary: alarmSummary(alarm, settings, condition),
      source: `cloudwatch:${where}:${alarm.accountId}`,
      severity: settings.severity,
      timestamp: new Date(alarm.stateChangeEpochMs).toISOString(),
      component: componentOf(alarm),
      group: settings.environment ?? `${alarm.accountId}/${where}`,
      class:
        alarm.condition.kind === 'metric'
          ? alarm.condition.metric.namespace
          : CLASS_BY_KIND[alarm.condition.kind],
      custom_details: alarmDetails(alarm, settings, condition),
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
  return {
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: compact({
      summary: `${environmentPrefix(settings)}${service ? service.summary : unrecognisedSummary(notification)}`,
      source:
        service?.source ??
        (notification.topicArn || (notification.intake === 'eventbridge' ? 'eventbridge' : 'sns')),
      severity: service ? serviceSeverity(service, options.serviceSeverities) : settings.severity,
      timestamp:
        notification.publishedEpochMs > 0 ? new Date(notification.publishedEpochMs).toISOString() : undefined,
      component: service?.component,
      group: settings.environment,
      class: service?.class ?? (notification.intake === 'eventbridge' ? 'eventbridge-event' : 'sns-message'),
      custom_details: unrecognisedDetails(notification, settings),
    }),
    ...(links.length > 0 ? { links } : {}),
    client: options.clientName,
    ...(topicUrl ? { client_url: topicUrl } : {}),
  };
}

/** The summary of a message no recogniser read: its subject or first line for EventBridge, else the SNS headline. */
function unrecognisedSummary(notification: UnrecognisedNotification): string {
  if (notification.intake !== 'eventbridge') return unrecognisedHeadline(notification);
  // Without a subject, a JSON body's first line is a wall of JSON, and an empty body says nothing: the why does.
  const start = notification.body.trimStart()[0];
  const looksLikeJson = start === '[' || start === '{';
  const headline =
    notification.subject?.trim() ||
    (looksLikeJson ? notification.why : firstLine(notification.body)) ||
    notification.why;
  return `EventBridge event: ${cutText(headline, 300)}`;
}

/** What the message said and why it was not read, with a recognised service's own details first. */
function unrecognisedDetails(
  notification: UnrecognisedNotification,
  settings: AlarmSettings,
): Record<string, unknown> {
  const service = notification.service;
  // Cut here, in one pass, to what the event has room for: shrinking it later costs a JSON.stringify a step.
  const body = cutToJsonBytes(notification.body, BODY_BYTES);
  return compact({
    ...(service
      ? { ...service.details, service: service.service, kind: service.kind, outcome: service.outcome }
      : {}),
    why: notification.why,
    subject: notification.subject,
    body,
    topic_arn: notification.topicArn,
    published_at:
      notification.publishedEpochMs > 0 ? new Date(notification.publishedEpochMs).toISOString() : undefined,
    route: settings.route,
    settings_problems: settings.problems.length > 0 ? settings.problems : undefined,
    _truncated:
      body === notification.body
        ? undefined
        : [`body: cut from ${notification.body.length} to ${body.length} characters`],
  });
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
export function alarmSummary(
  alarm: AlarmNotification,
  settings: AlarmSettings,
  condition = describeCondition(alarm),
): string {
  const contributor = alarm.contributor ? ` [${contributorWords(alarm.contributor)}]` : '';
  const account = alarm.accountId ? ` (${alarm.accountId})` : '';
  return displayLine(
    `${environmentPrefix(settings)}${alarm.newState}: ${alarm.alarmName}${contributor} — ${condition} in ${whereOf(alarm)}${account}`,
  );
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

function alarmDetails(
  alarm: AlarmNotification,
  settings: AlarmSettings,
  condition: string,
): Record<string, unknown> {
  return compact({
    state_reason: alarm.reason || undefined,
    state_change: alarm.oldState === undefined ? alarm.newState : `${alarm.oldState} → ${alarm.newState}`,
    state_change_time: alarm.stateChangeTime,
    condition,
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

/** Room for an unrecognised message's raw text: the event's limit less ample room for everything else. */
const BODY_BYTES = MAX_EVENT_BYTES - 32_000;
