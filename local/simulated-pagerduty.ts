// PagerDuty's Events API as the simulations see it, in virtual time: incidents per dedup key, outage windows in
// which every request fails the way a down service fails (5xx, reset connections, no answer), and a sliding
// window of admitted events per routing key past which it answers 429 and ingests nothing.
import type { AttemptOutcome, Transport } from '../lambda/pagerduty/client';
import type { VirtualClock } from './virtual-clock';

export interface Outage {
  readonly fromMs: number;
  readonly toMs: number;
}

export interface SimulatedPagerDutyOptions {
  readonly clock: VirtualClock;
  readonly random: () => number;
  /** Events admitted per routing key within `rateWindowMs`; PagerDuty's documented figure is 120 a minute. */
  readonly rateLimitPerMinute?: number;
  readonly rateWindowMs?: number;
  readonly outages?: readonly Outage[];
  /** Round trip of an answered request. @default 30-150 ms */
  readonly latencyMs?: () => number;
}

export interface AcceptedEvent {
  readonly atMs: number;
  readonly routingKey: string;
  readonly action: string;
  readonly dedupKey: string;
}

export class SimulatedPagerDuty {
  readonly accepted: AcceptedEvent[] = [];
  readonly answered = { accepted: 0, throttled: 0, failed: 0 };
  private readonly open = new Map<string, string>();
  /** Admission times per routing key, oldest first; `start` skips those that left the window. */
  private readonly admitted = new Map<string, { times: number[]; start: number }>();
  private readonly rateLimit: number;
  private readonly windowMs: number;
  private readonly latency: () => number;

  constructor(private readonly options: SimulatedPagerDutyOptions) {
    this.rateLimit = options.rateLimitPerMinute ?? Number.POSITIVE_INFINITY;
    this.windowMs = options.rateWindowMs ?? 60_000;
    this.latency = options.latencyMs ?? (() => 30 + Math.floor(options.random() * 120));
  }

  /** The client's transport: the request reaches PagerDuty halfway through its round trip. */
  readonly transport: Transport = async (_path, payload, timeoutMs) => {
    const { clock, random } = this.options;
    const roundTrip = this.latency();
    if (this.isDown(clock.now())) {
      this.answered.failed++;
      const mode = random();
      if (mode < 0.5) {
        await clock.sleep(Math.min(roundTrip, timeoutMs));
        return status(503, '{"status":"unavailable"}');
      }
      if (mode < 0.8) {
        await clock.sleep(Math.min(5, timeoutMs));
        return { ok: false, failure: { kind: 'connection', detail: 'ECONNRESET: socket hang up' } };
      }
      await clock.sleep(timeoutMs);
      return {
        ok: false,
        failure: { kind: 'timeout', phase: 'response', detail: 'no response within the attempt timeout' },
      };
    }
    await clock.sleep(Math.min(roundTrip / 2, timeoutMs));
    const outcome = this.arrive(JSON.parse(payload) as Record<string, unknown>);
    await clock.sleep(Math.min(roundTrip / 2, Math.max(0, timeoutMs - roundTrip / 2)));
    return outcome;
  };

  isDown(atMs: number): boolean {
    return (this.options.outages ?? []).some(({ fromMs, toMs }) => atMs >= fromMs && atMs < toMs);
  }

  isOpen(dedupKey: string): boolean {
    return this.open.has(dedupKey);
  }

  private arrive(body: Record<string, unknown>): AttemptOutcome {
    const now = this.options.clock.now();
    const routingKey = String(body.routing_key);
    // Only admitted events count towards the window: a 429 is not ingested.
    let window = this.admitted.get(routingKey);
    if (window === undefined) this.admitted.set(routingKey, (window = { times: [], start: 0 }));
    while (window.start < window.times.length && window.times[window.start]! <= now - this.windowMs)
      window.start++;
    if (window.times.length - window.start >= this.rateLimit) {
      this.answered.throttled++;
      return status(
        429,
        '{"status":"throttle event","message":"Requests for this service are arriving too quickly."}',
      );
    }
    window.times.push(now);
    const dedupKey = String(body.dedup_key);
    const action = String(body.event_action);
    if (action === 'trigger') this.open.set(dedupKey, routingKey);
    else if (action === 'resolve' && this.open.get(dedupKey) === routingKey) this.open.delete(dedupKey);
    this.accepted.push({ atMs: now, routingKey, action, dedupKey });
    this.answered.accepted++;
    return { ok: true, status: 202 };
  }
}

function status(code: number, responseText: string): AttemptOutcome {
  return { ok: false, failure: { kind: 'status', status: code, responseText } };
}
