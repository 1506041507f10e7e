// An alarm deleted (EventBridge "CloudWatch Alarm Configuration Change", operation delete): its incident and its
// contributors' resolve at once, ordered at the event's time, through the same correction path as the sweep's.
import type { RecordOutcome } from '../pipeline/deliver';
import type { DeletedAlarm } from '../pipeline/intake';
import { fitDedupKey } from '../pipeline/dedup-key';
import type { OpenIncident } from '../pipeline/ledger';
import type { PipelineDeps } from '../pipeline/process-record';
import { describeError } from '../shared/errors';
import type { ResolveCorrection } from './planner';
import { deliverResolve } from './sweep';

export type { DeletedAlarm };

export async function resolveDeletedAlarm(
  deleted: DeletedAlarm,
  deps: PipelineDeps,
  deadline: number,
): Promise<RecordOutcome[]> {
  const openSource = `${deleted.accountId}:${deleted.region}`;
  const incidents = new Map<string, OpenIncident>();
  let cursor: string | undefined;
  do {
    const page = await deps.ledger.openIncidents(openSource, cursor);
    for (const item of page.items) if (item.alarmArn === deleted.alarmArn) incidents.set(item.dedupKey, item);
    cursor = page.cursor;
  } while (cursor !== undefined);
  // The index may lag a trigger just claimed: the alarm's own key is read consistently in any case.
  const ownKey = fitDedupKey(deleted.alarmArn);
  if (!incidents.has(ownKey)) {
    incidents.set(ownKey, {
      dedupKey: ownKey,
      openSource,
      alarmArn: deleted.alarmArn,
      alarmName: deleted.alarmName,
      insufficientData: 'ignore',
      stateChangeMs: 0,
      action: 'trigger',
      delivered: false,
    });
  }
  const outcomes: RecordOutcome[] = [];
  for (const incident of incidents.values()) {
    const correction: ResolveCorrection = {
      kind: 'resolve',
      reason: 'deleted',
      dedupKey: incident.dedupKey,
      incident,
      observedMs: deleted.deletedMs,
      deletedUntilMs: deleted.deletedUntilMs,
    };
    try {
      outcomes.push(await deliverResolve(correction, deps, deadline));
    } catch (error) {
      deps.logger.error("Resolving a deleted alarm's incident failed", {
        dedupKey: incident.dedupKey,
        error: describeError(error),
      });
      throw error;
    }
  }
  return outcomes;
}
