// The cold path: a fresh Node process that loads a bundle and makes its first invocation, the pipeline's deployed
// bundle against a bundle of the protocol floor alone (bench/cold-floor.ts). Both are bundled with the handler's
// esbuild options (lib/private/handler-bundle.ts, AWS SDK inside) and run as the construct runs the function
// (NODE_OPTIONS=--enable-source-maps), each by bench/cold-child.mjs, which reports from inside the child.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { deployedBundleOptions, HANDLER_ENTRY } from '../lib/private/handler-bundle';

const ROOT = join(__dirname, '..');

export interface ColdRun {
  /** CPU (user + system) and wall time from process start to the end of the module load. */
  readonly loadCpuMs: number;
  readonly loadWallMs: number;
  /** The same to the end of the first invocation. */
  readonly cpuMs: number;
  readonly wallMs: number;
}

export interface ColdPath {
  readonly pipeline: ColdRun[];
  readonly floor: ColdRun[];
  readonly pipelineKb: number;
  readonly floorKb: number;
}

export interface ColdPathOptions {
  readonly runs: number;
  /** The handler's environment, as the construct sets it (endpoints, table, secrets). */
  readonly env: Readonly<Record<string, string>>;
  /** The n-th invocation's event for the pipeline, and for the floor; each must be a fresh alert. */
  readonly pipelineEvent: (n: number) => unknown;
  readonly floorEvent: (n: number) => unknown;
}

async function bundle(entry: string, name: string): Promise<string> {
  const outfile = join(ROOT, 'dist', 'bench-cold', name, 'index.mjs');
  await build({ ...deployedBundleOptions(entry, outfile, true), absWorkingDir: ROOT, logLevel: 'silent' });
  return outfile;
}

function runChild(outfile: string, env: Readonly<Record<string, string>>, event: unknown): ColdRun {
  const run = spawnSync(process.execPath, [join(ROOT, 'bench/cold-child.mjs'), outfile], {
    encoding: 'utf8',
    // Only what the function would see: none of this process's loaders or options.
    env: {
      PATH: process.env.PATH ?? '',
      ...env,
      NODE_OPTIONS: '--enable-source-maps',
      BENCH_COLD_EVENT: JSON.stringify(event),
    },
  });
  const last = run.stdout.trim().split('\n').pop() ?? '';
  if (run.status !== 0 || !last.startsWith('{"loadCpuUs"')) {
    throw new Error(`cold child for ${outfile} failed (${run.status}): ${run.stderr}${run.stdout}`);
  }
  const reported = JSON.parse(last) as {
    loadCpuUs: number;
    loadWallMs: number;
    cpuUs: number;
    wallMs: number;
  };
  return {
    loadCpuMs: reported.loadCpuUs / 1000,
    loadWallMs: reported.loadWallMs,
    cpuMs: reported.cpuUs / 1000,
    wallMs: reported.wallMs,
  };
}

/** Bundles both sides, then runs them in alternation, one fresh process each, `runs` times. */
export async function measureColdPath(options: ColdPathOptions): Promise<ColdPath> {
  const pipelineBundle = await bundle(HANDLER_ENTRY, 'handler');
  const floorBundle = await bundle(join(ROOT, 'bench/cold-floor.ts'), 'floor');
  const pipeline: ColdRun[] = [];
  const floor: ColdRun[] = [];
  // One discarded pair first: the OS's file cache and moto's first requests are not the function's cold start.
  runChild(pipelineBundle, options.env, options.pipelineEvent(-1));
  runChild(floorBundle, options.env, options.floorEvent(-1));
  for (let n = 0; n < options.runs; n++) {
    pipeline.push(runChild(pipelineBundle, options.env, options.pipelineEvent(n)));
    floor.push(runChild(floorBundle, options.env, options.floorEvent(n)));
  }
  return {
    pipeline,
    floor,
    pipelineKb: statSync(pipelineBundle).size / 1024,
    floorKb: statSync(floorBundle).size / 1024,
  };
}
