import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import {
  DeliveryBudgetExhaustedError,
  PagerDutyClient,
  PagerDutyRejectedError,
  PagerDutyThrottledError,
  RateLimitBudgetError,
  mayLandLater,
  type AttemptFailure,
} from '../../../lambda/pagerduty/client';
import type { PagerDutyAlertEvent } from '../../../lambda/pagerduty/types';
import { PagerDutyEmulator } from '../../../local/pagerduty-emulator';

// A scripted server: each request takes the next behaviour from the list (the last one repeats).
type Behaviour = { status: number; body?: string } | 'reset' | 'hang';

interface Scripted {
  url: string;
  bodies: string[];
  paths: string[];
  script: Behaviour[];
  close(): Promise<void>;
}

async function scriptedServer(script: Behaviour[]): Promise<Scripted> {
  const bodies: string[] = [];
  const paths: string[] = [];
  const sockets = new Set<Socket>();
  let served = 0;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      bodies.push(body);
      paths.push(req.url ?? '');
      const behaviour = script[Math.min(served++, script.length - 1)]!;
      if (behaviour === 'reset') return req.socket.destroy();
      if (behaviour === 'hang') return;
      res.writeHead(behaviour.status, { 'content-type': 'application/json' });
      res.end(behaviour.body ?? '{"status":"success","message":"Event processed"}');
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    bodies,
    paths,
    script,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const ROUTING_KEY = 'R0123456789abcdef0123456789abcde';
// What a loaded machine (2 CPUs, several test runs) may add to a timer or a request: bounds allow this much.
const LOADED_MACHINE_SLACK_MS = 3000;
const event: PagerDutyAlertEvent = {
  event_action: 'trigger',
  dedup_key: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighErrors',
  payload: { summary: 'HighErrors', source: 'cloudwatch', severity: 'critical' },
};

function client(url: string, overrides: Partial<ConstructorParameters<typeof PagerDutyClient>[0]> = {}) {
  const retries: AttemptFailure[] = [];
  const pd = new PagerDutyClient({
    baseUrl: url,
    connectTimeoutMs: 500,
    responseTimeoutMs: 300,
    retryBaseDelayMs: 5,
    retryMaxDelayMs: 20,
    rateLimitPerMinute: 0,
    onRetry: (failure) => retries.push(failure),
    ...overrides,
  });
  return { pd, retries };
}

describe('PagerDutyClient against a local HTTP server', () => {
  let server: Scripted | undefined;
  let pd: PagerDutyClient | undefined;
  afterEach(async () => {
    await pd?.close();
    await server?.close();
  });

  it('posts the event with its routing key to /v2/enqueue', async () => {
    server = await scriptedServer([{ status: 202 }]);
    const made = client(server.url);
    pd = made.pd;
    const report = await pd.sendAlert(ROUTING_KEY, event, Date.now() + 5000);
    expect(report).toMatchObject({ status: 202, attempts: 1, retries: [] });
    expect(server.paths).toEqual(['/v2/enqueue']);
    expect(JSON.parse(server.bodies[0]!)).toEqual({ ...event, routing_key: ROUTING_KEY });
  });

  it('keeps a path prefix of the base URL and posts change events to /v2/change/enqueue', async () => {
    server = await scriptedServer([{ status: 202 }]);
    pd = client(`${server.url}/pd`).pd;
    await pd.sendChange(ROUTING_KEY, { payload: { summary: 'deploy 42' } }, Date.now() + 5000);
    expect(server.paths).toEqual(['/pd/v2/change/enqueue']);
  });

  it('retries 429 and 5xx with back-off, then succeeds once', async () => {
    server = await scriptedServer([{ status: 429 }, { status: 503 }, { status: 500 }, { status: 202 }]);
    const made = client(server.url);
    pd = made.pd;
    const report = await pd.sendAlert(ROUTING_KEY, event, Date.now() + 5000);
    expect(report.attempts).toBe(4);
    expect(made.retries.map((f) => (f.kind === 'status' ? f.status : f.kind))).toEqual([429, 503, 500]);
    expect(server.bodies).toHaveLength(4);
  });

  it('does not retry a 400 and reports PagerDuty’s error text without the routing key', async () => {
    server = await scriptedServer([
      { status: 400, body: `{"status":"invalid event","errors":["bad key ${ROUTING_KEY}"]}` },
    ]);
    pd = client(server.url).pd;
    const error = await pd.sendAlert(ROUTING_KEY, event, Date.now() + 5000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PagerDutyRejectedError);
    expect((error as Error).message).toMatch(/HTTP 400.*invalid event/);
    expect((error as Error).message).not.toContain(ROUTING_KEY);
    expect(server.bodies).toHaveLength(1);
  });

  describe('never lets a fragment of the routing key out, wherever the key falls around the 500-character cut', () => {
    const fragments = (text: string) =>
      Array.from({ length: ROUTING_KEY.length - 7 }, (_, i) => ROUTING_KEY.slice(i, i + 8)).filter((f) =>
        text.includes(f),
      );
    const offsets = Array.from({ length: 44 }, (_, i) => 500 - 38 + i);

    it.each([400, 503])('HTTP %i', async (status) => {
      for (const offset of offsets) {
        server = await scriptedServer([
          { status, body: `${'x'.repeat(offset)}${ROUTING_KEY}${'y'.repeat(100)}` },
        ]);
        const made = client(server.url);
        pd = made.pd;
        // A 5xx is retried for 100 ms only, while each attempt has the whole budget: a slow machine still gets
        // the answer whose body is checked here.
        const error = await pd
          .sendAlert(ROUTING_KEY, event, Date.now() + 10_000, { failureRetryMs: 100 })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(status === 400 ? PagerDutyRejectedError : DeliveryBudgetExhaustedError);
        const seen = [(error as Error).message, JSON.stringify(made.retries)].join('\n');
        expect({ offset, fragments: fragments(seen) }).toEqual({ offset, fragments: [] });
        expect(seen).toContain('xxxxxxxxxx');
        await pd.close();
        await server.close();
        pd = undefined;
        server = undefined;
      }
    });
  });

  it('retries every 5xx, not only the common ones', async () => {
    server = await scriptedServer([{ status: 507 }, { status: 599 }, { status: 202 }]);
    const made = client(server.url);
    pd = made.pd;
    const report = await pd.sendAlert(ROUTING_KEY, event, Date.now() + 5000);
    expect(report.attempts).toBe(3);
    expect(made.retries.map((f) => (f.kind === 'status' ? f.status : f.kind))).toEqual([507, 599]);
  });

  it('retries a reset connection and a response that never comes', async () => {
    server = await scriptedServer(['reset', 'hang', { status: 202 }]);
    const made = client(server.url);
    pd = made.pd;
    const report = await pd.sendAlert(ROUTING_KEY, event, Date.now() + 5000);
    expect(report.attempts).toBe(3);
    expect(made.retries.map((f) => f.kind)).toEqual(['connection', 'timeout']);
  });

  it('tells a connection that never comes up (a connect timeout: cannot land later) from a response that never comes', async () => {
    // Accepts TCP and never answers the TLS handshake, so an https request never gets its connection.
    const held = new Set<Socket>();
    const silent = createNetServer((socket) => held.add(socket.on('error', () => undefined)));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const made = client(`https://127.0.0.1:${port}`, { connectTimeoutMs: 100, responseTimeoutMs: 1000 });
    pd = made.pd;
    const error = await pd.sendAlert(ROUTING_KEY, event, Date.now() + 400).catch((e: unknown) => e);
    for (const socket of held) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
    expect(held.size).toBeGreaterThan(1);
    expect(error).toBeInstanceOf(DeliveryBudgetExhaustedError);
    expect((error as Error).message).toMatch(/connect timeout/);
    expect(made.retries.every((f) => f.kind === 'timeout' && f.phase === 'connect')).toBe(true);
    expect(mayLandLater(made.retries)).toBe(false);
  });

  it('gives up with a typed error when the deadline passes on 5xx forever', async () => {
    server = await scriptedServer([{ status: 502 }]);
    pd = client(server.url).pd;
    const started = Date.now();
    const error = await pd.sendAlert(ROUTING_KEY, event, started + 1500).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryBudgetExhaustedError);
    expect((error as Error).message).toMatch(/HTTP 502/);
    // At the deadline, give or take what a loaded machine adds: retrying on would take until the test's timeout.
    expect(Date.now() - started).toBeLessThan(1500 + LOADED_MACHINE_SLACK_MS);
    expect(server.bodies.length).toBeGreaterThan(1);
  });

  it('bounds a hanging request by the remaining budget, not only the response timeout', async () => {
    server = await scriptedServer(['hang']);
    pd = client(server.url, { responseTimeoutMs: 10_000 }).pd;
    const started = Date.now();
    const error = await pd.sendAlert(ROUTING_KEY, event, started + 1000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryBudgetExhaustedError);
    // Well before the 10 s response timeout.
    expect(Date.now() - started).toBeLessThan(1000 + LOADED_MACHINE_SLACK_MS);
  });

  it('waits for the per-key rate limit instead of dropping, and gives up only at the deadline', async () => {
    server = await scriptedServer([{ status: 202 }]);
    let now = 1_000_000;
    pd = client(server.url, { rateLimitPerMinute: 2, now: () => now }).pd;
    await pd.sendAlert(ROUTING_KEY, event, now + 5000);
    await pd.sendAlert(ROUTING_KEY, event, now + 5000);
    // The third in the same minute would have to wait ~60 s: past this deadline, so it fails without sending.
    await expect(pd.sendAlert(ROUTING_KEY, event, now + 5000)).rejects.toBeInstanceOf(RateLimitBudgetError);
    expect(server.bodies).toHaveLength(2);
    // Another key has its own budget.
    await pd.sendAlert('S0123456789abcdef0123456789abcde', event, now + 5000);
    now += 60_001;
    await pd.sendAlert(ROUTING_KEY, event, now + 5000);
    expect(server.bodies).toHaveLength(4);
  });

  it('holds the next event until a slot frees up when that is within the deadline', async () => {
    server = await scriptedServer([{ status: 202 }]);
    pd = client(server.url, { rateLimitPerMinute: 2, rateWindowMs: 300 }).pd;
    const started = Date.now();
    await pd.sendAlert(ROUTING_KEY, event, started + 5000);
    await pd.sendAlert(ROUTING_KEY, event, started + 5000);
    await pd.sendAlert(ROUTING_KEY, event, started + 5000);
    expect(server.bodies).toHaveLength(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('told not to wait for the rate limit, fails at once on a 429 or a full limiter, with a retryable error', async () => {
    server = await scriptedServer([{ status: 429 }, { status: 202 }]);
    const now = 1_000_000;
    pd = client(server.url, { rateLimitPerMinute: 2, now: () => now }).pd;
    const noWait = { waitForRateLimit: false };
    const throttled = await pd.sendAlert(ROUTING_KEY, event, now + 5000, noWait).catch((e: unknown) => e);
    expect(throttled).toBeInstanceOf(PagerDutyThrottledError);
    expect(throttled).toMatchObject({ retryable: true, message: expect.stringMatching(/HTTP 429/) });
    expect(server.bodies).toHaveLength(1);
    await pd.sendAlert(ROUTING_KEY, event, now + 5000, noWait);
    // Two sends in this minute fill the client-side limit: the third is not sent, and does not wait.
    await expect(pd.sendAlert(ROUTING_KEY, event, now + 50_000, noWait)).rejects.toThrow(
      /client-side limit RATE_LIMIT_PER_MINUTE full/,
    );
    expect(server.bodies).toHaveLength(2);
  });

  it('a 429 after an attempt that went unanswered says that attempt may still land; a first 429 does not', async () => {
    server = await scriptedServer(['hang', { status: 429 }, { status: 429 }]);
    pd = client(server.url, { responseTimeoutMs: 200, retryBaseDelayMs: 1, retryMaxDelayMs: 1 }).pd;
    const noWait = { waitForRateLimit: false };
    const afterUnanswered = await pd
      .sendAlert(ROUTING_KEY, event, Date.now() + 5000, noWait)
      .catch((e: unknown) => e);
    expect(afterUnanswered).toBeInstanceOf(PagerDutyThrottledError);
    expect(afterUnanswered).toMatchObject({ mayLandLater: true });
    expect(server.bodies).toHaveLength(2);
    const first = await pd.sendAlert(ROUTING_KEY, event, Date.now() + 5000, noWait).catch((e: unknown) => e);
    expect(first).toMatchObject({ name: 'PagerDutyThrottledError', mayLandLater: false });
  });

  it('retries 5xx only for failureRetryMs, and 429s until the deadline', async () => {
    server = await scriptedServer([{ status: 503 }]);
    pd = client(server.url).pd;
    const started = Date.now();
    const down = await pd
      .sendAlert(ROUTING_KEY, event, started + 20_000, { failureRetryMs: 100 })
      .catch((e: unknown) => e);
    expect(down).toBeInstanceOf(DeliveryBudgetExhaustedError);
    // Long before the 20 s deadline.
    expect(Date.now() - started).toBeLessThan(100 + LOADED_MACHINE_SLACK_MS);
    await server.close();
    server = await scriptedServer([{ status: 429 }, { status: 429 }, { status: 429 }, { status: 202 }]);
    const made = client(server.url, { retryBaseDelayMs: 60, retryMaxDelayMs: 60, random: () => 1 });
    pd = made.pd;
    const report = await pd.sendAlert(ROUTING_KEY, event, Date.now() + 5000, { failureRetryMs: 100 });
    expect(report).toMatchObject({ status: 202, attempts: 4 });
  });

  it('acknowledges and resolves an incident it triggered (operators’ actions; never sent on an alarm’s own)', async () => {
    const emulator = await PagerDutyEmulator.start();
    try {
      pd = client(emulator.url).pd;
      await pd.sendAlert(ROUTING_KEY, event, Date.now() + 5000);
      await pd.sendAlert(
        ROUTING_KEY,
        { event_action: 'acknowledge', dedup_key: event.dedup_key },
        Date.now() + 5000,
      );
      expect(emulator.incidents({ dedupKey: event.dedup_key })).toEqual([
        expect.objectContaining({ status: 'acknowledged', routingKey: ROUTING_KEY }),
      ]);
      await pd.sendAlert(
        ROUTING_KEY,
        { event_action: 'resolve', dedup_key: event.dedup_key },
        Date.now() + 5000,
      );
      expect(emulator.incidents({ dedupKey: event.dedup_key })).toEqual([
        expect.objectContaining({ status: 'resolved' }),
      ]);
    } finally {
      await emulator.stop();
    }
  });
});
