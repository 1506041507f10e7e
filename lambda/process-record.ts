import type { Logger } from '@aws-lambda-powertools/logger';
import { declaredFor, resolveSettings, type DeclaredSettingsMap } from './alarm-settings';
import { parseNotification } from './alarm-message';
import type { Config } from './config';
import { decideAction } from './decide';
import { dedupKeyFor } from './dedup-key';
import type { Ledger, LedgerAction, LedgerEntry } from './ledger';
import type { Notification, PagerDutyAlertEvent, SnsEnvelope } from './notification';
import { buildAlertEvent } from './pagerduty-event';
import type { PagerDutyClient } from './pagerduty-client';
import type { RoutingKeys } from './routing-keys';
import { RecordLog, type Telemetry } from './telemetry';

export interface PipelineDeps {
  readonly config: Config;
  readonly ledger: Ledger;
  readonly pagerDuty: PagerDutyClient;
  readonly routingKeys: RoutingKeys;
  readonly declared: DeclaredSettingsMap;
  readonly telemetry: Telemetry;
  readonly logger: Logger;
  readonly now: () => number;
}

export type RecordOutcome =
  | {
      readonly outcome: 'sent';
      readonly action: LedgerAction;
      readonly dedupKey: string;
      readonly route: string;
      /** Extra events sent to restore the newest state after a reordered delivery. */
      readonly compensations: number;
      /** False when the ledger could not be used and the event was sent without it (fail-open). */
      readonly recorded: boolean;
    }
  | { readonly outcome: 'skipped'; readonly reason: string; readonly dedupKey?: string };

// Each settle retry follows a strictly newer claim, so this only bounds a pathological burst of state changes.
const MAX_SETTLE_ROUNDS = 25;

/**
 * One SNS record through the whole pipeline: parse → decide → claim → send → settle. Resolves when the record
 * is done (sent, or deliberately skipped with a log line and a metric); throws when it must be retried.
 */
export async function processRecord(
  envelope: SnsEnvelope,
  deps: PipelineDeps,
  deadline: number,
): Promise<RecordOutcome> {
  const { config, telemetry } = deps;
  const notification = parseNotification(envelope);
  const log = new RecordLog(deps.logger);
  log.appendKeys({ messageId: envelope.messageId, ...identify(notification) });

  if (notification.type === 'unrecognised') {
    telemetry.count('UnrecognisedMessages');
    if (config.unrecognisedMessages === 'drop') {
      telemetry.count('UnrecognisedDropped');
      log.warn('Dropped an unrecognised message, as UNRECOGNISED_MESSAGES=drop asks', {
        outcome: 'dropped',
        why: notification.why,
        subject: notification.subject,
        bodyPreview: notification.body.slice(0, 200),
      });
      return { outcome: 'skipped', reason: `unrecognised message dropped: ${notification.why}` };
    }
    log.info('Unrecognised message: paging it as a trigger with the raw text', { why: notification.why });
  }

  const settings = resolveSettings({
    tags: notification.type === 'alarm' ? notification.tags : {},
    declared: declaredFor(deps.declared, notification),
    defaults: {
      route: 'default',
      severity: config.defaultSeverity,
      insufficientData: config.insufficientDataPolicy,
      environment: config.environment,
    },
    knownRoutes: deps.routingKeys.routes,
  });
  if (settings.problems.length > 0) {
    telemetry.count('TagProblems', settings.problems.length);
    log.warn('Alarm tags with bad values were ignored; defaults used', { problems: settings.problems });
  }

  const dedupKey = dedupKeyFor(notification);
  log.appendKeys({ dedupKey });
  const decision = decideAction(notification, settings);
  if (!decision.send) {
    telemetry.count('PolicySkipped');
    log.info('No PagerDuty event for this notification', { outcome: 'skipped', reason: decision.reason });
    return { outcome: 'skipped', reason: decision.reason, dedupKey };
  }
  const action = decision.action;
  log.appendKeys({ action, route: settings.route });
  const event = buildAlertEvent(notification, settings, action, dedupKey, { clientName: config.clientName });

  const stateChangeMs =
    notification.type === 'alarm' ? notification.stateChangeEpochMs : notification.publishedEpochMs;
  // What a compensating trigger falls back to when the ledger holds no stored copy of the newest trigger.
  const fallbackTrigger = () =>
    buildAlertEvent(notification, settings, 'trigger', dedupKey, { clientName: config.clientName });
  // Sends the newest state the ledger holds (and any newer one claimed meanwhile) and reports it.
  const restoreNewest = async (newest: LedgerEntry, recorded: boolean): Promise<RecordOutcome> => {
    const compensations = await catchUp(deps, dedupKey, newest, deadline, log, fallbackTrigger);
    return { outcome: 'sent', action: newest.action, dedupKey, route: newest.route, compensations, recorded };
  };
  let claim;
  try {
    claim = await deps.ledger.claim(
      {
        dedupKey,
        stateChangeMs,
        stateChangeTime: notification.type === 'alarm' ? notification.stateChangeTime : envelope.timestamp,
        action,
        route: settings.route,
        alarmName:
          notification.type === 'alarm' ? notification.alarmName : `(unrecognised) ${envelope.subject ?? ''}`,
        triggerEvent: action === 'trigger' ? compactTrigger(event) : undefined,
      },
      deps.now(),
    );
  } catch (error) {
    // Paging beats bookkeeping: the deterministic dedup key keeps PagerDuty consistent without the ledger.
    telemetry.count('LedgerUnavailable');
    log.warn('Ledger unavailable: sending without ordering or duplicate protection', {
      error: describe(error),
    });
    await send(deps, settings.route, event, deadline, log);
    // The claim may have failed only for a moment: if the ledger answers now and holds a newer, different state,
    // this send may have overtaken it, so restore it. If it does not answer, paging already happened.
    const newest = await deps.ledger.read(dedupKey).catch(() => undefined);
    if (newest && newest.stateChangeMs > stateChangeMs && newest.action !== action) {
      return restoreNewest(newest, false);
    }
    return { outcome: 'sent', action, dedupKey, route: settings.route, compensations: 0, recorded: false };
  }

  if (!claim.claimed) {
    const current = claim.current;
    if (current?.needsResend) {
      // An earlier compensating send failed; PagerDuty may lag the ledger, so restore the newest state now.
      log.info('The ledger asks for its newest state to be re-sent', {
        newestStateChangeMs: current.stateChangeMs,
      });
      return restoreNewest(current, true);
    }
    telemetry.count(claim.reason === 'stale' ? 'StaleSkipped' : 'DuplicatesSkipped');
    log.info(
      claim.reason === 'stale'
        ? 'Skipped: a newer state change of this alarm was already recorded'
        : 'Skipped: this state change was already delivered',
      { outcome: claim.reason, newestStateChangeMs: current?.stateChangeMs, newestAction: current?.action },
    );
    if (claim.reason === 'stale' && current && current.action !== action) {
      // This may be the retry of a send that timed out but still reached PagerDuty after the newer state's.
      // Restore the newest state through the same send-and-settle loop as any compensation, so that a state
      // claimed meanwhile is not overtaken in turn.
      return restoreNewest(current, true);
    }
    return { outcome: 'skipped', reason: claim.reason, dedupKey };
  }

  try {
    await send(deps, claim.route, event, deadline, log);
  } catch (error) {
    // A request that timed out may still reach PagerDuty, after a newer state's: flag that newer state.
    if (!isPermanent(error)) await flagIfSuperseded(deps, dedupKey, { stateChangeMs, action });
    throw error;
  }
  let compensations = 0;
  let settled;
  try {
    settled = await deps.ledger.settle(dedupKey, { stateChangeMs, action }, deps.now());
  } catch (error) {
    telemetry.count('LedgerUnavailable');
    // Returning success here could hide a newer state our request overtook; the retry re-sends the same action.
    throw new LedgerSettleError(
      `Sent to PagerDuty, but the ledger could not record it (${describe(error)}). Lambda will retry the event, ` +
        'which re-sends the same action (PagerDuty folds it into the same incident).',
      { cause: error },
    );
  }
  // Same action as ours: PagerDuty already ends in the newest state, and the newest claim's owner settles it.
  if (!settled.settled && settled.newest && settled.newest.action !== action) {
    compensations = await catchUp(deps, dedupKey, settled.newest, deadline, log, fallbackTrigger);
  }
  log.info('Delivered to PagerDuty', { outcome: 'sent', sendRoute: claim.route, compensations });
  return { outcome: 'sent', action, dedupKey, route: claim.route, compensations, recorded: true };
}

/** The ledger could not mark a sent event delivered; transient: Lambda's retry sends it again. */
export class LedgerSettleError extends Error {
  override readonly name = 'LedgerSettleError';
  readonly permanent = false;
}

/** The ledger item kept changing under us; transient: Lambda's retry starts over. */
export class LedgerContentionError extends Error {
  override readonly name = 'LedgerContentionError';
  readonly permanent = false;
}

async function flagIfSuperseded(
  deps: PipelineDeps,
  dedupKey: string,
  ours: { stateChangeMs: number; action: LedgerAction },
): Promise<void> {
  try {
    const newest = await deps.ledger.read(dedupKey);
    if (newest && newest.stateChangeMs > ours.stateChangeMs && newest.action !== ours.action) {
      await deps.ledger.markNeedsResend(dedupKey, newest.stateChangeMs);
    }
  } catch {
    // Best effort: the error being thrown already sends this event back through Lambda's retries.
  }
}

/**
 * A newer state change was claimed while we were sending, so our request may have reached PagerDuty after its
 * own. Send the newest action and settle it; repeat while newer ones keep arriving. Whoever sends last has seen
 * the newest state after its send completed.
 */
async function catchUp(
  deps: PipelineDeps,
  dedupKey: string,
  newestSeen: LedgerEntry,
  deadline: number,
  log: RecordLog,
  fallbackTrigger: () => PagerDutyAlertEvent,
): Promise<number> {
  let newest = newestSeen;
  for (let round = 1; round <= MAX_SETTLE_ROUNDS; round++) {
    deps.telemetry.count('Compensations');
    log.info('Re-sending the newest action of this alarm', {
      newestStateChangeMs: newest.stateChangeMs,
      newestAction: newest.action,
    });
    try {
      await send(deps, newest.route, compensatingEvent(newest, dedupKey, fallbackTrigger), deadline, log);
    } catch (error) {
      // Leave a mark so the next delivery of any notification of this alarm re-sends the newest state.
      await deps.ledger.markNeedsResend(dedupKey, newest.stateChangeMs).catch(() => undefined);
      throw error;
    }
    const result = await deps.ledger.settle(dedupKey, newest, deps.now(), true);
    if (result.settled || !result.newest || result.newest.action === newest.action) return round;
    newest = result.newest;
  }
  throw new LedgerContentionError(
    `The ledger item for ${dedupKey} kept changing over ${MAX_SETTLE_ROUNDS} rounds; Lambda will retry the event.`,
  );
}

function compensatingEvent(
  newest: LedgerEntry,
  dedupKey: string,
  fallbackTrigger: () => PagerDutyAlertEvent,
): PagerDutyAlertEvent {
  if (newest.action === 'resolve') return { event_action: 'resolve', dedup_key: dedupKey };
  if (newest.triggerEvent) {
    try {
      return JSON.parse(newest.triggerEvent) as PagerDutyAlertEvent;
    } catch {
      // fall through to a trigger built from this notification
    }
  }
  return fallbackTrigger();
}

async function send(
  deps: PipelineDeps,
  route: string,
  event: PagerDutyAlertEvent,
  deadline: number,
  log: RecordLog,
): Promise<void> {
  let sendRoute = route;
  if (!deps.routingKeys.has(route)) {
    log.warn(`Route "${route}" is no longer configured; sending to the default route`, { route });
    sendRoute = 'default';
  }
  const routingKey = await deps.routingKeys.keyFor(sendRoute);
  try {
    const report = await deps.pagerDuty.sendAlert(routingKey, event, deadline);
    deps.telemetry.sent(event.event_action);
    deps.telemetry.latency(report.latencyMs);
    if (report.retries.length > 0) deps.telemetry.count('DeliveryRetries', report.retries.length);
  } catch (error) {
    deps.telemetry.count('DeliveryFailures');
    log.error('PagerDuty delivery failed', { outcome: 'failed', sendRoute, error: describe(error) });
    throw error;
  }
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

function identify(notification: Notification): Record<string, string> {
  return notification.type === 'alarm'
    ? {
        alarmName: notification.alarmName,
        newState: notification.newState,
        stateChangeTime: notification.stateChangeTime,
      }
    : { alarmName: '(unrecognised message)' };
}

function isPermanent(error: unknown): boolean {
  return (error as { permanent?: unknown } | null)?.permanent === true;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
