import type { SNSEvent } from 'aws-lambda';
import { metricAlarmMessage, snsEvent } from '../local/alarm-fixtures';
import { runAsyncInvocations } from '../local/async-lambda';
import { startDynalite } from '../local/dynalite';
import { newRoutingKey, startPipeline, type LocalPipeline, localStores } from '../local/harness';
import { PagerDutyEmulator } from '../local/pagerduty-emulator';
import { LocalSecretsStore } from '../local/secrets-store';
import { captureStdout, metricTotal, report } from './support/output';

// Time is compressed 60×: PagerDuty's 60-second rate window is 1 s here, Lambda's retries after ~1 and ~2
// minutes come after 1 s and 2 s, and a function timeout of T seconds gives an invocation T/60 s.
const MINUTE = 1000;
const ALARMS = 1000;
const T0 = Date.parse('2026-11-23T04:00:00.000Z');

describe('alarm storm against a rate-limited PagerDuty', () => {
  let dynamo: Awaited<ReturnType<typeof startDynalite>>;
  let secrets: LocalSecretsStore;
  let emulator: PagerDutyEmulator;
  let output: ReturnType<typeof captureStdout>;

  beforeAll(async () => {
    dynamo = await startDynalite();
    secrets = await LocalSecretsStore.start({});
    emulator = await PagerDutyEmulator.start({ rateLimitPerMinute: 120, rateWindowMs: MINUTE });
    output = captureStdout();
  });
  afterAll(async () => {
    output?.restore();
    await emulator?.stop();
    await secrets?.stop();
    await dynamo?.stop();
  });

  async function pipelineWith(routes: number): Promise<{ pipeline: LocalPipeline; routeNames: string[] }> {
    const routingKeys: Record<string, string> = { default: newRoutingKey() };
    for (let i = 1; i < routes; i++) routingKeys[`team-${i}`] = newRoutingKey();
    const pipeline = await startPipeline({
      stores: localStores(dynamo.endpoint, secrets),
      pagerDutyUrl: emulator.url,
      routingKeys,
      env: {
        // Back-off scaled to the compressed minute; the emulator's 429s are the back-pressure.
        RETRY_BASE_DELAY_MS: '5',
        RETRY_MAX_DELAY_MS: String(MINUTE / 4),
        RATE_LIMIT_PER_MINUTE: '0',
        TIME_BUDGET_MARGIN_MS: '20',
      },
    });
    return { pipeline, routeNames: Object.keys(routingKeys) };
  }

  function stormEvents(prefix: string, routeNames: readonly string[]): SNSEvent[] {
    return Array.from({ length: ALARMS }, (_, i) =>
      snsEvent([
        metricAlarmMessage({
          alarmName: `${prefix}-${i}`,
          state: 'ALARM',
          stateChangeMs: T0 + i,
          tags: { 'pagerduty:route': routeNames[i % routeNames.length]! },
        }),
      ]),
    );
  }

  /**
   * One incident per alarm, each opened once. With `strict`, PagerDuty also received exactly one trigger per
   * alarm; without it, a trigger that PagerDuty ingested but whose answer came after the invocation's deadline
   * may have been sent again, which PagerDuty folds into the open incident (same dedup key): no second page.
   * Returns how many such repeated triggers were absorbed.
   */
  function expectEachPagedOnce(prefix: string, strict: boolean): number {
    const mine = (dedupKey: unknown) => String(dedupKey).includes(`:alarm:${prefix}-`);
    const triggers = emulator.accepted.filter((e) => mine(e.dedup_key) && e.event_action === 'trigger');
    const perKey = new Map<string, number>();
    for (const event of triggers) {
      perKey.set(String(event.dedup_key), (perKey.get(String(event.dedup_key)) ?? 0) + 1);
    }
    expect(perKey.size).toBe(ALARMS);
    const incidents = emulator.incidents().filter((i) => mine(i.dedupKey));
    expect(incidents).toHaveLength(ALARMS);
    expect(incidents.every((i) => i.status === 'triggered')).toBe(true);
    if (strict) expect([...perKey.values()].every((count) => count === 1)).toBe(true);
    return triggers.length - ALARMS;
  }

  it('pages 1,000 alarms across 10 routes exactly once each, none in the dead-letter queue', async () => {
    const { pipeline, routeNames } = await pipelineWith(10);
    const result = await runAsyncInvocations(stormEvents('storm10', routeNames), {
      invoke: pipeline.handler,
      concurrency: 20,
      budgetMs: MINUTE,
      retryDelaysMs: [MINUTE, 2 * MINUTE],
    });
    expect(result.deadLetters).toHaveLength(0);
    expectEachPagedOnce('storm10', true);
    report(
      `storm, 10 routes: ${ALARMS} alarms in ${result.elapsedMs} ms, ${result.invocations} invocations, ` +
        `${result.failures} failed invocations, 429s answered: ${emulator.requests.filter((r) => r.status === 429).length}\n`,
    );
  }, 120_000);

  it('on one route, the dead-letter queue and the redrive together deliver every one of 1,000 alarms', async () => {
    const { pipeline } = await pipelineWith(1);
    const throttledBefore = emulator.requests.filter((r) => r.status === 429).length;
    // A 10-second function timeout: an invocation that finds no free slot within it fails and is retried.
    const options = {
      invoke: pipeline.handler,
      concurrency: 20,
      budgetMs: MINUTE / 6,
      retryDelaysMs: [MINUTE, 2 * MINUTE] as const,
    };
    const storm = await runAsyncInvocations(stormEvents('storm1', ['default']), options);
    let deadLetters = storm.deadLetters;
    const rounds: number[] = [];
    // The redrive command replays the DLQ through the same path; an operator runs it until it is empty.
    while (deadLetters.length > 0 && rounds.length < 20) {
      rounds.push(deadLetters.length);
      deadLetters = (await runAsyncInvocations(deadLetters, options)).deadLetters;
    }
    expect(deadLetters).toHaveLength(0);
    const absorbed = expectEachPagedOnce('storm1', false);
    const throttled = emulator.requests.filter((r) => r.status === 429).length - throttledBefore;
    expect(throttled).toBeGreaterThan(0);
    expect(metricTotal(output.lines(), 'DeliveryRetries')).toBeGreaterThan(0);
    report(
      `storm, 1 route: ${storm.deadLetters.length} of ${ALARMS} reached the DLQ; redrive rounds ${JSON.stringify(rounds)}; ` +
        `${throttled} requests answered 429; ${absorbed} repeated trigger(s) absorbed by the open incident\n`,
    );
  }, 300_000);
});
