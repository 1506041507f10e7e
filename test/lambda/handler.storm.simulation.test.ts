// Issue 9: a storm of 1,000 alarms on one integration key against PagerDuty's 120 events a minute drains with no
// person, nothing parked, in at most 1.15 × 1,000/120 minutes. The AWS machinery around the real handler runs in
// virtual time (local/delivery-simulation.ts); see the settings there for why each one is what it is.
import { minutes, runStorm, type StormFigures } from '../../local/delivery-scenarios';
import { LAMBDA_RETRY_SETTINGS, RECOMMENDED_SETTINGS } from '../../local/delivery-simulation';
import { report } from '../support/output';

function expectDrainedWithoutAPerson(storm: StormFigures): void {
  expect(storm.parked).toEqual([]);
  expect(storm.retryQueueDepth).toBe(0);
  expect(storm.handlerTimeouts).toBe(0);
  // Every alarm has its incident, opened by exactly one accepted trigger: a 429 is not ingested.
  expect(storm.wrongState).toEqual([]);
  expect(storm.acceptedPerAlarm.size).toBe(storm.alarms);
  expect([...storm.acceptedPerAlarm.values()].every((count) => count === 1)).toBe(true);
  expect(storm.drainMs).toBeLessThanOrEqual(storm.goalMs);
}

describe('a storm of 1,000 alarms on one routing key, PagerDuty admitting 120 a minute', () => {
  it('drains within 1.15 × 1,000/120 minutes, every alarm paged once, nothing parked, a few instances busy', async () => {
    const storm = await runStorm();
    expectDrainedWithoutAPerson(storm);
    // PagerDuty's limit was the only limit: full minutes until the backlog ran out.
    expect(storm.perMinute.slice(0, 8)).toEqual(Array(8).fill(120));
    // Fresh notifications do not wait for the limit, so the storm does not hold an instance per alarm.
    expect(storm.stats.peakConcurrency).toBeLessThan(50);
    report(
      `storm drain: ${minutes(storm.drainMs)} min for 1,000 alarms (goal ≤ ${minutes(storm.goalMs)}); ` +
        `per minute ${storm.perMinute.join(',')}; ${storm.throttled} answers 429; ` +
        `${storm.stats.toRetryQueue} via the retry queue; peak concurrency ${storm.stats.peakConcurrency}`,
    );
  }, 60_000);

  it('drains as fast when the account leaves the function only 10 concurrent instances', async () => {
    const storm = await runStorm({ settings: { ...RECOMMENDED_SETTINGS, concurrency: 10 }, seed: 7 });
    expectDrainedWithoutAPerson(storm);
  }, 60_000);

  it('with Lambda’s own two retries and a 60-second timeout, the drain misses the goal', async () => {
    // Why retryAttempts is 0: a throttled event idles one, then two minutes in Lambda's retry delays while
    // PagerDuty's window is free, and reaches the retry queue only after three failed invocations.
    const storm = await runStorm({ settings: LAMBDA_RETRY_SETTINGS });
    expect(storm.parked).toEqual([]);
    expect(storm.drainMs).toBeGreaterThan(storm.goalMs);
  }, 60_000);
});
