// The ordering protocol's edge cases, step by step in one process: the in-memory ledger (held to the DynamoDB
// ledger by test/lambda/pipeline/ledger.contract.test.ts) and a scripted PagerDuty whose requests land when the script says.
import { metricAlarmMessage, snsEvent } from '../../../local/alarm-fixtures';
import { DEFAULT_LEASE_GRACE_MS } from '../../../lambda/pipeline/deliver';
import { createHandler } from '../../../lambda/handler';
import { inProcessDeps, TEST_ENV } from '../../support/in-process';

const T0 = Date.UTC(2026, 10, 29, 11);
const ARN = 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-api-5xx';

function setup() {
  const pipeline = inProcessDeps({}, T0 + 3_600_000);
  const handler = createHandler(TEST_ENV, { deps: pipeline.deps });
  const notify = (state: 'ALARM' | 'OK', offsetMs: number) =>
    handler(
      snsEvent([metricAlarmMessage({ state, stateChangeMs: T0 + offsetMs })], {
        timestamp: new Date(T0 + offsetMs + 500).toISOString(),
      }),
    );
  return { ...pipeline, handler, notify };
}

describe('ordering protocol, in process', () => {
  it('pages once for a duplicate; a stale notification re-sends the newest state instead of its own', async () => {
    const { notify, pagerDuty, telemetry } = setup();
    await notify('ALARM', 0);
    await notify('ALARM', 0);
    await notify('OK', 60_000);
    // It may be the retry of a send that landed late, so it restores the newest state: never its own action.
    await notify('ALARM', 0);
    expect(pagerDuty.actions()).toEqual(['trigger', 'resolve', 'resolve']);
    expect(pagerDuty.isOpen(ARN)).toBe(false);
    expect(telemetry.get('DuplicatesSkipped')).toBe(1);
    expect(telemetry.get('StaleSkipped')).toBe(1);
  });

  it('late landing: a trigger that timed out reaches PagerDuty after the newer resolve; its retry restores the resolve', async () => {
    const { notify, pagerDuty, ledger } = setup();
    pagerDuty.next({ kind: 'timeout', landsLater: true });
    await expect(notify('ALARM', 0)).rejects.toThrow(/DeliveryBudgetExhaustedError/);
    await notify('OK', 60_000);
    pagerDuty.inFlight.shift()!.land();
    expect(pagerDuty.actions()).toEqual(['resolve', 'trigger']);
    expect(pagerDuty.isOpen(ARN)).toBe(true);
    // Lambda retries the failed ALARM: stale by now, and it puts PagerDuty back in the newest state.
    const outcomes = await notify('ALARM', 0);
    expect(outcomes).toEqual([
      expect.objectContaining({ outcome: 'sent', action: 'resolve', compensations: 1 }),
    ]);
    expect(pagerDuty.isOpen(ARN)).toBe(false);
    expect(await ledger.read(ARN)).toMatchObject({ action: 'resolve', delivered: true, needsResend: false });
  });

  it('a newer change waits while the trigger is in flight, and is sent after it lands: no overtaking', async () => {
    const { notify, pagerDuty, telemetry } = setup();
    pagerDuty.next({ kind: 'hold' });
    const trigger = notify('ALARM', 0);
    await flush();
    const resolve = notify('OK', 60_000);
    await flush();
    expect(pagerDuty.landed).toHaveLength(0);
    expect(telemetry.get('LeaseWaits')).toBe(1);
    pagerDuty.held.shift()!.land();
    await trigger;
    expect(await resolve).toEqual([
      expect.objectContaining({ outcome: 'sent', action: 'resolve', compensations: 0 }),
    ]);
    expect(pagerDuty.actions()).toEqual(['trigger', 'resolve']);
    expect(pagerDuty.isOpen(ARN)).toBe(false);
    expect(telemetry.get('Compensations')).toBe(0);
  });

  it('a newer change waits while the trigger is in flight, even when the trigger fails after it landed', async () => {
    const { notify, pagerDuty, ledger, clock } = setup();
    pagerDuty.next({ kind: 'hold' });
    const trigger = notify('ALARM', 0);
    await flush();
    const resolve = notify('OK', 60_000);
    await flush();
    // The trigger reaches PagerDuty, but its client timed out: as a request sent and never answered may still land,
    // it keeps the lease for the grace (LEASE_GRACE_MS) more, and the resolve follows after that.
    const failedAt = clock.now;
    pagerDuty.held.shift()!.fail(true);
    await expect(trigger).rejects.toThrow(/DeliveryBudgetExhaustedError/);
    await resolve;
    expect(clock.now).toBeGreaterThanOrEqual(failedAt + DEFAULT_LEASE_GRACE_MS);
    expect(pagerDuty.actions()).toEqual(['trigger', 'resolve']);
    expect(pagerDuty.isOpen(ARN)).toBe(false);
    expect(await ledger.read(ARN)).toMatchObject({ action: 'resolve', delivered: true, needsResend: false });
    expect((await ledger.read(ARN))?.sendingUntilMs).toBeUndefined();
  });

  it('a send PagerDuty answered with a refusal gives the lease back at once', async () => {
    const { notify, pagerDuty, clock } = setup();
    pagerDuty.next({ kind: 'reject', status: 400 });
    await expect(notify('ALARM', 0)).rejects.toThrow(/PagerDutyRejectedError/);
    const refusedAt = clock.now;
    await notify('OK', 60_000);
    expect(clock.now).toBe(refusedAt);
    expect(pagerDuty.actions()).toEqual(['resolve']);
  });

  it.each([
    [false, 'gives the lease back at once'],
    [true, 'keeps the lease for the grace: the unanswered attempt may still land'],
  ])('a 429 after an unanswered attempt (%s) %s', async (afterUnanswered) => {
    const { notify, pagerDuty, clock } = setup();
    pagerDuty.next({ kind: 'throttled', afterUnanswered });
    await notify('ALARM', 0).catch(() => undefined);
    const throttledAt = clock.now;
    await notify('OK', 60_000);
    if (afterUnanswered) expect(clock.now).toBeGreaterThanOrEqual(throttledAt + DEFAULT_LEASE_GRACE_MS);
    else expect(clock.now).toBe(throttledAt);
    expect(pagerDuty.actions()).toEqual(['resolve']);
  });

  it('a send accepted after an unanswered attempt keeps the lease for the grace: that attempt may still land', async () => {
    const { notify, pagerDuty, ledger, clock } = setup();
    pagerDuty.next({ kind: 'acceptAfterUnanswered' });
    await notify('ALARM', 0);
    const acceptedAt = clock.now;
    expect(await ledger.read(ARN)).toMatchObject({
      delivered: true,
      sendingUntilMs: acceptedAt + DEFAULT_LEASE_GRACE_MS,
    });
    await notify('OK', 60_000);
    expect(clock.now).toBeGreaterThanOrEqual(acceptedAt + DEFAULT_LEASE_GRACE_MS);
    expect(pagerDuty.actions()).toEqual(['trigger', 'resolve']);
  });

  it('a waiting change does not send without the lease when the ledger fails while it waits', async () => {
    const { notify, pagerDuty, ledger, telemetry } = setup();
    pagerDuty.next({ kind: 'hold' });
    const trigger = notify('ALARM', 0);
    await flush();
    const claim = ledger.claim.bind(ledger);
    let calls = 0;
    ledger.claim = async (...args) => {
      // The OK's first claim answers busy; its second fails, as a throttled or unreachable DynamoDB would.
      if (++calls === 2) throw new Error('ProvisionedThroughputExceededException');
      return claim(...args);
    };
    await expect(notify('OK', 60_000)).rejects.toThrow(/LedgerLeaseBusyError/);
    expect(pagerDuty.landed).toHaveLength(0);
    expect(telemetry.get('LedgerUnavailable')).toBe(0);
    pagerDuty.held.shift()!.land();
    await trigger;
    await notify('OK', 60_000);
    expect(pagerDuty.actions()).toEqual(['trigger', 'resolve']);
  });

  it('a waiting change gives up, retryable, when its time runs out first; its retry is sent', async () => {
    const { notify, pagerDuty } = setup();
    pagerDuty.next({ kind: 'hold' });
    const trigger = notify('ALARM', 0);
    await flush();
    await expect(notify('OK', 60_000)).rejects.toThrow(/LedgerLeaseBusyError/);
    pagerDuty.held.shift()!.land();
    await trigger;
    await notify('OK', 60_000);
    expect(pagerDuty.actions()).toEqual(['trigger', 'resolve']);
  });

  it('the lease of a delivery that crashed runs out, and the next change is sent then', async () => {
    const { notify, pagerDuty, ledger, clock } = setup();
    const crashedAt = clock.now;
    const claim = {
      dedupKey: ARN,
      stateChangeMs: T0,
      stateChangeTime: '2026-11-29T11:00:00.000+0000',
      action: 'trigger' as const,
      route: 'default',
      alarmName: 'checkout-api-5xx',
      futureLimitMs: crashedAt + 60_000,
    };
    await ledger.claim(claim, crashedAt, crashedAt + 10_000);
    await notify('OK', 60_000);
    expect(clock.now).toBeGreaterThanOrEqual(crashedAt + 10_000);
    expect(pagerDuty.actions()).toEqual(['resolve']);
  });

  // The cases below need a lease that ran out while its send was still in flight (a stalled process): a newer
  // change is then sent at once, and the send in flight can overtake it. The compensations put PagerDuty right.
  const LEASE_RAN_OUT_MS = 70_000;

  it('late landing flagged: a send that fails after a newer claim marks it, and the next delivery restores it', async () => {
    const { notify, pagerDuty, ledger, clock } = setup();
    pagerDuty.next({ kind: 'hold' });
    const trigger = notify('ALARM', 0);
    await flush();
    clock.now += LEASE_RAN_OUT_MS;
    await notify('OK', 60_000);
    // The held trigger reaches PagerDuty after the resolve, but its client has timed out: it cannot know.
    pagerDuty.held.shift()!.fail(true);
    await expect(trigger).rejects.toThrow(/DeliveryBudgetExhaustedError/);
    expect(pagerDuty.isOpen(ARN)).toBe(true);
    expect(await ledger.read(ARN)).toMatchObject({ action: 'resolve', needsResend: true });
    // Any next delivery of this alarm, here SNS delivering the OK a second time, restores the newest state.
    await notify('OK', 60_000);
    expect(pagerDuty.actions()).toEqual(['resolve', 'trigger', 'resolve']);
    expect(pagerDuty.isOpen(ARN)).toBe(false);
    expect(await ledger.read(ARN)).toMatchObject({ action: 'resolve', delivered: true, needsResend: false });
  });

  it('overtaking: a newer resolve claimed while the trigger is in flight is re-sent after the trigger lands', async () => {
    const { notify, pagerDuty, telemetry, clock } = setup();
    pagerDuty.next({ kind: 'hold' });
    const trigger = notify('ALARM', 0);
    await flush();
    clock.now += LEASE_RAN_OUT_MS;
    await notify('OK', 60_000);
    pagerDuty.held.shift()!.land();
    const [outcome] = await trigger;
    expect(outcome).toMatchObject({ outcome: 'sent', action: 'trigger', compensations: 1 });
    expect(pagerDuty.actions()).toEqual(['resolve', 'trigger', 'resolve']);
    expect(pagerDuty.isOpen(ARN)).toBe(false);
    expect(telemetry.get('Compensations')).toBe(1);
  });

  it('failed settle: the send is retried, folds into the same incident, and settles', async () => {
    const { notify, pagerDuty, ledger, clock } = setup();
    const settle = ledger.settle.bind(ledger);
    let failures = 1;
    ledger.settle = async (...args) => {
      if (failures-- > 0) throw new Error('ProvisionedThroughputExceededException');
      return settle(...args);
    };
    await expect(notify('ALARM', 0)).rejects.toThrow(/LedgerSettleError/);
    // The send was answered, so the lease was given back: the retry does not wait.
    const retriedAt = clock.now;
    await notify('ALARM', 0);
    expect(clock.now).toBe(retriedAt);
    expect(pagerDuty.actions()).toEqual(['trigger', 'trigger']);
    expect(pagerDuty.isOpen(ARN)).toBe(true);
    expect(await ledger.read(ARN)).toMatchObject({ action: 'trigger', delivered: true });
    await notify('ALARM', 0);
    expect(pagerDuty.actions()).toHaveLength(2);
  });

  it('a failed compensation leaves a mark, and the next notification of any kind re-sends the newest state', async () => {
    const { notify, pagerDuty, ledger, clock } = setup();
    pagerDuty.next({ kind: 'hold' });
    const trigger = notify('ALARM', 0);
    await flush();
    clock.now += LEASE_RAN_OUT_MS;
    await notify('OK', 60_000);
    pagerDuty.next({ kind: 'timeout', landsLater: false });
    pagerDuty.held.shift()!.land();
    await expect(trigger).rejects.toThrow(/DeliveryBudgetExhaustedError/);
    expect(pagerDuty.isOpen(ARN)).toBe(true);
    expect(await ledger.read(ARN)).toMatchObject({ action: 'resolve', needsResend: true });
    await notify('OK', 60_000);
    expect(pagerDuty.isOpen(ARN)).toBe(false);
    expect(await ledger.read(ARN)).toMatchObject({ needsResend: false });
  });

  it('fail-open: with the ledger down, it still pages, and counts it', async () => {
    const { notify, pagerDuty, ledger, telemetry } = setup();
    ledger.claim = async () => {
      throw new Error('connect ECONNREFUSED');
    };
    const [outcome] = await notify('ALARM', 0);
    expect(outcome).toMatchObject({ outcome: 'sent', recorded: false });
    expect(pagerDuty.isOpen(ARN)).toBe(true);
    expect(telemetry.get('LedgerUnavailable')).toBe(1);
  });
});

/** Lets every promise that can run, run: the scripted sends wait on the test, never on a timer. */
async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

describe('metric graphs in the delivery step', () => {
  it('attaches the graphs to a trigger, not to a resolve', async () => {
    const pipeline = inProcessDeps({}, T0 + 3_600_000);
    const asked: string[] = [];
    const handler = createHandler(TEST_ENV, {
      deps: {
        ...pipeline.deps,
        metricGraphs: {
          imagesFor: async (alarm) => {
            asked.push(alarm.alarmName);
            return [{ src: 'https://images.example/graph.png?t=x', alt: `${alarm.alarmName} graph` }];
          },
        },
      },
    });
    const at = (state: 'ALARM' | 'OK', offsetMs: number) =>
      snsEvent([metricAlarmMessage({ state, stateChangeMs: T0 + offsetMs })], {
        timestamp: new Date(T0 + offsetMs + 500).toISOString(),
      });
    await handler(at('ALARM', 0));
    await handler(at('OK', 60_000));
    const [trigger, resolve] = pipeline.pagerDuty.landed.map(({ event }) => event);
    expect(trigger?.images).toEqual([
      { src: 'https://images.example/graph.png?t=x', alt: 'checkout-api-5xx graph' },
    ]);
    expect(resolve?.images).toBeUndefined();
    expect(asked).toEqual(['checkout-api-5xx']);
  });
});
