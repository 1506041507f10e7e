import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import {
  MAX_EVENT_BYTES,
  PagerDutyEmulator,
  type PagerDutyEmulatorOptions,
} from '../../local/pagerduty-emulator';

const ROUTING_KEY = randomBytes(16).toString('hex');
const OTHER_KEY = randomBytes(16).toString('hex');

interface Reply {
  status: number;
  statusText: string;
  body: Record<string, unknown>;
}

async function post(
  emulator: PagerDutyEmulator,
  path: string,
  body: unknown,
  options: { headersTimeout?: number } = {},
): Promise<Reply> {
  const res = await request(`${emulator.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headersTimeout: options.headersTimeout,
  });
  const text = await res.body.text();
  return { status: res.statusCode, statusText: text, body: JSON.parse(text) as Record<string, unknown> };
}

const trigger = (dedupKey: string | undefined, extra: Record<string, unknown> = {}) => ({
  routing_key: ROUTING_KEY,
  event_action: 'trigger',
  ...(dedupKey === undefined ? {} : { dedup_key: dedupKey }),
  payload: {
    summary: `checkout-api-5xx in ALARM (${dedupKey ?? 'no key'})`,
    source: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-api-5xx',
    severity: 'critical',
    timestamp: '2026-11-23T02:45:55.640+0000',
    ...((extra.payload as object | undefined) ?? {}),
  },
  ...Object.fromEntries(Object.entries(extra).filter(([key]) => key !== 'payload')),
});
const followUp = (action: 'acknowledge' | 'resolve', dedupKey: string, routingKey = ROUTING_KEY) => ({
  routing_key: routingKey,
  event_action: action,
  dedup_key: dedupKey,
});

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await work();
  return { result, ms: performance.now() - started };
}

/** Waits for a condition, not for a guessed time: a loaded machine only makes it slower. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** A promise and the function that settles it, for steps a test orders by hand. */
function gate(): { opened: Promise<void>; open(): void } {
  let open = (): void => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('PagerDuty Events API v2 emulator', () => {
  let emulator: PagerDutyEmulator;
  const enqueue = (body: unknown, options?: { headersTimeout?: number }) =>
    post(emulator, '/v2/enqueue', body, options);

  beforeAll(async () => {
    emulator = await PagerDutyEmulator.start();
  });
  afterAll(async () => {
    await emulator.stop();
  });
  beforeEach(() => emulator.reset());

  describe('incidents', () => {
    it('opens an incident on a trigger and answers like PagerDuty', async () => {
      const reply = await enqueue(trigger('alarm-1'));
      expect(reply).toMatchObject({
        status: 202,
        body: { status: 'success', message: 'Event processed', dedup_key: 'alarm-1' },
      });
      expect(emulator.openIncidents()).toEqual([
        expect.objectContaining({
          routingKey: ROUTING_KEY,
          dedupKey: 'alarm-1',
          status: 'triggered',
          alertCount: 1,
          severity: 'critical',
          summary: 'checkout-api-5xx in ALARM (alarm-1)',
        }),
      ]);
      expect(emulator.accepted).toEqual([
        expect.objectContaining({ event_action: 'trigger', dedup_key: 'alarm-1' }),
      ]);
    });

    it('gives a trigger without a dedup key a fresh one, so each opens its own incident', async () => {
      const first = await enqueue(trigger(undefined));
      const second = await enqueue(trigger(undefined));
      expect(first.body.dedup_key).toMatch(/^[0-9a-f]{32}$/);
      expect(second.body.dedup_key).not.toBe(first.body.dedup_key);
      expect(emulator.openIncidents().map((i) => i.dedupKey)).toEqual([
        first.body.dedup_key,
        second.body.dedup_key,
      ]);
      expect(emulator.accepted[0]?.dedup_key).toBe(first.body.dedup_key);
    });

    it('joins a second trigger with the same dedup key to the open incident', async () => {
      await enqueue(trigger('alarm-1'));
      await enqueue(trigger('alarm-1', { payload: { severity: 'warning' } }));
      const incidents = emulator.incidents({ dedupKey: 'alarm-1' });
      expect(incidents).toHaveLength(1);
      expect(incidents[0]).toMatchObject({ status: 'triggered', alertCount: 2, severity: 'critical' });
      expect(incidents[0]?.lastEvent.payload?.severity).toBe('warning');
    });

    it('acknowledges an open incident, and a later trigger joins it without un-acknowledging it', async () => {
      await enqueue(trigger('alarm-1'));
      expect((await enqueue(followUp('acknowledge', 'alarm-1'))).status).toBe(202);
      expect(emulator.incidents()).toEqual([
        expect.objectContaining({ status: 'acknowledged', alertCount: 1 }),
      ]);
      await enqueue(trigger('alarm-1'));
      expect(emulator.incidents()).toEqual([
        expect.objectContaining({ status: 'acknowledged', alertCount: 2 }),
      ]);
    });

    it('resolves the open incident, and a trigger after the resolve opens a new one', async () => {
      await enqueue(trigger('alarm-1'));
      const resolved = await enqueue(followUp('resolve', 'alarm-1'));
      expect(resolved.body).toEqual({ status: 'success', message: 'Event processed', dedup_key: 'alarm-1' });
      const [first] = emulator.incidents({ dedupKey: 'alarm-1' });
      expect(first).toMatchObject({ status: 'resolved', resolvedAt: expect.any(Number) });
      expect(emulator.openIncidents()).toHaveLength(0);

      await enqueue(trigger('alarm-1'));
      const incidents = emulator.incidents({ dedupKey: 'alarm-1' });
      expect(incidents.map((i) => i.status)).toEqual(['resolved', 'triggered']);
      expect(incidents[1]?.id).not.toBe(first?.id);
      expect(incidents[1]?.alertCount).toBe(1);
    });

    it('accepts and drops a resolve or acknowledge with no open incident', async () => {
      expect((await enqueue(followUp('resolve', 'never-triggered'))).status).toBe(202);
      expect((await enqueue(followUp('acknowledge', 'never-triggered'))).status).toBe(202);
      expect(emulator.incidents()).toEqual([]);
      expect(emulator.accepted.map((e) => e.event_action)).toEqual(['resolve', 'acknowledge']);

      await enqueue(trigger('alarm-1'));
      await enqueue(followUp('resolve', 'alarm-1'));
      await enqueue(followUp('resolve', 'alarm-1'));
      expect(emulator.incidents()).toEqual([expect.objectContaining({ status: 'resolved', alertCount: 1 })]);
    });

    it('matches follow-up events only under the routing key of the trigger', async () => {
      await enqueue(trigger('alarm-1'));
      expect((await enqueue(followUp('resolve', 'alarm-1', OTHER_KEY))).status).toBe(202);
      expect(emulator.openIncidents({ routingKey: ROUTING_KEY, dedupKey: 'alarm-1' })).toHaveLength(1);
      expect(emulator.incidents({ routingKey: OTHER_KEY })).toEqual([]);
    });
  });

  describe('validation', () => {
    const invalidCases: [string, unknown, string][] = [
      [
        'a 31-character routing key',
        { ...trigger('k'), routing_key: ROUTING_KEY.slice(1) },
        "Length of 'routing_key' is incorrect (should be 32 characters)",
      ],
      [
        'a 1025-character summary',
        trigger('k', { payload: { summary: 'x'.repeat(1025) } }),
        "'summary' is too long (maiximum is 1024 characters)",
      ],
      [
        'an upper-case severity',
        trigger('k', { payload: { severity: 'CRITICAL' } }),
        "'payload.severity' is invalid (must be one of: critical, warning, error, info)",
      ],
      [
        'a trigger without source',
        trigger('k', { payload: { source: undefined } }),
        "'payload.source' is missing or blank",
      ],
      [
        'a trigger with a blank summary',
        trigger('k', { payload: { summary: ' ' } }),
        "'payload.summary' is missing or blank",
      ],
      [
        'a trigger without payload',
        { routing_key: ROUTING_KEY, event_action: 'trigger' },
        "'payload' is missing or blank",
      ],
      [
        'a resolve without dedup key',
        { routing_key: ROUTING_KEY, event_action: 'resolve' },
        "'dedup_key' is missing or blank",
      ],
      [
        'a 256-character dedup key',
        trigger('d'.repeat(256)),
        "'dedup_key' is too long (maximum is 255 characters)",
      ],
      [
        'an image served over http',
        trigger('k', { images: [{ src: 'http://example.com/graph.png' }] }),
        "'images[0].src' must be an https URL",
      ],
      [
        'an unknown event action',
        { ...followUp('resolve', 'k'), event_action: 'snooze' },
        "'event_action' is invalid (must be one of: trigger, acknowledge, resolve)",
      ],
      [
        'a missing routing key',
        { event_action: 'resolve', dedup_key: 'k' },
        "'routing_key' is missing or blank",
      ],
      ['a JSON array', [trigger('k')], 'Event must be a JSON object'],
    ];

    it.each(invalidCases)('answers 400 and ingests nothing for %s', async (_, body, error) => {
      const reply = await enqueue(body);
      expect(reply.status).toBe(400);
      expect(reply.body).toMatchObject({ status: 'invalid event', message: 'Event object is invalid' });
      expect(reply.body.errors).toContain(error);
      expect(emulator.accepted).toEqual([]);
      expect(emulator.incidents()).toEqual([]);
      expect(emulator.requests).toEqual([expect.objectContaining({ path: '/v2/enqueue', status: 400 })]);
    });

    it('accepts the limits themselves, CloudWatch-style +0000 timestamps, links and https images', async () => {
      const reply = await enqueue(
        trigger('d'.repeat(255), {
          payload: { summary: 's'.repeat(1024), custom_details: { Region: 'US East (N. Virginia)' } },
          links: [{ href: 'https://console.aws.amazon.com/cloudwatch', text: 'Alarm' }],
          images: [{ src: 'https://example.com/graph.png', alt: 'graph' }],
          client: 'alarm-to-pagerduty',
          client_url: 'https://console.aws.amazon.com/cloudwatch',
        }),
      );
      expect(reply.status).toBe(202);
    });

    it('takes a body of exactly 512 KB and refuses one byte more with a 400', async () => {
      const sized = (bytes: number) => {
        const base = JSON.stringify(trigger('big', { payload: { custom_details: { pad: '' } } }));
        return base.replace('"pad":""', `"pad":"${'p'.repeat(bytes - Buffer.byteLength(base))}"`);
      };
      expect(Buffer.byteLength(sized(MAX_EVENT_BYTES))).toBe(524288);
      expect((await enqueue(sized(MAX_EVENT_BYTES))).status).toBe(202);

      const tooBig = await enqueue(sized(MAX_EVENT_BYTES + 1));
      expect(tooBig.status).toBe(400);
      expect(tooBig.body).toMatchObject({
        status: 'invalid event',
        errors: [expect.stringMatching(/too large/)],
      });
      expect(emulator.accepted).toHaveLength(1);
      expect(emulator.incidents()[0]?.alertCount).toBe(1);
    });

    it('answers 400 to malformed JSON and records the raw text', async () => {
      const reply = await enqueue('{"routing_key": ');
      expect(reply).toMatchObject({
        status: 400,
        body: { status: 'Unrecognized object', errors: ['JSON parse error'] },
      });
      expect(emulator.requests).toEqual([expect.objectContaining({ body: '{"routing_key": ', status: 400 })]);
      expect(emulator.accepted).toEqual([]);
    });

    it('answers 404 on other paths and 405 on other methods', async () => {
      expect((await post(emulator, '/v1/enqueue', trigger('k'))).status).toBe(404);
      const get = await request(`${emulator.url}/v2/enqueue`);
      await get.body.dump();
      expect(get.statusCode).toBe(405);
      expect(emulator.accepted).toEqual([]);
    });
  });

  describe('change events', () => {
    it('records a change event and opens no incident', async () => {
      const change = {
        routing_key: ROUTING_KEY,
        payload: { summary: 'Deployed checkout-api v42', source: 'ci', timestamp: '2026-11-23T02:45:55Z' },
        links: [{ href: 'https://ci.example.com/builds/42' }],
      };
      const reply = await post(emulator, '/v2/change/enqueue', change);
      expect(reply).toEqual({
        status: 202,
        statusText: expect.any(String),
        body: { status: 'success', message: 'Change event processed' },
      });
      expect(emulator.changeEvents).toEqual([change]);
      expect(emulator.accepted).toEqual([]);
      expect(emulator.incidents()).toEqual([]);
    });

    it('refuses a change event without summary', async () => {
      const reply = await post(emulator, '/v2/change/enqueue', { routing_key: ROUTING_KEY, payload: {} });
      expect(reply.status).toBe(400);
      expect(reply.body.errors).toContain("'payload.summary' is missing or blank");
      expect(emulator.changeEvents).toEqual([]);
    });
  });

  describe('faults', () => {
    it('fails the next two events with 429 and ingests only the third', async () => {
      emulator.failNext(2, { status: 429 });
      const replies = [];
      for (let i = 0; i < 3; i++) replies.push(await enqueue(trigger('alarm-1')));
      expect(replies.map((r) => r.status)).toEqual([429, 429, 202]);
      expect(replies[0]?.body).toEqual({
        status: 'throttle exceeded',
        message: 'Requests for this service are arriving too quickly. Please retry later.',
      });
      expect(emulator.accepted).toHaveLength(1);
      expect(emulator.incidents()).toEqual([expect.objectContaining({ alertCount: 1 })]);
      expect(emulator.requests.map((r) => r.status)).toEqual([429, 429, 202]);
    });

    it('injects 5xx and 400 answers without ingesting', async () => {
      emulator.failNext(1, { status: 500 });
      emulator.failNext(1, { status: 502 });
      emulator.failNext(1, { status: 503 });
      emulator.failNext(1, { status: 400 });
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await enqueue(trigger('alarm-1'))).status);
      expect(statuses).toEqual([500, 502, 503, 400, 202]);
      expect(emulator.accepted).toHaveLength(1);
    });

    it('keeps failing with failAlways until clearFaults', async () => {
      emulator.failAlways({ status: 503 });
      expect((await enqueue(trigger('alarm-1'))).status).toBe(503);
      expect((await enqueue(trigger('alarm-1'))).status).toBe(503);
      emulator.clearFaults();
      expect((await enqueue(trigger('alarm-1'))).status).toBe(202);
      expect(emulator.incidents()).toEqual([expect.objectContaining({ alertCount: 1 })]);
    });

    it('resets the socket without an answer, and without ingesting', async () => {
      emulator.failNext(1, 'reset');
      await expect(enqueue(trigger('alarm-1'))).rejects.toThrow(/other side closed|socket|ECONNRESET/i);
      expect(emulator.accepted).toEqual([]);
      expect(emulator.requests).toEqual([expect.objectContaining({ status: 'reset', fault: 'reset' })]);
      expect((await enqueue(trigger('alarm-1'))).status).toBe(202);
    });

    it('can ingest the event and then reset the socket, so the sender cannot know it was delivered', async () => {
      emulator.failNext(1, 'reset-after-ingest');
      await expect(enqueue(trigger('alarm-1'))).rejects.toThrow();
      expect(emulator.openIncidents()).toEqual([
        expect.objectContaining({ dedupKey: 'alarm-1', alertCount: 1 }),
      ]);
    });

    it('hangs so the client times out, without ingesting', async () => {
      emulator.failNext(1, 'hang');
      await expect(enqueue(trigger('alarm-1'), { headersTimeout: 200 })).rejects.toMatchObject({
        code: 'UND_ERR_HEADERS_TIMEOUT',
      });
      expect(emulator.accepted).toEqual([]);
      expect(emulator.requests[0]?.status).toBe('hang');
    });

    it('answers late with { delayMs } but normally', async () => {
      emulator.failNext(1, { delayMs: 250 });
      const { result, ms } = await timed(() => enqueue(trigger('alarm-1')));
      expect(result.status).toBe(202);
      expect(ms).toBeGreaterThanOrEqual(240);
      expect(emulator.openIncidents()).toHaveLength(1);
    });

    it('delays every answer by latencyMs', async () => {
      emulator.latencyMs = 150;
      try {
        const { ms } = await timed(() => enqueue(trigger('alarm-1')));
        expect(ms).toBeGreaterThanOrEqual(140);
      } finally {
        emulator.latencyMs = 0;
      }
    });

    it('takes latencyMs as it is when a request arrives, so 0 stops delaying', async () => {
      // Its own emulator: stopping it ends the long delay. No upper bound on wall time, which a loaded machine
      // can pass: the undelayed request must be answered while the delayed one, 30 s long, still waits.
      const own = await PagerDutyEmulator.start({ latencyMs: 30_000 });
      try {
        const delayed = post(own, '/v2/enqueue', trigger('alarm-1')).catch((error: unknown) => error);
        await until(() => own.requests.length === 1);
        own.latencyMs = 0;
        expect((await post(own, '/v2/enqueue', trigger('alarm-2'))).status).toBe(202);
        expect(own.requests.map((r) => r.status)).toEqual(['pending', 202]);
        await own.stop();
        expect(await delayed).toBeInstanceOf(Error);
      } finally {
        await own.stop();
      }
    });

    it('clears faults and state on reset()', async () => {
      emulator.failNext(3, { status: 500 });
      emulator.failAlways({ status: 503 });
      await enqueue(trigger('alarm-1'));
      emulator.reset();
      expect(emulator.requests).toEqual([]);
      expect((await enqueue(trigger('alarm-1'))).status).toBe(202);
      expect(emulator.incidents()[0]?.id).toBe('PINC0001');
    });
  });

  describe('ordering', () => {
    it('lets a later request overtake a held one', async () => {
      const hold = emulator.holdNext(1);
      const slowTrigger = enqueue(trigger('alarm-1'));
      const [held] = await hold.arrived;
      expect(held).toMatchObject({ path: '/v2/enqueue', status: 'pending' });

      const resolve = await enqueue(followUp('resolve', 'alarm-1'));
      expect(resolve.status).toBe(202);
      hold.release();
      expect((await slowTrigger).status).toBe(202);

      // PagerDuty saw the resolve first (dropped), then the trigger: the incident stays open.
      expect(emulator.accepted.map((e) => e.event_action)).toEqual(['resolve', 'trigger']);
      expect(emulator.openIncidents({ dedupKey: 'alarm-1' })).toHaveLength(1);
    });

    it('awaits beforeProcess for every event request', async () => {
      const seen: number[] = [];
      const firstInHook = gate();
      const firstMayGo = gate();
      emulator.beforeProcess = async (request) => {
        seen.push(request.seq);
        if (request.seq === 1) {
          firstInHook.open();
          await firstMayGo.opened;
        }
      };
      try {
        const first = enqueue(trigger('alarm-1'));
        await firstInHook.opened;
        // Answered while the first request's hook has not returned: that one is still unprocessed.
        await enqueue(followUp('resolve', 'alarm-1'));
        expect(emulator.accepted.map((e) => e.event_action)).toEqual(['resolve']);
        firstMayGo.open();
        await first;
      } finally {
        emulator.beforeProcess = undefined;
      }
      expect(seen).toEqual([1, 2]);
      expect(emulator.accepted.map((e) => e.event_action)).toEqual(['resolve', 'trigger']);
    });

    it('answers 500 without ingesting when beforeProcess throws', async () => {
      emulator.beforeProcess = () => {
        throw new Error('hook failed');
      };
      try {
        const reply = await enqueue(trigger('alarm-1'));
        expect(reply).toMatchObject({ status: 500, body: { message: 'Error: hook failed' } });
      } finally {
        emulator.beforeProcess = undefined;
      }
      expect(emulator.accepted).toEqual([]);
    });
  });
});

describe('PagerDuty emulator rate limit and lifecycle', () => {
  const started: PagerDutyEmulator[] = [];
  const start = async (options: PagerDutyEmulatorOptions) => {
    const emulator = await PagerDutyEmulator.start(options);
    started.push(emulator);
    return emulator;
  };
  afterAll(async () => {
    await Promise.all(started.map((e) => e.stop()));
  });

  it('throttles per routing key over a sliding window, without ingesting, on an injected clock', async () => {
    let clock = 1_000_000;
    const emulator = await start({ rateLimitPerMinute: 3, now: () => clock });
    const send = (routingKey: string) =>
      post(emulator, '/v2/enqueue', { ...trigger('storm'), routing_key: routingKey });

    const statuses = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await send(ROUTING_KEY)).status);
      clock += 10_000;
    }
    expect(statuses).toEqual([202, 202, 202, 429]);
    expect((await send(OTHER_KEY)).status).toBe(202);
    expect(emulator.accepted.filter((e) => e.routing_key === ROUTING_KEY)).toHaveLength(3);

    clock = 1_000_000 + 60_001; // the first event has left the 60-second window
    expect((await send(ROUTING_KEY)).status).toBe(202);
    expect((await send(ROUTING_KEY)).status).toBe(429);
  });

  it('throttles with a compressed window on the real clock, and answers 429 Request Limit Exceeded', async () => {
    const emulator = await start({ rateLimitPerMinute: 3, rateWindowMs: 300 });
    // Held, then released together: the four are processed in one turn of the event loop, inside the window
    // however slow the machine. (Sent one by one, they could take longer than 300 ms between them.)
    const hold = emulator.holdNext(4);
    const replies = [];
    for (let i = 0; i < 4; i++) {
      replies.push(
        fetch(`${emulator.url}/v2/enqueue`, { method: 'POST', body: JSON.stringify(trigger('storm')) }),
      );
      await until(() => emulator.requests.length === i + 1);
    }
    await hold.arrived;
    hold.release();
    const statusLines = [];
    for (const reply of await Promise.all(replies)) {
      await reply.text();
      statusLines.push(`${reply.status} ${reply.statusText}`);
    }
    expect(statusLines).toEqual([
      '202 Accepted',
      '202 Accepted',
      '202 Accepted',
      '429 Request Limit Exceeded',
    ]);
    // A timer never fires early: 350 ms after the answers, the first admission has left the window.
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect((await post(emulator, '/v2/enqueue', trigger('storm'))).status).toBe(202);
    expect(emulator.incidents()).toEqual([expect.objectContaining({ alertCount: 4 })]);
  });

  it('stops promptly with hanging and held requests and open keep-alive connections', async () => {
    const emulator = await start({});
    emulator.failNext(1, 'hang');
    const hanging = post(emulator, '/v2/enqueue', trigger('a')).catch((error: unknown) => error);
    await until(() => emulator.requests.length === 1);
    const hold = emulator.holdNext(1);
    const held = post(emulator, '/v2/enqueue', trigger('b')).catch((error: unknown) => error);
    await hold.arrived;
    expect(emulator.requests.map((r) => r.status)).toEqual(['hang', 'pending']);

    const { ms } = await timed(() => emulator.stop());
    // Without destroying the sockets, stop() would wait forever for the hanging and held requests, or for
    // Node's 5-second keep-alive timeout: well under that is prompt, and no load stretches a stop that far.
    expect(ms).toBeLessThan(4000);
    expect(await hanging).toBeInstanceOf(Error);
    expect(await held).toBeInstanceOf(Error);
    expect(emulator.accepted).toEqual([]);
    await expect(post(emulator, '/v2/enqueue', trigger('c'))).rejects.toThrow();
  });

  it('logs one line per event with action, dedup key, status and incident state', async () => {
    const lines: string[] = [];
    const emulator = await start({ log: (line) => lines.push(line) });
    await post(emulator, '/v2/enqueue', trigger('alarm-1'));
    await post(emulator, '/v2/enqueue', followUp('resolve', 'alarm-1'));
    await post(emulator, '/v2/enqueue', trigger('alarm-1', { payload: { severity: 'CRITICAL' } }));
    expect(lines).toEqual([
      '202 trigger dedup=alarm-1 opened -> PINC0001 triggered, 1 alert(s)',
      '202 resolve dedup=alarm-1 resolved -> PINC0001 resolved, 1 alert(s)',
      expect.stringMatching(/^400 trigger dedup=alarm-1 'payload.severity' is invalid/),
    ]);
  });
});
