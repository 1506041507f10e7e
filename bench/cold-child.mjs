// Runs in a fresh Node process: loads one bundle, invokes its `handler` once with the event in BENCH_COLD_EVENT,
// and prints the process's CPU (user + system) and wall time from process start: after the load, and after the
// first invocation. Plain JavaScript so that nothing but Node and the bundle is loaded. With BENCH_LOADED_FILES
// set (an untimed run), every file the loader loads is listed there (bench/loaded-files.mjs).
import { pathToFileURL } from 'node:url';

if (process.env.BENCH_LOADED_FILES)
  (await import('node:module')).register('./loaded-files.mjs', import.meta.url);
const bundle = process.argv[2];
const event = JSON.parse(process.env.BENCH_COLD_EVENT ?? '{}');
const micros = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};
const { handler } = await import(pathToFileURL(bundle).href);
const loadCpuUs = micros();
const loadWallMs = performance.now();
const end = Date.now() + 30_000;
await handler(event, { awsRequestId: 'cold-path', getRemainingTimeInMillis: () => end - Date.now() });
const cpuUs = micros();
const wallMs = performance.now();
process.stdout.write(`${JSON.stringify({ loadCpuUs, loadWallMs, cpuUs, wallMs })}\n`);
process.exit(0);
