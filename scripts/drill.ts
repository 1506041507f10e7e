// End-to-end drill against a deployed pipeline: sets an alarm to ALARM, waits until the ledger shows PagerDuty
// accepted the trigger, sets it to OK, and waits until it shows the resolve was accepted. `--help` says how.
import { CloudWatchClient, DescribeAlarmsCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Ledger, type LedgerEntry } from '../lambda/pipeline/ledger';
import { parseCommandLine, usageError } from './command-line';
import { requireOutput, stackOutputs } from './stack-outputs';

export interface DrillOptions {
  readonly cloudwatch: CloudWatchClient;
  readonly dynamodb: DynamoDBClient;
  readonly alarmName: string;
  readonly tableName: string;
  /** How long to wait for each step. */
  readonly timeoutMs: number;
  readonly pollMs?: number;
  readonly log?: (line: string) => void;
}

export interface DrillStep {
  readonly state: 'ALARM' | 'OK';
  readonly ok: boolean;
  readonly seconds: number;
  /** What the ledger held when the step ended. */
  readonly entry?: LedgerEntry;
}

export class DrillError extends Error {
  override readonly name = 'DrillError';
}

/** Runs the drill; resolves with both steps (a step that timed out has ok=false and the drill stops there). */
export async function runDrill(options: DrillOptions): Promise<DrillStep[]> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const pollMs = options.pollMs ?? 2000;
  const described = await options.cloudwatch.send(
    new DescribeAlarmsCommand({
      AlarmNames: [options.alarmName],
      AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
    }),
  );
  const alarmArn = described.MetricAlarms?.[0]?.AlarmArn ?? described.CompositeAlarms?.[0]?.AlarmArn;
  if (!alarmArn) throw new DrillError(`No alarm named "${options.alarmName}" in this account and region.`);
  // The pipeline's dedup key for an alarm is its ARN (see lambda/pipeline/dedup-key.ts).
  const ledger = new Ledger({ tableName: options.tableName, ttlSeconds: 0, client: options.dynamodb });
  const steps: DrillStep[] = [];
  for (const [state, action] of [
    ['ALARM', 'trigger'],
    ['OK', 'resolve'],
  ] as const) {
    const before = await ledger.read(alarmArn);
    const started = Date.now();
    await options.cloudwatch.send(
      new SetAlarmStateCommand({
        AlarmName: options.alarmName,
        StateValue: state,
        StateReason: `alarm-to-pagerduty drill at ${new Date(started).toISOString()}`,
      }),
    );
    log(`▶ ${options.alarmName} set to ${state}; waiting for PagerDuty to accept the ${action}…`);
    let entry = before;
    let ok = false;
    while (Date.now() - started < options.timeoutMs) {
      entry = await ledger.read(alarmArn);
      const newer = entry && (!before || entry.stateChangeMs > before.stateChangeMs);
      if (newer && entry?.action === action && entry.delivered) {
        ok = true;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
    const seconds = (Date.now() - started) / 1000;
    steps.push({ state, ok, seconds, entry });
    if (!ok) {
      log(
        `✗ no delivered ${action} in the ledger after ${seconds.toFixed(0)} s (ledger: ${describe(entry)}). ` +
          "Check the alarm's actions point at the topic, the function's logs and errors, and the retry and parked queues.",
      );
      return steps;
    }
    log(
      `✓ PagerDuty accepted the ${action} ${seconds.toFixed(1)} s after the state change (route ${entry?.route}).`,
    );
  }
  return steps;
}

function describe(entry: LedgerEntry | undefined): string {
  if (!entry) return 'no item for this alarm';
  return `${entry.action} at ${new Date(entry.stateChangeMs).toISOString()}, delivered=${entry.delivered}`;
}

export const DRILL_USAGE = `
End-to-end drill against a deployed pipeline: sets the alarm to ALARM and waits until the ledger shows PagerDuty
accepted the trigger, then sets it to OK and waits for the resolve. Exits 0 when both were accepted.

Usage: npx alarm-to-pagerduty drill (--stack <stack> | --alarm <alarm name> --table <ledger table>)
                                    [--timeout-seconds N] [--alarm-region <region>] [--table-region <region>]

  --stack <name>          read the table (output LedgerTableName) and, without --alarm, the alarm (output
                          ExampleAlarmName) from this stack's outputs, in the environment's region
  --alarm <name>          an alarm whose actions notify the pipeline's topic
  --table <name>          the pipeline's ledger table
  --timeout-seconds <N>   how long to wait for each step (default 180)
  --alarm-region <region> the alarm's region, for an alarm behind a regional intake (default: the environment's)
  --table-region <region> the ledger table's region (default: the environment's)
  -h, --help              print this help

AWS credentials and region come from the environment. In a clone of the repository, \`npm run drill -- <options>\`
runs the same.

Example:
  npx alarm-to-pagerduty drill --stack AlarmToPagerDuty --timeout-seconds 300
`;

/** `drill <args>`: parses, finds the stack's outputs if asked, runs the drill; resolves with the exit code. */
export async function drillCommand(args: string[]): Promise<number> {
  const values = parseCommandLine(
    DRILL_USAGE,
    {
      stack: { type: 'string' },
      alarm: { type: 'string' },
      table: { type: 'string' },
      'timeout-seconds': { type: 'string', default: '180' },
      'alarm-region': { type: 'string' },
      'table-region': { type: 'string' },
    },
    args,
  );
  const timeoutSeconds = Number(values['timeout-seconds']);
  if (!values.stack && !values.alarm)
    usageError(DRILL_USAGE, 'Missing --alarm <alarm name> (or --stack <stack>).');
  if (!values.stack && !values.table)
    usageError(DRILL_USAGE, 'Missing --table <ledger table> (or --stack <stack>).');
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
    usageError(
      DRILL_USAGE,
      `--timeout-seconds must be a positive number (got "${values['timeout-seconds']}")`,
    );
  }
  let { alarm, table } = values;
  if (values.stack) {
    const outputs = await stackOutputs(new CloudFormationClient({}), values.stack);
    alarm ??= requireOutput(outputs, values.stack, ['ExampleAlarmName']);
    table ??= requireOutput(outputs, values.stack, ['LedgerTableName']);
  }
  const steps = await runDrill({
    cloudwatch: new CloudWatchClient(values['alarm-region'] ? { region: values['alarm-region'] } : {}),
    dynamodb: new DynamoDBClient(values['table-region'] ? { region: values['table-region'] } : {}),
    alarmName: alarm!,
    tableName: table!,
    timeoutMs: timeoutSeconds * 1000,
  });
  return steps.length === 2 && steps.every((step) => step.ok) ? 0 : 1;
}
