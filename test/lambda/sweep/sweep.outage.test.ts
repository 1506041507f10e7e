// A PagerDuty outage during a sweep: after the first send that says PagerDuty cannot take events (429, 5xx, no
// answer), the sweep claims and sends nothing more, leaves the ledger without a held lease, says it is incomplete,
// and the next sweep after the outage does the work. One bad event (400) does not stop it.
import { PagerDutyClient, type AttemptOutcome } from '../../../lambda/pagerduty/client';
import { sweepRig } from '../../support/sweep';

const ARN = (name: string) => `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`;
const PENDING = 500;

const ANSWERS: Record<string, AttemptOutcome> = {
  '503': { ok: false, failure: { kind: 'status', status: 503, responseText: '{"status":"unavailable"}' } },
  '429': { ok: false, failure: { kind: 'status', status: 429, responseText: '{"status":"throttle"}' } },
  'connection reset': { ok: false, failure: { kind: 'connection', detail: 'ECONNRESET: socket hang up' } },
  'response timeout': {
    ok: false,
    failure: { kind: 'timeout', phase: 'response', detail: 'no response within the attempt timeout' },
  },
  '400': { ok: false, failure: { kind: 'status', status: 400, responseText: '{"status":"invalid event"}' } },
};

async function outageSweep(answer: AttemptOutcome) {
  const rig = sweepRig();
  const names = Array.from({ length: PENDING }, (_, i) => `missed-${String(i).padStart(3, '0')}`);
  for (const name of names) rig.cloudWatch.putMetricAlarm(name, { state: 'ALARM' });
  rig.clock.now += 5 * 60_000;
  let requests = 0;
  // The real client (its retries and back-off in the rig's clock) on a transport that answers as PagerDuty down.
  rig.sweepPagerDuty = new PagerDutyClient({
    baseUrl: 'https://events.pagerduty.invalid',
    connectTimeoutMs: 1000,
    responseTimeoutMs: 5000,
    retryBaseDelayMs: 200,
    retryMaxDelayMs: 8000,
    rateLimitPerMinute: 0,
    random: () => 0.99,
    now: () => rig.clock.now,
    sleep: async (ms) => {
      rig.clock.now += ms;
      await Promise.resolve();
    },
    transport: async (_path, _payload, timeoutMs) => {
      requests++;
      if (answer.ok === false && answer.failure.kind === 'timeout') rig.clock.now += timeoutMs;
      return answer;
    },
  });
  const summary = await rig.sweep(rig.clock.now + 5 * 60_000);
  const entries = await Promise.all(names.map((name) => rig.ledger.read(ARN(name))));
  return { rig, names, summary, requests, entries: entries.filter((e) => e !== undefined) };
}

describe('a sweep while PagerDuty is down', () => {
  it.each(['503', '429', 'connection reset', 'response timeout'])(
    'stops after PagerDuty answers %s: at most a few requests, no lease held, incomplete, resumed by the next sweep',
    async (kind) => {
      const { rig, summary, requests, entries } = await outageSweep(ANSWERS[kind]!);
      expect(requests).toBeLessThanOrEqual(4);
      expect(summary).toMatchObject({
        missedNotifications: 0,
        pagerDutyUnavailable: true,
        incomplete: true,
        nextSource: 0,
        errors: 0,
      });
      expect(rig.telemetry.get('SweepPagerDutyUnavailable')).toBe(1);
      expect(rig.telemetry.get('SweepIncomplete')).toBe(1);
      // Only the one correction that was tried holds an item: undelivered, its lease given back (or, for a request
      // that may still land, held only for the grace, then free).
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({ action: 'trigger', delivered: false });
      expect(entries[0]!.sendingUntilMs ?? 0).toBeLessThanOrEqual(rig.clock.now + 5_000);
      expect(rig.pagerDuty.landed).toHaveLength(0);

      // PagerDuty is back: the next sweep pages every alarm, the one tried first among them.
      rig.sweepPagerDuty = undefined;
      rig.clock.now += 5 * 60_000;
      expect(await rig.sweep(rig.clock.now + 5 * 60_000)).toMatchObject({
        missedNotifications: PENDING,
        pagerDutyUnavailable: false,
        incomplete: false,
      });
      expect(new Set(rig.pagerDuty.landed.map((l) => l.event.dedup_key)).size).toBe(PENDING);
    },
  );

  it('goes on after a 400: one bad event says nothing about PagerDuty', async () => {
    const { rig, summary, requests } = await outageSweep(ANSWERS['400']!);
    expect(requests).toBe(PENDING);
    expect(summary).toMatchObject({ pagerDutyUnavailable: false, errors: PENDING, incomplete: false });
    expect(rig.telemetry.get('SweepPagerDutyUnavailable')).toBe(0);
  });
});
