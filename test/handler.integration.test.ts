import { cloudWatchTime, lambdaContext, metricAlarmMessage, snsEvent } from '../local/alarm-fixtures';
import { newRoutingKey, startPipeline, type LocalPipeline, motoStores } from '../local/harness';
import { describeWithMoto, startMoto } from '../local/moto';
import { PagerDutyEmulator } from '../local/pagerduty-emulator';
import { captureStdout, metricTotal } from './support/output';

const T0 = Date.parse('2026-11-23T02:45:55.640Z');
const ARN = 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-api-5xx';

describeWithMoto('handler against moto_server and the PagerDuty emulator', () => {
  let moto: { endpoint: string; stop(): Promise<void> };
  let emulator: PagerDutyEmulator;
  let pipeline: LocalPipeline;
  let output: ReturnType<typeof captureStdout>;
  const defaultKey = newRoutingKey();

  beforeAll(async () => {
    moto = await startMoto();
    emulator = await PagerDutyEmulator.start();
  });
  afterAll(async () => {
    await emulator?.stop();
    await moto?.stop();
  });
  beforeEach(async () => {
    emulator.reset();
    pipeline = await startPipeline({
      stores: motoStores(moto.endpoint),
      pagerDutyUrl: emulator.url,
      routingKeys: { default: defaultKey },
    });
    output = captureStdout();
  });
  afterEach(() => {
    output.restore();
    // Whatever happened in the test, the key must not have reached a log or metric line.
    expect(output.text()).not.toContain(defaultKey);
  });

  const alarm = (state: 'ALARM' | 'OK' | 'INSUFFICIENT_DATA', offsetMs: number, extra = {}) =>
    metricAlarmMessage({ state, stateChangeMs: T0 + offsetMs, ...extra });

  it('opens an incident on ALARM and resolves it on OK, keeping the ledger item', async () => {
    await pipeline.handler(snsEvent([alarm('ALARM', 0)]), lambdaContext());
    expect(emulator.incidents({ dedupKey: ARN })).toEqual([
      expect.objectContaining({ routingKey: defaultKey, status: 'triggered', alertCount: 1 }),
    ]);
    const trigger = emulator.accepted[0] as {
      payload: { summary: string; severity: string; timestamp: string };
    };
    expect(trigger.payload.severity).toBe('critical');
    expect(trigger.payload.summary).toContain('checkout-api-5xx');
    expect(Date.parse(trigger.payload.timestamp)).toBe(T0);
    expect(await pipeline.readLedger(ARN)).toMatchObject({
      action: 'trigger',
      delivered: true,
      stateChangeMs: T0,
      route: 'default',
    });

    await pipeline.handler(snsEvent([alarm('OK', 60_000)]), lambdaContext());
    expect(emulator.incidents({ dedupKey: ARN })).toEqual([expect.objectContaining({ status: 'resolved' })]);
    const item = await pipeline.readLedger(ARN);
    expect(item).toMatchObject({ action: 'resolve', delivered: true, stateChangeMs: T0 + 60_000 });
    // TTL is refreshed on each write and lies weeks ahead.
    expect(item!.expiresAt).toBeGreaterThan(Date.now() / 1000 + 80 * 86400);
    expect(metricTotal(output.lines(), 'EventsSent')).toBe(2);
    expect(metricTotal(output.lines(), 'EventsSent', 'resolve')).toBe(1);
  });

  it('pages once when the same ALARM is delivered twice', async () => {
    const event = snsEvent([alarm('ALARM', 0)]);
    await pipeline.handler(event, lambdaContext());
    await pipeline.handler(event, lambdaContext());
    expect(emulator.requests.filter((r) => r.path === '/v2/enqueue')).toHaveLength(1);
    expect(emulator.incidents({ dedupKey: ARN })).toHaveLength(1);
    expect(metricTotal(output.lines(), 'DuplicatesSkipped')).toBe(1);
    expect(output.lines()).toContainEqual(
      expect.objectContaining({ message: expect.stringMatching(/already delivered/), dedupKey: ARN }),
    );
  });

  it('ignores an older notification that arrives after a newer one', async () => {
    await pipeline.handler(snsEvent([alarm('OK', 60_000)]), lambdaContext());
    await pipeline.handler(snsEvent([alarm('ALARM', 0)]), lambdaContext());
    // The stale trigger is not sent; the newest state (resolve) is re-sent in case the trigger was our own
    // request landing late.
    expect(emulator.accepted.map((e) => (e as { event_action: string }).event_action)).toEqual([
      'resolve',
      'resolve',
    ]);
    expect(emulator.openIncidents({ dedupKey: ARN })).toHaveLength(0);
    expect(metricTotal(output.lines(), 'StaleSkipped')).toBe(1);
  });

  it('gives the same-named alarm in two regions two dedup keys and two incidents', async () => {
    await pipeline.handler(
      snsEvent([alarm('ALARM', 0), alarm('ALARM', 0, { regionCode: 'eu-west-1' })]),
      lambdaContext(),
    );
    const keys = emulator.accepted.map((e) => (e as { dedup_key: string }).dedup_key).sort();
    expect(keys).toEqual([ARN, ARN.replace('us-east-1', 'eu-west-1')].sort());
    expect(emulator.openIncidents()).toHaveLength(2);
  });

  it('sends nothing for INSUFFICIENT_DATA by default, and says so', async () => {
    await pipeline.handler(snsEvent([alarm('INSUFFICIENT_DATA', 0)]), lambdaContext());
    expect(emulator.requests).toHaveLength(0);
    expect(metricTotal(output.lines(), 'PolicySkipped')).toBe(1);
  });

  it('retries a notification that was recorded but not delivered', async () => {
    emulator.failAlways({ status: 503 });
    const event = snsEvent([alarm('ALARM', 0)]);
    // 2.5 s past the 5 s margin: the claim must leave time for at least one attempt, or there is no 503 to report.
    await expect(pipeline.handler(event, lambdaContext(7500))).rejects.toThrow(/not delivered.*HTTP 503/s);
    expect(await pipeline.readLedger(ARN)).toMatchObject({ action: 'trigger', delivered: false });
    expect(emulator.incidents({ dedupKey: ARN })).toHaveLength(0);

    emulator.clearFaults();
    await pipeline.handler(event, lambdaContext());
    expect(emulator.openIncidents({ dedupKey: ARN })).toHaveLength(1);
    expect(await pipeline.readLedger(ARN)).toMatchObject({ delivered: true });
  });

  it('still pages when DynamoDB is unreachable, and counts it', async () => {
    const broken = await startPipeline({
      stores: motoStores(moto.endpoint),
      pagerDutyUrl: emulator.url,
      routingKeys: { default: defaultKey },
      env: { AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9' },
    });
    await broken.handler(snsEvent([alarm('ALARM', 0)]), lambdaContext());
    expect(emulator.openIncidents({ dedupKey: ARN })).toHaveLength(1);
    expect(metricTotal(output.lines(), 'LedgerUnavailable')).toBe(1);
    expect(output.lines()).toContainEqual(expect.objectContaining({ level: 'WARN', dedupKey: ARN }));
  });

  it('turns a console test publish into a readable trigger', async () => {
    await pipeline.handler(
      snsEvent(['Hello from the SNS console'], { subject: 'Test publish' }),
      lambdaContext(),
    );
    expect(emulator.accepted).toHaveLength(1);
    const event = emulator.accepted[0] as {
      payload: { summary: string; custom_details: Record<string, unknown> };
    };
    expect(event.payload.summary).toMatch(/Test publish|Hello from the SNS console/);
    expect(JSON.stringify(event.payload.custom_details)).toContain('Hello from the SNS console');
  });

  it('throws with PagerDuty’s reason on a 400 and does not retry inside the invocation', async () => {
    emulator.failNext(1, { status: 400 });
    await expect(pipeline.handler(snsEvent([alarm('ALARM', 0)]), lambdaContext())).rejects.toThrow(
      /HTTP 400/,
    );
    expect(emulator.requests).toHaveLength(1);
  });

  it('sends the resolve to the route that got the trigger, even after the alarm’s route changed', async () => {
    const paymentsKey = newRoutingKey();
    const routed = await startPipeline({
      stores: motoStores(moto.endpoint),
      pagerDutyUrl: emulator.url,
      routingKeys: { default: defaultKey, payments: paymentsKey },
    });
    const onPayments = { tags: { 'pagerduty:route': 'payments' } };
    await routed.handler(snsEvent([alarm('ALARM', 0)]), lambdaContext());
    // The route tag changes while the incident is open: a repeated ALARM joins it, the OK resolves it.
    await routed.handler(snsEvent([alarm('ALARM', 30_000, onPayments)]), lambdaContext());
    await routed.handler(snsEvent([alarm('OK', 60_000, onPayments)]), lambdaContext());
    expect(emulator.incidents({ dedupKey: ARN })).toEqual([
      expect.objectContaining({ routingKey: defaultKey, status: 'resolved', alertCount: 2 }),
    ]);
    expect(emulator.incidents({ routingKey: paymentsKey })).toHaveLength(0);
    // Once closed, the next incident opens on the configured route.
    await routed.handler(snsEvent([alarm('ALARM', 90_000, onPayments)]), lambdaContext());
    expect(emulator.openIncidents({ dedupKey: ARN })).toEqual([
      expect.objectContaining({ routingKey: paymentsKey }),
    ]);
    expect(output.text()).not.toContain(paymentsKey);
  });

  it('a newer state waits while an older send is in flight, so PagerDuty receives them in order', async () => {
    // The ALARM's trigger is held on the wire; the OK, delivered meanwhile, waits for the alarm's lease.
    const hold = emulator.holdNext(1);
    const alarmDelivery = pipeline.handler(snsEvent([alarm('ALARM', 0)]), lambdaContext());
    await hold.arrived;
    const okDelivery = pipeline.newHandler()(snsEvent([alarm('OK', 60_000)]), lambdaContext());
    await new Promise((r) => setTimeout(r, 300));
    expect(emulator.accepted).toHaveLength(0);
    hold.release();
    await Promise.all([alarmDelivery, okDelivery]);
    expect(emulator.accepted.map((e) => e.event_action)).toEqual(['trigger', 'resolve']);
    expect(emulator.openIncidents({ dedupKey: ARN })).toHaveLength(0);
    expect(metricTotal(output.lines(), 'LeaseWaits')).toBe(1);
    expect(metricTotal(output.lines(), 'Compensations')).toBe(0);
    expect(await pipeline.readLedger(ARN)).toMatchObject({ action: 'resolve', delivered: true });
  });

  describe('a trigger that timed out but reaches PagerDuty late, after the newer resolve', () => {
    const budget = (ms: number) => lambdaContext(ms);
    // PagerDuty ingests the trigger 2 s after it arrives. The invocation's budget (less the 2 s margin) is 30 ms
    // longer than one attempt's timeout, too little for a second attempt: the sender gives up after the first.
    const lateTrigger = async (handler: LocalPipeline['handler'], attemptTimeoutMs: number) => {
      emulator.failNext(1, { delayMs: 2000 });
      return handler(snsEvent([alarm('ALARM', 0)]), budget(2000 + attemptTimeoutMs + 30)).then(
        () => 'resolved',
        (error: unknown) => String(error),
      );
    };
    const ingested = async (count: number) => {
      for (let i = 0; i < 200 && emulator.accepted.length < count; i++)
        await new Promise((r) => setTimeout(r, 25));
    };

    it('a newer state waits out the grace, and the retry of the trigger (stale by then) keeps the resolve', async () => {
      const slow = await startPipeline({
        stores: motoStores(moto.endpoint),
        pagerDutyUrl: emulator.url,
        routingKeys: { default: defaultKey },
        env: { HTTP_RESPONSE_TIMEOUT_MS: '200', TIME_BUDGET_MARGIN_MS: '2000' },
      });
      const outcome = await lateTrigger(slow.handler, 200);
      expect(outcome).toMatch(/DeliveryBudgetExhaustedError/);
      // The OK comes while the trigger may still land: it waits out the grace, so the trigger cannot overtake it.
      await slow.handler(snsEvent([alarm('OK', 60_000)]), lambdaContext());
      await ingested(2);
      expect(emulator.accepted.map((e) => e.event_action)).toEqual(['trigger', 'resolve']);
      expect(emulator.openIncidents({ dedupKey: ARN })).toHaveLength(0);
      // Lambda retries the failed ALARM: stale now, it re-sends the alarm's newest state, which PagerDuty is in.
      await slow.handler(snsEvent([alarm('ALARM', 0)]), lambdaContext());
      expect(emulator.openIncidents({ dedupKey: ARN })).toHaveLength(0);
    });

    it('a newer trigger waits out the grace of a resolve that timed out, and opens the next incident after it', async () => {
      const slow = await startPipeline({
        stores: motoStores(moto.endpoint),
        pagerDutyUrl: emulator.url,
        routingKeys: { default: defaultKey },
        env: { HTTP_RESPONSE_TIMEOUT_MS: '200', TIME_BUDGET_MARGIN_MS: '2000' },
      });
      await slow.handler(snsEvent([alarm('ALARM', 0)]), lambdaContext());
      emulator.failNext(1, { delayMs: 2000 });
      const okEvent = snsEvent([alarm('OK', 60_000)]);
      await expect(slow.handler(okEvent, budget(2230))).rejects.toThrow(/DeliveryBudgetExhaustedError/);
      // The alarm fires again while the resolve may still land: its trigger waits until the grace is over.
      await slow.handler(snsEvent([alarm('ALARM', 120_000)]), lambdaContext());
      await ingested(3);
      expect(emulator.accepted.map((e) => e.event_action)).toEqual(['trigger', 'resolve', 'trigger']);
      expect(emulator.openIncidents({ dedupKey: ARN })).toHaveLength(1);
      // Lambda retries the OK: stale now; it re-sends the newest state, which PagerDuty is already in.
      await slow.handler(okEvent, lambdaContext());
      expect(emulator.openIncidents({ dedupKey: ARN })).toHaveLength(1);
    });

    it('a newer state waits out the grace of a trigger that timed out, and lands after it', async () => {
      const slow = await startPipeline({
        stores: motoStores(moto.endpoint),
        pagerDutyUrl: emulator.url,
        routingKeys: { default: defaultKey },
        env: { HTTP_RESPONSE_TIMEOUT_MS: '900', TIME_BUDGET_MARGIN_MS: '2000' },
      });
      const failing = lateTrigger(slow.handler, 900);
      // The OK is delivered while the trigger's request is in flight: it waits for the lease.
      for (let i = 0; i < 400 && emulator.requests.length === 0; i++)
        await new Promise((r) => setTimeout(r, 5));
      await slow.newHandler()(snsEvent([alarm('OK', 60_000)]), lambdaContext());
      expect(await failing).toMatch(/DeliveryBudgetExhaustedError/);
      expect(emulator.accepted.map((e) => e.event_action)).toEqual(['trigger', 'resolve']);
      expect(emulator.openIncidents({ dedupKey: ARN })).toHaveLength(0);
      expect(await slow.readLedger(ARN)).toMatchObject({ needsResend: false, delivered: true });
    });
  });

  it('writes CloudWatch’s timestamp format into the ledger as given', async () => {
    await pipeline.handler(snsEvent([alarm('ALARM', 0)]), lambdaContext());
    expect(cloudWatchTime(T0)).toBe('2026-11-23T02:45:55.640+0000');
    expect((await pipeline.readLedger(ARN))?.stateChangeMs).toBe(T0);
  });
});
