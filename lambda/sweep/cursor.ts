// Where a sweep cut short resumes: one cursor per list of sources (each sweep function of a sharded estate has its
// own list), holding the index of the source the next sweep starts at. Pure: values in, values out.
import { createHash } from 'node:crypto';
import type { ReconcileSource } from '../pipeline/config';

/**
 * The cursor's name for a list of sources: a short hash of its `accountId:region` pairs in order (the cursor is an
 * index into that order), so two sweep functions never share a cursor and a changed list starts afresh rather than
 * at an index that meant another source.
 */
export function shardOf(sources: readonly Pick<ReconcileSource, 'accountId' | 'region'>[]): string {
  const pairs = sources.map((source) => `${source.accountId}:${source.region}`).join(',');
  return createHash('sha256').update(pairs).digest('hex').slice(0, 16);
}

/** How a sweep ended in one source. */
export interface SourceOutcome {
  /** The source's index in the list. */
  readonly index: number;
  /** Cut short (time budget or RECONCILE_MAX_CORRECTIONS) with corrections of it left undone. */
  readonly cut: boolean;
  /** It was the first source of this sweep, so it had the whole budget. */
  readonly first: boolean;
  /** Corrections of it that were sent in this sweep. */
  readonly corrected: number;
}

/**
 * The source the next sweep starts at, after one stopped in (or right after) `stopped`. A source cut short is
 * resumed at itself, so its rest does not wait a whole round of every source; unless it had the whole sweep and
 * corrected nothing (its reads alone outlast the budget, or every send failed): starting there again would only
 * repeat the cut while the other sources wait, so the next one goes first. A finished source resumes at the next.
 */
export function resumeIndex(stopped: SourceOutcome, count: number): number {
  const stuck = stopped.first && stopped.corrected === 0;
  return stopped.cut && !stuck ? stopped.index : (stopped.index + 1) % count;
}
