import type { Context } from 'aws-lambda';
import { cloudWatchTime, lambdaContext, metricAlarmMessage, snsEvent } from '../../local/alarm-fixtures';
import { newRoutingKey, startPipeline, type LocalPipeline } from '../../local/harness';
import { handler } from '../../lambda/handler';
import { PagerDutyEmulator } from '../../local/pagerduty-emulator';
import { captureStdout, metricTotal } from '../support/output';
import { startStores, type TestStores } from '../support/stores';

const T0 = Date.parse('2026-11-23T02:45:55.640Z');
const ARN = 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-api-5xx';
// Time a loaded machine (2 CPUs, several test runs) may take for the ledger calls around the attempts.
const LOADED_MACHINE_SLACK_MS = 3000;

// Against moto_server (CI), or dynalite and the loopback secrets store where moto is not installed.
describe('handler against DynamoDB, Secrets Manager and the PagerDuty emulator', () => {
  let backend: TestStores;
  let emulator: PagerDutyEmulator;
  let pipeline: LocalPipeline;
  let output: ReturnType<typeof captureStdout>;
  const defaultKey = newRoutingKey();

  beforeAll(async () => {
    backend = await startStores();
    emulator = await PagerDutyEmulator.start();
  });
  afterAll(async () => {
    await emulator?.stop();
    await backend?.stop();
  });
  beforeEach(async () => {
    emulator.reset();
    pipeline = await startPipeline({
      stores: backend.stores,
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
    // Each through its own region's topic: CloudWatch notifies only a topic of the alarm's region (decision 15).
    await pipeline.handler(snsEvent([alarm('ALARM', 0)]), lambdaContext());
    await pipeline.handler(
      snsEvent([alarm('ALARM', 0, { regionCode: 'eu-west-1' })], {
        topicArn: 'arn:aws:sns:eu-west-1:123456789012:alarm-to-pagerduty-intake',
      }),
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
    // 5 s past the 5 s margin: the claim must leave time for at least one attempt, or there is no 503 to report.
    await expect(pipeline.handler(event, lambdaContext(10_000))).rejects.toThrow(/not delivered.*HTTP 503/s);
    expect(await pipeline.readLedger(ARN)).toMatchObject({ action: 'trigger', delivered: false });
    expect(emulator.incidents({ dedupKey: ARN })).toHaveLength(0);

    emulator.clearFaults();
    await pipeline.handler(event, lambdaContext());
    expect(emulator.openIncidents({ dedupKey: ARN })).toHaveLength(1);
    expect(await pipeline.readLedger(ARN)).toMatchObject({ delivered: true });
  });

  it('still pages when DynamoDB is unreachable, and counts it', async () => {
    const broken = await startPipeline({
      stores: backend.stores,
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
      stores: backend.stores,
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

  it("pages an alarm on its environment's route (ENVIRONMENT_ROUTES) unless it names a route of its own", async () => {
    const stagingKey = newRoutingKey();
    const routed = await startPipeline({
      stores: backend.stores,
      pagerDutyUrl: emulator.url,
      routingKeys: { default: defaultKey, staging: stagingKey },
      env: { ENVIRONMENT: 'prod', ENVIRONMENT_ROUTES: JSON.stringify({ Staging: 'staging' }) },
    });
    const named = (name: string, tags: Record<string, string>) =>
      alarm('ALARM', 0, { alarmName: name, tags });
    await routed.handler(
      snsEvent([
        named('staging-tagged', { 'pagerduty:environment': 'staging' }),
        named('prod-by-default', {}),
        named('staging-own-route', { 'pagerduty:environment': 'staging', 'pagerduty:route': 'default' }),
      ]),
      lambdaContext(),
    );
    const keyOf = (name: string) =>
      emulator.openIncidents({ dedupKey: ARN.replace('checkout-api-5xx', name) })[0]?.routingKey;
    expect(keyOf('staging-tagged')).toBe(stagingKey);
    expect(keyOf('prod-by-default')).toBe(defaultKey);
    expect(keyOf('staging-own-route')).toBe(defaultKey);
  });

  it('a newer state waits while an older send is in flight, so PagerDuty receives them in order', async () => {
    // The ALARM's trigger is held on the wire; the OK, delivered meanwhile, waits for the alarm's lease.
    const hold = emulator.holdNext(1);
    const alarmDelivery = pipeline.handler(snsEvent([alarm('ALARM', 0)]), lambdaContext());
    await hold.arrived;
    const okDelivery = pipeline.newHandler()(snsEvent([alarm('OK', 60_000)]), lambdaContext());
    // Released once the OK says it waits for the lease, however long a loaded machine takes to get there.
    for (let i = 0; i < 400 && !output.text().includes('Waiting: another delivery'); i++)
      await new Promise((r) => setTimeout(r, 25));
    expect(emulator.accepted).toHaveLength(0);
    hold.release();
    await Promise.all([alarmDelivery, okDelivery]);
    expect(emulator.accepted.map((e) => e.event_action)).toEqual(['trigger', 'resolve']);
    expect(emulator.openIncidents({ dedupKey: ARN })).toHaveLength(0);
    expect(metricTotal(output.lines(), 'LeaseWaits')).toBe(1);
    expect(metricTotal(output.lines(), 'Compensations')).toBe(0);
    expect(await pipeline.readLedger(ARN)).toMatchObject({ action: 'resolve', delivered: true });
  });

  describe('a send that timed out but reaches PagerDuty late', () => {
    // While `late` runs, PagerDuty ingests every request 2 s after it arrives, long after the sender's response
    // timeout: each attempt fails on the client and lands later. The budget (less the 2 s margin) allows three
    // attempts and the ledger calls of a loaded machine; however many were made, all land within 2 s of the failure.
    const late = async (
      handler: LocalPipeline['handler'],
      state: 'ALARM' | 'OK',
      offsetMs: number,
      attemptTimeoutMs: number,
    ): Promise<string> => {
      emulator.failAlways({ delayMs: 2000 });
      try {
        await handler(
          snsEvent([alarm(state, offsetMs)]),
          lambdaContext(2000 + 3 * attemptTimeoutMs + LOADED_MACHINE_SLACK_MS),
        );
        return 'resolved';
      } catch (error) {
        return String(error);
      } finally {
        emulator.clearFaults();
      }
    };
    const allIngested = async () => {
      for (let i = 0; i < 300 && emulator.accepted.length < emulator.requests.length; i++)
        await new Promise((r) => setTimeout(r, 25));
    };
    const slowPipeline = (attemptTimeoutMs: number) =>
      startPipeline({
        stores: backend.stores,
        pagerDutyUrl: emulator.url,
        routingKeys: { default: defaultKey },
        env: { HTTP_RESPONSE_TIMEOUT_MS: String(attemptTimeoutMs), TIME_BUDGET_MARGIN_MS: '2000' },
      });
    const actions = () => emulator.accepted.map((e) => e.event_action).join(',');

    it('a newer state waits out the grace, and the retry of the trigger (stale by then) keeps the resolve', async () => {
      const slow = await slowPipeline(200);
      expect(await late(slow.handler, 'ALARM', 0, 200)).toMatch(/DeliveryBudgetExhaustedError/);
      // The OK comes while the trigger may still land: it waits out the grace, so the trigger cannot overtake it.
      await slow.handler(snsEvent([alarm('OK', 60_000)]), lambdaContext());
      await allIngested();
      expect(actions()).toMatch(/^(trigger,)+resolve$/);
      expect(emulator.openIncidents({ dedupKey: ARN })).toHaveLength(0);
      // Lambda retries the failed ALARM: stale now, it re-sends the alarm's newest state, which PagerDuty is in.
      await slow.handler(snsEvent([alarm('ALARM', 0)]), lambdaContext());
      expect(emulator.openIncidents({ dedupKey: ARN })).toHaveLength(0);
    });

    it('a newer trigger waits out the grace of a resolve that timed out, and opens the next incident after it', async () => {
      const slow = await slowPipeline(200);
      await slow.handler(snsEvent([alarm('ALARM', 0)]), lambdaContext());
      expect(await late(slow.handler, 'OK', 60_000, 200)).toMatch(/DeliveryBudgetExhaustedError/);
      // The alarm fires again while the resolve may still land: its trigger waits until the grace is over.
      await slow.handler(snsEvent([alarm('ALARM', 120_000)]), lambdaContext());
      await allIngested();
      expect(actions()).toMatch(/^trigger,(resolve,)+trigger$/);
      expect(emulator.openIncidents({ dedupKey: ARN })).toHaveLength(1);
      // Lambda retries the OK: stale now; it re-sends the newest state, which PagerDuty is already in.
      await slow.handler(snsEvent([alarm('OK', 60_000)]), lambdaContext());
      expect(emulator.openIncidents({ dedupKey: ARN })).toHaveLength(1);
    });

    it('a newer state delivered while the trigger is in flight waits for it, and lands after it', async () => {
      const slow = await slowPipeline(900);
      const failing = late(slow.handler, 'ALARM', 0, 900);
      // The OK is delivered once the trigger's request is on its way: it waits for the lease.
      for (let i = 0; i < 400 && emulator.requests.length === 0; i++)
        await new Promise((r) => setTimeout(r, 5));
      await slow.newHandler()(snsEvent([alarm('OK', 60_000)]), lambdaContext());
      expect(await failing).toMatch(/DeliveryBudgetExhaustedError/);
      await allIngested();
      expect(actions()).toMatch(/^(trigger,)+resolve$/);
      expect(emulator.openIncidents({ dedupKey: ARN })).toHaveLength(0);
      expect(await slow.readLedger(ARN)).toMatchObject({ needsResend: false, delivered: true });
    });
  });

  it('a bad ALARM_SETTINGS declaration is left out, logged and counted; its alarm still pages', async () => {
    const declared = await startPipeline({
      stores: backend.stores,
      pagerDutyUrl: emulator.url,
      routingKeys: { default: defaultKey },
      env: { ALARM_SETTINGS: JSON.stringify({ [ARN]: { severity: 'urgent' } }) },
    });
    await declared.handler(snsEvent([alarm('ALARM', 0)]), lambdaContext());
    const trigger = emulator.accepted[0] as { payload: { severity: string } };
    expect(trigger.payload.severity).toBe('critical');
    expect(metricTotal(output.lines(), 'TagProblems')).toBe(1);
    expect(output.text()).toContain('Ignored a bad ALARM_SETTINGS declaration');
    expect(output.text()).toContain('severity: \\"urgent\\" is not a severity');
  });

  it('the exported handler builds itself from process.env, as Lambda runs it', async () => {
    const saved = Object.keys(pipeline.env).map((name) => [name, process.env[name]] as const);
    Object.assign(process.env, pipeline.env);
    try {
      await handler(snsEvent([alarm('ALARM', 0)]), lambdaContext() as Context);
    } finally {
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
    expect(emulator.incidents({ dedupKey: ARN })).toEqual([
      expect.objectContaining({ routingKey: defaultKey, status: 'triggered' }),
    ]);
    expect(await pipeline.readLedger(ARN)).toMatchObject({ action: 'trigger', delivered: true });
  });

  it('writes CloudWatch’s timestamp format into the ledger as given', async () => {
    await pipeline.handler(snsEvent([alarm('ALARM', 0)]), lambdaContext());
    expect(cloudWatchTime(T0)).toBe('2026-11-23T02:45:55.640+0000');
    expect((await pipeline.readLedger(ARN))?.stateChangeMs).toBe(T0);
  });
});
