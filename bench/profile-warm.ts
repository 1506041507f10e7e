// `npx tsx bench/profile-warm.ts [node] [samples]`: the warm path under `node --cpu-prof`, the pipeline and the
// protocol floor interleaved in one process (bench/warm-child.mjs), both bundled as deployed but unminified so the
// profile names functions. Prints where each side's CPU goes (bench/profile-report.ts); keeps the .cpuprofile.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { deployedBundleOptions } from '../lib/private/handler-bundle';
import { metricAlarmMessage, snsEvent } from '../local/alarm-fixtures';
import { newRoutingKey, startPipeline } from '../local/harness';
import { startMoto } from '../local/moto';
import { runNode } from './cold-path';
import { floorTemplate } from './floor-template';
import { profileReport } from './profile-report';

const ROOT = join(__dirname, '..');
const OUT = join(ROOT, 'dist', 'bench-profile');
const node = process.argv[2] ?? process.execPath;
const samples = Number(process.argv[3] ?? 600);

async function unminified(entry: string, name: string): Promise<string> {
  const dir = join(OUT, name);
  rmSync(dir, { recursive: true, force: true });
  await build({
    ...deployedBundleOptions(entry, dir, true),
    minify: false,
    absWorkingDir: ROOT,
    logLevel: 'silent',
  });
  return join(dir, 'index.mjs');
}

/** A tsx script that prints its port or URL first (the emulator, a counting proxy), as bench/bench.ts starts them. */
function startChild(script: string, args: string[]): Promise<{ url: string; stop: () => void }> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(ROOT, script), ...args],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve) => {
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const match = /(https?:\/\/[\d.]+:\d+)|^(\d+)\s*$/m.exec(buffer);
      if (match) resolve({ url: match[1] ?? `http://127.0.0.1:${match[2]}`, stop: () => child.kill() });
    });
  });
}

async function main(): Promise<void> {
  const moto = await startMoto({ serialized: false });
  const emulator = await startChild('local/pagerduty-emulator.ts', [
    '--port',
    '0',
    '--latency-ms',
    '40',
    '--quiet',
  ]);
  // warm-child.mjs reads and resets the proxies' counts between blocks.
  const dynamoProxy = await startChild('bench/counting-proxy.ts', [moto.endpoint]);
  const pagerDutyProxy = await startChild('bench/counting-proxy.ts', [emulator.url]);
  try {
    const pipeline = await startPipeline({
      stores: { dynamoEndpoint: dynamoProxy.url, secretsEndpoint: moto.endpoint, supportsTtl: true },
      pagerDutyUrl: pagerDutyProxy.url,
      routingKeys: { default: newRoutingKey() },
      env: { RATE_LIMIT_PER_MINUTE: '0' },
    });
    const base = Date.parse('2026-11-23T06:00:00.000Z');
    const { template, storedTrigger } = floorTemplate(base);
    const count = samples + 40;
    const plan = {
      samples,
      warmup: 30,
      pipelineEvents: Array.from({ length: count }, (_, n) =>
        snsEvent([metricAlarmMessage({ alarmName: `p-${n}`, state: 'ALARM', stateChangeMs: base + n })]),
      ),
      floorEvents: Array.from({ length: count }, (_, n) => ({
        dedupKey: `arn:aws:cloudwatch:us-east-1:123456789012:alarm:f-${n}`,
        stateChangeMs: base + n,
        alertEvent: template,
        storedTrigger,
      })),
      dynamoProxy: dynamoProxy.url,
      pagerDutyProxy: pagerDutyProxy.url,
    };
    const pipelineIndex = await unminified(join(ROOT, 'lambda/handler.ts'), 'handler');
    const floorIndex = await unminified(join(ROOT, 'bench/cold-floor.ts'), 'floor');
    const planFile = join(OUT, 'plan.json');
    writeFileSync(planFile, JSON.stringify(plan));
    const profiles = join(OUT, 'profiles');
    rmSync(profiles, { recursive: true, force: true });
    mkdirSync(profiles, { recursive: true });
    const run = await runNode(
      node,
      [
        '--cpu-prof',
        `--cpu-prof-dir=${profiles}`,
        '--cpu-prof-interval=100',
        join(ROOT, 'bench/warm-child.mjs'),
        pipelineIndex,
        floorIndex,
        planFile,
      ],
      {
        PATH: process.env.PATH ?? '',
        ...pipeline.env,
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        POWERTOOLS_SERVICE_NAME: 'alarm-to-pagerduty',
        POWERTOOLS_METRICS_NAMESPACE: 'AlarmToPagerDuty',
        PARKED_QUEUE_URL: `${moto.endpoint}/123456789012/parked`,
      },
      20 * 60_000,
    );
    if (run.status !== 0) throw new Error(`warm child failed (${run.status}): ${run.stderr}`);
    const file = join(profiles, readdirSync(profiles)[0]!);
    process.stdout.write(
      `${profileReport(file, { pipeline: pipelineIndex, floor: floorIndex }, samples + plan.warmup)}\n${file}\n`,
    );
  } finally {
    for (const child of [emulator, dynamoProxy, pagerDutyProxy]) child.stop();
    await moto.stop();
  }
  process.exit(0);
}

void main();
