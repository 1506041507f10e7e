// The warm path in one Node process, as a warm Lambda container runs it: imports the pipeline's deployed bundle and
// the protocol floor's (bench/cold-floor.ts), both bundled as deployed, and invokes them interleaved in blocks of
// 10 after a warm-up. Reads its plan from the JSON file named by argv[4] and prints the samples as one JSON line.
// The handler's JSON logs and EMF lines are produced (that work is measured) but not printed.
import { readFileSync, writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [pipelineIndex, floorIndex, planFile] = process.argv.slice(2);
const plan = JSON.parse(readFileSync(planFile, 'utf8'));
process.stdout.write = () => true;
const { handler: pipeline } = await import(pathToFileURL(pipelineIndex).href);
const { handler: floor } = await import(pathToFileURL(floorIndex).href);

const context = () => {
  const end = Date.now() + 30_000;
  return { awsRequestId: 'warm', getRemainingTimeInMillis: () => end - Date.now() };
};
let nextPipeline = 0;
let nextFloor = 0;
const pipelineOnce = () => pipeline(plan.pipelineEvents[nextPipeline++], context());
const floorOnce = () => floor(plan.floorEvents[nextFloor++], context());
const sampleOnce = async (into, once) => {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await once();
  into.wall.push(performance.now() - started);
  const used = process.cpuUsage(cpu);
  into.cpuMicros.push(used.user + used.system);
};
const counts = async (proxy) => {
  const all = await (await fetch(`${proxy}/__counts`)).json();
  return Object.values(all).reduce((a, b) => a + b, 0);
};
const reset = (proxy) => fetch(`${proxy}/__reset`);

for (let i = 0; i < plan.warmup; i++) {
  await floorOnce();
  await pipelineOnce();
}
const pipelineSamples = { wall: [], cpuMicros: [] };
const floorSamples = { wall: [], cpuMicros: [] };
let dynamoCalls = 0;
let pagerDutyCalls = 0;
for (let block = 0; block < plan.samples / 10; block++) {
  await reset(plan.dynamoProxy);
  await reset(plan.pagerDutyProxy);
  for (let i = 0; i < 10; i++) await sampleOnce(pipelineSamples, pipelineOnce);
  dynamoCalls += await counts(plan.dynamoProxy);
  pagerDutyCalls += await counts(plan.pagerDutyProxy);
  for (let i = 0; i < 10; i++) await sampleOnce(floorSamples, floorOnce);
}
writeSync(
  1,
  `${JSON.stringify({ pipeline: pipelineSamples, floor: floorSamples, dynamoCalls, pagerDutyCalls })}\n`,
);
process.exit(0);
