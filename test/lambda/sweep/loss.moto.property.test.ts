// Issue 18's loss property against moto's CloudWatch (serialized moto, so DynamoDB's conditional writes are atomic
// as in AWS) and the PagerDuty emulator, through the real handler. Random histories of several alarms: state
// changes, deletes and re-creations; each change delivered 0-3 times (0 = lost), some with a forged 2099 time, by
// two "Lambda containers" at random moments, with sweeps started at random moments among them. After a final sweep
// PagerDuty must hold an open incident exactly for the alarms CloudWatch has in ALARM, and no ALARM change may have
// opened more than one incident. The in-process property (loss.property.test.ts) explores many more interleavings;
// this one holds the protocol to real DynamoDB semantics and the SDK's CloudWatch reader to moto's answers.
import fc from 'fast-check';
import { lambdaContext } from '../../../local/alarm-fixtures';
import { describeWithMoto, startMoto, type MotoServer } from '../../../local/moto';
import { PagerDutyEmulator } from '../../../local/pagerduty-emulator';
import { createHandler } from '../../../lambda/handler';
import { captureStdout, report } from '../../support/output';
import { arnOf, motoSweepRig, ACCOUNT, REGION, type MotoSweepRig } from '../../support/sweep-moto';

// CI runs 12 histories (about 30 s); npm test 4. SWEEP_PROPERTY_RUNS overrides both.
const RUNS = Number(process.env.SWEEP_PROPERTY_RUNS ?? (process.env.CI === 'true' ? 12 : 4));
const NAMES = ['api-5xx', 'db-cpu', 'queue-age'];
const FORGED_MS = Date.UTC(2099, 0, 1);

const stepArbitrary = fc.record({
  alarm: fc.nat(NAMES.length - 1),
  kind: fc.constantFrom('change', 'change', 'change', 'change', 'delete'),
  copies: fc.integer({ min: 0, max: 3 }),
  forged: fc.boolean(),
  /** When each copy (and a sweep) starts after the change, in ms. */
  delaysMs: fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 4, maxLength: 4 }),
  gapMs: fc.integer({ min: 0, max: 40 }),
  sweepAfter: fc.boolean(),
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function deleteEvent(name: string, atMs: number): Record<string, unknown> {
  return {
    version: '0',
    id: `delete-${name}-${atMs}`,
    'detail-type': 'CloudWatch Alarm Configuration Change',
    source: 'aws.cloudwatch',
    account: ACCOUNT,
    time: new Date(atMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: REGION,
    resources: [arnOf(name)],
    detail: { alarmName: name, operation: 'delete', state: { value: 'ALARM' } },
  };
}

describeWithMoto('the loss property against moto', () => {
  let moto: MotoServer;
  let emulator: PagerDutyEmulator;
  let output: ReturnType<typeof captureStdout>;
  let delays: number[] = [];
  let requestIndex = 0;

  beforeAll(async () => {
    moto = await startMoto({ serialized: true });
    emulator = await PagerDutyEmulator.start({
      // PagerDuty ingests concurrent requests in an order of its own.
      beforeProcess: async () => {
        const delay = delays[requestIndex++ % Math.max(delays.length, 1)] ?? 0;
        if (delay > 0) await sleep(delay);
      },
    });
    output = captureStdout();
  }, 60_000);
  afterAll(async () => {
    output?.restore();
    await emulator?.stop();
    await moto?.stop();
  });

  it(`PagerDuty ends in CloudWatch's state after a final sweep, ${RUNS} random histories`, async () => {
    const started = Date.now();
    let sweeps = 0;
    let lost = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(stepArbitrary, { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 0, max: 8 }), { minLength: 16, maxLength: 16 }),
        async (steps, pagerDutyDelays) => {
          emulator.reset();
          delays = pagerDutyDelays;
          requestIndex = 0;
          let rig: MotoSweepRig | undefined;
          try {
            rig = await motoSweepRig({
              motoEndpoint: moto.endpoint,
              emulator,
              // No grace: a sweep may page an alarm whose notification is in flight; the ledger keeps it to one page.
              env: { RECONCILE_MISSED_GRACE_SECONDS: '0', RATE_LIMIT_PER_MINUTE: '0' },
            });
            const r = rig;
            const containers = [r.handler, createHandler(r.env)];
            const alarmChanges = new Map<string, number>(NAMES.map((name) => [name, 0]));
            const present = new Set<string>();
            for (const name of NAMES) {
              await r.putAlarm(name);
              present.add(name);
            }
            const inFlight: Promise<unknown>[] = [];
            const later = (delayMs: number, work: () => Promise<unknown>) =>
              inFlight.push(
                sleep(delayMs)
                  .then(work)
                  .catch(() => undefined),
              );
            const sweep = () => (sweeps++, r.sweep());

            for (const [index, step] of steps.entries()) {
              await sleep(step.gapMs);
              const name = NAMES[step.alarm]!;
              const container = containers[index % containers.length]!;
              if (!present.has(name)) {
                await r.putAlarm(name); // re-created (moto starts it in OK)
                present.add(name);
              } else if (step.kind === 'delete') {
                await r.deleteAlarm(name);
                present.delete(name);
                const event = deleteEvent(name, Date.now());
                for (let i = 0; i < step.copies; i++)
                  later(step.delaysMs[i]!, () => container(event, lambdaContext()));
              } else {
                const current = (await r.describe(name))!;
                const change = await r.setState(name, current === 'ALARM' ? 'OK' : 'ALARM');
                if (change.state === 'ALARM') alarmChanges.set(name, alarmChanges.get(name)! + 1);
                if (step.copies === 0) lost++;
                for (let i = 0; i < step.copies; i++) {
                  const forged = step.forged && i === 0 ? { claimedMs: FORGED_MS } : {};
                  later(step.delaysMs[i]!, () =>
                    r.deliver(change, { ...forged, handler: containers[(index + i) % containers.length] }),
                  );
                }
              }
              if (step.sweepAfter) later(step.delaysMs[3]!, sweep);
            }
            await Promise.all(inFlight);
            await sweep();

            for (const name of NAMES) {
              const state = present.has(name) ? await r.describe(name) : undefined;
              const incidents = emulator.incidents({ dedupKey: arnOf(name) });
              const openNow = incidents.filter((incident) => incident.status !== 'resolved').length;
              expect({ name, state, open: openNow }).toEqual({
                name,
                state,
                open: state === 'ALARM' ? 1 : 0,
              });
              expect({ name, opened: incidents.length }).toEqual({
                name,
                opened: Math.min(incidents.length, alarmChanges.get(name)!),
              });
            }
          } finally {
            rig?.destroy();
          }
        },
      ),
      {
        numRuns: RUNS,
        endOnFailure: true,
        ...(process.env.PROPERTY_SEED ? { seed: Number(process.env.PROPERTY_SEED) } : {}),
      },
    );
    report(
      `loss property on moto: ${RUNS} histories, ${sweeps} sweeps, ${lost} lost changes, ${Date.now() - started} ms`,
    );
  }, 120_000);
});
