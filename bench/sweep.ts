// `npm run bench:sweep` (also printed by `npm run bench`): one reconciliation sweep over 10,000 alarms across 20
// accounts × 3 regions, in virtual time (local/sweep-simulation.ts), its calls, duration and what a month of them
// costs at a 5-minute schedule. Virtual time charges each call a round trip (CloudWatch 120 ms, DynamoDB 8 ms,
// PagerDuty 60-150 ms); the handler's own CPU is not in it.
import { ISSUE_18_ESTATE as ESTATE, simulateSweepAtScale } from '../local/sweep-simulation';

/** us-east-1 list prices: Lambda arm64 per GB-second and per request; DynamoDB on demand per read/write unit. */
const LAMBDA_GB_SECOND = 0.0000133334;
const LAMBDA_REQUEST = 0.2 / 1e6;
const DYNAMODB_READ_UNIT = 0.125 / 1e6;
const DYNAMODB_WRITE_UNIT = 0.625 / 1e6;
const MEMORY_GB = 256 / 1024;
const SWEEPS_PER_MONTH = (30 * 24 * 60) / 5;

export async function sweepAtScale(): Promise<string> {
  const result = await simulateSweepAtScale(ESTATE);
  // As the construct deploys this estate: 6 shard functions (Lambda's 4 KB environment), swept at the same moments.
  const sharded = await simulateSweepAtScale({ ...ESTATE, shards: 6 });
  const shardMs = sharded.invocations.map((i) => i.virtualMs);
  const c = (name: string) => result.calls[name] ?? 0;
  const ms = result.invocations.reduce((sum, i) => sum + i.virtualMs, 0);
  // A Query page of the sparse index reads ≤ 4 KB eventually consistent (0.5 unit); a GetItem is consistent (1).
  const readUnits = 0.5 * c('DynamoDB openIncidents') + c('DynamoDB read') + c('DynamoDB readSweepCursor');
  const writeUnits =
    c('DynamoDB claim') + c('DynamoDB settle') + c('DynamoDB release') + c('DynamoDB writeSweepCursor');
  const lambda = (ms / 1000) * MEMORY_GB * LAMBDA_GB_SECOND + LAMBDA_REQUEST * result.invocations.length;
  const perSweep = lambda + readUnits * DYNAMODB_READ_UNIT + writeUnits * DYNAMODB_WRITE_UNIT;
  const cloudWatch = Object.entries(result.calls)
    .filter(([name]) => name.startsWith('CloudWatch '))
    .map(([name, n]) => `${n} ${name.slice('CloudWatch '.length)}`)
    .join(', ');
  return [
    `one sweep, 10,000 alarms across 20 accounts × 3 regions (virtual time; 200 open incidents, 30 lost OKs, 20 missed ALARMs):`,
    `  ${result.invocations.length} invocation(s), ${(ms / 1000).toFixed(1)} s of the function (256 MB arm64), ` +
      `${result.throttled} throttled, ${result.wrongAfter} left wrong`,
    `  CloudWatch: ${cloudWatch}`,
    `  DynamoDB: ${c('DynamoDB openIncidents')} index queries, ${c('DynamoDB read')} consistent reads, ` +
      `${c('DynamoDB claim') + c('DynamoDB settle')} writes (${readUnits} read / ${writeUnits} write units)`,
    `  PagerDuty: ${c('PagerDuty events')} events`,
    `  as the 6 shard functions deployed: done in ${(Math.max(...shardMs) / 1000).toFixed(1)} s, ` +
      `${(shardMs.reduce((a, b) => a + b, 0) / 1000).toFixed(1)} s of function time in all, ` +
      `${sharded.calls['CloudWatch DescribeAlarms'] ?? 0} DescribeAlarms, ${sharded.wrongAfter} left wrong`,
    `  cost: $${perSweep.toFixed(6)} a sweep (Lambda $${lambda.toFixed(6)}), ` +
      `$${(perSweep * SWEEPS_PER_MONTH).toFixed(2)} a month at one sweep every 5 minutes ` +
      `(CloudWatch's DescribeAlarms is not on its list of billed requests, unconfirmed)`,
  ].join('\n');
}

if (require.main === module) {
  sweepAtScale()
    .then((text) => process.stdout.write(`${text}\n`))
    .catch((error: unknown) => {
      process.stderr.write(
        `bench:sweep failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(1);
    });
}
