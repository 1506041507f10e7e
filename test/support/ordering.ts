// The ordering properties' histories, faults and check, shared by ordering.property.test.ts (deliveries only) and
// ordering.faults.property.test.ts (failed deliveries, retries, a redrive). Two files so jest runs them side by side.
import fc from 'fast-check';
import { startMoto, type MotoServer } from '../../local/moto';
import { PagerDutyEmulator } from '../../local/pagerduty-emulator';
import type { AlarmState } from '../../lambda/messages/notification';

// npm test runs a quick sample; CI runs 400 (PROPERTY_RUNS overrides both). Concurrency itself is explored more
// finely, in process, by test/lambda/pipeline/two-intakes.property.test.ts; these hold the protocol to DynamoDB's
// semantics.
export const RUNS = Number(process.env.PROPERTY_RUNS ?? (process.env.CI === 'true' ? 400 : 100));
// With faults each history takes longer (timeouts, retries): fewer of them, 120 in CI.
export const FAULTY_RUNS = Math.ceil(RUNS * 0.3);
export const T0 = Date.parse('2026-11-23T00:00:00.000Z');

export interface History {
  readonly states: AlarmState[];
  /** Every delivery (an index into states), in the order they reach the handlers. */
  readonly deliveries: number[];
  /** How many deliveries run concurrently in each wave. */
  readonly waves: number[];
  /** Per PagerDuty request, how long it is held before PagerDuty ingests it (so later sends overtake). */
  readonly delays: number[];
}

export const historyArbitrary: fc.Arbitrary<History> = fc
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

export type Fault = 'reset-after-ingest' | 'late' | 503;

/**
 * Faults injected before some waves: PagerDuty ingests the event but the sender sees the connection drop;
 * PagerDuty ingests it only after the sender has timed out (a request that "failed" but lands late, after
 * newer ones); or PagerDuty answers 503 (not ingested).
 */
export const faultsArbitrary = fc.array(
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
export function expectNewestState(
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

export function runOptions(numRuns: number): fc.Parameters<unknown> {
  return {
    numRuns,
    endOnFailure: true,
    // PROPERTY_SEED replays the same histories (the timing of concurrent deliveries still varies).
    ...(process.env.PROPERTY_SEED ? { seed: Number(process.env.PROPERTY_SEED) } : {}),
  };
}

/** Serialized moto (DynamoDB's conditional writes atomic, as in the real service) and a PagerDuty that holds each
 * request for the current history's delays, so later sends overtake earlier ones. */
export interface OrderingRig {
  readonly moto: MotoServer;
  readonly emulator: PagerDutyEmulator;
  /** The delays of the next history, from its first PagerDuty request. */
  useDelays(delays: number[]): void;
  stop(): Promise<void>;
}

export async function startOrderingRig(): Promise<OrderingRig> {
  let delays: number[] = [];
  let requestIndex = 0;
  const moto = await startMoto({ serialized: true });
  const emulator = await PagerDutyEmulator.start({
    beforeProcess: async () => {
      const delay = delays[requestIndex++ % Math.max(delays.length, 1)] ?? 0;
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    },
  });
  return {
    moto,
    emulator,
    useDelays(next) {
      delays = next;
      requestIndex = 0;
    },
    async stop() {
      await emulator.stop();
      await moto.stop();
    },
  };
}
