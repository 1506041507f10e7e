// The cold path: a fresh Node process that loads a bundle and makes its first invocation, the pipeline's deployed
// bundle (index.mjs and its chunks) against a bundle of the protocol floor alone (bench/cold-floor.ts). Both are
// bundled with the handler's esbuild options (lib/private/handler-bundle.ts) and run as the construct runs the
// function (NODE_OPTIONS=--enable-source-maps), each by bench/cold-child.mjs, which reports from inside the child.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { deployedBundleOptions } from '../lib/private/handler-bundle';

const ROOT = join(__dirname, '..');

export interface ColdRun {
  /** CPU (user + system) and wall time from process start to the end of the module load. */
  readonly loadCpuMs: number;
  readonly loadWallMs: number;
  /** The same to the end of the first invocation. */
  readonly cpuMs: number;
  readonly wallMs: number;
}

/** One bundle as deployed: a directory with index.mjs and the chunks beside it. */
export interface Bundle {
  readonly name: string;
  readonly dir: string;
  /** Every .mjs file in the directory: what a deployment ships. */
  readonly totalKb: number;
}

/** BENCH_TELEMETRY=minimal: Powertools Logger and Metrics replaced by bench/minimal-telemetry.mjs in the pipeline. */
const minimalTelemetry: Plugin = {
  name: 'minimal-telemetry',
  setup(build) {
    build.onResolve({ filter: /^@aws-lambda-powertools\/(logger|metrics)$/ }, () => ({
      path: join(ROOT, 'bench', 'minimal-telemetry.mjs'),
    }));
  },
};

export async function bundle(entry: string, name: string, bundleAwsSdk: boolean): Promise<Bundle> {
  const dir = join(ROOT, 'dist', 'bench-cold', name);
  rmSync(dir, { recursive: true, force: true });
  const result = await build({
    ...deployedBundleOptions(entry, dir, bundleAwsSdk),
    absWorkingDir: ROOT,
    logLevel: 'silent',
    metafile: true,
    plugins:
      process.env.BENCH_TELEMETRY === 'minimal' && name.startsWith('handler') ? [minimalTelemetry] : [],
  });
  const code = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith('.mjs'));
  return { name, dir, totalKb: code.reduce((sum, [, output]) => sum + output.bytes, 0) / 1024 };
}

export interface Runtime {
  /** "Node 20", "Node 24". */
  readonly label: string;
  readonly node: string;
}

/**
 * Runs a node child to its end without blocking this process: the emulator and proxies this process started
 * write to pipes it must keep reading, or they stall on a full pipe.
 */
export function runNode(
  node: string,
  args: string[],
  env: Readonly<Record<string, string>>,
  timeoutMs: number,
): Promise<{ status: number | string; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      node,
      args,
      { env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const failure = error as (Error & { code?: number | string; signal?: string }) | null;
        resolve({ status: failure ? (failure.signal ?? failure.code ?? 'failed') : 0, stdout, stderr });
      },
    );
  });
}

async function runChild(
  runtime: Runtime,
  side: Bundle,
  env: Readonly<Record<string, string>>,
  event: unknown,
  loadedFiles?: string,
): Promise<ColdRun> {
  const run = await runNode(
    runtime.node,
    [join(ROOT, 'bench/cold-child.mjs'), join(side.dir, 'index.mjs')],
    // Only what the function would see: none of this process's loaders or options.
    {
      PATH: process.env.PATH ?? '',
      ...env,
      NODE_OPTIONS: '--enable-source-maps',
      BENCH_COLD_EVENT: JSON.stringify(event),
      ...(loadedFiles ? { BENCH_LOADED_FILES: loadedFiles } : {}),
    },
    120_000,
  );
  const last = run.stdout.trim().split('\n').pop() ?? '';
  if (run.status !== 0 || !last.startsWith('{"loadCpuUs"')) {
    throw new Error(
      `cold child for ${side.dir} on ${runtime.label} failed (${run.status}): ${run.stderr}${run.stdout}`,
    );
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

export interface ColdSide {
  readonly bundle: Bundle;
  /** The n-th invocation's event; each must be a fresh alert (n = -1 for the discarded first round). */
  readonly event: (n: number) => unknown;
}

/** Runs the sides in alternation, one fresh process each, `runs` times, after one discarded round. */
export async function measureColdPath(
  runtime: Runtime,
  sides: readonly ColdSide[],
  runs: number,
  env: Readonly<Record<string, string>>,
): Promise<ColdRun[][]> {
  // The OS's file cache and moto's first requests are not the function's cold start.
  for (const side of sides) await runChild(runtime, side.bundle, env, side.event(-1));
  const results: ColdRun[][] = sides.map(() => []);
  for (let n = 0; n < runs; n++) {
    for (const [i, side] of sides.entries()) {
      results[i]!.push(await runChild(runtime, side.bundle, env, side.event(n)));
    }
  }
  return results;
}

/**
 * The code a fresh process loads by the end of its first invocation: index.mjs, every chunk it imported
 * (statically or by `import()`), and any module from node_modules (the runtime-SDK variant), in KB. Source maps
 * are not counted. One untimed run with bench/loaded-files.mjs registered.
 */
export async function loadedKb(
  runtime: Runtime,
  side: ColdSide,
  env: Readonly<Record<string, string>>,
  n: number,
): Promise<{ kb: number; files: number }> {
  const scratch = mkdtempSync(join(tmpdir(), 'bench-loaded-'));
  const list = join(scratch, 'files');
  try {
    await runChild(runtime, side.bundle, env, side.event(n), list);
    const files = [...new Set(readFileSync(list, 'utf8').trim().split('\n'))].filter(
      (file) => !file.startsWith(join(ROOT, 'bench')),
    );
    return { kb: files.reduce((sum, file) => sum + statSync(file).size, 0) / 1024, files: files.length };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
