// One reconciliation sweep: per source, observe CloudWatch (the clock read before each request), read the ledger's
// open incidents, plan (planner.ts, pure) and deliver each correction through the pipeline's claim → send → settle.
import type { ReconcileSource } from '../pipeline/config';
import { deliver, type RecordOutcome } from '../pipeline/deliver';
import type { LedgerEntry, OpenIncident } from '../pipeline/ledger';
import { planRecord } from '../pipeline/plan';
import type { PipelineDeps } from '../pipeline/process-record';
import type { CountMetric } from '../shared/contract';
import {
  DeliveryBudgetExhaustedError,
  describeError,
  PagerDutyThrottledError,
  RateLimitBudgetError,
} from '../shared/errors';
import { RecordLog } from '../shared/telemetry';
import { DESCRIBE_ALARMS_PAGE, type AlarmReader } from './cloudwatch';
import { resumeIndex, shardOf } from './cursor';
import { pageNotification, resolveNotification } from './notifications';
import type { Observed, ObservedAlarm, ObservedContributor } from './observations';
import {
  alarmsWithContributors,
  namesToConfirm,
  planSweep,
  type Correction,
  type ResolveCorrection,
  type SourceObservations,
} from './planner';

export interface SweepDeps extends PipelineDeps {
  /** A reader for the source: the SDK's in the Lambda, a fake in tests. */
  readonly readerFor: (source: ReconcileSource) => AlarmReader;
  /** Longest wait for another delivery's lease before leaving a correction to the next sweep. */
  readonly sweepLeaseWaitMs?: number;
}

export interface SweepSummary {
  readonly sources: number;
  readonly sourcesSwept: number;
  readonly openIncidentsChecked: number;
  readonly resolvedOk: number;
  readonly resolvedDeleted: number;
  readonly resolvedInsufficientData: number;
  readonly missedNotifications: number;
  readonly repages: number;
  readonly errors: number;
  /** Set when PagerDuty answered 5xx or timed out or could not be reached: the sweep sent nothing more. */
  readonly pagerDutyUnavailable: boolean;
  /**
   * Routing keys PagerDuty throttled (429, or no client-side rate-limit slot left): the sweep sent nothing more to
   * them, and went on with the other routes' corrections (PagerDuty's limit is per routing key).
   */
  readonly throttledRoutes: number;
  /**
   * Set when the time budget, RECONCILE_MAX_CORRECTIONS, PagerDuty being unavailable or a throttled route cut it
   * short: the next sweep resumes at `nextSource`, the first source with a correction left on a throttled route,
   * else the source it was cut in (or the one after it, when that source was finished, or had the whole sweep and
   * corrected nothing while PagerDuty was answering).
   */
  readonly incomplete: boolean;
  readonly nextSource?: number;
  readonly durationMs: number;
}

type Tally = { -readonly [K in keyof SweepSummary]: SweepSummary[K] };

const METRIC_OF: Record<string, { metric: CountMetric; field: keyof Tally }> = {
  'resolve:ok': { metric: 'SweepResolvedOk', field: 'resolvedOk' },
  'resolve:deleted': { metric: 'SweepResolvedDeleted', field: 'resolvedDeleted' },
  'resolve:insufficient-data': { metric: 'SweepResolvedInsufficientData', field: 'resolvedInsufficientData' },
  'page:missed': { metric: 'MissedNotifications', field: 'missedNotifications' },
  'page:repage': { metric: 'Repages', field: 'repages' },
};

/** A source needs at least this much time left to be started: a few CloudWatch calls and a delivery. */
const SOURCE_MIN_MS = 5_000;
const DEFAULT_SWEEP_LEASE_WAIT_MS = 2_000;

/** Runs one sweep over every source (from where the last one stopped) until done or out of time. */
export async function runSweep(
  deps: SweepDeps,
  sources: readonly ReconcileSource[],
  deadline: number,
): Promise<SweepSummary> {
  const started = deps.now();
  const tally = newTally(sources.length);
  const error: ErrorSink = (message, extra) => {
    tally.errors++;
    deps.telemetry.count('SweepErrors');
    deps.logger.error(message, extra);
  };
  const shard = shardOf(sources);
  const resumeAt = await deps.ledger.readSweepCursor(shard).catch(() => undefined);
  const first = resumeAt !== undefined && resumeAt < sources.length ? resumeAt : 0;
  const run: SweepRun = { deps, deadline, tally, error, throttled: new Set() };
  let budget = deps.config.reconcileMaxCorrections;
  let deferredIn: number | undefined;
  for (let step = 0; step < sources.length; step++) {
    const index = (first + step) % sources.length;
    if (deadline - deps.now() < SOURCE_MIN_MS || budget <= 0) {
      stopAt(tally, index);
      break;
    }
    const before = correctedIn(tally);
    const { tried, cut, deferred } = await sweepSource(sources[index]!, run, budget);
    budget -= tried;
    tally.sourcesSwept++;
    if (deferred > 0) deferredIn ??= index;
    if (cut) {
      const outcome = { index, cut, first: step === 0, corrected: correctedIn(tally) - before };
      // PagerDuty's outage is no fault of the source: its corrections go first once PagerDuty answers again.
      stopAt(tally, tally.pagerDutyUnavailable ? index : resumeIndex(outcome, sources.length));
      break;
    }
  }
  // Nor is a throttled route: the first source that left a correction on one goes first (re-planned from there).
  if (deferredIn !== undefined) stopAt(tally, deferredIn);
  if (tally.incomplete) deps.telemetry.count('SweepIncomplete');
  if (tally.incomplete || resumeAt !== undefined) {
    await deps.ledger.writeSweepCursor(shard, tally.nextSource).catch((cause: unknown) => {
      deps.logger.warn('Could not record where the sweep stopped', { error: describeError(cause) });
    });
  }
  tally.durationMs = deps.now() - started;
  deps.telemetry.timing?.('SweepDuration', tally.durationMs);
  deps.logger.info('Reconciliation sweep done', { ...tally });
  return tally;
}

function newTally(sources: number): Tally {
  return {
    sources,
    sourcesSwept: 0,
    openIncidentsChecked: 0,
    resolvedOk: 0,
    resolvedDeleted: 0,
    resolvedInsufficientData: 0,
    missedNotifications: 0,
    repages: 0,
    errors: 0,
    pagerDutyUnavailable: false,
    throttledRoutes: 0,
    incomplete: false,
    durationMs: 0,
  };
}

function stopAt(tally: Tally, nextSource: number): void {
  tally.incomplete = true;
  tally.nextSource = nextSource;
}

/** Corrections sent so far, of every kind. */
const correctedIn = (tally: Tally) =>
  Object.values(METRIC_OF).reduce((sum, { field }) => sum + (tally[field] as number), 0);

type ErrorSink = (message: string, extra: Record<string, unknown>) => void;
type Ask = <T>(what: string, call: () => Promise<T>) => Promise<Observed<T> | undefined>;

/** One sweep's state: what its sources share. */
interface SweepRun {
  readonly deps: SweepDeps;
  readonly deadline: number;
  readonly tally: Tally;
  readonly error: ErrorSink;
  /** Routing keys PagerDuty throttled in this sweep: nothing more is claimed or sent for them. */
  readonly throttled: Set<string>;
}

/**
 * How one source's sweep went: corrections tried (against the budget), whether some were left undone (cut short),
 * and how many were left to the next sweep because their route was throttled (tried and throttled, or not tried).
 */
interface SourceSwept {
  readonly tried: number;
  readonly cut: boolean;
  readonly deferred: number;
}

/** One source: observe, plan, deliver what the budget and the time allow. */
async function sweepSource(source: ReconcileSource, run: SweepRun, budget: number): Promise<SourceSwept> {
  const { deps, tally, error } = run;
  const reader = deps.readerFor(source);
  const observations = await observeSource(source, reader, deps, tally, error);
  if (!observations) return { tried: 0, cut: false, deferred: 0 };
  const where = { region: source.region, accountId: source.accountId };
  const planned = await planSource(where, observations, reader, deps, error);
  const corrections = planned.slice(0, budget);
  const delivered = await deliverCorrections(corrections, run);
  return { ...delivered, cut: delivered.cut || corrections.length < planned.length };
}

/** The clock read before each request, and an answer only when it succeeded. */
function askerFor(source: ReconcileSource, deps: SweepDeps, error: ErrorSink): Ask {
  const where = { region: source.region, accountId: source.accountId };
  return async (what, call) => {
    const observedMs = deps.now();
    try {
      return { observedMs, value: await call() };
    } catch (cause) {
      // Only a positive answer counts: a failed read resolves nothing, and the next sweep asks again.
      error(`Sweep: ${what} failed; nothing is corrected from it`, { ...where, error: describeError(cause) });
      return undefined;
    }
  };
}

/** What CloudWatch and the ledger say of one source; undefined when its ALARM list or open incidents failed. */
async function observeSource(
  source: ReconcileSource,
  reader: AlarmReader,
  deps: SweepDeps,
  tally: Tally,
  error: ErrorSink,
): Promise<SourceObservations | undefined> {
  const ask = askerFor(source, deps, error);
  const inAlarm = await ask('DescribeAlarms (StateValue=ALARM)', () => reader.alarmsInAlarm());
  if (!inAlarm) return undefined;
  // Pages an INSUFFICIENT_DATA under a `trigger` policy; when it fails, those alarms are asked about by name.
  const insufficientData = await ask('DescribeAlarms (StateValue=INSUFFICIENT_DATA)', () =>
    reader.alarmsInInsufficientData(),
  );
  const openIncidents = await allOpenIncidents(deps, `${source.accountId}:${source.region}`).catch(
    (cause: unknown) => {
      error('Sweep: reading the open incidents failed', {
        region: source.region,
        accountId: source.accountId,
        error: describeError(cause),
      });
      return undefined;
    },
  );
  if (!openIncidents) return undefined;
  tally.openIncidentsChecked += openIncidents.length;
  const names = namesToConfirm(inAlarm.value, openIncidents, insufficientData?.value);
  const byName = await alarmsByName(names, reader, ask);
  const contributors = new Map<string, Observed<readonly ObservedContributor[]>>();
  for (const alarm of alarmsWithContributors(inAlarm.value, byName)) {
    const answer = await ask('DescribeAlarmContributors', () => reader.contributorsInAlarm(alarm.name));
    if (answer) contributors.set(alarm.arn, answer);
  }
  return { selection: source, inAlarm, insufficientData, openIncidents, byName, contributors };
}

/** DescribeAlarms by name, 100 a call: per name answered, the alarm or `undefined` (absent: deleted). */
async function alarmsByName(
  names: readonly string[],
  reader: AlarmReader,
  ask: Ask,
): Promise<Map<string, Observed<ObservedAlarm | undefined>>> {
  const byName = new Map<string, Observed<ObservedAlarm | undefined>>();
  for (let i = 0; i < names.length; i += DESCRIBE_ALARMS_PAGE) {
    const chunk = names.slice(i, i + DESCRIBE_ALARMS_PAGE);
    const answer = await ask('DescribeAlarms (by name)', () => reader.alarmsByName(chunk));
    if (!answer) continue;
    for (const name of chunk) {
      byName.set(name, { observedMs: answer.observedMs, value: answer.value.find((a) => a.name === name) });
    }
  }
  return byName;
}

/** The source's corrections, pages confirmed by the reads they need; logs the pages withheld and why. */
async function planSource(
  where: { readonly region: string; readonly accountId: string },
  observations: SourceObservations,
  reader: AlarmReader,
  deps: SweepDeps,
  error: ErrorSink,
): Promise<readonly Correction[]> {
  const settings = {
    missedGraceMs: deps.config.reconcileMissedGraceMs,
    declared: deps.declared,
    insufficientDataPolicy: deps.config.insufficientDataPolicy,
  };
  let plan = planSweep(observations, settings);
  if (plan.candidates.length > 0) {
    plan = planSweep(await confirmPages(observations, plan.candidates, reader, deps, error), settings);
  }
  for (const { dedupKey, why } of plan.withheld) {
    deps.logger.info('Sweep: an alarm in ALARM without an incident is not paged', {
      ...where,
      dedupKey,
      why,
    });
  }
  return plan.corrections;
}

/** Delivers corrections in order until the time budget runs out or PagerDuty is unavailable. */
async function deliverCorrections(corrections: readonly Correction[], run: SweepRun): Promise<SourceSwept> {
  const { deps, deadline, tally } = run;
  let tried = 0;
  let deferred = 0;
  for (const correction of corrections) {
    if (deadline - deps.now() < SOURCE_MIN_MS || tally.pagerDutyUnavailable)
      return { tried, cut: true, deferred };
    const applied = await applyCorrection(correction, run);
    if (applied !== 'deferred') tried++;
    if (applied !== 'tried') deferred++;
  }
  return { tried, cut: tally.pagerDutyUnavailable, deferred };
}

async function allOpenIncidents(deps: SweepDeps, openSource: string): Promise<OpenIncident[]> {
  const found: OpenIncident[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.ledger.openIncidents(openSource, cursor);
    found.push(...page.items);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return found;
}

/** The reads a page needs before it is sent: mute rules, the alarm's tags, and a consistent ledger read. */
async function confirmPages(
  observations: SourceObservations,
  candidates: readonly Correction[],
  reader: AlarmReader,
  deps: SweepDeps,
  error: ErrorSink,
): Promise<SourceObservations> {
  let muted: ReadonlySet<string> | 'unknown';
  try {
    muted = await reader.mutedAlarmNames();
  } catch (cause) {
    error('Sweep: reading the mute rules failed; paging anyway', { error: describeError(cause) });
    muted = 'unknown';
  }
  const tags = new Map<string, Readonly<Record<string, string>>>();
  const ledger = new Map<string, Awaited<ReturnType<SweepDeps['ledger']['read']>>>();
  for (const candidate of candidates) {
    if (candidate.kind !== 'page') continue;
    const arn = candidate.alarm.arn;
    if (!tags.has(arn)) {
      tags.set(
        arn,
        await reader.tagsOf(arn).catch((cause: unknown) => {
          error("Sweep: reading an alarm's tags failed; paging with its declared settings", {
            alarmArn: arn,
            error: describeError(cause),
          });
          return {};
        }),
      );
    }
    try {
      ledger.set(candidate.dedupKey, await deps.ledger.read(candidate.dedupKey));
    } catch (cause) {
      error('Sweep: the ledger read before a page failed; the next sweep tries again', {
        dedupKey: candidate.dedupKey,
        error: describeError(cause),
      });
    }
  }
  return { ...observations, muted, tags, ledger };
}

/**
 * A sweep's send retries a 5xx, timeout or connection error this long, and a 429 not at all: the next sweep is its
 * retry, and every further correction would only claim, fail and release its alert while PagerDuty cannot answer.
 */
const SWEEP_FAILURE_RETRY_MS = 2_000;

/** PagerDuty itself cannot take events now (5xx, timeouts, connection errors), unlike one bad event. */
const pagerDutyUnavailable = (failure: unknown) => failure instanceof DeliveryBudgetExhaustedError;

/** PagerDuty's 429, or no client-side slot left: both limits are per routing key, so they say nothing of the others. */
const routeThrottled = (failure: unknown) =>
  failure instanceof PagerDutyThrottledError || failure instanceof RateLimitBudgetError;

/** How one correction went: tried (a request or a skip), tried and its route throttled, or left unclaimed for it. */
type Applied = 'tried' | 'throttled' | 'deferred';

/**
 * Delivers one correction and tallies it; a failure is counted and left to the next sweep. Once PagerDuty is
 * unavailable, no further correction is claimed or sent: the sweep stops, incomplete, and the next one resumes here.
 * Once a routing key is throttled, no further correction for it is claimed or sent; the other routes' go on.
 */
async function applyCorrection(correction: Correction, run: SweepRun): Promise<Applied> {
  const { deps, tally, throttled } = run;
  let routingKey: string | undefined;
  const sweepSends: CorrectionDeps = {
    ...deps,
    throttledKeys: throttled,
    pagerDuty: {
      sendAlert: (key, event, sendDeadline) => {
        routingKey = key;
        // Claimed for a route throttled meanwhile (its item's route changed after the check): given back, unsent.
        if (throttled.has(key))
          return Promise.reject(new PagerDutyThrottledError('throttled earlier in this sweep'));
        return deps.pagerDuty.sendAlert(key, event, sendDeadline, {
          retryThrottled: false,
          failureRetryMs: SWEEP_FAILURE_RETRY_MS,
        });
      },
    },
  };
  try {
    const outcome = await deliverCorrection(correction, sweepSends, run.deadline);
    if (outcome.outcome === 'skipped' && outcome.reason === ROUTE_THROTTLED) return 'deferred';
    if (outcome.outcome === 'sent' && outcome.action === actionOf(correction)) {
      (tally[METRIC_OF[`${correction.kind}:${correction.reason}`]!.field] as number)++;
    }
    return 'tried';
  } catch (cause) {
    return correctionFailed(correction, cause, routingKey, run);
  }
}

/** Counts and logs a failed correction; stops its routing key when throttled, or the whole sweep when unavailable. */
function correctionFailed(
  correction: Correction,
  cause: unknown,
  routingKey: string | undefined,
  { deps, tally, throttled, error }: SweepRun,
): Applied {
  const extra = { dedupKey: correction.dedupKey, error: describeError(cause) };
  if (routeThrottled(cause) && routingKey !== undefined) {
    if (throttled.has(routingKey)) return 'deferred';
    throttled.add(routingKey);
    tally.throttledRoutes++;
    deps.telemetry.count('SweepPagerDutyUnavailable');
    deps.logger.warn(
      "Sweep: PagerDuty throttles this correction's route; its corrections wait for the next sweep, the others go on",
      extra,
    );
    return 'throttled';
  }
  if (pagerDutyUnavailable(cause) || routeThrottled(cause)) {
    tally.pagerDutyUnavailable = tally.incomplete = true;
    deps.telemetry.count('SweepPagerDutyUnavailable');
    deps.logger.warn(
      'Sweep: PagerDuty is unavailable; no further correction is sent until the next sweep',
      extra,
    );
    return 'tried';
  }
  error('Sweep: a correction could not be delivered; the next sweep tries again', extra);
  return 'tried';
}

const actionOf = (correction: Correction) => (correction.kind === 'resolve' ? 'resolve' : 'trigger');

/** A resolve correction outside a sweep (an alarm deleted): the same path. */
export function deliverResolve(
  correction: ResolveCorrection,
  deps: PipelineDeps,
  deadline: number,
): Promise<RecordOutcome> {
  return deliverCorrection(correction, deps, deadline);
}

/** What delivering one correction needs: the pipeline's, and in a sweep the routing keys it stopped sending to. */
type CorrectionDeps = PipelineDeps &
  Pick<SweepDeps, 'sweepLeaseWaitMs'> & { readonly throttledKeys?: ReadonlySet<string> };

/** Why a correction was left unclaimed: its route was throttled earlier in this sweep. */
const ROUTE_THROTTLED = 'its route was throttled earlier in this sweep';

/**
 * One correction through the pipeline's plan and deliver steps, ordered at its observation time. A resolve goes
 * only while a consistent read shows the incident may be open; nothing is claimed for a throttled route. Counts and
 * logs it when it was sent.
 */
async function deliverCorrection(
  observed: Correction,
  deps: CorrectionDeps,
  deadline: number,
): Promise<RecordOutcome> {
  const { dedupKey } = observed;
  const log = new RecordLog(deps.logger);
  log.appendKeys({ intake: 'sweep', dedupKey, correction: observed.kind, reason: observed.reason });
  const entry = await itemBefore(observed, deps);
  const afterCopy = afterCappedCopy(observed, entry);
  const correction = afterCopy ?? observed;
  if (correction.kind === 'resolve' && !afterCopy && !stillOpen(correction, entry)) {
    return {
      outcome: 'skipped',
      reason: 'the ledger holds no open incident older than the observation',
      dedupKey,
    };
  }
  const plan = planCorrection(correction, deps);
  if (!plan || plan.kind === 'skip' || plan.dedupKey !== dedupKey) {
    log.warn('Sweep: the correction plans to nothing', { plannedKey: plan?.dedupKey });
    return { outcome: 'skipped', reason: 'the correction plans to nothing', dedupKey };
  }
  // The claim sends to the open incident's route, else to the configured one (ledger.ts).
  if (await throttledRoute(entry?.openRoute ?? plan.route, deps)) {
    log.info('Sweep: left to the next sweep, its route was throttled', {
      route: entry?.openRoute ?? plan.route,
    });
    return { outcome: 'skipped', reason: ROUTE_THROTTLED, dedupKey };
  }
  for (const notice of plan.notices) if (notice.metric) deps.telemetry.count(notice.metric, notice.count);
  const leaseWait = deps.sweepLeaseWaitMs ?? DEFAULT_SWEEP_LEASE_WAIT_MS;
  const outcome = await deliver(plan, { ...deps, maxLeaseWaitMs: leaseWait }, deadline, log);
  if (outcome.outcome === 'sent' && outcome.action === plan.action) {
    deps.telemetry.count(METRIC_OF[`${correction.kind}:${correction.reason}`]!.metric);
    const missed = correction.kind === 'page' && correction.reason === 'missed';
    log[missed ? 'warn' : 'info'](
      missed
        ? 'Sweep paged an alarm in ALARM whose notification never reached the pipeline'
        : "Sweep corrected PagerDuty to CloudWatch's state",
      { observedMs: correction.observedMs },
    );
  }
  return outcome;
}

/**
 * The correction's ledger item, read consistently: always for a resolve (the index may lag), and for a page once a
 * route is throttled (its open route says where the claim would send). A failed read for a page claims as before.
 */
async function itemBefore(correction: Correction, deps: CorrectionDeps): Promise<LedgerEntry | undefined> {
  if (correction.kind === 'resolve') return deps.ledger.read(correction.dedupKey);
  if (!deps.throttledKeys?.size) return undefined;
  return deps.ledger.read(correction.dedupKey).catch(() => undefined);
}

/** The correction as a notification, planned as the pipeline plans one. */
function planCorrection(correction: Correction, deps: CorrectionDeps) {
  const notification =
    correction.kind === 'resolve'
      ? resolveNotification(correction)
      : pageNotification(correction, correction.tags ?? {});
  const plan =
    notification &&
    planRecord(
      { notification, observedMs: correction.observedMs },
      {
        config: deps.config,
        declared: deps.declared,
        knownRoutes: deps.routingKeys.routes,
        nowMs: deps.now(),
      },
    );
  if (plan?.kind === 'send' && correction.kind === 'resolve' && correction.deletedUntilMs !== undefined) {
    return { ...plan, claim: { ...plan.claim, deletedUntilMs: correction.deletedUntilMs } };
  }
  return plan;
}

/** Whether the route's routing key was throttled in this sweep (two routes may share one key). */
async function throttledRoute(route: string, deps: CorrectionDeps): Promise<boolean> {
  if (!deps.throttledKeys?.size) return false;
  // As deliver's send: a route no longer configured goes to the default route.
  const sendRoute = deps.routingKeys.has(route) ? route : 'default';
  const key = await deps.routingKeys.keyFor(sendRoute).catch(() => undefined);
  return key !== undefined && deps.throttledKeys.has(key);
}

/**
 * An alarm deletion's resolve, when the item holds a state ordered at its SNS stamp inside the deletion's second
 * that replaced one older than the deletion (a forged copy of the deleted alarm that got there first, a trigger or
 * a resolve): ordered just after that copy, and sent whatever the copy was, so that the deletion resolves the
 * incident and holds the item to the end of its second, as it would had the copy come later. Undefined otherwise
 * (a copy that replaced a state inside the second, such as a re-created alarm's, is left to it).
 */
function afterCappedCopy(correction: Correction, entry: LedgerEntry | undefined): Correction | undefined {
  if (correction.kind !== 'resolve' || correction.deletedUntilMs === undefined || !entry?.timeCapped) {
    return undefined;
  }
  const cappedMs = entry.stateChangeMs;
  const replacedMs = entry.cappedOverMs ?? Number.POSITIVE_INFINITY;
  if (cappedMs < correction.observedMs || cappedMs >= correction.deletedUntilMs) return undefined;
  if (replacedMs >= correction.observedMs) return undefined;
  return { ...correction, observedMs: cappedMs + 1 };
}

/** A resolve is sent only while the ledger's item (read consistently) shows the incident may still be open. */
function stillOpen(correction: Correction, entry: LedgerEntry | undefined): boolean {
  return (
    entry !== undefined &&
    entry.openSource !== undefined &&
    entry.stateChangeMs < correction.observedMs &&
    !(entry.action === 'resolve' && entry.delivered)
  );
}
