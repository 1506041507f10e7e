import { Token } from 'aws-cdk-lib';
import type { ReconcileSource } from '../../lambda/shared/contract';

/** Lambda allows 4 KB of environment in total (names and values). */
export const LAMBDA_ENVIRONMENT_MAX_BYTES = 4096;
/**
 * The most sweep functions one pipeline deploys: the alarm on their errors sums them by metric math, which reads at
 * most 10 metrics (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-limits.html).
 */
export const MAX_SWEEP_SHARDS = 10;
/** An unresolved part (the central topic's ARN, a generated role name) at a generous length. */
const TOKEN_ESTIMATE = 'x'.repeat(128);

/** The bytes RECONCILE_SOURCES takes in a function's environment (its name and value), tokens at 128 bytes. */
export function sourcesBytes(sources: readonly ReconcileSource[]): number {
  const estimate = JSON.stringify(sources, (_key, value: unknown) =>
    typeof value === 'string' && Token.isUnresolved(value) ? TOKEN_ESTIMATE : value,
  );
  return Buffer.byteLength(estimate, 'utf8') + 'RECONCILE_SOURCES'.length;
}

/**
 * The sources cut into shards whose RECONCILE_SOURCES each fit `maxBytes`: greedy in the sources' order (central
 * first, then intakes as they were added), so adding an intake changes only the last shard. A source that fits no
 * shard alone gets one of its own; the caller refuses it.
 */
export function shardSources(sources: readonly ReconcileSource[], maxBytes: number): ReconcileSource[][] {
  const shards: ReconcileSource[][] = [];
  let current: ReconcileSource[] = [];
  for (const source of sources) {
    if (current.length > 0 && sourcesBytes([...current, source]) > maxBytes) {
      shards.push(current);
      current = [];
    }
    current.push(source);
  }
  if (current.length > 0 || shards.length === 0) shards.push(current);
  return shards;
}
