import fc from 'fast-check';
import { lambdaContext, metricAlarmMessage, snsEvent } from '../../../local/alarm-fixtures';
import { newRoutingKey, startPipeline, type LocalPipeline, motoStores } from '../../../local/harness';
import { describeWithMoto, startMoto } from '../../../local/moto';
import { PagerDutyEmulator } from '../../../local/pagerduty-emulator';
import type { AlarmState } from '../../../lambda/messages/notification';
import { captureStdout, report } from '../../support/output';

// npm test runs a quick sample; CI runs 400 (PROPERTY_RUNS overrides both). Concurrency itself is explored more
// finely, in process, by test/lambda/pipeline/two-intakes.property.test.ts; this one holds the protocol to DynamoDB's semantics.
const RUNS = Number(process.env.PROPERTY_RUNS ?? (process.env.CI === 'true' ? 400 : 100));
// With faults each history takes longer (timeouts, retries): fewer of them, 120 in CI.
const FAULTY_RUNS = Math.ceil(RUNS * 0.3);
const T0 = Date.parse('2026-11-23T00:00:00.000Z');

interface History {
  readonly states: AlarmState[];
  /** Every delivery (an index into states), in the order they reach the handlers. */
  readonly deliveries: number[];
  /** How many deliveries run concurrently in each wave. */
  readonly waves: number[];
  /** Per PagerDuty request, how long it is held before PagerDuty ingests it (so later sends overtake). */
  readonly delays: number[];
}

const historyArbitrary: fc.Arbitrary<History> = fc
  .array(fc.constantFrom<AlarmState>('ALARM', 'OK', 'INSUFFICIENT_DATA'), { minLength: 1, maxLength: 6 })
  .chain((states) =>
    fc.tuple(...states.map(() => fc.integer({ min: 1, max: 3 }))).chain((copies) => {
      const all = copies.flatMap((n, index) => Array.from({ length: n }, () => index));
      return fc.record({
        states: fc.constant(states),
        deliveries: fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }),
        waves: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: all.length, maxLength: all.length }),
        delays: fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 40, maxLength: 40 }),
      });
    }),
  );

type Fault = 'reset-after-ingest' | 'late' | 503;

/**
 * Faults injected before some waves: PagerDuty ingests the event but the sender sees the connection drop;
 * PagerDuty ingests it only after the sender has timed out (a request that "failed" but lands late, after
 * newer ones); or PagerDuty answers 503 (not ingested).
 */
const faultsArbitrary = fc.array(
  fc.record({
    wave: fc.integer({ min: 0, max: 8 }),
    fault: fc.constantFrom<Fault>('reset-after-ingest', 'late', 503),
    count: fc.integer({ min: 1, max: 8 }),
  }),
  { maxLength: 6 },
);

/** The state PagerDuty must end in: the newest one that sends an event (INSUFFICIENT_DATA is ignored by default). */
function expectedEnd(states: readonly AlarmState[]): 'open' | 'closed' | 'untouched' {
  for (let i = states.length - 1; i >= 0; i--) {
    if (states[i] === 'ALARM') return 'open';
    if (states[i] === 'OK') return 'closed';
  }
  return 'untouched';
}

/** PagerDuty's incidents for the key match the alarm's newest state, with never more than one open. */
function expectNewestState(
  emulator: PagerDutyEmulator,
  dedupKey: string,
  states: readonly AlarmState[],
): void {
  const incidents = emulator.incidents({ dedupKey });
  const open = incidents.filter((incident) => incident.status !== 'resolved');
  expect(open.length).toBeLessThanOrEqual(1);
  const expected = expectedEnd(states);
  if (expected === 'open') expect(open).toHaveLength(1);
  if (expected === 'closed') expect(open).toHaveLength(0);
  if (expected === 'untouched') expect(incidents).toHaveLength(0);
}

function runOptions(numRuns: number): fc.Parameters<unknown> {
  return {
    numRuns,
    endOnFailure: true,
    // PROPERTY_SEED replays the same histories (the timing of concurrent deliveries still varies).
    ...(process.env.PROPERTY_SEED ? { seed: Number(process.env.PROPERTY_SEED) } : {}),
  };
}

describeWithMoto(
  'PagerDuty ends in the alarm’s newest state under any order, duplication and concurrency',
  () => {
    let moto: { endpoint: string; stop(): Promise<void> };
    let emulator: PagerDutyEmulator;
    let pipeline: LocalPipeline;
    let containers: LocalPipeline['handler'][];
    let delays: number[] = [];
    let requestIndex = 0;
    let output: ReturnType<typeof captureStdout>;

    beforeAll(async () => {
      // Serialized moto: DynamoDB's conditional writes are atomic there, as in the real service.
      moto = await startMoto({ serialized: true });
      emulator = await PagerDutyEmulator.start({
        beforeProcess: async () => {
          const delay = delays[requestIndex++ % Math.max(delays.length, 1)] ?? 0;
          if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
        },
      });
      pipeline = await startPipeline({
        stores: motoStores(moto.endpoint),
        pagerDutyUrl: emulator.url,
        routingKeys: { default: newRoutingKey() },
        // Thousands of events to one key within a minute: the client-side limiter is not what this tests.
        env: { RATE_LIMIT_PER_MINUTE: '0' },
      });
      // Three independent "Lambda containers" sharing the ledger and PagerDuty.
      containers = [pipeline.handler, pipeline.newHandler(), pipeline.newHandler()];
      output = captureStdout();
    }, 60_000);
    afterAll(async () => {
      output?.restore();
      await emulator?.stop();
      await moto?.stop();
    });

    it(`holds for ${RUNS} random histories`, async () => {
      let alarmNumber = 0;
      const started = Date.now();
      await fc.assert(
        fc.asyncProperty(historyArbitrary, async (history) => {
          const alarmName = `property-${alarmNumber++}`;
          const dedupKey = `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${alarmName}`;
          delays = history.delays;
          requestIndex = 0;
          const events = history.states.map((state, i) =>
            snsEvent([metricAlarmMessage({ alarmName, state, stateChangeMs: T0 + i * 60_000 })]),
          );
          let next = 0;
          let wave = 0;
          while (next < history.deliveries.length) {
            const size = history.waves[wave++] ?? 1;
            const batch = history.deliveries.slice(next, next + size);
            next += size;
            await Promise.all(
              batch.map((stateIndex, i) =>
                containers[(wave + i) % containers.length]!(events[stateIndex]!, lambdaContext()),
              ),
            );
          }
          expectNewestState(emulator, dedupKey, history.states);
        }),
        runOptions(RUNS),
      );
      report(`ordering property: ${RUNS} histories in ${Date.now() - started} ms`);
    }, 900_000);

    it(`holds for ${FAULTY_RUNS} random histories with failed deliveries, Lambda retries and a redrive`, async () => {
      // Short budgets and slow back-off, so that a few failed attempts exhaust an invocation and it throws.
      const faulty = await startPipeline({
        stores: motoStores(moto.endpoint),
        pagerDutyUrl: emulator.url,
        routingKeys: { default: newRoutingKey() },
        env: {
          RATE_LIMIT_PER_MINUTE: '0',
          RETRY_BASE_DELAY_MS: '60',
          RETRY_MAX_DELAY_MS: '120',
          TIME_BUDGET_MARGIN_MS: '0',
          // Longer than the 400 ms a late request takes to land, so the lease still covers it; the 5 s default
          // would make every failed delivery hold its alarm's next one that long, and this test 3× slower.
          LEASE_GRACE_MS: '500',
        },
      });
      const lambdas = [faulty.handler, faulty.newHandler(), faulty.newHandler()];
      let alarmNumber = 0;
      let thrown = 0;
      const started = Date.now();
      await fc.assert(
        fc.asyncProperty(historyArbitrary, faultsArbitrary, async (history, faults) => {
          const alarmName = `faulty-${alarmNumber++}`;
          const dedupKey = `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${alarmName}`;
          delays = history.delays;
          requestIndex = 0;
          emulator.clearFaults();
          const events = history.states.map((state, i) =>
            snsEvent([metricAlarmMessage({ alarmName, state, stateChangeMs: T0 + i * 60_000 })]),
          );
          // Each delivery is an invocation; one that throws comes back twice more (Lambda's retries), then
          // goes to the dead-letter queue, which is redriven at the end.
          const queue = history.deliveries.map((stateIndex) => ({ stateIndex, attempt: 1 }));
          const deadLetters: number[] = [];
          let wave = 0;
          while (queue.length > 0) {
            for (const f of faults.filter((x) => x.wave === wave)) {
              emulator.failNext(
                f.count,
                f.fault === 503
                  ? { status: 503 }
                  : f.fault === 'late'
                    ? { delayMs: 400 }
                    : 'reset-after-ingest',
              );
            }
            const batch = queue.splice(0, history.waves[wave % history.waves.length] ?? 1);
            wave++;
            await Promise.all(
              batch.map(async (item, i) => {
                try {
                  await lambdas[(wave + i) % lambdas.length]!(events[item.stateIndex]!, lambdaContext(180));
                } catch {
                  thrown++;
                  if (item.attempt < 3)
                    queue.push({ stateIndex: item.stateIndex, attempt: item.attempt + 1 });
                  else deadLetters.push(item.stateIndex);
                }
              }),
            );
          }
          emulator.clearFaults();
          for (const stateIndex of deadLetters) await lambdas[0]!(events[stateIndex]!, lambdaContext());

          expectNewestState(emulator, dedupKey, history.states);
        }),
        runOptions(FAULTY_RUNS),
      );
      // The faults must have made invocations fail, or this test would prove nothing beyond the first one.
      expect(thrown).toBeGreaterThan(0);
      report(
        `ordering property with faults: ${FAULTY_RUNS} histories, ${thrown} failed invocations, in ${Date.now() - started} ms`,
      );
    }, 900_000);
  },
);
