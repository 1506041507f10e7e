/**
 * The reconciliation sweep (issue 18): PagerDuty converges to CloudWatch's state, whatever notifications were lost.
 * The handler loads this module lazily (`await import('./sweep')`), so the alarm path never evaluates it.
 *
 * Exported API (other helpers build on these names):
 * - `runScheduledSweep(deps, { deadline, ownSource? })` → `SweepSummary`: one sweep over RECONCILE_SOURCES (config
 *   `reconcileSources`); with none, over the function's own `ownSource` ({ accountId, region }), open incidents only.
 * - `runSweep(deps, sources, deadline)`: the same over explicit sources. `SweepDeps` = the pipeline's deps plus
 *   `readerFor(source) → AlarmReader` (`sdkReaderFor(env)` in Lambda; `local/cloudwatch-fake.ts` in tests).
 * - `resolveDeletedAlarm(deleted, deps, deadline)`: an EventBridge "CloudWatch Alarm Configuration Change" delete
 *   resolves the alarm's incident and its contributors' (found through the index) at the event's time.
 * - Pure: `planSweep`, `namesToConfirm`, `alarmsWithContributors` (planner.ts); shapes in observations.ts.
 * Ledger (lambda/pipeline/ledger.ts): `LedgerStore.openIncidents(openSource, cursor?)` pages the sparse GSI
 * `OPEN_INCIDENTS_INDEX` ('OpenIncidents': HASH `openSource` = "<accountId>:<region>", RANGE `dedupKey`,
 * INCLUDE `OPEN_INCIDENTS_PROJECTION`), names in lambda/shared/contract.ts. A trigger claim for an alarm sets
 * openSource, alarmArn, sourceAlarmName, contributorId?, insufficientData, repageMs?; a settled resolve REMOVEs
 * openSource (an undelivered resolve stays listed, so the sweep finishes it). The cursor items are
 * `sweep#cursor#<shardOf(sources)>` (cursor.ts), one per list of sources.
 */
import type { PipelineDeps } from '../pipeline/process-record';
import type { ReconcileSource } from '../pipeline/config';
import { CloudWatchAlarmReader, cloudWatchClientFor, type AlarmReader } from './cloudwatch';
import { runSweep, type SweepDeps, type SweepSummary } from './sweep';

export { resolveDeletedAlarm, type DeletedAlarm } from './deleted';
export { runSweep, type SweepDeps, type SweepSummary } from './sweep';
export { alarmsWithContributors, namesToConfirm, planSweep } from './planner';
export type { Correction, SourceObservations, SourceSelection, SweepPlan } from './planner';
export type { AlarmReader } from './cloudwatch';
export type { ObservedAlarm, ObservedContributor } from './observations';

export interface OwnSource {
  readonly accountId: string;
  readonly region: string;
}

/** One scheduled sweep: the configured sources, or with none, the function's own account and region. */
export async function runScheduledSweep(
  deps: SweepDeps,
  options: { readonly deadline: number; readonly ownSource?: OwnSource },
): Promise<SweepSummary> {
  const configured = deps.config.reconcileSources;
  const sources: ReconcileSource[] =
    configured.length > 0
      ? [...configured]
      : options.ownSource
        ? [{ ...options.ownSource, topicArns: [], alarmNamePrefixes: [], routeTagged: false }]
        : [];
  if (sources.length === 0) {
    deps.logger.warn('Sweep: no RECONCILE_SOURCES and no own account known: nothing to check');
  }
  return runSweep(deps, sources, options.deadline);
}

/** Readers on the AWS SDK, one client per source (kept across invocations). */
export function sdkReaderFor(env: NodeJS.ProcessEnv): (source: ReconcileSource) => AlarmReader {
  const readers = new Map<string, AlarmReader>();
  return (source) => {
    const key = `${source.accountId}:${source.region}:${source.roleArn ?? ''}`;
    let reader = readers.get(key);
    if (!reader) {
      reader = new CloudWatchAlarmReader(cloudWatchClientFor(source, env));
      readers.set(key, reader);
    }
    return reader;
  };
}

/** The pipeline's deps as a sweep's. */
export function sweepDeps(deps: PipelineDeps, readerFor: SweepDeps['readerFor']): SweepDeps {
  return { ...deps, readerFor };
}
