// The two scenarios of issue 9 that must not need a person, run in the delivery simulation: a two-hour PagerDuty
// outage while alarms keep changing state, and a storm of 1,000 alarms on one integration key against
// PagerDuty's 120 events a minute. The tests assert their figures; `npm run bench` prints them.
import { metricAlarmMessage, snsEvent } from './alarm-fixtures';
import {
  RECOMMENDED_SETTINGS,
  DeliverySimulation,
  type DeliverySettings,
  type ParkedLetter,
  type SimulationStats,
} from './delivery-simulation';
import { seededRandom } from './virtual-clock';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const T0 = Date.parse('2026-11-23T04:00:00.000Z');
const PAGERDUTY_RATE_LIMIT = 120;

const ROUTING_KEYS: Readonly<Record<string, string>> = {
  default: 'd'.repeat(32),
  payments: 'p'.repeat(32),
  search: 's'.repeat(32),
};

const alarmArn = (name: string) => `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`;

/** What every scenario reports. */
export interface ScenarioFigures {
  readonly stats: SimulationStats;
  readonly parked: readonly ParkedLetter[];
  /** Letters still in the retry queue when nothing was left to run. */
  readonly retryQueueDepth: number;
  /** Alarms whose PagerDuty incident is not in the alarm's newest state (open for ALARM, not open for OK). */
  readonly wrongState: readonly string[];
  readonly accepted: number;
  readonly throttled: number;
  /** Invocations Lambda ended at the function timeout: the handler's budget should prevent every one. */
  readonly handlerTimeouts: number;
  /** The handler's metrics, summed over every instance. */
  readonly metrics: Readonly<Record<string, number>>;
  /** Events PagerDuty accepted, per dedup key. */
  readonly acceptedPerAlarm: ReadonlyMap<string, number>;
}

export interface OutageFigures extends ScenarioFigures {
  readonly outageMinutes: number;
  readonly notifications: number;
  /** From PagerDuty's return to the last event it accepted. */
  readonly recoveryMs: number;
  /** Events PagerDuty accepted while it was down: none, or the outage was not one. */
  readonly acceptedDuringOutage: number;
}

export interface OutageOptions {
  readonly settings?: DeliverySettings;
  readonly seed?: number;
  readonly alarms?: number;
  readonly outageMs?: number;
}

/**
 * PagerDuty fails every request (503, reset connections, no answer) for two hours while alarms go to ALARM and
 * back; SNS delivers some notifications late (out of order) and some twice. Then PagerDuty returns.
 */
export async function runOutage(options: OutageOptions = {}): Promise<OutageFigures> {
  const seed = options.seed ?? 9;
  const alarms = options.alarms ?? 60;
  const outageMs = options.outageMs ?? 120 * MINUTE;
  const random = seededRandom(seed + 100);
  const sim = new DeliverySimulation({
    settings: options.settings ?? RECOMMENDED_SETTINGS,
    startMs: T0,
    seed,
    routingKeys: ROUTING_KEYS,
    pagerDuty: { rateLimitPerMinute: PAGERDUTY_RATE_LIMIT, outages: [{ fromMs: T0, toMs: T0 + outageMs }] },
  });
  const routes = Object.keys(ROUTING_KEYS);
  const newest = new Map<string, 'ALARM' | 'OK'>();
  let notifications = 0;
  for (let i = 0; i < alarms; i++) {
    const name = `outage-${i}`;
    const changes = 1 + Math.floor(random() * 6);
    const times = Array.from(
      { length: changes },
      () => T0 + MINUTE + Math.floor(random() * (outageMs - 2 * MINUTE)),
    );
    times.sort((a, b) => a - b);
    times.forEach((changeMs, index) => {
      const state = index % 2 === 0 ? 'ALARM' : 'OK';
      newest.set(alarmArn(name), state);
      notifications++;
      const publishMs = changeMs + 100 + Math.floor(random() * 400);
      const event = snsEvent(
        [
          metricAlarmMessage({
            alarmName: name,
            state,
            stateChangeMs: changeMs,
            tags: { 'pagerduty:route': routes[i % routes.length]! },
          }),
        ],
        { messageId: `${name}-${index}`, timestamp: new Date(publishMs).toISOString() },
      );
      const late = random() < 0.15;
      sim.publish(event, publishMs, {
        // SNS delivers most at once, some a minute late (after the alarm's next change), and some twice.
        delayMs: late ? SECOND + Math.floor(random() * 90 * SECOND) : 20 + Math.floor(random() * 480),
        duplicateAfterMs: random() < 0.05 ? SECOND + Math.floor(random() * 10 * MINUTE) : undefined,
      });
    });
  }
  await sim.run();
  const returnMs = T0 + outageMs;
  const lastAccepted = Math.max(...sim.pagerDuty.accepted.map((e) => e.atMs));
  return {
    ...figures(sim, newest),
    outageMinutes: outageMs / MINUTE,
    notifications,
    recoveryMs: lastAccepted - returnMs,
    acceptedDuringOutage: sim.pagerDuty.accepted.filter((e) => e.atMs < returnMs).length,
  };
}

export interface StormFigures extends ScenarioFigures {
  readonly alarms: number;
  /** From the first publish to the last event PagerDuty accepted. */
  readonly drainMs: number;
  /** 1.15 × alarms / the rate limit, in milliseconds: the goal. */
  readonly goalMs: number;
  /** Events PagerDuty accepted per minute since the first publish. */
  readonly perMinute: readonly number[];
}

export interface StormOptions {
  readonly settings?: DeliverySettings;
  readonly seed?: number;
  readonly alarms?: number;
}

/** 1,000 alarms go to ALARM within ten seconds, all on one integration key; PagerDuty admits 120 a minute. */
export async function runStorm(options: StormOptions = {}): Promise<StormFigures> {
  const seed = options.seed ?? 1000;
  const alarms = options.alarms ?? 1000;
  const random = seededRandom(seed + 100);
  const sim = new DeliverySimulation({
    settings: options.settings ?? RECOMMENDED_SETTINGS,
    startMs: T0,
    seed,
    routingKeys: ROUTING_KEYS,
    pagerDuty: { rateLimitPerMinute: PAGERDUTY_RATE_LIMIT },
  });
  const newest = new Map<string, 'ALARM' | 'OK'>();
  for (let i = 0; i < alarms; i++) {
    const name = `storm-${i}`;
    const changeMs = T0 + Math.floor(random() * 10 * SECOND);
    newest.set(alarmArn(name), 'ALARM');
    const publishMs = changeMs + 100;
    sim.publish(
      snsEvent([metricAlarmMessage({ alarmName: name, state: 'ALARM', stateChangeMs: changeMs })], {
        messageId: `${name}-0`,
        timestamp: new Date(publishMs).toISOString(),
      }),
      publishMs,
      { delayMs: 20 + Math.floor(random() * 480) },
    );
  }
  await sim.run();
  const accepted = sim.pagerDuty.accepted;
  const lastAccepted = Math.max(...accepted.map((e) => e.atMs));
  const perMinute: number[] = [];
  for (const event of accepted) {
    const minute = Math.floor((event.atMs - T0) / MINUTE);
    perMinute[minute] = (perMinute[minute] ?? 0) + 1;
  }
  return {
    ...figures(sim, newest),
    alarms,
    drainMs: lastAccepted - T0,
    goalMs: (1.15 * alarms * MINUTE) / PAGERDUTY_RATE_LIMIT,
    perMinute: Array.from(perMinute, (n) => n ?? 0),
  };
}

function figures(sim: DeliverySimulation, newest: ReadonlyMap<string, 'ALARM' | 'OK'>): ScenarioFigures {
  const wrongState = [...newest].flatMap(([dedupKey, state]) =>
    sim.pagerDuty.isOpen(dedupKey) === (state === 'ALARM') ? [] : [dedupKey],
  );
  return {
    stats: { ...sim.stats, longestRetryGapMs: sim.retryQueue.longestGapMs },
    parked: [...sim.parked],
    retryQueueDepth: sim.retryQueue.depth,
    wrongState,
    accepted: sim.pagerDuty.answered.accepted,
    throttled: sim.pagerDuty.answered.throttled,
    handlerTimeouts: sim.stats.handlerTimeouts,
    metrics: Object.fromEntries(sim.telemetry.counts),
    acceptedPerAlarm: sim.pagerDuty.accepted.reduce(
      (perKey, { dedupKey }) => perKey.set(dedupKey, (perKey.get(dedupKey) ?? 0) + 1),
      new Map<string, number>(),
    ),
  };
}

export const minutes = (ms: number): string => (ms / MINUTE).toFixed(1);
