// The AWS delivery machinery around the real handler, in virtual time: SNS invoking the function asynchronously
// (late and duplicated deliveries), Lambda's async queue (throttling back-off, two retries, the on-failure
// destination), the retry queue (visibility timeout, redrive to the parked queue) and its event source mapping
// (batch size, maximum concurrency, partial batch responses), and PagerDuty. Every function instance is its own
// `createHandler` with its own PagerDutyClient, so its own rate limiter, as in Lambda; they share one ledger.
// Sources for the modelled behaviour:
// https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html (retries after 1 and 2 minutes;
//   throttled events back off from 1 s to 5 min),
// https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html and services-sqs-configure.html (pollers,
//   maximum concurrency, timeout ≤ visibility timeout, failed messages return after the visibility timeout).
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SNSEvent, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { loadConfig, pagerDutyClientSettings } from '../lambda/pipeline/config';
import { createHandler, type ParkingLot, type PipelineHandler } from '../lambda/handler';
import { MemoryLedger } from '../lambda/pipeline/memory-ledger';
import { PagerDutyClient } from '../lambda/pagerduty/client';
import { CountingTelemetry } from './counting-telemetry';
import { SimulatedPagerDuty, type Outage } from './simulated-pagerduty';
import { seededRandom, VirtualClock } from './virtual-clock';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const REGION = 'us-east-1';
const ACCOUNT = '123456789012';

/** The deployed settings the simulation runs under; each mirrors a construct or handler setting. */
export interface DeliverySettings {
  /** The function's timeout: each invocation's budget. */
  readonly functionTimeoutMs: number;
  /** Concurrent instances the function may run (reserved concurrency, or what the account leaves it). */
  readonly concurrency: number;
  /** Lambda's waits before the second and third attempt of a failed asynchronous invocation. */
  readonly asyncRetryDelaysMs: readonly number[];
  readonly maxEventAgeMs: number;
  readonly retryQueue: {
    readonly visibilityTimeoutMs: number;
    /** Receives after which SQS moves a letter to the parked queue itself. */
    readonly maxReceiveCount: number;
    readonly batchSize: number;
    readonly maxConcurrency: number;
  };
  /** Handler environment on top of the simulation's own (RATE_LIMIT_PER_MINUTE, RETRY_* …). */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * What the construct should deploy; the figures of test/lambda/handler.storm.simulation.test.ts and outage.simulation.test.ts
 * hold for these. Lambda does not retry a failed invocation (retryAttempts: 0): it goes to the retry queue at
 * once. The timeout leaves a dead letter waiting for a rate-limit slot more than PagerDuty's 60-second window
 * (plus the largest back-off), so it always sees the window turn over instead of returning to the queue for a
 * visibility timeout. Visibility 4 minutes: each letter is retried at least every 5 minutes. maxReceiveCount:
 * 24 hours of receives × 1.25, so the handler parks a letter past RETRY_WINDOW_HOURS before SQS does.
 */
export const RECOMMENDED_SETTINGS: DeliverySettings = {
  functionTimeoutMs: 90 * SECOND,
  concurrency: 1000,
  asyncRetryDelaysMs: [],
  maxEventAgeMs: 6 * 60 * MINUTE,
  retryQueue: { visibilityTimeoutMs: 4 * MINUTE, maxReceiveCount: 450, batchSize: 10, maxConcurrency: 2 },
};

/** Lambda's two retries (after 1 and 2 minutes), a 60-second timeout, a 5-minute visibility timeout. */
export const LAMBDA_RETRY_SETTINGS: DeliverySettings = {
  ...RECOMMENDED_SETTINGS,
  functionTimeoutMs: 60 * SECOND,
  asyncRetryDelaysMs: [MINUTE, 2 * MINUTE],
  retryQueue: { visibilityTimeoutMs: 5 * MINUTE, maxReceiveCount: 360, batchSize: 10, maxConcurrency: 2 },
};

export interface SimulationOptions {
  readonly settings: DeliverySettings;
  readonly startMs: number;
  readonly seed: number;
  /** Route name → integration key. */
  readonly routingKeys: Readonly<Record<string, string>>;
  readonly pagerDuty: { readonly rateLimitPerMinute?: number; readonly outages?: readonly Outage[] };
}

/** How one SNS publish reaches the function: after `delayMs`, and again after `duplicateAfterMs` if set. */
export interface Delivery {
  readonly delayMs: number;
  readonly duplicateAfterMs?: number;
}

export interface ParkedLetter {
  readonly atMs: number;
  readonly reason: string;
  readonly body: string;
}

export interface SimulationStats {
  asyncInvocations: number;
  asyncFailures: number;
  asyncThrottles: number;
  toRetryQueue: number;
  batches: number;
  lettersReceived: number;
  lettersRetried: number;
  handlerTimeouts: number;
  instancesCreated: number;
  peakConcurrency: number;
  /** The longest a letter waited in the retry queue for its next attempt (from arrival or its last receive). */
  longestRetryGapMs: number;
}

interface QueuedMessage {
  readonly id: string;
  readonly body: string;
  readonly sentMs: number;
  receiveCount: number;
  visibleAtMs: number;
  firstReceiveMs?: number;
  lastReceiveMs?: number;
}

/** An SQS standard queue: hidden for the visibility timeout once received, moved to its DLQ after maxReceiveCount. */
class SimulatedQueue {
  private readonly messages = new Map<string, QueuedMessage>();
  private waiters: (() => void)[] = [];
  private serial = 0;

  /** The longest a message waited for its next receive, from its arrival or its last receive. */
  longestGapMs = 0;

  constructor(
    private readonly clock: VirtualClock,
    private readonly name: string,
    private readonly redrive?: { readonly maxReceiveCount: number; readonly onMove: (body: string) => void },
  ) {}

  get depth(): number {
    return this.messages.size;
  }

  send(body: string): void {
    const id = `${this.name}-${++this.serial}`;
    const now = this.clock.now();
    this.messages.set(id, { id, body, sentMs: now, receiveCount: 0, visibleAtMs: now });
    this.wake();
  }

  /** Up to `max` visible messages, hidden for `visibilityMs`; those received too often go to the DLQ instead. */
  receive(max: number, visibilityMs: number): QueuedMessage[] {
    const now = this.clock.now();
    const taken: QueuedMessage[] = [];
    for (const message of this.messages.values()) {
      if (taken.length >= max) break;
      if (message.visibleAtMs > now) continue;
      if (this.redrive && message.receiveCount >= this.redrive.maxReceiveCount) {
        this.messages.delete(message.id);
        this.redrive.onMove(message.body);
        continue;
      }
      message.receiveCount++;
      this.longestGapMs = Math.max(this.longestGapMs, now - (message.lastReceiveMs ?? message.sentMs));
      message.lastReceiveMs = now;
      message.firstReceiveMs ??= now;
      message.visibleAtMs = now + visibilityMs;
      taken.push(message);
    }
    if (taken.length > 0) {
      // A failed letter goes to the back, as SQS hands out the longest-waiting visible messages first (roughly).
      for (const message of taken) {
        this.messages.delete(message.id);
        this.messages.set(message.id, message);
      }
      const nextVisible = Math.min(...taken.map((m) => m.visibleAtMs));
      this.clock.at(nextVisible, () => this.wake());
    }
    return taken;
  }

  delete(id: string): void {
    this.messages.delete(id);
  }

  /** Resolves once a message is visible: long polling returns as soon as one arrives. */
  async waitVisible(): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      let next = Number.POSITIVE_INFINITY;
      for (const message of this.messages.values()) next = Math.min(next, message.visibleAtMs);
      if (next <= now) return;
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        if (Number.isFinite(next)) this.clock.at(next, () => this.wake());
      });
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}

function silentLogger(errors: string[]): Logger {
  const ignore = () => undefined;
  return {
    info: ignore,
    warn: ignore,
    debug: ignore,
    error: (message: string) => {
      if (errors.length < 50) errors.push(message);
    },
    addContext: ignore,
  } as unknown as Logger;
}

interface Instance {
  readonly handler: PipelineHandler;
}

type Invocation = { ok: true; result: unknown } | { ok: false; error: unknown; timedOut: boolean };

export class DeliverySimulation {
  readonly clock: VirtualClock;
  readonly pagerDuty: SimulatedPagerDuty;
  readonly ledger = new MemoryLedger();
  readonly telemetry = new CountingTelemetry();
  readonly parked: ParkedLetter[] = [];
  readonly errors: string[] = [];
  readonly stats: SimulationStats = {
    asyncInvocations: 0,
    asyncFailures: 0,
    asyncThrottles: 0,
    toRetryQueue: 0,
    batches: 0,
    lettersReceived: 0,
    lettersRetried: 0,
    handlerTimeouts: 0,
    instancesCreated: 0,
    peakConcurrency: 0,
    longestRetryGapMs: 0,
  };
  readonly retryQueue: SimulatedQueue;
  private readonly random: () => number;
  private readonly settings: DeliverySettings;
  private readonly idle: Instance[] = [];
  private busy = 0;
  private serial = 0;
  private warmedUp = false;
  private readonly env: Record<string, string>;
  private readonly parkingLot: ParkingLot;

  constructor(private readonly options: SimulationOptions) {
    this.settings = options.settings;
    this.clock = new VirtualClock(options.startMs);
    this.random = seededRandom(options.seed);
    this.pagerDuty = new SimulatedPagerDuty({
      clock: this.clock,
      random: seededRandom(options.seed + 1),
      rateLimitPerMinute: options.pagerDuty.rateLimitPerMinute,
      outages: options.pagerDuty.outages,
    });
    this.env = {
      AWS_REGION: REGION,
      LEDGER_TABLE_NAME: 'simulated',
      ROUTING_KEY_SECRETS: JSON.stringify(
        Object.fromEntries(Object.keys(options.routingKeys).map((route) => [route, `pd/${route}`])),
      ),
      PAGERDUTY_EVENTS_URL: 'https://events.pagerduty.com',
      ...this.settings.env,
    };
    this.parkingLot = {
      park: (body, reason) => {
        this.parked.push({ atMs: this.clock.now(), reason, body });
        return Promise.resolve();
      },
    };
    this.retryQueue = new SimulatedQueue(this.clock, 'retry', {
      maxReceiveCount: this.settings.retryQueue.maxReceiveCount,
      onMove: (body) =>
        this.parked.push({ atMs: this.clock.now(), reason: 'maxReceiveCount (SQS redrive)', body }),
    });
    for (let i = 0; i < this.settings.retryQueue.maxConcurrency; i++) void this.poll();
  }

  /** CloudWatch publishes to the topic at `atMs`; SNS invokes the function as `delivery` says. */
  publish(event: SNSEvent, atMs: number, delivery: Delivery = { delayMs: 20 }): void {
    const arrive = (delayMs: number) =>
      this.clock.at(atMs + delayMs, () => this.invokeAsync(event, 1, this.clock.now(), 0));
    arrive(delivery.delayMs);
    if (delivery.duplicateAfterMs !== undefined) arrive(delivery.delayMs + delivery.duplicateAfterMs);
  }

  /** Runs until nothing is left to do (or `untilMs`). */
  async run(untilMs?: number): Promise<void> {
    await this.warmUp();
    await this.clock.run(untilMs);
  }

  /**
   * Has the handler load, before virtual time starts, the modules it imports at its first dead letter. The clock
   * advances whenever only real work is pending, so a load during the run (a loader round trip under tsx, not
   * under jest) let timers fire meanwhile and made the figures vary; once loaded, each later load is a microtask.
   */
  private async warmUp(): Promise<void> {
    if (this.warmedUp) return;
    this.warmedUp = true;
    const handler = createHandler(this.env, {
      parkingLot: { park: () => Promise.resolve() },
      deps: { ledger: new MemoryLedger(), telemetry: new CountingTelemetry(), logger: silentLogger([]) },
    });
    const unreadable = sqsRecord({ id: 'warm-up', body: '', sentMs: 0, receiveCount: 1, visibleAtMs: 0 });
    await handler({ Records: [unreadable] }, { getRemainingTimeInMillis: () => 60 * SECOND });
  }

  /** Lambda's async queue: throttled events back off, failed ones are retried, then sent to the destination. */
  private invokeAsync(event: SNSEvent, attempt: number, queuedMs: number, throttles: number): void {
    const now = this.clock.now();
    if (now - queuedMs > this.settings.maxEventAgeMs) {
      this.toDestination(event, attempt - 1, 'EventAgeExceeded', 'the event outlived maxEventAge');
      return;
    }
    const instance = this.acquire();
    if (!instance) {
      this.stats.asyncThrottles++;
      const ceiling = Math.min(5 * MINUTE, SECOND * 2 ** throttles);
      const wait = ceiling / 2 + this.random() * (ceiling / 2);
      this.clock.at(now + wait, () => this.invokeAsync(event, attempt, queuedMs, throttles + 1));
      return;
    }
    this.stats.asyncInvocations++;
    void this.invoke(instance, event).then((outcome) => {
      if (outcome.ok) return;
      this.stats.asyncFailures++;
      const delay = this.settings.asyncRetryDelaysMs[attempt - 1];
      if (delay === undefined) {
        this.toDestination(event, attempt, 'RetriesExhausted', describe(outcome.error));
        return;
      }
      const jitter = (this.random() - 0.5) * 10 * SECOND;
      this.clock.at(this.clock.now() + delay + jitter, () =>
        this.invokeAsync(event, attempt + 1, queuedMs, 0),
      );
    });
  }

  /** The on-failure destination: an invocation record, as Lambda writes it, into the retry queue. */
  private toDestination(event: SNSEvent, invokeCount: number, condition: string, error: string): void {
    this.stats.toRetryQueue++;
    this.retryQueue.send(
      JSON.stringify({
        version: '1.0',
        timestamp: new Date(this.clock.now()).toISOString(),
        requestContext: {
          requestId: `async-${++this.serial}`,
          functionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:alarm-to-pagerduty:$LATEST`,
          condition,
          approximateInvokeCount: invokeCount,
        },
        requestPayload: event,
        responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
        responsePayload: { errorType: 'Error', errorMessage: error.slice(0, 500) },
      }),
    );
  }

  /** One event source mapping poller: receive a batch, invoke, delete what the handler did not report failed. */
  private async poll(): Promise<void> {
    const { batchSize, visibilityTimeoutMs } = this.settings.retryQueue;
    for (;;) {
      await this.retryQueue.waitVisible();
      const instance = this.acquire();
      if (!instance) {
        await this.clock.sleep(SECOND);
        continue;
      }
      const messages = this.retryQueue.receive(batchSize, visibilityTimeoutMs);
      if (messages.length === 0) {
        this.release(instance);
        continue;
      }
      this.stats.batches++;
      this.stats.lettersReceived += messages.length;
      const event: SQSEvent = { Records: messages.map((m) => sqsRecord(m)) };
      const outcome = await this.invoke(instance, event);
      const failed = new Set(
        outcome.ok
          ? ((outcome.result as SQSBatchResponse).batchItemFailures ?? []).map((f) => f.itemIdentifier)
          : messages.map((m) => m.id),
      );
      this.stats.lettersRetried += failed.size;
      for (const message of messages) if (!failed.has(message.id)) this.retryQueue.delete(message.id);
    }
  }

  private acquire(): Instance | undefined {
    if (this.busy >= this.settings.concurrency) return undefined;
    this.busy++;
    this.stats.peakConcurrency = Math.max(this.stats.peakConcurrency, this.busy);
    return this.idle.pop() ?? this.newInstance();
  }

  private release(instance: Instance): void {
    this.busy--;
    this.idle.push(instance);
  }

  private newInstance(): Instance {
    this.stats.instancesCreated++;
    const seed = this.options.seed * 7919 + this.stats.instancesCreated;
    const config = loadConfig(this.env);
    // As the handler builds its client (lambda/handler.ts), with the network and the clock made virtual.
    const pagerDuty = new PagerDutyClient({
      ...pagerDutyClientSettings(config),
      random: seededRandom(seed),
      now: this.clock.now,
      sleep: this.clock.sleep,
      transport: this.pagerDuty.transport,
    });
    const keys = this.options.routingKeys;
    const handler = createHandler(this.env, {
      parkingLot: this.parkingLot,
      deps: {
        ledger: this.ledger,
        pagerDuty,
        routingKeys: {
          routes: Object.keys(keys),
          has: (route: string) => route in keys,
          keyFor: (route: string) => Promise.resolve(keys[route] ?? keys.default!),
        },
        telemetry: this.telemetry,
        logger: silentLogger(this.errors),
        now: this.clock.now,
        sleep: this.clock.sleep,
      },
    });
    return { handler };
  }

  /** One invocation within the function's timeout; the instance is reused unless the invocation timed out. */
  private async invoke(instance: Instance, event: unknown): Promise<Invocation> {
    const endsAt = this.clock.now() + this.settings.functionTimeoutMs;
    const context = {
      awsRequestId: `req-${++this.serial}`,
      getRemainingTimeInMillis: () => Math.max(0, endsAt - this.clock.now()),
    };
    const timeout = this.clock.sleep(this.settings.functionTimeoutMs).then(() => 'timeout' as const);
    const outcome = await Promise.race([
      instance.handler(event, context).then(
        (result): Invocation => ({ ok: true, result }),
        (error: unknown): Invocation => ({ ok: false, error, timedOut: false }),
      ),
      timeout,
    ]);
    if (outcome === 'timeout') {
      // Lambda ends the sandbox: the instance is not reused (its promises are abandoned here).
      this.stats.handlerTimeouts++;
      this.busy--;
      return { ok: false, error: new Error('Task timed out'), timedOut: true };
    }
    this.release(instance);
    return outcome;
  }
}

function sqsRecord(message: QueuedMessage): SQSRecord {
  return {
    messageId: message.id,
    receiptHandle: `receipt-${message.id}-${message.receiveCount}`,
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(message.receiveCount),
      SentTimestamp: String(message.sentMs),
      SenderId: 'AROAEXAMPLE:lambda',
      ApproximateFirstReceiveTimestamp: String(message.firstReceiveMs ?? message.sentMs),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT}:alarm-to-pagerduty-retry`,
    awsRegion: REGION,
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
