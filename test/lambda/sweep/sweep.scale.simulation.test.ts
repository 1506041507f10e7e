// Issue 18's scale: one sweep over 10,000 alarms across 20 accounts × 3 regions, in virtual time
// (local/sweep-simulation.ts): DescribeAlarms throttled at 9 TPS per account and region, the function's 60 s
// timeout per invocation, the sweep resuming where it stopped on the next schedule.
import { ISSUE_18_ESTATE as ESTATE, simulateSweepAtScale } from '../../../local/sweep-simulation';
import { report } from '../../support/output';

describe('one sweep at 10,000 alarms, 20 accounts × 3 regions (virtual time)', () => {
  it('completes in one invocation within its budget, with two DescribeAlarms per source (ALARM, INSUFFICIENT_DATA) plus the by-name checks', async () => {
    const result = await simulateSweepAtScale(ESTATE);
    const [only, ...more] = result.invocations;
    expect(more).toHaveLength(0);
    expect(only!.summary).toMatchObject({
      sources: 60,
      sourcesSwept: 60,
      resolvedOk: 30,
      missedNotifications: 20,
      errors: 0,
      incomplete: false,
    });
    expect(only!.virtualMs).toBeLessThan(60_000 - 5_000);
    // 60 ALARM and 60 INSUFFICIENT_DATA lists (every source has < 100 alarms in each) + one by-name call for each
    // source with a lost OK.
    expect(result.calls['CloudWatch DescribeAlarms']).toBe(60 + 60 + 30);
    expect(result.calls['DynamoDB openIncidents']).toBe(60);
    expect(result.calls['PagerDuty events']).toBe(50);
    expect(result.throttled).toBe(0);
    expect(result.wrongAfter).toBe(0);
    report(`sweep at 10,000 alarms: ${only!.virtualMs} ms virtual, calls ${JSON.stringify(result.calls)}`);
  });

  it('deployed as 6 shards (the 4 KB environment), the same calls split across 6 functions sweeping at once', async () => {
    const whole = await simulateSweepAtScale(ESTATE);
    const result = await simulateSweepAtScale({ ...ESTATE, shards: 6 });
    expect(result.invocations).toHaveLength(6);
    expect(result.invocations.map((i) => i.summary.sources)).toEqual([10, 10, 10, 10, 10, 10]);
    for (const { summary } of result.invocations)
      expect(summary).toMatchObject({ incomplete: false, errors: 0 });
    const sum = (field: 'resolvedOk' | 'missedNotifications') =>
      result.invocations.reduce((total, i) => total + i.summary[field], 0);
    expect([sum('resolvedOk'), sum('missedNotifications')]).toEqual([30, 20]);
    for (const call of ['CloudWatch DescribeAlarms', 'DynamoDB openIncidents', 'PagerDuty events']) {
      expect(result.calls[call]).toBe(whole.calls[call]);
    }
    const longest = Math.max(...result.invocations.map((i) => i.virtualMs));
    const total = result.invocations.reduce((ms, i) => ms + i.virtualMs, 0);
    expect(longest).toBeLessThan(whole.invocations[0]!.virtualMs);
    expect(result.wrongAfter).toBe(0);
    report(
      `sweep at 10,000 alarms in 6 shards: longest ${Math.round(longest)} ms, ${Math.round(total)} ms in all ` +
        `(one function: ${Math.round(whole.invocations[0]!.virtualMs)} ms), calls ${JSON.stringify(result.calls)}`,
    );
  });

  // With 1 TPS left, a source's two state reads (ALARM, then INSUFFICIENT_DATA) throttle each other: some reads fail
  // on every sweep (SweepErrors) and no pass over 60 sources fits one invocation, but every correction lands.
  it('with other tools using 8 of the 9 TPS, it backs off, stops at its budget and converges on later invocations', async () => {
    const result = await simulateSweepAtScale({ ...ESTATE, otherToolsTps: 8, maxInvocations: 6 });
    const [first] = result.invocations;
    expect(result.throttled).toBeGreaterThan(0);
    expect(first!.summary.incomplete || first!.summary.errors > 0).toBe(true);
    for (const { virtualMs } of result.invocations) expect(virtualMs).toBeLessThanOrEqual(60_000);
    expect(result.wrongAfter).toBe(0);
    report(
      `sweep throttled to 1 TPS: ${result.invocations.length} invocations ` +
        `(${result.invocations.map((i) => Math.round(i.virtualMs)).join(', ')} ms), ${result.throttled} throttles`,
    );
  });

  it('a storm of 1,000 lost OKs is corrected across invocations at PagerDuty’s rate, resuming where each stopped', async () => {
    const result = await simulateSweepAtScale({ ...ESTATE, lostOks: 1_000, maxInvocations: 12 });
    const incomplete = result.invocations.filter((i) => i.summary.incomplete);
    expect(incomplete.length).toBeGreaterThan(0);
    expect(incomplete.every((i) => i.summary.nextSource !== undefined)).toBe(true);
    const resolved = result.invocations.reduce((sum, i) => sum + i.summary.resolvedOk, 0);
    expect(resolved).toBe(1_000);
    expect(result.calls['PagerDuty events']).toBe(1_000 + 20);
    for (const { virtualMs } of result.invocations) expect(virtualMs).toBeLessThanOrEqual(60_000);
    expect(result.wrongAfter).toBe(0);
    report(
      `storm of 1,000 lost OKs: ${result.invocations.length} invocations, calls ${JSON.stringify(result.calls)}`,
    );
  });
});
