import { declaredFor, resolveSettings, type DeclaredSettingsMap } from './alarm-settings';
import type { Config } from './config';
import type { CountMetric } from '../shared/contract';
import { decideAction } from './decide';
import { alarmIdentity, dedupKeyFor } from './dedup-key';
import type { Claim, LedgerAction, OpenIncidentFacts } from './ledger';
import type { AlarmNotification, AlarmSettings, Notification } from '../messages/notification';
import { buildAlertEvent } from '../pagerduty/event';
import type { PagerDutyAlertEvent } from '../pagerduty/types';
import type { TriageSubject } from '../triage/types';

/**
 * An item is taken for a forged future time only beyond the claimer's clock plus this: a claim computed now may
 * reach the ledger (SDK retries, lease waits) until its invocation ends, at most Lambda's 15 minutes, after a newer
 * real state was claimed. Times are capped before they are claimed, so only items written without the cap (older
 * versions, other tools) are ever this far ahead; the sweep corrects any capped one. Found by the loss property.
 */
export const FUTURE_WEDGE_MARGIN_MS = 15 * 60_000;

/** What planning needs besides the notification: configuration and the time, as values. */
export interface PlanContext {
  readonly config: Pick<
    Config,
    | 'defaultSeverity'
    | 'insufficientDataPolicy'
    | 'environment'
    | 'unrecognisedMessages'
    | 'clientName'
    | 'maxClockSkewMs'
  > &
    Partial<Pick<Config, 'serviceSeverities' | 'linkHosts' | 'environmentRoutes'>>;
  readonly declared: DeclaredSettingsMap;
  /** Routes that have an integration key. */
  readonly knownRoutes: readonly string[];
  /** When the record is being handled, epoch milliseconds. */
  readonly nowMs: number;
}

/** A notification and the latest time its transport vouches for (SNS `Timestamp`, EventBridge `time`). */
export interface PlanInput {
  readonly notification: Notification;
  readonly vouchedMs?: number;
  /**
   * A sweep's correction: when the clock was read just before the CloudWatch request whose answer it acts on. It
   * is ordered there, not at the alarm's own time: any later real change carries a later time and wins.
   */
  readonly observedMs?: number;
}

/** Something to count and log about a record, whatever its plan. */
export interface Notice {
  readonly level: 'info' | 'warn';
  readonly message: string;
  readonly metric?: CountMetric;
  readonly count?: number;
  readonly details?: Record<string, unknown>;
}

export interface SkipPlan {
  readonly kind: 'skip';
  readonly reason: string;
  readonly metric: CountMetric;
  readonly message: string;
  readonly level: 'info' | 'warn';
  readonly details: Record<string, unknown>;
  readonly dedupKey?: string;
  /** Keys for every log line about this record. */
  readonly logKeys: Record<string, unknown>;
  readonly notices: readonly Notice[];
}

export interface SendPlan {
  readonly kind: 'send';
  readonly dedupKey: string;
  readonly action: LedgerAction;
  /** The route the alarm is configured for; the ledger may send to the open incident's route instead. */
  readonly route: string;
  readonly event: PagerDutyAlertEvent;
  /** What the ledger records for this state change. */
  readonly claim: Claim;
  /** The trigger a compensation sends when the ledger holds no copy of the newest trigger. */
  readonly fallbackTrigger: PagerDutyAlertEvent;
  /** The alarm a trigger is about, for the delivery step's metric graphs; absent for other plans. */
  readonly graphOf?: AlarmNotification;
  /** What model triage may look at, for a trigger of an alarm; the delivery step asks only when triage is on. */
  readonly triageOf?: TriageSubject;
  readonly logKeys: Record<string, unknown>;
  readonly notices: readonly Notice[];
}

export type RecordPlan = SkipPlan | SendPlan;

/**
 * Everything about one notification that needs no I/O: settings, decision, dedup key, ordering time and event.
 * Either "skip, with the reason and the metric", or "send this action and event, and record these facts".
 */
export function planRecord(input: PlanInput, ctx: PlanContext): RecordPlan {
  const { notification } = input;
  const { config } = ctx;
  const notices: Notice[] = [];
  const logKeys: Record<string, unknown> = identify(notification);

  if (notification.type === 'unrecognised') {
    const dropped = unrecognisedPlan(notification, config, logKeys, notices);
    if (dropped) return dropped;
  }

  const settings = settingsFor(notification, ctx, notices);
  const dedupKey = dedupKeyFor(notification);
  logKeys.dedupKey = dedupKey;
  const decision = decideAction(notification, settings);
  if (!decision.send) return policySkip(decision.reason, dedupKey, logKeys, notices);

  const { action } = decision;
  logKeys.action = action;
  logKeys.route = settings.route;
  if (settings.routeFrom === 'environment') logKeys.routeFrom = 'environment';
  const eventOptions = { clientName: config.clientName, serviceSeverities: config.serviceSeverities };
  const event = buildAlertEvent(notification, settings, action, dedupKey, eventOptions);
  const fallbackTrigger =
    action === 'trigger' ? event : buildAlertEvent(notification, settings, 'trigger', dedupKey, eventOptions);
  const { stateChangeMs, claimedMs, futureLimitMs, timeCapped } = orderingTime(input, ctx, notices);

  return {
    kind: 'send',
    dedupKey,
    action,
    route: settings.route,
    event,
    fallbackTrigger,
    graphOf: action === 'trigger' && notification.type === 'alarm' ? notification : undefined,
    triageOf:
      action === 'trigger' && notification.type === 'alarm'
        ? { alarm: notification, dedupKey, severityDeclared: settings.severityFrom !== 'default' }
        : undefined,
    claim: {
      dedupKey,
      stateChangeMs,
      stateChangeTime:
        notification.type === 'alarm' ? notification.stateChangeTime : new Date(claimedMs).toISOString(),
      action,
      route: settings.route,
      alarmName:
        notification.type === 'alarm'
          ? notification.alarmName
          : `(unrecognised) ${notification.subject ?? ''}`,
      triggerEvent: action === 'trigger' ? compactTrigger(event) : undefined,
      futureLimitMs,
      open: action === 'trigger' ? openFacts(notification, settings) : undefined,
      ...(timeCapped ? { timeCapped } : {}),
    },
    logKeys,
    notices,
  };
}

/** The alarm's settings (tags over declarations over the defaults); bad tag values are a notice. */
function settingsFor(notification: Notification, ctx: PlanContext, notices: Notice[]): AlarmSettings {
  const { config } = ctx;
  const settings = resolveSettings({
    tags: notification.type === 'alarm' ? notification.tags : {},
    declared: declaredFor(ctx.declared, notification),
    defaults: {
      route: 'default',
      severity: config.defaultSeverity,
      insufficientData: config.insufficientDataPolicy,
      environment: config.environment,
    },
    knownRoutes: ctx.knownRoutes,
    linkHosts: config.linkHosts,
    environmentRoutes: config.environmentRoutes,
  });
  if (settings.problems.length > 0) {
    notices.push({
      level: 'warn',
      message: 'Alarm tags with bad values were ignored; the next source of each setting used',
      metric: 'TagProblems',
      count: settings.problems.length,
      details: { problems: settings.problems },
    });
  }
  return settings;
}

/**
 * The time the claim is ordered at: a sweep correction's observation time, else what the notification claims, at
 * most what the transport vouches for (a claim later than that is a notice).
 */
function orderingTime(
  input: PlanInput,
  ctx: PlanContext,
  notices: Notice[],
): { stateChangeMs: number; claimedMs: number; futureLimitMs: number; timeCapped: boolean } {
  const { notification } = input;
  const { config } = ctx;
  const claimedMs =
    notification.type === 'alarm' ? notification.stateChangeEpochMs : notification.publishedEpochMs;
  // Ordered at most at what the transport vouches for; a ledger item later than the receive time can only hold
  // a forged time (from before this cap), and any claim may replace it.
  const capMs = Math.min(input.vouchedMs ?? ctx.nowMs, ctx.nowMs) + config.maxClockSkewMs;
  const futureLimitMs = ctx.nowMs + config.maxClockSkewMs + FUTURE_WEDGE_MARGIN_MS;
  const stateChangeMs = input.observedMs ?? Math.min(claimedMs, capMs);
  const timeCapped = input.observedMs === undefined && claimedMs > capMs;
  if (timeCapped) {
    notices.push({
      level: 'warn',
      message:
        'The state change claims a time later than SNS vouches for: ordered at the cap, so it cannot take over ' +
        'its alarm (a forged or mistyped timestamp)',
      metric: 'FutureTimestamps',
      details: { claimedMs, cappedMs: stateChangeMs, vouchedMs: input.vouchedMs },
    });
  }
  return { stateChangeMs, claimedMs, futureLimitMs, timeCapped };
}

/** What the sweep needs to check an incident against CloudWatch; none when the alarm's region is unknown. */
function openFacts(notification: Notification, settings: AlarmSettings): OpenIncidentFacts | undefined {
  if (notification.type !== 'alarm' || notification.regionCode === undefined) return undefined;
  return {
    source: `${notification.accountId}:${notification.regionCode}`,
    alarmArn: alarmIdentity(notification),
    alarmName: notification.alarmName,
    contributorId: notification.contributor?.id,
    insufficientData: settings.insufficientData,
    repageMs: settings.repageMinutes === undefined ? undefined : settings.repageMinutes * 60_000,
  };
}

/** The stored copy of a trigger: everything but the bulky custom details, which the original event carried. */
function compactTrigger(event: PagerDutyAlertEvent): string {
  if (!event.payload) return JSON.stringify(event);
  return JSON.stringify({
    ...event,
    payload: {
      ...event.payload,
      custom_details: {
        note: 'Re-sent by the pipeline to restore the newest alarm state after reordered deliveries',
      },
    },
  });
}

function identify(notification: Notification): Record<string, unknown> {
  return notification.type === 'alarm'
    ? {
        alarmName: notification.alarmName.slice(0, 256),
        newState: notification.newState,
        stateChangeTime: notification.stateChangeTime,
      }
    : { alarmName: '(unrecognised message)' };
}

/** UNRECOGNISED_MESSAGES=drop skips a message nothing recognised; otherwise it pages, with a notice saying so. */
function unrecognisedPlan(
  notification: Extract<Notification, { type: 'unrecognised' }>,
  config: PlanContext['config'],
  logKeys: Record<string, unknown>,
  notices: Notice[],
): SkipPlan | undefined {
  // An AWS service's notification (RDS, Budgets, GuardDuty, ...) was recognised: only the rest is dropped.
  if (config.unrecognisedMessages === 'drop' && notification.service === undefined) {
    return {
      kind: 'skip',
      reason: `unrecognised message dropped: ${notification.why}`,
      metric: 'UnrecognisedDropped',
      level: 'warn',
      message: 'Dropped an unrecognised message, as UNRECOGNISED_MESSAGES=drop asks',
      details: {
        outcome: 'dropped',
        why: notification.why,
        subject: notification.subject,
        bodyPreview: notification.body.slice(0, 200),
      },
      logKeys,
      notices: [{ level: 'info', message: 'Unrecognised message', metric: 'UnrecognisedMessages' }],
    };
  }
  notices.push({
    level: 'info',
    message: 'Unrecognised message: paging it as a trigger with the raw text',
    metric: 'UnrecognisedMessages',
    details: { why: notification.why },
  });
  return undefined;
}

/** The policy sends nothing for this notification (INSUFFICIENT_DATA ignored, an OK with nothing open…). */
function policySkip(
  reason: string,
  dedupKey: string,
  logKeys: Record<string, unknown>,
  notices: readonly Notice[],
): SkipPlan {
  return {
    kind: 'skip',
    reason,
    metric: 'PolicySkipped',
    level: 'info',
    message: 'No PagerDuty event for this notification',
    details: { outcome: 'skipped', reason },
    dedupKey,
    logKeys,
    notices,
  };
}
