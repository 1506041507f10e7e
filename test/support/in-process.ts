// The pipeline in one process: the in-memory ledger, a scripted PagerDuty that models incidents, and routing
// keys without Secrets Manager. Deterministic: nothing sleeps, every send waits for what the test script says.
import type { Logger } from '@aws-lambda-powertools/logger';
import { parseDeclaredSettings } from '../../lambda/pipeline/alarm-settings';
import { loadConfig } from '../../lambda/pipeline/config';
import type { DeliveryDeps } from '../../lambda/pipeline/deliver';
import {
  DeliveryBudgetExhaustedError,
  PagerDutyRejectedError,
  PagerDutyThrottledError,
} from '../../lambda/shared/errors';
import { MemoryLedger } from '../../lambda/pipeline/memory-ledger';
import type { DeliveryReport } from '../../lambda/pagerduty/client';
import type { PagerDutyAlertEvent } from '../../lambda/pagerduty/types';
import type { PipelineDeps } from '../../lambda/pipeline/process-record';
import { CountingTelemetry } from '../../local/counting-telemetry';

export { CountingTelemetry };

export const ROUTING_KEYS: Readonly<Record<string, string>> = {
  default: 'k'.repeat(32),
  payments: 'p'.repeat(32),
};

/** What one send does: land at once, fail, or wait until the test releases it. */
export type SendBehaviour =
  | { kind: 'accept' }
  /** Accepted on a second attempt; the first was sent and never answered, so it may still land. */
  | { kind: 'acceptAfterUnanswered' }
  | { kind: 'reject'; status: number }
  | { kind: 'timeout'; landsLater: boolean }
  /** PagerDuty answers 429 (to a send told not to wait), after an attempt that went unanswered or not. */
  | { kind: 'throttled'; afterUnanswered: boolean }
  | { kind: 'hold' };

export interface HeldSend {
  readonly event: PagerDutyAlertEvent;
  /** The request reaches PagerDuty now, and the client sees it accepted. */
  land(): void;
  /** The client gives up (a response timeout); the request reaches PagerDuty first when `landed`. */
  fail(landed: boolean): void;
}

/**
 * PagerDuty as the Events API behaves: a trigger opens an incident per dedup key (or joins the open one); a resolve
 * closes it; a resolve with nothing open is dropped. `landed` is the order events reached it.
 */
export class ScriptedPagerDuty implements Pick<DeliveryDeps['pagerDuty'], 'sendAlert'> {
  readonly landed: { routingKey: string; event: PagerDutyAlertEvent }[] = [];
  readonly held: HeldSend[] = [];
  /** Requests that timed out on the client but reach PagerDuty when the test says so. */
  readonly inFlight: HeldSend[] = [];
  private readonly open = new Map<string, string>();
  private readonly script: SendBehaviour[] = [];

  /** The next sends behave as given, in order; after them, every send is accepted. */
  next(...behaviours: SendBehaviour[]): this {
    this.script.push(...behaviours);
    return this;
  }

  isOpen(dedupKey: string): boolean {
    return this.open.has(dedupKey);
  }

  actions(): string[] {
    return this.landed.map(({ event }) => event.event_action);
  }

  async sendAlert(routingKey: string, event: PagerDutyAlertEvent): Promise<DeliveryReport> {
    await Promise.resolve();
    const behaviour = this.script.shift() ?? { kind: 'accept' };
    const report: DeliveryReport = { status: 202, attempts: 1, latencyMs: 1, retries: [] };
    const land = () => this.arrive(routingKey, event);
    switch (behaviour.kind) {
      case 'accept':
        land();
        return report;
      case 'acceptAfterUnanswered':
        land();
        return {
          ...report,
          attempts: 2,
          retries: [{ kind: 'timeout', phase: 'response', detail: 'no response (scripted)' }],
        };
      case 'reject':
        throw new PagerDutyRejectedError(behaviour.status, '{"status":"invalid event"}');
      case 'throttled':
        throw new PagerDutyThrottledError('HTTP 429 (scripted)', behaviour.afterUnanswered);
      case 'timeout':
        if (behaviour.landsLater) this.inFlight.push({ event, land, fail: () => undefined });
        throw new DeliveryBudgetExhaustedError(1, 'response timeout (scripted)', true);
      case 'hold':
        return new Promise<DeliveryReport>((resolve, reject) => {
          this.held.push({
            event,
            land: () => {
              land();
              resolve(report);
            },
            fail: (landed) => {
              if (landed) land();
              reject(new DeliveryBudgetExhaustedError(1, 'response timeout (scripted)', true));
            },
          });
        });
    }
  }

  private arrive(routingKey: string, event: PagerDutyAlertEvent): void {
    this.landed.push({ routingKey, event });
    if (event.event_action === 'trigger') this.open.set(event.dedup_key, routingKey);
    else if (event.event_action === 'resolve' && this.open.get(event.dedup_key) === routingKey) {
      this.open.delete(event.dedup_key);
    }
  }
}

/** A logger that keeps its lines, for assertions, and prints nothing. */
export function recordingLogger(): Logger & { lines: { level: string; message: string; extra: unknown }[] } {
  const lines: { level: string; message: string; extra: unknown }[] = [];
  const at =
    (level: string) =>
    (message: string, extra?: unknown): void => {
      lines.push({ level, message, extra });
    };
  return {
    lines,
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    debug: at('debug'),
    addContext: () => undefined,
  } as unknown as Logger & { lines: { level: string; message: string; extra: unknown }[] };
}

export const TEST_ENV: Readonly<Record<string, string>> = {
  AWS_REGION: 'us-east-1',
  LEDGER_TABLE_NAME: 'in-memory',
  ROUTING_KEY_SECRETS: JSON.stringify({ default: 'pd/default', payments: 'pd/payments' }),
  PAGERDUTY_EVENTS_URL: 'http://127.0.0.1:9',
};

export interface InProcessPipeline {
  readonly deps: PipelineDeps;
  readonly ledger: MemoryLedger;
  readonly pagerDuty: ScriptedPagerDuty;
  readonly telemetry: CountingTelemetry;
  readonly logger: ReturnType<typeof recordingLogger>;
  /** The injected clock; tests move it. */
  readonly clock: { now: number };
}

export function inProcessDeps(
  env: Readonly<Record<string, string>> = {},
  nowMs = Date.UTC(2026, 10, 29, 12),
): InProcessPipeline {
  const ledger = new MemoryLedger();
  const pagerDuty = new ScriptedPagerDuty();
  const telemetry = new CountingTelemetry();
  const logger = recordingLogger();
  const clock = { now: nowMs };
  const deps: PipelineDeps = {
    config: loadConfig({ ...TEST_ENV, ...env }),
    ledger,
    pagerDuty,
    routingKeys: {
      routes: Object.keys(ROUTING_KEYS),
      has: (route: string) => route in ROUTING_KEYS,
      keyFor: async (route: string) => ROUTING_KEYS[route] ?? ROUTING_KEYS.default!,
    },
    declared: parseDeclaredSettings(env.ALARM_SETTINGS),
    telemetry,
    logger,
    now: () => clock.now,
    // Waiting for another delivery's lease moves the clock instead of sleeping.
    sleep: async (ms: number) => {
      clock.now += ms;
      await Promise.resolve();
    },
  };
  return { deps, ledger, pagerDuty, telemetry, logger, clock };
}
