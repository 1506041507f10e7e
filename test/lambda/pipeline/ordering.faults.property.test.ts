import fc from 'fast-check';
import { lambdaContext, metricAlarmMessage, snsEvent } from '../../../local/alarm-fixtures';
import { newRoutingKey, startPipeline, motoStores } from '../../../local/harness';
import { describeWithMoto } from '../../../local/moto';
import {
  expectNewestState,
  FAULTY_RUNS,
  faultsArbitrary,
  historyArbitrary,
  runOptions,
  startOrderingRig,
  T0,
  type OrderingRig,
} from '../../support/ordering';
import { captureStdout, report } from '../../support/output';

// The same property as ordering.property.test.ts, with PagerDuty failing some requests.
describeWithMoto(
  'PagerDuty ends in the alarm’s newest state when deliveries fail, Lambda retries and a redrive follows',
  () => {
    let rig: OrderingRig;
    let output: ReturnType<typeof captureStdout>;

    beforeAll(async () => {
      rig = await startOrderingRig();
      output = captureStdout();
    }, 60_000);
    afterAll(async () => {
      output?.restore();
      await rig?.stop();
    });

    it(`holds for ${FAULTY_RUNS} random histories with failed deliveries, Lambda retries and a redrive`, async () => {
      const emulator = rig.emulator;
      // Short budgets and slow back-off, so that a few failed attempts exhaust an invocation and it throws.
      const faulty = await startPipeline({
        stores: motoStores(rig.moto.endpoint),
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
          rig.useDelays(history.delays);
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
