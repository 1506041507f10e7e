// A PagerDuty outage during a sweep: after the first send that says PagerDuty cannot take events (5xx, no answer),
// the sweep claims and sends nothing more, leaves the ledger without a held lease, says it is incomplete, and the
// next sweep after the outage does the work. A 429 (or no client-side slot) stops only its routing key's
// corrections, since PagerDuty's limit is per key: the other routes' go on. One bad event (400) stops nothing.
import { PagerDutyClient, type AttemptOutcome } from '../../../lambda/pagerduty/client';
import { ROUTING_KEYS } from '../../support/in-process';
import { sweepRig, type SweepRig } from '../../support/sweep';

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

/** Requests the client made, per routing key, and the events PagerDuty accepted. */
interface Traffic {
  readonly requests: Map<string, number>;
  readonly accepted: { routingKey: string; dedupKey: string; action: string }[];
}

/**
 * The real client (its retries, back-off and limiter in the rig's clock) for the rig's sweeps, on a transport that
 * answers each routing key as `answerFor` says.
 */
function clientOn(
  rig: SweepRig,
  answerFor: (routingKey: string) => AttemptOutcome,
  rateLimitPerMinute = 0,
): Traffic {
  const traffic: Traffic = { requests: new Map(), accepted: [] };
  rig.sweepPagerDuty = new PagerDutyClient({
    baseUrl: 'https://events.pagerduty.invalid',
    connectTimeoutMs: 1000,
    responseTimeoutMs: 5000,
    retryBaseDelayMs: 200,
    retryMaxDelayMs: 8000,
    rateLimitPerMinute,
    random: () => 0.99,
    now: () => rig.clock.now,
    sleep: async (ms) => {
      rig.clock.now += ms;
      await Promise.resolve();
    },
    transport: async (_path, payload, timeoutMs) => {
      const event = JSON.parse(payload) as { routing_key: string; dedup_key: string; event_action: string };
      const key = event.routing_key;
      traffic.requests.set(key, (traffic.requests.get(key) ?? 0) + 1);
      const answer = answerFor(key);
      if (answer.ok)
        traffic.accepted.push({ routingKey: key, dedupKey: event.dedup_key, action: event.event_action });
      if (answer.ok === false && answer.failure.kind === 'timeout') rig.clock.now += timeoutMs;
      return answer;
    },
  });
  return traffic;
}

const requestsIn = (traffic: Traffic) => [...traffic.requests.values()].reduce((sum, n) => sum + n, 0);

async function outageSweep(answer: AttemptOutcome) {
  const rig = sweepRig();
  const names = Array.from({ length: PENDING }, (_, i) => `missed-${String(i).padStart(3, '0')}`);
  for (const name of names) rig.cloudWatch.putMetricAlarm(name, { state: 'ALARM' });
  rig.clock.now += 5 * 60_000;
  const traffic = clientOn(rig, () => answer);
  const summary = await rig.sweep(rig.clock.now + 5 * 60_000);
  const requests = requestsIn(traffic);
  const entries = await Promise.all(names.map((name) => rig.ledger.read(ARN(name))));
  return { rig, names, summary, requests, entries: entries.filter((e) => e !== undefined) };
}

describe('a sweep while PagerDuty is down', () => {
  it.each([
    ['503', true],
    ['429', false],
    ['connection reset', true],
    ['response timeout', true],
  ])(
    'stops after PagerDuty answers %s: at most a few requests, no lease held, incomplete, resumed by the next sweep',
    async (kind, unavailable) => {
      const { rig, summary, requests, entries } = await outageSweep(ANSWERS[kind]!);
      expect(requests).toBeLessThanOrEqual(4);
      // One route: a 429 stops its routing key, which is every correction there is.
      expect(summary).toMatchObject({
        missedNotifications: 0,
        pagerDutyUnavailable: unavailable,
        throttledRoutes: unavailable ? 0 : 1,
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

// Route A is the default route (alarms without a route tag), route B `payments` (tagged); each has its own key.
const A = ROUTING_KEYS.default!;
const B = ROUTING_KEYS.payments!;
const ACCEPT: AttemptOutcome = { ok: true, status: 202 };
const pad = (i: number) => String(i).padStart(3, '0');

/**
 * Per route, `open` incidents whose OK was lost (resolves due) and `missed` alarms in ALARM never paged (pages due),
 * the routes' names interleaved so that their corrections alternate. Answers the dedup keys due per routing key.
 */
async function twoRoutes(open: number, missed: number) {
  const rig = sweepRig();
  const due: Record<string, string[]> = { [A]: [], [B]: [] };
  const tagsOf = (i: number): Record<string, string> =>
    i % 2 === 0 ? {} : { 'pagerduty:route': 'payments' };
  for (let i = 0; i < 2 * open; i++) {
    rig.cloudWatch.putMetricAlarm(`open-${pad(i)}`, { state: 'OK', tags: tagsOf(i) });
    await rig.deliver(rig.cloudWatch.setState(`open-${pad(i)}`, 'ALARM'));
    rig.cloudWatch.setState(`open-${pad(i)}`, 'OK'); // lost
    due[i % 2 === 0 ? A : B]!.push(ARN(`open-${pad(i)}`));
  }
  for (let i = 0; i < 2 * missed; i++) {
    rig.cloudWatch.putMetricAlarm(`missed-${pad(i)}`, { state: 'ALARM', tags: tagsOf(i) });
    due[i % 2 === 0 ? A : B]!.push(ARN(`missed-${pad(i)}`));
  }
  // The incidents opened on their own routes' keys.
  expect(rig.pagerDuty.landed.map((l) => l.routingKey)).toEqual(
    Array.from({ length: 2 * open }, (_, i) => (i % 2 === 0 ? A : B)),
  );
  rig.clock.now += 5 * 60_000;
  return { rig, due };
}

/** The next sweep, PagerDuty answering every key: the dedup keys it sent. */
async function nextSweep(rig: SweepRig) {
  rig.sweepPagerDuty = undefined;
  rig.clock.now += 5 * 60_000;
  const before = rig.pagerDuty.landed.length;
  const summary = await rig.sweep(rig.clock.now + 5 * 60_000);
  return { summary, sent: rig.pagerDuty.landed.slice(before).map((l) => l.event.dedup_key) };
}

describe('a sweep while PagerDuty throttles one routing key of two', () => {
  it("stops only that key's corrections after its 429: the other route's all land, the rest the next sweep", async () => {
    const { rig, due } = await twoRoutes(10, 40);
    const itemsBefore = await Promise.all(due[A]!.map((key) => rig.ledger.read(key)));
    const traffic = clientOn(rig, (key) => (key === A ? ANSWERS['429']! : ACCEPT));
    const summary = await rig.sweep(rig.clock.now + 5 * 60_000);

    expect(traffic.accepted.map((e) => e.dedupKey).sort()).toEqual([...due[B]!].sort());
    expect(traffic.accepted.every((e) => e.routingKey === B)).toBe(true);
    expect(traffic.requests.get(A)).toBeLessThanOrEqual(2);
    expect(summary).toMatchObject({
      resolvedOk: 10,
      missedNotifications: 40,
      throttledRoutes: 1,
      pagerDutyUnavailable: false,
      incomplete: true,
      nextSource: 0,
      errors: 0,
    });
    expect(rig.telemetry.get('SweepPagerDutyUnavailable')).toBe(1);
    expect(rig.telemetry.get('SweepIncomplete')).toBe(1);
    // Route A: only what was tried was claimed, and no lease is held; the rest is as it was before the sweep.
    const itemsAfter = await Promise.all(due[A]!.map((key) => rig.ledger.read(key)));
    const changed = itemsAfter.filter((item, i) => JSON.stringify(item) !== JSON.stringify(itemsBefore[i]));
    expect(changed.length).toBeLessThanOrEqual(traffic.requests.get(A)!);
    for (const item of itemsAfter) expect(item?.sendingUntilMs ?? 0).toBeLessThanOrEqual(rig.clock.now);

    const next = await nextSweep(rig);
    expect(next.summary).toMatchObject({ resolvedOk: 10, missedNotifications: 40, incomplete: false });
    expect(next.sent.sort()).toEqual([...due[A]!].sort());
    for (const key of due[A]!) expect(rig.pagerDuty.isOpen(key)).toBe(key.includes(':missed-'));
  });

  it('stops every route after a 503 on one: PagerDuty itself is failing', async () => {
    const { rig, due } = await twoRoutes(5, 20);
    const traffic = clientOn(rig, (key) => (key === A ? ANSWERS['503']! : ACCEPT));
    const summary = await rig.sweep(rig.clock.now + 5 * 60_000);

    // The first correction is route A's (open-000): after it, nothing is sent to B either.
    expect(traffic.accepted).toEqual([]);
    expect(requestsIn(traffic)).toBeLessThanOrEqual(4);
    expect(summary).toMatchObject({
      pagerDutyUnavailable: true,
      throttledRoutes: 0,
      incomplete: true,
      nextSource: 0,
      errors: 0,
    });
    expect(rig.telemetry.get('SweepPagerDutyUnavailable')).toBe(1);

    const next = await nextSweep(rig);
    expect(next.summary).toMatchObject({ resolvedOk: 10, missedNotifications: 40, incomplete: false });
    expect(next.sent.sort()).toEqual([...due[A]!, ...due[B]!].sort());
  });

  it("gives back, unsent, a correction claimed for a route throttled meanwhile (its item's route changed after the check)", async () => {
    const rig = sweepRig();
    // a-000 (route default, key A) comes first and is throttled; b-000 is configured for payments (key B).
    rig.cloudWatch.putMetricAlarm('a-000', { state: 'ALARM' });
    rig.cloudWatch.putMetricAlarm('b-000', { state: 'ALARM', tags: { 'pagerduty:route': 'payments' } });
    rig.clock.now += 5 * 60_000;
    // Between the sweep's route check for b-000 (no item yet: payments, not throttled) and its claim, an older
    // notification of b-000 opens its incident on the default route: the claim then sends to key A.
    const claim = rig.ledger.claim.bind(rig.ledger);
    let raced = false;
    rig.ledger.claim = async (next, nowMs, leaseUntilMs) => {
      if (!raced && next.dedupKey === ARN('b-000')) {
        raced = true;
        const older = { ...next, stateChangeMs: next.stateChangeMs - 60_000, route: 'default' };
        await claim(older, nowMs, nowMs);
      }
      return claim(next, nowMs, leaseUntilMs);
    };
    const traffic = clientOn(rig, (key) => (key === A ? ANSWERS['429']! : ACCEPT));
    const summary = await rig.sweep(rig.clock.now + 5 * 60_000);

    expect(raced).toBe(true);
    // One request: a-000's 429. b-000's correction was claimed for key A, and given back without a request.
    expect(traffic.requests.get(A)).toBe(1);
    expect(traffic.requests.get(B)).toBeUndefined();
    expect(summary).toMatchObject({ throttledRoutes: 1, incomplete: true, errors: 0 });
    const item = await rig.ledger.read(ARN('b-000'));
    expect(item).toMatchObject({ action: 'trigger', delivered: false, openRoute: 'default' });
    expect(item!.sendingUntilMs ?? 0).toBeLessThanOrEqual(rig.clock.now);

    const next = await nextSweep(rig);
    expect(next.sent.sort()).toEqual([ARN('a-000'), ARN('b-000')]);
    expect(rig.pagerDuty.landed.find((l) => l.event.dedup_key === ARN('b-000'))?.routingKey).toBe(A);
  });

  it('stops only the key whose client-side limit has no slot left before the deadline', async () => {
    const rig = sweepRig();
    // Route A's alarms sort first, so its corrections come first.
    for (let i = 0; i < 8; i++) rig.cloudWatch.putMetricAlarm(`a-${pad(i)}`, { state: 'ALARM' });
    for (let i = 0; i < 3; i++) {
      rig.cloudWatch.putMetricAlarm(`b-${pad(i)}`, {
        state: 'ALARM',
        tags: { 'pagerduty:route': 'payments' },
      });
    }
    rig.clock.now += 5 * 60_000;
    const traffic = clientOn(rig, () => ACCEPT, 3);
    // 30 s left: a fourth slot for a key is 60 s away.
    const summary = await rig.sweep(rig.clock.now + 30_000);

    const sentTo = (key: string) =>
      traffic.accepted.filter((e) => e.routingKey === key).map((e) => e.dedupKey);
    expect(sentTo(A)).toEqual([0, 1, 2].map((i) => ARN(`a-${pad(i)}`)));
    expect(sentTo(B)).toEqual([0, 1, 2].map((i) => ARN(`b-${pad(i)}`)));
    expect(summary).toMatchObject({
      missedNotifications: 6,
      throttledRoutes: 1,
      pagerDutyUnavailable: false,
      incomplete: true,
      nextSource: 0,
    });
    // The fourth of A was claimed, found no slot and gave its lease back at once; the others were not claimed.
    const items = await Promise.all([3, 4, 5, 6, 7].map((i) => rig.ledger.read(ARN(`a-${pad(i)}`))));
    expect(items[0]).toMatchObject({ action: 'trigger', delivered: false });
    expect(items[0]!.sendingUntilMs ?? 0).toBeLessThanOrEqual(rig.clock.now);
    expect(items.slice(1)).toEqual([undefined, undefined, undefined, undefined]);
  });
});
