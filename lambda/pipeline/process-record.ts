import type { Logger } from '@aws-lambda-powertools/logger';
import type { DeclaredSettingsMap } from './alarm-settings';
import type { Config } from './config';
import { deliver, type DeliveryDeps, type RecordOutcome } from './deliver';
import type { Notification } from '../messages/notification';
import { planRecord } from './plan';
import type { RoutingKeys } from '../pagerduty/routing-keys';
import { RecordLog } from '../shared/telemetry';

export type { RecordOutcome } from './deliver';

export interface PipelineDeps extends DeliveryDeps {
  readonly config: Config;
  readonly routingKeys: Pick<RoutingKeys, 'has' | 'keyFor' | 'routes'>;
  readonly declared: DeclaredSettingsMap;
  readonly logger: Logger;
}

/** One notification and where it came from, as every intake (SNS, EventBridge, the retry queue) hands it over. */
export interface RecordInput {
  readonly notification: Notification;
  /** The latest time the transport vouches for (SNS `Timestamp`, EventBridge `time`), epoch milliseconds. */
  readonly vouchedMs?: number;
  /** Keys for every log line about this record (message id, intake). */
  readonly logKeys: Record<string, unknown>;
}

/**
 * One notification through the pipeline: plan (no I/O), then deliver. Resolves when the record is done (sent,
 * or deliberately skipped with a log line and a metric); throws when it must be retried or cannot be delivered.
 */
export async function processRecord(
  input: RecordInput,
  deps: PipelineDeps,
  deadline: number,
): Promise<RecordOutcome> {
  const plan = planRecord(input, {
    config: deps.config,
    declared: deps.declared,
    knownRoutes: deps.routingKeys.routes,
    nowMs: deps.now(),
  });
  const log = new RecordLog(deps.logger);
  log.appendKeys({ ...input.logKeys, ...plan.logKeys });
  for (const notice of plan.notices) {
    if (notice.metric) deps.telemetry.count(notice.metric, notice.count);
    log[notice.level](notice.message, notice.details);
  }
  if (plan.kind === 'skip') {
    deps.telemetry.count(plan.metric);
    log[plan.level](plan.message, plan.details);
    return { outcome: 'skipped', reason: plan.reason, dedupKey: plan.dedupKey };
  }
  return deliver(plan, deps, deadline, log);
}
