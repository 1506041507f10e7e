import fc from 'fast-check';
import { lambdaContext, metricAlarmMessage, snsEvent } from '../../../local/alarm-fixtures';
import { newRoutingKey, startPipeline, type LocalPipeline, motoStores } from '../../../local/harness';
import { describeWithMoto } from '../../../local/moto';
import {
  expectNewestState,
  historyArbitrary,
  RUNS,
  runOptions,
  startOrderingRig,
  T0,
  type OrderingRig,
} from '../../support/ordering';
import { captureStdout, report } from '../../support/output';

// Failed deliveries, Lambda's retries and a redrive: ordering.faults.property.test.ts.
describeWithMoto(
  'PagerDuty ends in the alarm’s newest state under any order, duplication and concurrency',
  () => {
    let rig: OrderingRig;
    let containers: LocalPipeline['handler'][];
    let output: ReturnType<typeof captureStdout>;

    beforeAll(async () => {
      rig = await startOrderingRig();
      const pipeline = await startPipeline({
        stores: motoStores(rig.moto.endpoint),
        pagerDutyUrl: rig.emulator.url,
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
      await rig?.stop();
    });

    it(`holds for ${RUNS} random histories`, async () => {
      let alarmNumber = 0;
      const started = Date.now();
      await fc.assert(
        fc.asyncProperty(historyArbitrary, async (history) => {
          const alarmName = `property-${alarmNumber++}`;
          const dedupKey = `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${alarmName}`;
          rig.useDelays(history.delays);
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
          expectNewestState(rig.emulator, dedupKey, history.states);
        }),
        runOptions(RUNS),
      );
      report(`ordering property: ${RUNS} histories in ${Date.now() - started} ms`);
    }, 900_000);
  },
);
