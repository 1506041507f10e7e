import {
  DeliveryBudgetExhaustedError,
  describeError,
  isRetryable,
  LedgerContentionError,
  LedgerLeaseBusyError,
  LedgerSettleError,
  PagerDutyRejectedError,
  PagerDutyThrottledError,
  RateLimitBudgetError,
  RoutingKeyInvalidError,
  RoutingKeyUnavailableError,
} from '../shared/errors';
import type { ClaimResult, LedgerAction, LedgerEntry, LedgerStore } from './ledger';
import type { MetricGraphs } from '../graphs/metric-graphs';
import { mayLandLater, type DeliveryReport, type PagerDutyClient } from '../pagerduty/client';
import type { PagerDutyAlertEvent } from '../pagerduty/types';
import type { SendPlan } from './plan';
import type { RoutingKeys } from '../pagerduty/routing-keys';
import type { RecordLog, Telemetry } from '../shared/telemetry';
import type { TriageStep } from '../triage/types';

/** What delivery uses, and nothing more: the tests give it an in-memory ledger and a scripted PagerDuty. */
export interface DeliveryDeps {
  readonly ledger: LedgerStore;
  readonly pagerDuty: Pick<PagerDutyClient, 'sendAlert'>;
  readonly routingKeys: Pick<RoutingKeys, 'has' | 'keyFor'>;
  readonly telemetry: Telemetry;
  readonly now: () => number;
  /** Renders the alarm's graph for a trigger; absent when METRIC_GRAPHS is off. Never delays a page past its timeout. */
  readonly metricGraphs?: MetricGraphs;
  /** Pauses while another delivery of the same alert holds the lease; a timer unless a test schedules it. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** The longest wait for another delivery's lease before giving up (retryable); by default, until the deadline. */
  readonly maxLeaseWaitMs?: number;
  /** LEASE_GRACE_MS: how long a send that was never answered keeps the lease; DEFAULT_LEASE_GRACE_MS if unset. */
  readonly leaseGraceMs?: number;
  /** Model triage of a claimed trigger; absent when TRIAGE_MODEL_ID is unset. Never delays a page past its limit. */
  readonly triage?: TriageStep;
}

export type DeliveryLog = Pick<RecordLog, 'info' | 'warn' | 'error'>;

export interface SentOutcome {
  readonly outcome: 'sent';
  readonly action: LedgerAction;
  readonly dedupKey: string;
  readonly route: string;
  /** Extra events sent to restore the newest state after a reordered delivery. */
  readonly compensations: number;
  /** False when the ledger could not be used and the event was sent without it (fail-open). */
  readonly recorded: boolean;
}

export interface SkippedOutcome {
  readonly outcome: 'skipped';
  readonly reason: string;
  readonly dedupKey?: string;
}

export type RecordOutcome = SentOutcome | SkippedOutcome;

// Each settle retry follows a strictly newer claim, so this only bounds a pathological burst of state changes.
const MAX_SETTLE_ROUNDS = 25;
/**
 * A delivery's lease lasts until its deadline (when its sends stop) and this much more (LEASE_GRACE_MS), for a
 * request cut off at the deadline that still reaches PagerDuty. A delivery that crashed holds the other deliveries
 * up until then.
 */
export const DEFAULT_LEASE_GRACE_MS = 5_000;
/** While another delivery holds the lease: the first pause before asking again, and the longest. */
const LEASE_POLL_FIRST_MS = 25;
const LEASE_POLL_MAX_MS = 1_000;

/** One delivery of a plan: what each of its steps needs. */
interface Delivery {
  readonly plan: SendPlan;
  readonly deps: DeliveryDeps;
  readonly deadline: number;
  readonly log: DeliveryLog;
}

type Claimed = Extract<ClaimResult, { claimed: true }>;
type Refused = Extract<ClaimResult, { claimed: false }>;

/**
 * claim (taking the alert's lease; waiting while another delivery holds it) → send → settle (giving the lease
 * back) → catch up. Resolves when the plan's action is delivered, or is deliberately not sent (stale or duplicate,
 * counted and logged); throws when it must be retried or can never be delivered.
 */
export async function deliver(
  plan: SendPlan,
  deps: DeliveryDeps,
  deadline: number,
  log: DeliveryLog,
): Promise<RecordOutcome> {
  const delivery: Delivery = { plan, deps, deadline, log };
  let claimed;
  try {
    claimed = await claimLease(delivery);
  } catch (error) {
    if (error instanceof LedgerLeaseBusyError) throw error;
    return sendWithoutLedger(delivery, error);
  }
  if (!claimed.claimed) return whenRefused(delivery, claimed);
  const sent = await sendClaimed(delivery, claimed);
  const compensations = await settleSent(delivery, claimed, sent);
  log.info('Delivered to PagerDuty', { outcome: 'sent', sendRoute: claimed.route, compensations });
  const { action, dedupKey } = plan;
  return { outcome: 'sent', action, dedupKey, route: claimed.route, compensations, recorded: true };
}

/**
 * Sends of one alert take turns: while another delivery of it is sending, a newer one waits for the lease,
 * so PagerDuty receives them in order and never sees a resolve land after the trigger that followed it.
 */
function claimLease({ plan, deps, deadline, log }: Delivery): Promise<ClaimResult> {
  const leaseUntilMs = deadline + graceOf(deps);
  return whileBusy(
    deps,
    { dedupKey: plan.dedupKey, deadline, log },
    () => deps.ledger.claim(plan.claim, deps.now(), leaseUntilMs),
    (result) => !result.claimed && result.reason === 'busy',
  );
}

/** Paging beats bookkeeping: the deterministic dedup key keeps PagerDuty consistent without the ledger. */
async function sendWithoutLedger(delivery: Delivery, claimError: unknown): Promise<RecordOutcome> {
  const { plan, deps, deadline, log } = delivery;
  deps.telemetry.count('LedgerUnavailable');
  log.warn('Ledger unavailable: sending without ordering or duplicate protection', {
    error: describeError(claimError),
  });
  await send(deps, plan.route, await withGraphs(plan, deps, deadline), deadline, log);
  // The claim may have failed only for a moment: if the ledger answers now and holds a newer, different state,
  // this send may have overtaken it, so restore it. If it does not answer, paging already happened.
  const newest = await deps.ledger.read(plan.dedupKey).catch(() => undefined);
  if (newest && newest.stateChangeMs > plan.claim.stateChangeMs && newest.action !== plan.action) {
    return restoreNewest(delivery, newest, false);
  }
  const { action, dedupKey, route } = plan;
  return { outcome: 'sent', action, dedupKey, route, compensations: 0, recorded: false };
}

/** A refused claim: skipped as stale or duplicate (counted and logged), unless the newest state must be restored. */
async function whenRefused(delivery: Delivery, refused: Refused): Promise<RecordOutcome> {
  const { plan, deps, log } = delivery;
  const current = refused.current;
  if (current?.needsResend) {
    // An earlier compensating send failed; PagerDuty may lag the ledger, so restore the newest state now.
    log.info('The ledger asks for its newest state to be re-sent', {
      newestStateChangeMs: current.stateChangeMs,
    });
    return restoreNewest(delivery, current, true);
  }
  if (refused.reason === 'held') {
    // Not newer than the deletion in truth: nothing to restore (the deletion's own delivery, or its retry, sends it).
    deps.telemetry.count('StaleSkipped');
    log.warn(
      "Skipped: this state change's own time is later than SNS vouches for, and its alarm was deleted within " +
        'the second SNS stamped it: a copy of the deleted alarm, not a new change',
      { outcome: refused.reason, deletedUntilMs: current?.deletedUntilMs },
    );
    return { outcome: 'skipped', reason: refused.reason, dedupKey: plan.dedupKey };
  }
  deps.telemetry.count(refused.reason === 'stale' ? 'StaleSkipped' : 'DuplicatesSkipped');
  log.info(
    refused.reason === 'stale'
      ? 'Skipped: a newer state change of this alarm was already recorded'
      : 'Skipped: this state change was already delivered',
    { outcome: refused.reason, newestStateChangeMs: current?.stateChangeMs, newestAction: current?.action },
  );
  if (refused.reason === 'stale' && current && current.action !== plan.action) {
    // This may be the retry of a send that timed out but still reached PagerDuty after the newer state's.
    // Restore the newest state through the same send-and-settle loop as any compensation, so that a state
    // claimed meanwhile is not overtaken in turn.
    return restoreNewest(delivery, current, true);
  }
  return { outcome: 'skipped', reason: refused.reason, dedupKey: plan.dedupKey };
}

/** Sends the claimed plan's event; when that fails, flags a newer state it may overtake and gives the lease back. */
async function sendClaimed(
  { plan, deps, deadline, log }: Delivery,
  claimed: Claimed,
): Promise<{ report: DeliveryReport; triage?: string }> {
  const { dedupKey, action } = plan;
  const stateChangeMs = plan.claim.stateChangeMs;
  // The triage asked for now, stored with the settle or the release so that no retry asks again.
  let triage: string | undefined;
  try {
    const prepared = await claimedTrigger(plan, deps, claimed.previous, deadline, log);
    triage = prepared.triage;
    return { report: await send(deps, claimed.route, prepared.event, deadline, log), triage };
  } catch (error) {
    // A request that timed out may still reach PagerDuty, after a newer state's: flag that newer state.
    if (isRetryable(error)) await flagIfSuperseded(deps, dedupKey, { stateChangeMs, action });
    await giveBackLease(deps, { dedupKey, stateChangeMs, leaseId: claimed.leaseId, triage }, error);
    throw error;
  }
}

/**
 * Records the send and gives the lease back; when a newer, different state was claimed meanwhile, catches up to
 * it. Returns how many compensating events were sent.
 */
async function settleSent(
  delivery: Delivery,
  claimed: Claimed,
  { report, triage }: { report: DeliveryReport; triage?: string },
): Promise<number> {
  const { plan, deps } = delivery;
  const { dedupKey, action } = plan;
  const stateChangeMs = plan.claim.stateChangeMs;
  let settled;
  try {
    settled = await deps.ledger.settle(dedupKey, { stateChangeMs, action }, deps.now(), {
      holdLeaseUntilMs: graceAfter(deps, report),
      triage,
    });
  } catch (error) {
    deps.telemetry.count('LedgerUnavailable');
    // Our request was answered: the next delivery may send (if the ledger is down, the lease runs out instead).
    await deps.ledger
      .release(dedupKey, stateChangeMs, claimed.leaseId, graceAfter(deps, report), triage)
      .catch(() => undefined);
    // Returning success here could hide a newer state our request overtook; the retry re-sends the same action.
    throw new LedgerSettleError(
      `Sent to PagerDuty, but the ledger could not record it (${describeError(error)}). The event is retried, ` +
        'which re-sends the same action (PagerDuty folds it into the same incident).',
      { cause: error },
    );
  }
  // Same action as ours: PagerDuty already ends in the newest state, and the newest claim's owner settles it.
  if (!settled.settled && settled.newest && settled.newest.action !== action) {
    return catchUpFrom(delivery, settled.newest, action);
  }
  return 0;
}

/** Sends the newest state the ledger holds (and any newer one claimed meanwhile) and reports it. */
async function restoreNewest(
  delivery: Delivery,
  newest: LedgerEntry,
  recorded: boolean,
): Promise<SentOutcome> {
  const compensations = await catchUpFrom(delivery, newest);
  const { dedupKey } = delivery.plan;
  return { outcome: 'sent', action: newest.action, dedupKey, route: newest.route, compensations, recorded };
}

async function catchUpFrom(
  { plan, deps, deadline, log }: Delivery,
  newest: LedgerEntry,
  lastSent?: LedgerAction,
): Promise<number> {
  return catchUp(deps, {
    dedupKey: plan.dedupKey,
    newest,
    lastSent,
    deadline,
    log,
    fallbackTrigger: plan.fallbackTrigger,
  });
}

/**
 * The event of a claimed plan: a trigger gets its graphs and its model triage, side by side, each within its own
 * time limit. Only a claimed trigger is triaged: never a resolve, a duplicate, a stale change or a compensation.
 */
async function claimedTrigger(
  plan: SendPlan,
  deps: DeliveryDeps,
  previous: LedgerEntry | undefined,
  deadline: number,
  log: DeliveryLog,
): Promise<{ event: PagerDutyAlertEvent; triage?: string }> {
  if (!deps.triage || !plan.triageOf) return { event: await withGraphs(plan, deps, deadline) };
  const [graphed, triaged] = await Promise.all([
    withGraphs(plan, deps, deadline),
    deps.triage.enrich({
      subject: plan.triageOf,
      event: plan.event,
      previous,
      timeLeftMs: deadline - deps.now(),
      log,
    }),
  ]);
  const event = graphed.images ? { ...triaged.event, images: graphed.images } : triaged.event;
  return { event, triage: triaged.record };
}

/** The plan's event, with the alarm's metric graphs when it is a trigger and graphs are on. */
async function withGraphs(
  plan: SendPlan,
  deps: DeliveryDeps,
  deadline: number,
): Promise<PagerDutyAlertEvent> {
  if (!deps.metricGraphs || !plan.graphOf) return plan.event;
  const images = await deps.metricGraphs.imagesFor(plan.graphOf, deadline);
  return images.length === 0
    ? plan.event
    : { ...plan.event, images: [...(plan.event.images ?? []), ...images] };
}

/**
 * After a failed send: the next delivery of this alert may send at once if none of our attempts can still reach
 * PagerDuty (each was answered, or none left). Otherwise (one was sent and never answered, or we cannot tell) the
 * lease is kept for the grace (LEASE_GRACE_MS), so that a newer state's request does not land before ours. Best
 * effort: a lease not given back runs out by itself.
 */
async function giveBackLease(
  deps: DeliveryDeps,
  held: { dedupKey: string; stateChangeMs: number; leaseId: string; triage?: string },
  failure: unknown,
): Promise<void> {
  const cannotLand =
    failure instanceof PagerDutyRejectedError ||
    // A 429 (or a full limit) after an attempt that went unanswered: that attempt may still land.
    (failure instanceof PagerDutyThrottledError && !failure.mayLandLater) ||
    // No slot in the client-side limit before any attempt: nothing left for PagerDuty.
    (failure instanceof RateLimitBudgetError && failure.attempts === 0) ||
    failure instanceof RoutingKeyUnavailableError ||
    failure instanceof RoutingKeyInvalidError ||
    (failure instanceof DeliveryBudgetExhaustedError && !failure.mayLandLater);
  const heldUntilMs = cannotLand ? undefined : deps.now() + graceOf(deps);
  await deps.ledger
    .release(held.dedupKey, held.stateChangeMs, held.leaseId, heldUntilMs, held.triage)
    .catch(() => undefined);
}

/** After a send that succeeded: until when to keep the lease, if an earlier attempt went unanswered. */
function graceAfter(deps: DeliveryDeps, report: DeliveryReport): number | undefined {
  return mayLandLater(report.retries) ? deps.now() + graceOf(deps) : undefined;
}

async function flagIfSuperseded(
  deps: DeliveryDeps,
  dedupKey: string,
  ours: { stateChangeMs: number; action: LedgerAction },
): Promise<void> {
  try {
    const newest = await deps.ledger.read(dedupKey);
    if (newest && newest.stateChangeMs > ours.stateChangeMs && newest.action !== ours.action) {
      await deps.ledger.markNeedsResend(dedupKey, newest.stateChangeMs);
    }
  } catch {
    // Best effort: the error being thrown already sends this event back through the retries.
  }
}

/**
 * Asks `attempt` again, with growing pauses, while `busy` says another delivery of this alert holds the lease.
 * Throws a retryable error when this delivery's time runs out first.
 */
async function whileBusy<Result>(
  deps: DeliveryDeps,
  { dedupKey, deadline, log }: { dedupKey: string; deadline: number; log: DeliveryLog },
  attempt: () => Promise<Result>,
  busy: (result: Result) => boolean,
): Promise<Result> {
  const sleep = deps.sleep ?? pause;
  let delay = LEASE_POLL_FIRST_MS;
  const started = deps.now();
  const giveUpAt = Math.min(deadline, started + (deps.maxLeaseWaitMs ?? Number.POSITIVE_INFINITY));
  for (let asked = 1; ; asked++) {
    let result;
    try {
      result = await attempt();
    } catch (error) {
      // The ledger answered a moment ago that another delivery holds the lease: sending now, without it (as the
      // fail-open path would), could overtake that delivery's send. Retry later instead.
      if (asked === 1) throw error;
      throw new LedgerLeaseBusyError(
        `The ledger failed while this delivery of ${dedupKey} waited for another one's lease ` +
          `(${describeError(error)}); the event is retried.`,
        { cause: error },
      );
    }
    if (!busy(result)) {
      if (asked > 1)
        log.info('The other delivery of this alert ended; going on', { waitedMs: deps.now() - started });
      return result;
    }
    if (asked === 1) {
      deps.telemetry.count('LeaseWaits');
      log.info('Waiting: another delivery of this alert is sending to PagerDuty');
    }
    if (deps.now() + delay > giveUpAt) {
      throw new LedgerLeaseBusyError(
        `Another delivery of ${dedupKey} was still sending to PagerDuty when this one stopped waiting ` +
          `(waited ${deps.now() - started} ms); the event is retried.`,
      );
    }
    await sleep(delay);
    delay = Math.min(delay * 2, LEASE_POLL_MAX_MS);
  }
}

function graceOf(deps: DeliveryDeps): number {
  return deps.leaseGraceMs ?? DEFAULT_LEASE_GRACE_MS;
}

async function pause(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

interface CatchUp {
  readonly dedupKey: string;
  /** The newest state the ledger holds, which PagerDuty may not be in. */
  readonly newest: LedgerEntry;
  /** The action this delivery sent, when a newer state was claimed while it was sending. */
  readonly lastSent?: LedgerAction;
  readonly deadline: number;
  readonly log: DeliveryLog;
  readonly fallbackTrigger: PagerDutyAlertEvent;
}

/**
 * Our request may have reached PagerDuty after the newest state's own (it timed out, or our lease ran out while
 * we sent), or a send of the newest state failed. Send the newest action under the lease and settle it; repeat
 * while newer ones keep arriving. Returns how many events were sent.
 */
async function catchUp(deps: DeliveryDeps, job: CatchUp): Promise<number> {
  const { dedupKey, deadline, log } = job;
  let newest = job.newest;
  let lastSent = job.lastSent;
  let sent = 0;
  const leaseUntilMs = deadline + graceOf(deps);
  for (let round = 1; round <= MAX_SETTLE_ROUNDS; round++) {
    const stateChangeMs = newest.stateChangeMs;
    const leased = await whileBusy(
      deps,
      job,
      () => deps.ledger.lease(dedupKey, stateChangeMs, deps.now(), leaseUntilMs),
      (result) => !result.leased && result.current?.stateChangeMs === stateChangeMs,
    );
    if (!leased.leased) {
      // A newer state was claimed meanwhile; its owner sends it under the lease. Only when it differs from what
      // we sent last can our send have landed after it, and only then must it be sent again.
      const current = leased.current;
      if (current === undefined || current.action === lastSent) return sent;
      newest = current;
      continue;
    }
    deps.telemetry.count('Compensations');
    log.info('Re-sending the newest action of this alarm', {
      newestStateChangeMs: newest.stateChangeMs,
      newestAction: newest.action,
    });
    let report;
    try {
      sent++;
      report = await send(
        deps,
        newest.route,
        compensatingEvent(newest, dedupKey, job.fallbackTrigger),
        deadline,
        log,
      );
    } catch (error) {
      // Leave a mark so the next delivery of any notification of this alarm re-sends the newest state.
      await deps.ledger.markNeedsResend(dedupKey, stateChangeMs).catch(() => undefined);
      await giveBackLease(deps, { dedupKey, stateChangeMs, leaseId: leased.leaseId }, error);
      throw error;
    }
    lastSent = newest.action;
    const result = await deps.ledger.settle(dedupKey, newest, deps.now(), {
      resent: true,
      holdLeaseUntilMs: graceAfter(deps, report),
    });
    if (result.settled || !result.newest || result.newest.action === newest.action) return sent;
    newest = result.newest;
  }
  throw new LedgerContentionError(
    `The ledger item for ${dedupKey} kept changing over ${MAX_SETTLE_ROUNDS} rounds; the event is retried.`,
  );
}

function compensatingEvent(
  newest: LedgerEntry,
  dedupKey: string,
  fallbackTrigger: PagerDutyAlertEvent,
): PagerDutyAlertEvent {
  if (newest.action === 'resolve') return { event_action: 'resolve', dedup_key: dedupKey };
  if (newest.triggerEvent) {
    try {
      return JSON.parse(newest.triggerEvent) as PagerDutyAlertEvent;
    } catch {
      // fall through to a trigger built from this notification
    }
  }
  return fallbackTrigger;
}

async function send(
  deps: DeliveryDeps,
  route: string,
  event: PagerDutyAlertEvent,
  deadline: number,
  log: DeliveryLog,
): Promise<DeliveryReport> {
  let sendRoute = route;
  if (!deps.routingKeys.has(route)) {
    // The incident was opened on a route since removed: its service holds it, and only that key reaches it.
    const stranded = event.event_action !== 'trigger';
    log[stranded ? 'error' : 'warn'](
      stranded
        ? `Route "${route}" is no longer configured: this ${event.event_action} goes to the default route, and ` +
            `an incident opened on "${route}" may stay open in that route's PagerDuty service until resolved by ` +
            `hand there (or until "${route}" is configured again)`
        : `Route "${route}" is no longer configured; sending to the default route`,
      { route },
    );
    sendRoute = 'default';
  }
  const routingKey = await deps.routingKeys.keyFor(sendRoute);
  try {
    const report = await deps.pagerDuty.sendAlert(routingKey, event, deadline);
    deps.telemetry.sent(event.event_action);
    deps.telemetry.latency(report.latencyMs);
    if (report.retries.length > 0) deps.telemetry.count('DeliveryRetries', report.retries.length);
    return report;
  } catch (error) {
    deps.telemetry.count('DeliveryFailures');
    log.error('PagerDuty delivery failed', { outcome: 'failed', sendRoute, error: describeError(error) });
    throw error;
  }
}
