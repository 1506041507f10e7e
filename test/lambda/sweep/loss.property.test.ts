// Issue 18's loss property: whatever notifications are lost, duplicated, reordered, forged into the future or raced
// by sweeps, PagerDuty ends in CloudWatch's state after one more sweep, and no ALARM change opens two incidents.
// Random histories of several alarms (changes to ALARM, OK and INSUFFICIENT_DATA under a `resolve` or `trigger`
// policy, deletes, re-creations); each change delivered 0-3 times, all
// deliveries and sweeps in flight at once, every ledger call and PagerDuty request at a moment fast-check picks.
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import fc from 'fast-check';
import { cloudWatchTime, metricAlarmMessage, snsEvent } from '../../../local/alarm-fixtures';
import { CloudWatchFake, FAKE_TOPIC, type FakeChange } from '../../../local/cloudwatch-fake';
import { createHandler } from '../../../lambda/handler';
import { CloudWatchAlarmReader } from '../../../lambda/sweep/cloudwatch';
import { runScheduledSweep, sweepDeps } from '../../../lambda/sweep';
import { inProcessDeps, TEST_ENV } from '../../support/in-process';
import { SOURCE } from '../../support/sweep';

const T0 = Date.UTC(2026, 11, 6, 12);
const NAMES = ['api-5xx', 'db-cpu', 'queue-age'];
/** Each alarm's INSUFFICIENT_DATA policy (ALARM_SETTINGS); the `ignore` one never enters it (its incident would stay as it was). */
const POLICIES: Record<string, 'ignore' | 'resolve' | 'trigger'> = {
  'api-5xx': 'ignore',
  'db-cpu': 'resolve',
  'queue-age': 'trigger',
};
const STATES = ['ALARM', 'OK', 'INSUFFICIENT_DATA'] as const;
/** Whether PagerDuty should hold an incident open for an alarm in this state. */
const opens = (name: string, state: string | undefined) =>
  state === 'ALARM' || (state === 'INSUFFICIENT_DATA' && POLICIES[name] === 'trigger');
const ENV = {
  RECONCILE_SOURCES: JSON.stringify([SOURCE]),
  ALARM_SETTINGS: JSON.stringify({
    'db-cpu': { insufficientData: 'resolve' },
    'queue-age': { insufficientData: 'trigger' },
  }),
  // No grace: a sweep may page an alarm whose notification is still in flight; the ledger must keep it to one page.
  RECONCILE_MISSED_GRACE_SECONDS: '0',
  MAX_CLOCK_SKEW_SECONDS: '0',
};

const step = fc.record({
  alarm: fc.nat(NAMES.length - 1),
  kind: fc.constantFrom('change', 'change', 'change', 'change', 'delete'),
  target: fc.nat(1),
  copies: fc.integer({ min: 0, max: 3 }),
  forged: fc.boolean(),
  delayMs: fc.integer({ min: 0, max: 2_000 }),
  gapMs: fc.integer({ min: 1, max: 3_000 }),
  sweepAfter: fc.boolean(),
});

function deleteEvent(fake: CloudWatchFake, name: string, atMs: number): unknown {
  return {
    version: '0',
    id: `delete-${name}-${atMs}`,
    'detail-type': 'CloudWatch Alarm Configuration Change',
    source: 'aws.cloudwatch',
    account: fake.accountId,
    time: new Date(atMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: fake.region,
    resources: [fake.arnOf(name)],
    detail: { alarmName: name, operation: 'delete', state: { value: 'ALARM' } },
  };
}

describe('the loss property', () => {
  it('after a final sweep PagerDuty equals CloudWatch for every alarm, and each ALARM (or trigger-policy INSUFFICIENT_DATA) change opens one incident at most', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(step, { minLength: 1, maxLength: 12 }), async (s, steps) => {
        const pipeline = inProcessDeps(ENV, T0);
        // Every read of the clock is a millisecond later: no two events share a time.
        const now = () => ++pipeline.clock.now;
        const cloudWatch = new CloudWatchFake(now);
        const tick = () => s.schedule(Promise.resolve());
        const ledger = pipeline.ledger;
        const scheduled = <K extends 'claim' | 'settle' | 'read' | 'lease' | 'openIncidents'>(name: K) =>
          (async (...args: unknown[]) => {
            await tick();
            return (ledger[name] as (...a: unknown[]) => Promise<unknown>).apply(ledger, args);
          }) as (typeof ledger)[K];
        const deps = {
          ...pipeline.deps,
          now,
          ledger: Object.assign(Object.create(ledger) as typeof ledger, {
            claim: scheduled('claim'),
            settle: scheduled('settle'),
            read: scheduled('read'),
            lease: scheduled('lease'),
            openIncidents: scheduled('openIncidents'),
          }),
          pagerDuty: {
            sendAlert: async (
              routingKey: string,
              event: Parameters<typeof pipeline.pagerDuty.sendAlert>[1],
            ) => {
              await tick();
              const report = await pipeline.pagerDuty.sendAlert(routingKey, event);
              await tick();
              return report;
            },
          },
          sleep: tick,
        };
        const handler = createHandler({ ...TEST_ENV, ...ENV }, { deps });
        const reader = new CloudWatchAlarmReader(cloudWatch as unknown as CloudWatchClient);
        const sweep = () =>
          runScheduledSweep(
            sweepDeps(deps, () => ({
              alarmsInAlarm: async () => (await tick(), reader.alarmsInAlarm()),
              alarmsInInsufficientData: async () => (await tick(), reader.alarmsInInsufficientData()),
              alarmsByName: async (names) => (await tick(), reader.alarmsByName(names)),
              contributorsInAlarm: (name) => reader.contributorsInAlarm(name),
              mutedAlarmNames: () => reader.mutedAlarmNames(),
              tagsOf: (arn) => reader.tagsOf(arn),
            })),
            { deadline: pipeline.clock.now + 600_000 },
          );
        const deliver = (change: FakeChange, forged: boolean, delayMs: number) => {
          const message = metricAlarmMessage({
            alarmName: change.name,
            state: change.state,
            oldState: change.oldState,
            stateChangeMs: change.atMs,
          });
          if (forged) message.StateChangeTime = cloudWatchTime(Date.UTC(2099, 0, 1));
          return handler(snsEvent([message], { timestamp: new Date(change.atMs + delayMs).toISOString() }));
        };

        // The INSUFFICIENT_DATA action on the topic, as addAlarm adds it under a trigger or resolve policy.
        const create = (name: string) =>
          cloudWatch.putMetricAlarm(name, {
            state: 'OK',
            insufficientDataActions: POLICIES[name] === 'ignore' ? [] : [FAKE_TOPIC],
          });
        for (const name of NAMES) create(name);
        // Changes into a state that opens an incident: at most one incident each.
        const alarmChanges = new Map<string, number>(NAMES.map((n) => [cloudWatch.arnOf(n), 0]));
        const inFlight: Promise<unknown>[] = [];
        const later = (work: () => Promise<unknown>) =>
          inFlight.push((async () => (await tick(), work()))().catch(() => undefined));
        const driver = (async () => {
          for (const st of steps) {
            await tick();
            pipeline.clock.now += st.gapMs;
            const name = NAMES[st.alarm]!;
            const alarm = cloudWatch.alarms.get(name);
            if (!alarm) {
              create(name); // re-created
            } else if (st.kind === 'delete') {
              cloudWatch.deleteAlarm(name);
              const event = deleteEvent(cloudWatch, name, now());
              for (let i = 0; i < st.copies; i++) later(() => handler(event));
            } else {
              const next = STATES.filter(
                (state) =>
                  state !== alarm.state && (state !== 'INSUFFICIENT_DATA' || POLICIES[name] !== 'ignore'),
              );
              const change = cloudWatch.setState(name, next[st.target % next.length]!)!;
              if (opens(name, change.state) && !opens(name, change.oldState)) {
                alarmChanges.set(change.arn, alarmChanges.get(change.arn)! + 1);
              }
              for (let i = 0; i < st.copies; i++)
                later(() => deliver(change, st.forged && i === 0, st.delayMs));
            }
            if (st.sweepAfter) later(sweep);
          }
        })();
        await s.waitFor(driver);
        await s.waitFor(Promise.all(inFlight));
        pipeline.clock.now += 600_000; // every lease has ended
        await s.waitFor(sweep());

        for (const name of NAMES) {
          const arn = cloudWatch.arnOf(name);
          expect({ name, open: pipeline.pagerDuty.isOpen(arn) }).toEqual({
            name,
            open: opens(name, cloudWatch.alarms.get(name)?.state),
          });
          let open = false;
          let opened = 0;
          for (const { event } of pipeline.pagerDuty.landed.filter((l) => l.event.dedup_key === arn)) {
            if (event.event_action === 'trigger' && !open) opened++;
            open = event.event_action === 'trigger';
          }
          expect({ name, opened }).toEqual({ name, opened: Math.min(opened, alarmChanges.get(arn)!) });
        }
      }),
      { numRuns: 200, seed: 20261206 },
    );
  });
});
