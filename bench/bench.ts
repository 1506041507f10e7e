// `npm run bench`: the pipeline's cost per notification against the floor of its ledger protocol, measured in
// one run on this machine: moto_server for DynamoDB and Secrets Manager, the PagerDuty emulator answering in
// ~40 ms, both behind counting proxies in their own processes so CPU figures hold only the client's work.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { parserWorstCase } from '../test/support/adversarial';
import { statSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { build } from 'esbuild';
import { deployedBundleOptions } from '../lib/private/handler-bundle';
import { Agent } from 'undici';
import { lambdaContext, metricAlarmMessage, snsEvent } from '../local/alarm-fixtures';
import { runAsyncInvocations } from '../local/async-lambda';
import { minutes, runOutage, runStorm } from '../local/delivery-scenarios';
import { parseNotification } from '../lambda/messages/alarm-message';
import { Ledger } from '../lambda/pipeline/ledger';
import { PagerDutyClient } from '../lambda/pagerduty/client';
import { buildAlertEvent } from '../lambda/pagerduty/event';
import { newRoutingKey, startPipeline } from '../local/harness';
import { startMoto } from '../local/moto';
import { parseCommandLine } from '../scripts/command-line';
import { measureColdPath, type ColdRun } from './cold-path';
import { sweepAtScale } from './sweep';

const ROOT = join(__dirname, '..');
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 300);
const STORM = Number(process.env.BENCH_STORM ?? 500);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 11);
const PAGERDUTY_LATENCY_MS = 40;
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
Measures the pipeline's cost per notification against the floor of its ledger protocol, on loopback:
moto_server for DynamoDB and Secrets Manager, the PagerDuty emulator answering in ${PAGERDUTY_LATENCY_MS} ms. Prints a
Markdown table on stdout (the README's Benchmark section).

Usage: npm run bench [-- --help]

Environment:
  BENCH_SAMPLES   notifications per measure (default 300)
  BENCH_STORM     notifications in the storm at concurrency 20 (default 500)
  BENCH_ROUNDS    rounds the samples are split into for the CPU ratio's median and spread (default 6)
  BENCH_COLD_RUNS fresh processes per side for the cold path (default 11)

Needs moto_server on PATH.

Example:
  BENCH_SAMPLES=100 BENCH_STORM=200 npm run bench > bench.md
`;

async function main(): Promise<void> {
  parseCommandLine(USAGE, {});
  const sink = process.stdout.write.bind(process.stdout);
  // The handler's JSON logs and EMF lines are produced (that work is measured) but not printed.
  process.stdout.write = () => true;

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
    const routingKey = newRoutingKey();
    const dynamo = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: dynamoProxy.url,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    const agent = new Agent({ keepAliveTimeout: 30_000 });
    const base = Date.parse('2026-11-23T06:00:00.000Z');
    let serial = 0;

    // The floor: per notification exactly the claim UpdateItem, one POST, the settle UpdateItem; nothing else.
    const floorOnce = async () => {
      const n = serial++;
      const key = `arn:aws:cloudwatch:us-east-1:123456789012:alarm:floor-${n}`;
      const t = { N: String(base + n) };
      await dynamo.send(
        new UpdateItemCommand({
          TableName: pipeline.tableName,
          Key: { dedupKey: { S: key } },
          ConditionExpression: 'attribute_not_exists(dedupKey) OR stateChangeMs < :t',
          UpdateExpression: 'SET stateChangeMs = :t, delivered = :f',
          ExpressionAttributeValues: { ':t': t, ':f': { BOOL: false } },
        }),
      );
      const response = await agent.request({
        origin: pagerDutyProxy.url,
        path: '/v2/enqueue',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          routing_key: routingKey,
          event_action: 'trigger',
          dedup_key: key,
          payload: { summary: `floor ${n}`, source: 'bench', severity: 'critical' },
        }),
      });
      await response.body.text();
      await dynamo.send(
        new UpdateItemCommand({
          TableName: pipeline.tableName,
          Key: { dedupKey: { S: key } },
          ConditionExpression: 'stateChangeMs = :t',
          UpdateExpression: 'SET delivered = :d',
          ExpressionAttributeValues: { ':t': t, ':d': { BOOL: true } },
        }),
      );
    };
    // The protocol floor: the same claim UpdateItem, POST and settle UpdateItem the pipeline makes (same
    // expressions, attributes and event size), through the same ledger and client code, and nothing else: no
    // parsing, settings, event building, logging or metrics.
    const ledger = new Ledger({
      tableName: pipeline.tableName,
      ttlSeconds: 90 * 86400,
      client: new DynamoDBClient({
        region: 'us-east-1',
        endpoint: dynamoProxy.url,
        credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      }),
    });
    const pagerDuty = new PagerDutyClient({
      baseUrl: pagerDutyProxy.url,
      connectTimeoutMs: 3000,
      responseTimeoutMs: 10_000,
      retryBaseDelayMs: 200,
      retryMaxDelayMs: 8000,
      rateLimitPerMinute: 0,
    });
    const sample = snsEvent([
      metricAlarmMessage({ alarmName: 'protocol', state: 'ALARM', stateChangeMs: base }),
    ]).Records[0]!.Sns;
    const sampleNotification = parseNotification({
      messageId: sample.MessageId,
      topicArn: sample.TopicArn,
      subject: sample.Subject,
      timestamp: sample.Timestamp,
      message: sample.Message,
    });
    const template = buildAlertEvent(
      sampleNotification,
      { route: 'default', severity: 'critical', insufficientData: 'ignore', problems: [] },
      'trigger',
      'template',
      { clientName: 'CloudWatch alarm pipeline' },
    );
    const storedTrigger = JSON.stringify({
      ...template,
      payload: { ...template.payload, custom_details: {} },
    });
    const protocolOnce = async () => {
      const n = serial++;
      const dedupKey = `arn:aws:cloudwatch:us-east-1:123456789012:alarm:protocol-${n}`;
      const stateChangeMs = base + n;
      await ledger.claim(
        {
          dedupKey,
          stateChangeMs,
          stateChangeTime: '2026-11-23T06:00:00.000+0000',
          action: 'trigger',
          route: 'default',
          alarmName: `protocol-${n}`,
          triggerEvent: storedTrigger,
          futureLimitMs: Date.now() + 60_000,
        },
        Date.now(),
        Date.now() + 35_000,
      );
      await pagerDuty.sendAlert(routingKey, { ...template, dedup_key: dedupKey }, Date.now() + 30_000);
      await ledger.settle(dedupKey, { stateChangeMs, action: 'trigger' }, Date.now());
    };
    // The SNS events are built before measuring: making them is the harness's work, not the pipeline's.
    const events = Array.from({ length: SAMPLES + 40 }, (_, n) =>
      snsEvent([metricAlarmMessage({ alarmName: `bench-${n}`, state: 'ALARM', stateChangeMs: base + n })]),
    );
    let nextEvent = 0;
    const pipelineOnce = async () => {
      await pipeline.handler(events[nextEvent++]!, lambdaContext());
    };

    interface Samples {
      readonly wall: number[];
      /** CPU (user + system) per notification, in microseconds, in the order measured. */
      readonly cpuMicros: number[];
    }
    const sampleOnce = async (into: Samples, once: () => Promise<void>) => {
      const cpu = process.cpuUsage();
      const started = performance.now();
      await once();
      into.wall.push(performance.now() - started);
      const used = process.cpuUsage(cpu);
      into.cpuMicros.push(used.user + used.system);
    };
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const summary = (samples: Samples) => ({
      p50: percentile(samples.wall, 50),
      p99: percentile(samples.wall, 99),
      cpuMs: mean(samples.cpuMicros) / 1000,
    });
    /**
     * The CPU ratio per round (mean CPU per notification of the round's pipeline samples over its floor samples,
     * both measured interleaved in the same round), then the median round and the spread: one round's GC or a
     * neighbour's burst moves that round's ratio, not the median.
     */
    const roundRatios = (ours: Samples, theirs: Samples) => {
      const per = Math.floor(ours.cpuMicros.length / ROUNDS);
      const ratios = Array.from({ length: ROUNDS }, (_, r) => {
        const slice = (samples: Samples) => samples.cpuMicros.slice(r * per, (r + 1) * per);
        return mean(slice(ours)) / mean(slice(theirs));
      });
      return { median: percentile(ratios, 50), min: Math.min(...ratios), max: Math.max(...ratios) };
    };

    say('warming up');
    for (let i = 0; i < 30; i++) {
      await floorOnce();
      await protocolOnce();
      await pipelineOnce();
    }
    await resetCounts(dynamoProxy);
    await resetCounts(pagerDutyProxy);
    // Interleaved in blocks of 10, so that drift in the machine (other load, JIT, GC) falls on all three alike.
    say('measuring the pipeline, the protocol floor and the minimal floor, interleaved');
    const pipelineSamples: Samples = { wall: [], cpuMicros: [] };
    const floorSamples: Samples = { wall: [], cpuMicros: [] };
    const minimalSamples: Samples = { wall: [], cpuMicros: [] };
    let dynamoCalls = 0;
    let pagerDutyCalls = 0;
    for (let block = 0; block < SAMPLES / 10; block++) {
      await resetCounts(dynamoProxy);
      await resetCounts(pagerDutyProxy);
      for (let i = 0; i < 10; i++) await sampleOnce(pipelineSamples, pipelineOnce);
      dynamoCalls += total(await counts(dynamoProxy));
      pagerDutyCalls += total(await counts(pagerDutyProxy));
      for (let i = 0; i < 10; i++) await sampleOnce(floorSamples, protocolOnce);
      for (let i = 0; i < 10; i++) await sampleOnce(minimalSamples, floorOnce);
    }
    dynamoCalls /= pipelineSamples.wall.length;
    pagerDutyCalls /= pipelineSamples.wall.length;
    const ours = summary(pipelineSamples);
    const floor = summary(floorSamples);
    const minimal = summary(minimalSamples);
    const cpuRatio = roundRatios(pipelineSamples, floorSamples);
    const minimalCpuRatio = roundRatios(pipelineSamples, minimalSamples);

    say(`cold path: ${COLD_RUNS} fresh processes each for the pipeline's bundle and the floor's`);
    const coldSerial = Date.now();
    const cold = await measureColdPath({
      runs: COLD_RUNS,
      env: {
        ...pipeline.env,
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        // As the construct sets them (lib/alarm-to-pagerduty.ts); the parking queue is only written to on failure.
        PARKED_QUEUE_URL: `${moto.endpoint}/123456789012/parked`,
        POWERTOOLS_SERVICE_NAME: 'alarm-to-pagerduty',
        POWERTOOLS_METRICS_NAMESPACE: 'AlarmToPagerDuty',
      },
      pipelineEvent: (n) =>
        snsEvent([
          metricAlarmMessage({ alarmName: `cold-${n}`, state: 'ALARM', stateChangeMs: coldSerial + n }),
        ]),
      floorEvent: (n) => ({
        dedupKey: `arn:aws:cloudwatch:us-east-1:123456789012:alarm:cold-floor-${n}`,
        stateChangeMs: coldSerial + n,
        routingKey,
        alertEvent: template,
        storedTrigger,
      }),
    });

    say('bundling');
    // Bundled as lib/alarm-to-pagerduty.ts bundles it for Lambda (ESM, minified), with the AWS SDK inside (the
    // default, bundleAwsSdk: true) and without it (left to the runtime; here it then loads from node_modules,
    // as Lambda loads it from the runtime's own copy).
    const bundleVariant = async (withSdk: boolean) => {
      const outfile = join(ROOT, 'dist', `bench-handler${withSdk ? '' : '-no-sdk'}.mjs`);
      await build({
        ...deployedBundleOptions(join(ROOT, 'lambda/handler.ts'), outfile, withSdk),
        logLevel: 'silent',
      });
      const loads: number[] = [];
      for (let i = 0; i < 7; i++) {
        const run = spawnSync(
          process.execPath,
          [
            '--input-type=module',
            '-e',
            `const t=process.hrtime.bigint();await import(${JSON.stringify(outfile)});console.log(Number(process.hrtime.bigint()-t)/1e6)`,
          ],
          {
            encoding: 'utf8',
            env: { ...process.env, LEDGER_TABLE_NAME: 't', ROUTING_KEY_SECRETS: '{"default":"s"}' },
          },
        );
        loads.push(Number(run.stdout.trim()));
      }
      return { kb: statSync(outfile).size / 1024, loadMs: percentile(loads, 50) };
    };
    const withSdk = await bundleVariant(true);
    const withoutSdk = await bundleVariant(false);

    say(`storm: ${STORM} alarms at concurrency 20`);
    await resetCounts(pagerDutyProxy);
    const storm = await runAsyncInvocations(
      Array.from({ length: STORM }, (_, i) =>
        snsEvent([metricAlarmMessage({ alarmName: `storm-${i}`, state: 'ALARM', stateChangeMs: base + i })]),
      ),
      { invoke: pipeline.handler, concurrency: 20, budgetMs: 60_000, retryDelaysMs: [60_000, 120_000] },
    );
    const stormPosts = total(await counts(pagerDutyProxy));

    const ratio = (a: number, b: number) => (a / b).toFixed(2);
    const rows: [string, string, string][] = [
      ['PagerDuty requests per notification', pagerDutyCalls.toFixed(2), 'exactly 1'],
      ['DynamoDB calls per notification', dynamoCalls.toFixed(2), 'at most 2'],
      [
        'wall time p50: pipeline / protocol floor',
        `${ours.p50.toFixed(1)} / ${floor.p50.toFixed(1)} ms = ${ratio(ours.p50, floor.p50)}×`,
        '≤ 1.15×',
      ],
      [
        'wall time p99: pipeline / protocol floor',
        `${ours.p99.toFixed(1)} / ${floor.p99.toFixed(1)} ms = ${ratio(ours.p99, floor.p99)}×`,
        '≤ 1.15×',
      ],
      [
        `CPU per notification: pipeline / protocol floor, median of ${ROUNDS} interleaved rounds (min–max)`,
        `${ours.cpuMs.toFixed(2)} / ${floor.cpuMs.toFixed(2)} ms; ${cpuRatio.median.toFixed(2)}× ` +
          `(${cpuRatio.min.toFixed(2)}–${cpuRatio.max.toFixed(2)}×)`,
        '≤ 1.1×',
      ],
      [
        'against the minimal floor (bare UpdateItems, tiny event): p50 / p99 / CPU (median of rounds)',
        `${minimal.p50.toFixed(1)} ms / ${minimal.p99.toFixed(1)} ms / ${minimal.cpuMs.toFixed(2)} ms = ` +
          `${ratio(ours.p50, minimal.p50)}× / ${ratio(ours.p99, minimal.p99)}× / ${minimalCpuRatio.median.toFixed(2)}×`,
        'for reference',
      ],
      [
        `cold path, median of ${COLD_RUNS} fresh processes: CPU to the end of the first invocation, pipeline / floor (min–max of pairs)`,
        coldRatio(cold.pipeline, cold.floor, (run) => run.cpuMs),
        '≤ 1.15×',
      ],
      [
        'cold path: wall time to the end of the first invocation, pipeline / floor',
        coldRatio(cold.pipeline, cold.floor, (run) => run.wallMs),
        'for reference',
      ],
      [
        'cold path: of which module load, CPU / wall, pipeline / floor',
        `${coldRatio(cold.pipeline, cold.floor, (run) => run.loadCpuMs)}; ` +
          coldRatio(cold.pipeline, cold.floor, (run) => run.loadWallMs),
        'for reference',
      ],
      [
        'bundle size (minified): AWS SDK bundled (default) / left to the runtime',
        `${withSdk.kb.toFixed(0)} KB / ${withoutSdk.kb.toFixed(0)} KB`,
        '≤ 500 KB',
      ],
      [
        'module load in a fresh Node process, median of 7: SDK bundled / runtime SDK',
        `${withSdk.loadMs.toFixed(0)} ms / ${withoutSdk.loadMs.toFixed(0)} ms`,
        '≤ 100 ms',
      ],
      [
        'storm at concurrency 20',
        `${((STORM / storm.elapsedMs) * 1000).toFixed(0)} notifications/s; ${stormPosts} of ${STORM} paged, ${storm.deadLetters.length} lost`,
        'nothing lost',
      ],
    ];
    const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
    const table = [
      `Benchmark ${new Date().toISOString().slice(0, 10)} on ${machine}; PagerDuty emulator latency ${PAGERDUTY_LATENCY_MS} ms; ${SAMPLES} notifications each.`,
      '',
      '| measure | result | goal |',
      '|---|---|---|',
      ...rows.map((r) => `| ${r.join(' | ')} |`),
    ].join('\n');
    sink(`${table}\n`);
    sink(`\n${METHOD(cold.pipelineKb, cold.floorKb)}\n`);
    sink(`\n${await deliverySimulations()}\n`);
    sink(`\n${await sweepAtScale()}\n`);
    dynamo.destroy();
    await agent.close();
    await pagerDuty.close();
  } finally {
    for (const child of children) child.process.kill();
    await moto.stop();
  }
  process.exit(0);
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

const METHOD = (pipelineKb: number, floorKb: number) =>
  [
    'Method. Warm: pipeline, protocol floor and minimal floor run interleaved in blocks of 10 notifications; CPU is',
    'process.cpuUsage() (user + system) around each notification. The samples are split into rounds in order; each',
    "round's ratio is its mean pipeline CPU over its mean floor CPU; the table gives the median round and the range.",
    "Cold: each run is a fresh `node` with NODE_OPTIONS=--enable-source-maps and the handler's environment, running",
    'bench/cold-child.mjs, which imports one bundle and invokes its handler once; CPU is process.cpuUsage() and wall',
    "is performance.now(), both from process start (Node's own start-up included on both sides), read in the child.",
    `The pipeline side loads the deployed bundle (lambda/handler.ts, esbuild options of lib/private/handler-bundle.ts, AWS SDK`,
    `inside, ${pipelineKb.toFixed(0)} KB) and its first invocation reads the routing key from Secrets Manager, claims,`,
    'POSTs and settles. The floor side loads bench/cold-floor.ts bundled the same way (the DynamoDB client, lib-dynamodb',
    `and the undici agent through lambda/pipeline/ledger.ts and lambda/pagerduty/client.ts, ${floorKb.toFixed(0)} KB) and makes`,
    'one claim, POST and settle. Sides alternate, after one discarded pair; ratios are of the medians.',
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
