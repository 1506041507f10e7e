// One reconciliation sweep: per source, observe CloudWatch (the clock read before each request), read the ledger's
// open incidents, plan (planner.ts, pure) and deliver each correction through the pipeline's claim → send → settle.
import type { ReconcileSource } from '../pipeline/config';
import { deliver, type RecordOutcome } from '../pipeline/deliver';
import type { OpenIncident } from '../pipeline/ledger';
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
  /** Set when PagerDuty answered 429 or 5xx or could not be reached: the sweep sent nothing more. */
  readonly pagerDutyUnavailable: boolean;
  /**
   * Set when the time budget, RECONCILE_MAX_CORRECTIONS or PagerDuty being unavailable cut it short: the next sweep
   * resumes at `nextSource`.
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
  const tally: Tally = {
    sources: sources.length,
    sourcesSwept: 0,
    openIncidentsChecked: 0,
    resolvedOk: 0,
    resolvedDeleted: 0,
    resolvedInsufficientData: 0,
    missedNotifications: 0,
    repages: 0,
    errors: 0,
    pagerDutyUnavailable: false,
    incomplete: false,
    durationMs: 0,
  };
  const error = (message: string, extra: Record<string, unknown>) => {
    tally.errors++;
    deps.telemetry.count('SweepErrors');
    deps.logger.error(message, extra);
  };
  const resumeAt = await deps.ledger.readSweepCursor().catch(() => undefined);
  const first = resumeAt !== undefined && resumeAt < sources.length ? resumeAt : 0;
  let budget = deps.config.reconcileMaxCorrections;
  for (let step = 0; step < sources.length; step++) {
    const index = (first + step) % sources.length;
    if (deadline - deps.now() < SOURCE_MIN_MS || budget <= 0) {
      tally.incomplete = true;
      tally.nextSource = index;
      break;
    }
    const used = await sweepSource(sources[index]!, deps, deadline, budget, tally, error);
    budget -= used;
    tally.sourcesSwept++;
    if (tally.pagerDutyUnavailable) {
      tally.nextSource = index; // this source's corrections first, once PagerDuty answers again
      break;
    }
  }
  if (tally.incomplete) deps.telemetry.count('SweepIncomplete');
  if (tally.incomplete || resumeAt !== undefined) {
    await deps.ledger.writeSweepCursor(tally.nextSource).catch((cause: unknown) => {
      deps.logger.warn('Could not record where the sweep stopped', { error: describeError(cause) });
    });
  }
  tally.durationMs = deps.now() - started;
  deps.telemetry.timing?.('SweepDuration', tally.durationMs);
  deps.logger.info('Reconciliation sweep done', { ...tally });
  return tally;
}

type ErrorSink = (message: string, extra: Record<string, unknown>) => void;

/** One source: observe, plan, deliver. Returns how many corrections it sent or tried. */
async function sweepSource(
  source: ReconcileSource,
  deps: SweepDeps,
  deadline: number,
  budget: number,
  tally: Tally,
  error: ErrorSink,
): Promise<number> {
  const where = { region: source.region, accountId: source.accountId };
  const reader = deps.readerFor(source);
  const ask = async <T>(what: string, call: () => Promise<T>): Promise<Observed<T> | undefined> => {
    const observedMs = deps.now();
    try {
      return { observedMs, value: await call() };
    } catch (cause) {
      // Only a positive answer counts: a failed read resolves nothing, and the next sweep asks again.
      error(`Sweep: ${what} failed; nothing is corrected from it`, { ...where, error: describeError(cause) });
      return undefined;
    }
  };

  const inAlarm = await ask('DescribeAlarms (StateValue=ALARM)', () => reader.alarmsInAlarm());
  if (!inAlarm) return 0;
  // Pages an INSUFFICIENT_DATA under a `trigger` policy; when it fails, those alarms are asked about by name.
  const insufficientData = await ask('DescribeAlarms (StateValue=INSUFFICIENT_DATA)', () =>
    reader.alarmsInInsufficientData(),
  );
  const openIncidents = await allOpenIncidents(deps, `${source.accountId}:${source.region}`).catch(
    (cause: unknown) => {
      error('Sweep: reading the open incidents failed', { ...where, error: describeError(cause) });
      return undefined;
    },
  );
  if (!openIncidents) return 0;
  tally.openIncidentsChecked += openIncidents.length;

  const byName = new Map<string, Observed<ObservedAlarm | undefined>>();
  const names = namesToConfirm(inAlarm.value, openIncidents, insufficientData?.value);
  for (let i = 0; i < names.length; i += DESCRIBE_ALARMS_PAGE) {
    const chunk = names.slice(i, i + DESCRIBE_ALARMS_PAGE);
    const answer = await ask('DescribeAlarms (by name)', () => reader.alarmsByName(chunk));
    if (!answer) continue;
    for (const name of chunk) {
      byName.set(name, { observedMs: answer.observedMs, value: answer.value.find((a) => a.name === name) });
    }
  }
  const contributors = new Map<string, Observed<readonly ObservedContributor[]>>();
  for (const alarm of alarmsWithContributors(inAlarm.value, byName)) {
    const answer = await ask('DescribeAlarmContributors', () => reader.contributorsInAlarm(alarm.name));
    if (answer) contributors.set(alarm.arn, answer);
  }

  const observations: SourceObservations = {
    selection: source,
    inAlarm,
    insufficientData,
    openIncidents,
    byName,
    contributors,
  };
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
  const corrections = plan.corrections.slice(0, budget);
  if (corrections.length < plan.corrections.length) tally.incomplete = true;
  for (const correction of corrections) {
    if (deadline - deps.now() < SOURCE_MIN_MS) {
      tally.incomplete = true;
      break;
    }
    await applyCorrection(correction, deps, deadline, tally, error);
  }
  return corrections.length;
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

/** PagerDuty cannot take events now (429, 5xx, timeouts, connection errors, no rate slot left), unlike one bad event. */
function pagerDutyUnavailable(failure: unknown): boolean {
  return (
    failure instanceof DeliveryBudgetExhaustedError ||
    failure instanceof PagerDutyThrottledError ||
    failure instanceof RateLimitBudgetError
  );
}

/**
 * Delivers one correction and tallies it; a failure is counted and left to the next sweep. Once PagerDuty is
 * unavailable, no further correction is claimed or sent: the sweep stops, incomplete, and the next one resumes here.
 */
async function applyCorrection(
  correction: Correction,
  deps: SweepDeps,
  deadline: number,
  tally: Tally,
  error: ErrorSink,
): Promise<void> {
  if (tally.pagerDutyUnavailable) return;
  const sweepSends: SweepDeps = {
    ...deps,
    pagerDuty: {
      sendAlert: (routingKey, event, sendDeadline) =>
        deps.pagerDuty.sendAlert(routingKey, event, sendDeadline, {
          retryThrottled: false,
          failureRetryMs: SWEEP_FAILURE_RETRY_MS,
        }),
    },
  };
  try {
    const outcome = await deliverCorrection(correction, sweepSends, deadline);
    if (outcome.outcome === 'sent' && outcome.action === actionOf(correction)) {
      (tally[METRIC_OF[`${correction.kind}:${correction.reason}`]!.field] as number)++;
    }
  } catch (cause) {
    if (pagerDutyUnavailable(cause)) {
      tally.pagerDutyUnavailable = tally.incomplete = true;
      deps.telemetry.count('SweepPagerDutyUnavailable');
      deps.logger.warn(
        'Sweep: PagerDuty is unavailable; no further correction is sent until the next sweep',
        {
          dedupKey: correction.dedupKey,
          error: describeError(cause),
        },
      );
      return;
    }
    error('Sweep: a correction could not be delivered; the next sweep tries again', {
      dedupKey: correction.dedupKey,
      error: describeError(cause),
    });
  }
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

/**
 * One correction through the pipeline's plan and deliver steps, ordered at its observation time. A resolve goes
 * only while a consistent read shows the incident may be open. Counts and logs it when it was sent.
 */
async function deliverCorrection(
  correction: Correction,
  deps: PipelineDeps & Pick<SweepDeps, 'sweepLeaseWaitMs'>,
  deadline: number,
): Promise<RecordOutcome> {
  const { dedupKey } = correction;
  const log = new RecordLog(deps.logger);
  log.appendKeys({ intake: 'sweep', dedupKey, correction: correction.kind, reason: correction.reason });
  if (correction.kind === 'resolve' && !(await stillOpen(correction, deps))) {
    return {
      outcome: 'skipped',
      reason: 'the ledger holds no open incident older than the observation',
      dedupKey,
    };
  }
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
  if (!plan || plan.kind === 'skip' || plan.dedupKey !== dedupKey) {
    log.warn('Sweep: the correction plans to nothing', { plannedKey: plan?.dedupKey });
    return { outcome: 'skipped', reason: 'the correction plans to nothing', dedupKey };
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

/** A consistent read: the index may lag, and a resolve is sent only while the incident may still be open. */
async function stillOpen(correction: Correction, deps: PipelineDeps): Promise<boolean> {
  const entry = await deps.ledger.read(correction.dedupKey);
  return (
    entry !== undefined &&
    entry.openSource !== undefined &&
    entry.stateChangeMs < correction.observedMs &&
    !(entry.action === 'resolve' && entry.delivered)
  );
}
