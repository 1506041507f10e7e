// One reconciliation sweep at scale, in virtual time: many accounts × regions of in-process CloudWatch fakes, each
// throttling DescribeAlarms at its quota (9 TPS per account and region, shared with other tools), the real handler
// on a Scheduled Event with the in-memory ledger and the real PagerDuty client on a simulated PagerDuty. Invocations
// repeat, each with the function's timeout, until a sweep completes; calls and virtual time are counted.
import type { Logger } from '@aws-lambda-powertools/logger';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { metricAlarmMessage, snsEvent } from './alarm-fixtures';
import { awsError, CloudWatchFake } from './cloudwatch-fake';
import { CountingTelemetry } from './counting-telemetry';
import { SimulatedPagerDuty } from './simulated-pagerduty';
import { seededRandom, VirtualClock } from './virtual-clock';
import { createHandler, type PipelineHandler } from '../lambda/handler';
import { loadConfig, pagerDutyClientSettings } from '../lambda/pipeline/config';
import { MemoryLedger } from '../lambda/pipeline/memory-ledger';
import { PagerDutyClient } from '../lambda/pagerduty/client';
import { CloudWatchAlarmReader } from '../lambda/sweep/cloudwatch';
import type { SweepSummary } from '../lambda/sweep';

export interface SweepScaleOptions {
  readonly accounts: number;
  readonly regions: readonly string[];
  readonly alarms: number;
  /** Alarms in ALARM whose incident is open (the steady state). */
  readonly openInAlarm: number;
  /** Open incidents whose OK was lost. */
  readonly lostOks: number;
  /** Alarms in ALARM whose notification never came. */
  readonly missed: number;
  /** DescribeAlarms quota per account and region, and how much of it other tools use. */
  readonly describeTps?: number;
  readonly otherToolsTps?: number;
  /** The function's timeout per invocation. */
  readonly timeoutMs?: number;
  readonly maxInvocations?: number;
  /**
   * Sweep functions (the construct's shards), each over a consecutive share of the sources with its own cursor, all
   * invoked at the same moments (one schedule each).
   */
  readonly shards?: number;
  readonly env?: Readonly<Record<string, string>>;
  readonly seed?: number;
}

/** Issue 18's estate: 10,000 alarms across 20 accounts × 3 regions; `npm run bench:sweep` and its test measure it. */
export const ISSUE_18_ESTATE: SweepScaleOptions = {
  accounts: 20,
  regions: ['us-east-1', 'eu-west-1', 'ap-northeast-1'],
  alarms: 10_000,
  openInAlarm: 200,
  lostOks: 30,
  missed: 20,
  timeoutMs: 60_000,
};

export interface SweepScaleResult {
  readonly invocations: {
    readonly summary: SweepSummary;
    readonly virtualMs: number;
    readonly shard: number;
  }[];
  /** Requests per operation (CloudWatch, ledger, PagerDuty), attempts included. */
  readonly calls: Record<string, number>;
  readonly throttled: number;
  /** Incidents open in PagerDuty whose alarm is not in ALARM, and alarms in ALARM without one, after the last sweep. */
  readonly wrongAfter: number;
  readonly sources: number;
}

/** Round trips in virtual time: CloudWatch Query API, DynamoDB in region, PagerDuty's Events API. */
const CLOUDWATCH_MS = 120;
const DYNAMODB_MS = 8;
/** The SDK's standard retry: 4 attempts (cloudWatchClientFor), full-jitter back-off from 100 ms, at most 20 s. */
const SDK_ATTEMPTS = 4;
const T0 = Date.UTC(2026, 11, 6, 12);

export async function simulateSweepAtScale(options: SweepScaleOptions): Promise<SweepScaleResult> {
  const clock = new VirtualClock(T0);
  const random = seededRandom(options.seed ?? 18);
  const calls: Record<string, number> = {};
  const count = (what: string) => (calls[what] = (calls[what] ?? 0) + 1);
  let throttled = 0;

  const fakes = new Map<string, CloudWatchFake>();
  const sources: { region: string; accountId: string; topicArns: string[] }[] = [];
  for (let a = 0; a < options.accounts; a++) {
    const accountId = String(100000000000 + a);
    for (const region of options.regions) {
      const fake = new CloudWatchFake(clock.now, accountId, region);
      fakes.set(`${accountId}:${region}`, fake);
      sources.push({ region, accountId, topicArns: [topicOf(fake)] });
    }
  }
  const fakeList = [...fakes.values()];
  const bucket = quota(clock, (options.describeTps ?? 9) - (options.otherToolsTps ?? 0));
  const client = (fake: CloudWatchFake) =>
    ({
      send: async (command: { constructor: { name: string }; input: unknown }) => {
        const operation = command.constructor.name.replace(/Command$/, '');
        for (let attempt = 1; ; attempt++) {
          count(`CloudWatch ${operation}`);
          await clock.sleep(CLOUDWATCH_MS);
          if (operation !== 'DescribeAlarms' || bucket.take(`${fake.accountId}:${fake.region}`)) {
            return fake.send(command);
          }
          throttled++;
          if (attempt === SDK_ATTEMPTS) throw awsError('Throttling', 400);
          await clock.sleep(random() * Math.min(20_000, 100 * 2 ** attempt));
        }
      },
    }) as unknown as CloudWatchClient;

  const env = {
    AWS_REGION: 'us-east-1',
    LEDGER_TABLE_NAME: 'in-memory',
    ROUTING_KEY_SECRETS: JSON.stringify({ default: 'pd/default' }),
    PAGERDUTY_EVENTS_URL: 'https://pagerduty.invalid',
    RECONCILE_SOURCES: JSON.stringify(sources),
    ...options.env,
  };
  const ledger = slow(new MemoryLedger(), clock, (method) => count(`DynamoDB ${method}`));
  const pagerDuty = new SimulatedPagerDuty({
    clock,
    random,
    latencyMs: () => 60 + Math.floor(random() * 90),
  });
  const handlerWith = (extraEnv: Record<string, string>): PipelineHandler => {
    const config = loadConfig({ ...env, ...extraEnv });
    return createHandler(
      { ...env, ...extraEnv },
      {
        readerFor: (source) =>
          new CloudWatchAlarmReader(client(fakes.get(`${source.accountId}:${source.region}`)!)),
        deps: {
          ledger,
          pagerDuty: new PagerDutyClient({
            ...pagerDutyClientSettings(config),
            random,
            now: clock.now,
            sleep: clock.sleep,
            transport: async (...args) => (count('PagerDuty events'), pagerDuty.transport(...args)),
          }),
          routingKeys: {
            routes: ['default'],
            has: (r) => r === 'default',
            keyFor: () => Promise.resolve('k'.repeat(32)),
          },
          telemetry: new CountingTelemetry(),
          logger: silentLogger(),
          now: clock.now,
          sleep: clock.sleep,
        },
      },
    );
  };

  // The estate before the sweep: every alarm, the incidents opened through notifications, then the losses.
  for (let i = 0; i < options.alarms; i++) {
    const fake = fakeList[i % fakeList.length]!;
    fake.putMetricAlarm(alarmName(Math.floor(i / fakeList.length)), {
      state: 'OK',
      actions: [topicOf(fake)],
    });
  }
  // Per source, alarms from index 0 are the open ones, then the missed ones, then those whose OK gets lost.
  const pick = (n: number, offset: number) =>
    Array.from({ length: n }, (_, k) => ({
      fake: fakeList[k % fakeList.length]!,
      name: alarmName(offset + Math.floor(k / fakeList.length)),
    }));
  const rows = (n: number) => Math.ceil(n / fakeList.length);
  const inAlarm = pick(options.openInAlarm, 0);
  const missed = pick(options.missed, rows(options.openInAlarm));
  const lost = pick(options.lostOks, rows(options.openInAlarm) + rows(options.missed));
  const setup = handlerWith({ RATE_LIMIT_PER_MINUTE: '0' });
  await clock.run(clock.now() + 1000);
  for (const { fake, name } of [...inAlarm, ...lost]) {
    const change = fake.setState(name, 'ALARM')!;
    const message = metricAlarmMessage({
      alarmName: name,
      accountId: fake.accountId,
      regionCode: fake.region,
      state: 'ALARM',
      stateChangeMs: change.atMs,
    });
    await untilSettled(
      clock,
      // Each account and region's alarms arrive on its own intake topic, the only one that may carry them.
      setup(
        snsEvent([message], { timestamp: new Date(change.atMs + 40).toISOString(), topicArn: topicOf(fake) }),
      ),
    );
  }
  for (const { fake, name } of lost) fake.setState(name, 'OK'); // their notifications are lost
  for (const { fake, name } of missed) fake.setState(name, 'ALARM');
  await clock.run(clock.now() + 10 * 60_000); // past the grace
  for (const key of Object.keys(calls)) delete calls[key];

  const shards = options.shards ?? 1;
  const perShard = Math.ceil(sources.length / shards);
  const sweepHandlers = Array.from({ length: shards }, (_, i) =>
    handlerWith({ RECONCILE_SOURCES: JSON.stringify(sources.slice(i * perShard, (i + 1) * perShard)) }),
  );
  const timeoutMs = options.timeoutMs ?? 60_000;
  const invocations: SweepScaleResult['invocations'] = [];
  let pending = sweepHandlers.map((_, shard) => shard);
  for (let n = 0; n < (options.maxInvocations ?? 10) && pending.length > 0; n++) {
    const started = clock.now();
    const endsAt = started + timeoutMs;
    const round = pending.map(async (shard) => {
      const summary = (await sweepHandlers[shard]!(
        { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} },
        {
          awsRequestId: `sweep-${n}-${shard}`,
          getRemainingTimeInMillis: () => Math.max(0, endsAt - clock.now()),
        },
      )) as SweepSummary;
      invocations.push({ summary, virtualMs: clock.now() - started, shard });
      // Done when a sweep got through every source with nothing left for the next one.
      return !summary.incomplete && summary.errors === 0 ? undefined : shard;
    });
    pending = (await untilSettled(clock, Promise.all(round))).filter((shard) => shard !== undefined);
    if (pending.length > 0) await clock.run(clock.now() + 5 * 60_000); // the next schedule
  }

  // PagerDuty's side: the last event per dedup key says whether its incident is open.
  const last = new Map(pagerDuty.accepted.map((event) => [event.dedupKey, event.action]));
  let wrongAfter = 0;
  for (const fake of fakeList) {
    for (const alarm of fake.alarms.values()) {
      if ((alarm.state === 'ALARM') !== (last.get(alarm.arn) === 'trigger')) wrongAfter++;
    }
  }
  return { invocations, calls, throttled, wrongAfter, sources: fakeList.length };
}

const alarmName = (index: number) => `service-${String(index).padStart(4, '0')}`;
const topicOf = (fake: CloudWatchFake) => `arn:aws:sns:${fake.region}:${fake.accountId}:alarm-to-pagerduty`;

/** Awaits a promise while the virtual clock runs its timers. */
async function untilSettled<T>(clock: VirtualClock, work: Promise<T>): Promise<T> {
  let done = false;
  const result = work.finally(() => (done = true));
  while (!done) await clock.run();
  return result;
}

/** A token bucket per account and region, refilled at `tps`: CloudWatch's request quota. */
function quota(clock: VirtualClock, tps: number) {
  const buckets = new Map<string, { tokens: number; atMs: number }>();
  return {
    take(key: string): boolean {
      const now = clock.now();
      const bucket = buckets.get(key) ?? { tokens: tps, atMs: now };
      bucket.tokens = Math.min(tps, bucket.tokens + ((now - bucket.atMs) / 1000) * tps);
      bucket.atMs = now;
      buckets.set(key, bucket);
      if (bucket.tokens < 1) return false;
      bucket.tokens -= 1;
      return true;
    },
  };
}

/** The ledger with a DynamoDB round trip per call, counted by method. */
function slow(ledger: MemoryLedger, clock: VirtualClock, onCall: (method: string) => void): MemoryLedger {
  return new Proxy(ledger, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        onCall(String(property));
        await clock.sleep(DYNAMODB_MS);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

function silentLogger(): Logger {
  const ignore = () => undefined;
  return {
    info: ignore,
    warn: ignore,
    error: ignore,
    debug: ignore,
    addContext: ignore,
  } as unknown as Logger;
}
