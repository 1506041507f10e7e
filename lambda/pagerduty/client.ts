import { HttpPool } from './http-agent';
import {
  DeliveryBudgetExhaustedError,
  PagerDutyRejectedError,
  PagerDutyThrottledError,
  RateLimitBudgetError,
} from '../shared/errors';
import type { PagerDutyAlertEvent, PagerDutyChangeEvent } from './types';
import { trimTrailing } from '../shared/text';

export {
  DeliveryBudgetExhaustedError,
  PagerDutyRejectedError,
  PagerDutyThrottledError,
  RateLimitBudgetError,
};

/** Why one attempt failed, in the few kinds the retry policy tells apart. */
export type AttemptFailure =
  | { kind: 'timeout'; phase: 'connect' | 'response'; detail: string }
  | { kind: 'connection'; detail: string }
  | { kind: 'status'; status: number; responseText: string };

export function describeFailure(failure: AttemptFailure): string {
  switch (failure.kind) {
    case 'timeout':
      return `${failure.phase} timeout (${failure.detail})`;
    case 'connection':
      return `connection error (${failure.detail})`;
    case 'status':
      return `HTTP ${failure.status} ${failure.responseText}`;
  }
}

export interface SendOptions {
  /**
   * false: a 429, or a full client-side limit, fails at once with PagerDutyThrottledError instead of waiting
   * within the deadline (other failures are still retried until it). @default true
   */
  readonly waitForRateLimit?: boolean;
  /** How long failures other than a 429 (5xx, network, timeouts) are retried. @default until the deadline */
  readonly failureRetryMs?: number;
  /**
   * false: PagerDuty's own 429 fails at once with PagerDutyThrottledError, while a full client-side limit is still
   * waited for (when `waitForRateLimit`). @default true
   */
  readonly retryThrottled?: boolean;
}

export interface DeliveryReport {
  readonly status: number;
  readonly attempts: number;
  /** Wall time from the first attempt to the accepted response, including back-off and rate-limit waits. */
  readonly latencyMs: number;
  /** Failed attempts that were retried. */
  readonly retries: readonly AttemptFailure[];
}

export interface PagerDutyClientOptions {
  /** Base URL, e.g. https://events.pagerduty.com (no trailing slash). */
  readonly baseUrl: string;
  readonly connectTimeoutMs: number;
  readonly responseTimeoutMs: number;
  readonly retryBaseDelayMs: number;
  readonly retryMaxDelayMs: number;
  /** Events per minute per routing key before this client waits; 0 means no client-side limit. */
  readonly rateLimitPerMinute: number;
  /** The limiter's window; PagerDuty's is 60 s, tests compress it. */
  readonly rateWindowMs?: number;
  /** Called before each back-off sleep, for metrics and logs. */
  readonly onRetry?: (failure: AttemptFailure, attempt: number, delayMs: number) => void;
  readonly random?: () => number;
  readonly now?: () => number;
  /** Back-off and rate-limit waits; simulations pass a virtual clock's. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** One HTTP attempt; simulations answer in virtual time. @default a POST through Node's keep-alive pool (http-agent.ts) */
  readonly transport?: Transport;
}

/** What one attempt came to: an accepted status, or why it failed. */
export type AttemptOutcome = { ok: true; status: number } | { ok: false; failure: AttemptFailure };

/** Sends one request body to a path of the Events API and reports the outcome; never throws. */
export type Transport = (path: string, payload: string, timeoutMs: number) => Promise<AttemptOutcome>;

// PagerDuty documents "500 or other 5XX" as retryable; 408 and 429 are the 4xx that are.
const isRetryableStatus = (status: number) =>
  status === 408 || status === 429 || (status >= 500 && status <= 599);
// An attempt with less time than this left could not complete a request: stop and report the last real failure.
const MIN_ATTEMPT_MS = 50;

/**
 * PagerDuty Events API v2 client: keep-alive pool, explicit timeouts, full-jitter retries on 429/5xx/network
 * errors until a deadline, no retry on 400, and a per-routing-key limiter that waits rather than drops.
 */
export class PagerDutyClient {
  private readonly pool = new HttpPool();
  private readonly limiter: RateLimiter;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly transport: Transport;
  private readonly origin: string;
  private readonly basePath: string;

  constructor(private readonly options: PagerDutyClientOptions) {
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? sleep;
    this.transport =
      options.transport ?? ((path, payload, timeoutMs) => this.attempt(path, payload, timeoutMs));
    this.limiter = new RateLimiter(
      options.rateLimitPerMinute,
      options.rateWindowMs ?? 60_000,
      this.now,
      this.sleep,
    );
    const base = new URL(options.baseUrl);
    this.origin = base.origin;
    this.basePath = trimTrailing(base.pathname, '/');
  }

  /** Sends an alert event (trigger, acknowledge or resolve); resolves once PagerDuty has accepted it. */
  sendAlert(
    routingKey: string,
    event: PagerDutyAlertEvent,
    deadline: number,
    options: SendOptions = {},
  ): Promise<DeliveryReport> {
    return this.deliver('/v2/enqueue', routingKey, { ...event, routing_key: routingKey }, deadline, options);
  }

  /** Sends a change event (a deploy, a config change); these never open incidents. */
  sendChange(routingKey: string, event: PagerDutyChangeEvent, deadline: number): Promise<DeliveryReport> {
    return this.deliver('/v2/change/enqueue', routingKey, { ...event, routing_key: routingKey }, deadline);
  }

  close(): Promise<void> {
    this.pool.close();
    return Promise.resolve();
  }

  private async deliver(
    path: string,
    routingKey: string,
    body: object,
    deadline: number,
    { waitForRateLimit = true, failureRetryMs = Infinity, retryThrottled = true }: SendOptions = {},
  ): Promise<DeliveryReport> {
    const payload = JSON.stringify(body);
    const started = this.now();
    const retries: AttemptFailure[] = [];
    for (let attempt = 1; ; attempt++) {
      await this.limiter.acquire(routingKey, waitForRateLimit ? deadline : this.now(), (waitMs) =>
        limitFull(waitMs, waitForRateLimit, retries),
      );
      const remaining = Math.floor(deadline - this.now());
      if (remaining < MIN_ATTEMPT_MS)
        throw new DeliveryBudgetExhaustedError(
          attempt - 1,
          describeLast(retries.at(-1)),
          mayLandLater(retries),
        );
      const outcome = await this.transport(
        path,
        payload,
        Math.min(remaining, this.options.responseTimeoutMs),
      );
      if (outcome.ok) {
        return { status: outcome.status, attempts: attempt, latencyMs: this.now() - started, retries };
      }
      // Redact before cutting: a key straddling the cut would otherwise leave a fragment no redaction can find.
      const failure = shorten(redact(outcome.failure, routingKey));
      if (failure.kind === 'status' && !isRetryableStatus(failure.status)) {
        throw new PagerDutyRejectedError(failure.status, failure.responseText);
      }
      if (failure.kind === 'status' && failure.status === 429 && (!waitForRateLimit || !retryThrottled)) {
        throw new PagerDutyThrottledError(describeFailure(failure), mayLandLater(retries));
      }
      const ceiling = Math.min(
        this.options.retryMaxDelayMs,
        this.options.retryBaseDelayMs * 2 ** (attempt - 1),
      );
      const delayMs = Math.floor(this.random() * ceiling);
      const throttled = failure.kind === 'status' && failure.status === 429;
      if (
        this.now() + delayMs + MIN_ATTEMPT_MS > deadline ||
        (!throttled && this.now() + delayMs - started > failureRetryMs)
      )
        throw new DeliveryBudgetExhaustedError(
          attempt,
          describeFailure(failure),
          mayLandLater([...retries, failure]),
        );
      retries.push(failure);
      this.options.onRetry?.(failure, attempt, delayMs);
      await this.sleep(delayMs);
    }
  }

  private async attempt(path: string, payload: string, timeoutMs: number): Promise<AttemptOutcome> {
    const result = await this.pool.post({
      url: new URL(this.basePath + path, this.origin),
      body: payload,
      connectTimeoutMs: this.options.connectTimeoutMs,
      timeoutMs,
    });
    if (result.kind !== 'response') return { ok: false, failure: result };
    if (result.status >= 200 && result.status < 300) return { ok: true, status: result.status };
    return { ok: false, failure: { kind: 'status', status: result.status, responseText: result.text } };
  }
}

function redact(failure: AttemptFailure, routingKey: string): AttemptFailure {
  const scrub = (text: string) => (routingKey ? text.split(routingKey).join('[routing key]') : text);
  switch (failure.kind) {
    case 'status':
      return { ...failure, responseText: scrub(failure.responseText) };
    case 'timeout':
    case 'connection':
      return { ...failure, detail: scrub(failure.detail) };
  }
}

const MAX_FAILURE_TEXT = 500;

function shorten(failure: AttemptFailure): AttemptFailure {
  const cut = (text: string) => {
    const oneLine = text.replace(/\s+/g, ' ').trim();
    return oneLine.length > MAX_FAILURE_TEXT ? `${oneLine.slice(0, MAX_FAILURE_TEXT)}…` : oneLine;
  };
  return failure.kind === 'status'
    ? { ...failure, responseText: cut(failure.responseText) }
    : { ...failure, detail: cut(failure.detail) };
}

function describeLast(failure: AttemptFailure | undefined): string | undefined {
  return failure === undefined ? undefined : describeFailure(failure);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Sliding-window limiter per routing key: waits for a free slot instead of dropping, and gives up only when
 * the wait would pass the deadline (Lambda's retry and async queue then hold the event).
 */
class RateLimiter {
  private readonly sent = new Map<string, number[]>();

  constructor(
    private readonly perWindow: number,
    private readonly windowMs: number,
    private readonly now: () => number,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}

  async acquire(routingKey: string, deadline: number, onTimeout: (waitMs: number) => Error): Promise<void> {
    if (this.perWindow <= 0) return;
    for (;;) {
      const now = this.now();
      const times = (this.sent.get(routingKey) ?? []).filter((t) => t > now - this.windowMs);
      if (times.length < this.perWindow) {
        times.push(now);
        this.sent.set(routingKey, times);
        return;
      }
      this.sent.set(routingKey, times);
      const waitMs = times[0]! + this.windowMs - now + 1;
      if (now + waitMs >= deadline) throw onTimeout(waitMs);
      await this.sleep(waitMs);
    }
  }
}

/** The client-side limit has no slot for `waitMs`: wait past the deadline (retried later) or not wait at all. */
function limitFull(
  waitMs: number,
  waitForRateLimit: boolean,
  retries: readonly AttemptFailure[],
): RateLimitBudgetError | PagerDutyThrottledError {
  return waitForRateLimit
    ? new RateLimitBudgetError(waitMs, retries.length)
    : new PagerDutyThrottledError(
        `client-side limit RATE_LIMIT_PER_MINUTE full for ${waitMs} ms`,
        mayLandLater(retries),
      );
}

/** Whether one of these failed attempts was sent and never answered, so that PagerDuty may still receive it. */
export function mayLandLater(failures: readonly AttemptFailure[]): boolean {
  return failures.some(
    (failure) =>
      (failure.kind === 'timeout' && failure.phase === 'response') || failure.kind === 'connection',
  );
}
