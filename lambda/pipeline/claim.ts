// A claim: one state change as the ledger records it, bounded for storage, and what its update writes besides the
// state itself. The DynamoDB ledger (ledger.ts) and the in-memory one (memory-ledger.ts) both take it.
import { OPEN_SOURCE_ATTRIBUTE, type InsufficientDataPolicy } from '../shared/contract';

export type LedgerAction = 'trigger' | 'resolve';

/** What a trigger claim for an alarm records, so the reconciliation sweep can check the incident against CloudWatch. */
export interface OpenIncidentFacts {
  /** `<accountId>:<region>` of the alarm. */
  readonly source: string;
  readonly alarmArn: string;
  readonly alarmName: string;
  readonly contributorId?: string;
  readonly insufficientData: InsufficientDataPolicy;
  readonly repageMs?: number;
}

export interface Claim {
  readonly dedupKey: string;
  readonly stateChangeMs: number;
  /** As written in the message, for people reading the table. */
  readonly stateChangeTime: string;
  readonly action: LedgerAction;
  /** The route the alarm is configured for now. */
  readonly route: string;
  readonly alarmName: string;
  readonly triggerEvent?: string;
  /**
   * An item holding a time later than this can only hold a forged or mistyped future time (times are capped at
   * what SNS vouches for before they are claimed): any claim replaces it, so the alarm heals on its next change.
   */
  readonly futureLimitMs: number;
  /** Set on a trigger for an alarm: puts the item in the open-incidents index until a resolve settles. */
  readonly open?: OpenIncidentFacts;
  /**
   * The message claimed a later time than its transport vouches for, so it is ordered at that cap: its true time
   * is unknown, and it may not replace an alarm deletion's resolve within `deletedUntilMs`.
   */
  readonly timeCapped?: boolean;
  /**
   * Set on an alarm deletion's resolve: the end of the deletion's second (EventBridge gives whole seconds, and the
   * resolve is ordered at the start). Until then only a claim with a time of its own (an alarm re-created in that
   * second) may replace it, not one ordered at a cap (a forged copy of the deleted alarm's state).
   */
  readonly deletedUntilMs?: number;
}

/** Bounds on what one item stores, far under DynamoDB's 400 KB item limit whatever a publisher sends. */
export const MAX_STORED_ALARM_NAME = 1024;
export const MAX_STORED_TRIGGER_EVENT = 64 * 1024;
const MAX_STORED_TIME_TEXT = 64;

/** Whether an alarm deletion's resolve in the item holds this claim off (its time is a cap, inside the hold). */
export function heldByDeletion(item: { readonly deletedUntilMs?: number }, claim: Claim): boolean {
  return claim.timeCapped === true && (item.deletedUntilMs ?? 0) > claim.stateChangeMs;
}

/** The claim as stored: every text bounded. */
export function boundedClaim(claim: Claim): Claim {
  const triggerEvent =
    claim.triggerEvent !== undefined && claim.triggerEvent.length <= MAX_STORED_TRIGGER_EVENT
      ? claim.triggerEvent
      : undefined;
  return {
    ...claim,
    alarmName: claim.alarmName.slice(0, MAX_STORED_ALARM_NAME),
    stateChangeTime: claim.stateChangeTime.slice(0, MAX_STORED_TIME_TEXT),
    triggerEvent,
  };
}

export /**
 * What a claim sets and removes besides the state itself. A trigger keeps the incident's facts and ends an alarm
 * deletion's hold (only a claim with a time of its own gets here while it holds); a resolve keeps the hold, or sets
 * it for a deletion. `timeCapped` says the item's state was ordered at its SNS stamp, not at its own time.
 */
function claimUpdates(
  claim: Claim,
  open: OpenIncidentFacts | undefined,
): { sets: string[]; removals: string[] } {
  const sets: string[] = [];
  const removals = ['needsResend'];
  if (claim.action === 'trigger') {
    sets.push(
      `openRoute = if_not_exists(openRoute, :route), triggerEvent = :triggerEvent${openUpdates(open)}`,
    );
    removals.push('expiresAt', 'deletedUntilMs');
    if (open && open.repageMs === undefined) removals.push('repageMs');
  } else {
    sets.push('expiresAt = :expiresAt');
    removals.push('triage');
    if (claim.deletedUntilMs !== undefined) sets.push('deletedUntilMs = :deletedUntil');
  }
  // What a capped state replaced (read before this update): an alarm deletion in its second may replace the copy
  // only when the copy replaced something older than the deletion.
  if (claim.timeCapped) sets.push('timeCapped = :true', 'cappedOverMs = if_not_exists(stateChangeMs, :zero)');
  else removals.push('timeCapped', 'cappedOverMs');
  return { sets, removals };
}

function openUpdates(open: OpenIncidentFacts | undefined): string {
  if (!open) return '';
  return (
    `, ${OPEN_SOURCE_ATTRIBUTE} = :openSource, alarmArn = :alarmArn, sourceAlarmName = :sourceAlarmName, ` +
    'insufficientData = :insufficientData' +
    (open.contributorId === undefined ? '' : ', contributorId = :contributorId') +
    (open.repageMs === undefined ? '' : ', repageMs = :repageMs')
  );
}

export function openValues(open: OpenIncidentFacts | undefined): Record<string, unknown> {
  if (!open) return {};
  return {
    ':openSource': open.source,
    ':alarmArn': open.alarmArn,
    ':sourceAlarmName': open.alarmName.slice(0, MAX_STORED_ALARM_NAME),
    ':insufficientData': open.insufficientData,
    ...(open.contributorId === undefined ? {} : { ':contributorId': open.contributorId }),
    ...(open.repageMs === undefined ? {} : { ':repageMs': open.repageMs }),
  };
}
