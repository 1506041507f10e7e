// Each case of issue 18, in process: CloudWatch (the fake) in one state, the ledger and PagerDuty in another after
// lost, forged or muted notifications; one sweep brings PagerDuty to CloudWatch's state, and never past a newer change.
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { sweepRig, type SweepRig } from '../../support/sweep';
import { CloudWatchFake, FAKE_TOPIC } from '../../../local/cloudwatch-fake';
import { loadConfig } from '../../../lambda/pipeline/config';
import { CloudWatchAlarmReader } from '../../../lambda/sweep/cloudwatch';
import { shardOf } from '../../../lambda/sweep/cursor';
import { runSweep, sweepDeps } from '../../../lambda/sweep';
import { inProcessDeps, TEST_ENV } from '../../support/in-process';
import { metricAlarmMessage, snsEvent } from '../../../local/alarm-fixtures';

const MINUTE = 60_000;
const ARN = (name: string) => `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`;

/** The dedup keys PagerDuty holds open, from the events that reached it, sorted. */
function openKeys(rig: SweepRig): string[] {
  const open = new Set<string>();
  for (const { event } of rig.pagerDuty.landed) {
    if (event.event_action === 'trigger') open.add(event.dedup_key);
    else if (event.event_action === 'resolve') open.delete(event.dedup_key);
  }
  return [...open].sort();
}

async function pagedAndOpen(rig: SweepRig, name: string) {
  rig.cloudWatch.putMetricAlarm(name, { state: 'OK' });
  rig.clock.now += 1000;
  await rig.deliver(rig.cloudWatch.setState(name, 'ALARM'));
  expect(rig.pagerDuty.isOpen(ARN(name))).toBe(true);
}

describe('the reconciliation sweep', () => {
  it('resolves an incident whose OK was lost, once', async () => {
    const rig = sweepRig();
    await pagedAndOpen(rig, 'api-5xx');
    rig.clock.now += MINUTE;
    rig.cloudWatch.setState('api-5xx', 'OK'); // the OK notification is lost
    const summary = await rig.sweep();
    expect(rig.pagerDuty.isOpen(ARN('api-5xx'))).toBe(false);
    expect(summary).toMatchObject({ resolvedOk: 1, errors: 0, incomplete: false });
    expect(rig.telemetry.get('SweepResolvedOk')).toBe(1);
    const sent = rig.pagerDuty.landed.length;
    rig.clock.now += MINUTE;
    await rig.sweep();
    expect(rig.pagerDuty.landed).toHaveLength(sent); // the ledger agrees now: no request
  });

  it('pages a wired alarm in ALARM whose notification never came, after the grace, once', async () => {
    const rig = sweepRig();
    rig.cloudWatch.putMetricAlarm('db-cpu', { state: 'OK' });
    rig.cloudWatch.putMetricAlarm('not-wired', {
      state: 'OK',
      actions: ['arn:aws:sns:us-east-1:123456789012:other'],
    });
    rig.clock.now += 1000;
    rig.cloudWatch.setState('db-cpu', 'ALARM');
    rig.cloudWatch.setState('not-wired', 'ALARM');
    rig.clock.now += 30_000;
    await rig.sweep();
    expect(rig.pagerDuty.landed).toHaveLength(0); // its notification may be in flight
    rig.clock.now += 2 * MINUTE;
    const summary = await rig.sweep();
    expect(summary.missedNotifications).toBe(1);
    expect(rig.pagerDuty.isOpen(ARN('db-cpu'))).toBe(true);
    expect(rig.pagerDuty.isOpen(ARN('not-wired'))).toBe(false);
    const [page] = rig.pagerDuty.landed;
    expect(page?.event.payload?.summary).toContain('db-cpu');
    expect(rig.logger.lines.some((l) => l.message.includes('never reached the pipeline'))).toBe(true);
    await rig.sweep();
    expect(rig.pagerDuty.landed).toHaveLength(1);
  });

  it('resolves the incident of a deleted alarm only on a positive answer', async () => {
    const rig = sweepRig();
    await pagedAndOpen(rig, 'gone');
    rig.cloudWatch.deleteAlarm('gone');
    rig.cloudWatch.fail('DescribeAlarms', 'AccessDenied');
    const refused = await rig.sweep();
    expect(refused.errors).toBeGreaterThan(0);
    expect(rig.telemetry.get('SweepErrors')).toBeGreaterThan(0);
    expect(rig.pagerDuty.isOpen(ARN('gone'))).toBe(true); // an error resolves nothing
    rig.cloudWatch.heal();
    rig.clock.now += MINUTE;
    expect(await rig.sweep()).toMatchObject({ resolvedDeleted: 1 });
    expect(rig.pagerDuty.isOpen(ARN('gone'))).toBe(false);
  });

  it('leaves a source it cannot read (throttled) for the next sweep, then corrects it', async () => {
    const rig = sweepRig();
    await pagedAndOpen(rig, 'throttled');
    rig.cloudWatch.setState('throttled', 'OK');
    rig.cloudWatch.fail('DescribeAlarms', 'Throttling', 2);
    await rig.sweep(); // the ALARM list fails
    await rig.sweep(); // the by-name check fails
    expect(rig.pagerDuty.isOpen(ARN('throttled'))).toBe(true);
    expect(rig.telemetry.get('SweepErrors')).toBe(2);
    rig.clock.now += MINUTE;
    await rig.sweep();
    expect(rig.pagerDuty.isOpen(ARN('throttled'))).toBe(false);
  });

  it('does not page a muted alarm, and resolves one that recovered during a mute (its OK was muted)', async () => {
    const rig = sweepRig();
    await pagedAndOpen(rig, 'muted-recovers');
    rig.cloudWatch.putMetricAlarm('muted-breaches', { state: 'OK' });
    rig.cloudWatch.muteRules.set('maintenance', ['muted-recovers', 'muted-breaches']);
    rig.clock.now += 1000;
    rig.cloudWatch.setState('muted-recovers', 'OK');
    rig.cloudWatch.setState('muted-breaches', 'ALARM');
    rig.clock.now += 5 * MINUTE;
    await rig.sweep();
    expect(rig.pagerDuty.isOpen(ARN('muted-recovers'))).toBe(false);
    expect(rig.pagerDuty.isOpen(ARN('muted-breaches'))).toBe(false);
    rig.cloudWatch.muteRules.clear();
    await rig.sweep();
    expect(rig.pagerDuty.isOpen(ARN('muted-breaches'))).toBe(true);
  });

  it('pages through a mute when the mute rules cannot be read, and counts it', async () => {
    const rig = sweepRig();
    rig.cloudWatch.putMetricAlarm('x', { state: 'ALARM' });
    rig.cloudWatch.muteRules.set('m', ['x']);
    rig.cloudWatch.fail('ListAlarmMuteRules', 'InternalFailure');
    rig.clock.now += 5 * MINUTE;
    await rig.sweep();
    expect(rig.pagerDuty.isOpen(ARN('x'))).toBe(true);
    expect(rig.telemetry.get('SweepErrors')).toBe(1);
  });

  it('follows the insufficient-data policy stored with the incident', async () => {
    const rig = sweepRig();
    rig.cloudWatch.putMetricAlarm('resolves', {
      state: 'OK',
      tags: { 'pagerduty:insufficient-data': 'resolve' },
    });
    rig.cloudWatch.putMetricAlarm('ignores', { state: 'OK' });
    rig.clock.now += 1000;
    await rig.deliver(rig.cloudWatch.setState('resolves', 'ALARM'));
    await rig.deliver(rig.cloudWatch.setState('ignores', 'ALARM'));
    rig.clock.now += MINUTE;
    rig.cloudWatch.setState('resolves', 'INSUFFICIENT_DATA');
    rig.cloudWatch.setState('ignores', 'INSUFFICIENT_DATA');
    const summary = await rig.sweep();
    expect(summary.resolvedInsufficientData).toBe(1);
    expect(rig.pagerDuty.isOpen(ARN('resolves'))).toBe(false);
    expect(rig.pagerDuty.isOpen(ARN('ignores'))).toBe(true);
  });

  it('pages an alarm whose INSUFFICIENT_DATA was lost under a trigger policy (tag or ALARM_SETTINGS), and keeps it open there', async () => {
    const rig = sweepRig({
      ALARM_SETTINGS: JSON.stringify({ 'declared-trigger': { insufficientData: 'trigger' } }),
    });
    const wiredForInsufficientData = { state: 'OK' as const, insufficientDataActions: [FAKE_TOPIC] };
    const trigger = { 'pagerduty:insufficient-data': 'trigger' };
    rig.cloudWatch.putMetricAlarm('tagged-trigger', { ...wiredForInsufficientData, tags: trigger });
    rig.cloudWatch.putMetricAlarm('declared-trigger', wiredForInsufficientData);
    rig.cloudWatch.putMetricAlarm('tagged-resolve', {
      ...wiredForInsufficientData,
      tags: { 'pagerduty:insufficient-data': 'resolve' },
    });
    rig.cloudWatch.putMetricAlarm('default-ignore', wiredForInsufficientData);
    // No INSUFFICIENT_DATA action: CloudWatch would notify nobody, so the real path opens nothing either.
    rig.cloudWatch.putMetricAlarm('not-wired', { state: 'OK', tags: trigger });
    rig.clock.now += 1000;
    for (const name of rig.cloudWatch.alarms.keys()) rig.cloudWatch.setState(name, 'INSUFFICIENT_DATA'); // all lost
    rig.clock.now += 5 * MINUTE;
    expect(await rig.sweep()).toMatchObject({ missedNotifications: 2, errors: 0 });
    expect(openKeys(rig)).toEqual([ARN('declared-trigger'), ARN('tagged-trigger')]);
    expect(rig.pagerDuty.landed[0]?.event.payload?.summary).toContain('INSUFFICIENT_DATA');

    rig.cloudWatch.requests.length = 0;
    rig.clock.now += 5 * MINUTE;
    expect(await rig.sweep()).toMatchObject({ missedNotifications: 0, resolvedInsufficientData: 0 });
    expect(rig.pagerDuty.landed).toHaveLength(2); // open while INSUFFICIENT_DATA: nothing sent, nothing resolved
    // The INSUFFICIENT_DATA answer already shows those alarms: no by-name call for their open incidents.
    expect(
      rig.cloudWatch.requests.filter((r) => r.operation === 'DescribeAlarms').map((r) => r.input.StateValue),
    ).toEqual(['ALARM', 'INSUFFICIENT_DATA']);

    rig.cloudWatch.setState('tagged-trigger', 'OK'); // lost
    rig.clock.now += MINUTE;
    expect(await rig.sweep()).toMatchObject({ resolvedOk: 1 });
    expect(openKeys(rig)).toEqual([ARN('declared-trigger')]);
  });

  it('pages an INSUFFICIENT_DATA under a trigger policy as its delivered notification does', async () => {
    const scenario = async (delivered: boolean) => {
      const rig = sweepRig();
      const tags = { 'pagerduty:insufficient-data': 'trigger' };
      rig.cloudWatch.putMetricAlarm('no-data', { state: 'OK', insufficientDataActions: [FAKE_TOPIC], tags });
      rig.clock.now += 1000;
      const change = rig.cloudWatch.setState('no-data', 'INSUFFICIENT_DATA');
      if (delivered) await rig.deliver(change);
      rig.clock.now += 5 * MINUTE;
      const summary = await rig.sweep();
      const entry = await rig.ledger.read(ARN('no-data'));
      return {
        open: openKeys(rig),
        missed: summary.missedNotifications,
        ledger: { action: entry?.action, delivered: entry?.delivered, policy: entry?.insufficientData },
      };
    };
    const real = await scenario(true);
    expect(real).toEqual({
      open: [ARN('no-data')],
      missed: 0,
      ledger: { action: 'trigger', delivered: true, policy: 'trigger' },
    });
    expect(await scenario(false)).toEqual({ ...real, missed: 1 });
  });

  it('corrects an item wedged by a forged future time', async () => {
    const rig = sweepRig();
    rig.cloudWatch.putMetricAlarm('forged', { state: 'OK' });
    rig.clock.now += 1000;
    const alarm = rig.cloudWatch.setState('forged', 'ALARM');
    rig.clock.now += 10;
    const ok = rig.cloudWatch.setState('forged', 'OK');
    rig.clock.now += 5_000;
    // The ALARM claims 2099 and SNS stamps it late; the real OK, stamped before that, arrives after it.
    await rig.deliver(alarm, { claimedMs: Date.UTC(2099, 0, 1), publishDelayMs: 2_000 });
    await rig.deliver(ok);
    expect(rig.pagerDuty.isOpen(ARN('forged'))).toBe(true); // wedged: the OK is older than the capped ALARM
    rig.clock.now += MINUTE;
    await rig.sweep();
    expect(rig.pagerDuty.isOpen(ARN('forged'))).toBe(false);
  });

  it('never overrides a real change made after its observation', async () => {
    const rig = sweepRig();
    await pagedAndOpen(rig, 'racing');
    rig.clock.now += MINUTE;
    rig.cloudWatch.setState('racing', 'OK'); // lost
    rig.clock.now += MINUTE;
    // Right after CloudWatch answers "OK" by name, the alarm breaches again and that ALARM is delivered first.
    rig.wrapReader = (reader) => ({
      ...reader,
      alarmsInAlarm: () => reader.alarmsInAlarm(),
      alarmsInInsufficientData: () => reader.alarmsInInsufficientData(),
      alarmsByName: async (names) => {
        const answer = await reader.alarmsByName(names);
        rig.clock.now += 5;
        await rig.deliver(rig.cloudWatch.setState('racing', 'ALARM'));
        return answer;
      },
      contributorsInAlarm: (n) => reader.contributorsInAlarm(n),
      mutedAlarmNames: () => reader.mutedAlarmNames(),
      tagsOf: (arn) => reader.tagsOf(arn),
    });
    await rig.sweep();
    expect(rig.pagerDuty.isOpen(ARN('racing'))).toBe(true);
    expect((await rig.ledger.read(ARN('racing')))?.action).toBe('trigger');
    expect(rig.telemetry.get('SweepResolvedOk')).toBe(0);
  });

  it('re-pages an alarm that still breaches after a person resolved its incident (opt-in)', async () => {
    const rig = sweepRig();
    rig.cloudWatch.putMetricAlarm('repaged', { state: 'OK', tags: { 'pagerduty:repage-minutes': '30' } });
    rig.cloudWatch.putMetricAlarm('not-repaged', { state: 'OK' });
    rig.clock.now += 1000;
    await rig.deliver(rig.cloudWatch.setState('repaged', 'ALARM'));
    await rig.deliver(rig.cloudWatch.setState('not-repaged', 'ALARM'));
    for (const name of ['repaged', 'not-repaged']) {
      await rig.pagerDuty.sendAlert('k'.repeat(32), { event_action: 'resolve', dedup_key: ARN(name) });
    }
    rig.clock.now += 20 * MINUTE;
    await rig.sweep();
    expect(rig.pagerDuty.isOpen(ARN('repaged'))).toBe(false);
    rig.clock.now += 11 * MINUTE;
    expect(await rig.sweep()).toMatchObject({ repages: 1 });
    expect(rig.pagerDuty.isOpen(ARN('repaged'))).toBe(true);
    expect(rig.pagerDuty.isOpen(ARN('not-repaged'))).toBe(false);
  });

  it('pages and resolves a multi-time-series alarm and its contributors one by one', async () => {
    const rig = sweepRig();
    rig.cloudWatch.putMetricAlarm('tables', { state: 'OK', multiSeries: true });
    rig.cloudWatch.setContributor('tables', 'c-orders', 'ALARM', { TableName: 'orders' });
    rig.cloudWatch.setContributor('tables', 'c-users', 'ALARM', { TableName: 'users' });
    rig.clock.now += 5 * MINUTE;
    expect(await rig.sweep()).toMatchObject({ missedNotifications: 3 });
    const orders = `${ARN('tables')}/contributor/c-orders`;
    const users = `${ARN('tables')}/contributor/c-users`;
    expect(openKeys(rig)).toEqual([ARN('tables'), orders, users].sort());
    rig.cloudWatch.setContributor('tables', 'c-orders', 'OK');
    rig.clock.now += MINUTE;
    expect(await rig.sweep()).toMatchObject({ resolvedOk: 1 });
    expect(openKeys(rig)).toEqual([ARN('tables'), users].sort()); // the alarm stays in ALARM through c-users
    rig.cloudWatch.setContributor('tables', 'c-users', 'OK');
    rig.clock.now += MINUTE;
    expect(await rig.sweep()).toMatchObject({ resolvedOk: 2 });
    expect(openKeys(rig)).toEqual([]);
  });

  it('opens the same incidents for a multi-time-series alarm as its delivered notifications do (alarm and contributor level)', async () => {
    // CloudWatch runs SNS actions at alarm level and at contributor level (Acting_Alarm_Changes.html): the alarm's
    // own message (no AlarmContributorId) opens the alarm's incident, each contributor's message its own.
    const scenario = async (delivered: boolean) => {
      const rig = sweepRig();
      rig.cloudWatch.putMetricAlarm('tables', { state: 'OK', multiSeries: true });
      rig.clock.now += 1000;
      rig.cloudWatch.setContributor('tables', 'c-orders', 'ALARM', { TableName: 'orders' });
      rig.cloudWatch.setContributor('tables', 'c-users', 'ALARM', { TableName: 'users' });
      if (delivered) {
        const at = rig.cloudWatch.alarms.get('tables')!.changedMs;
        const alarmLevel = metricAlarmMessage({ alarmName: 'tables', state: 'ALARM', stateChangeMs: at });
        const perContributor = ['c-orders', 'c-users'].map((id) => ({
          ...alarmLevel,
          AlarmContributorId: id,
          AlarmContributorAttributes: { TableName: id.slice(2) },
        }));
        const timestamp = new Date(at + 40).toISOString();
        await rig.handler(snsEvent([alarmLevel, ...perContributor], { timestamp }));
      }
      rig.clock.now += 5 * MINUTE;
      const summary = await rig.sweep();
      return { open: openKeys(rig), missed: summary.missedNotifications };
    };
    const real = await scenario(true);
    const swept = await scenario(false);
    const contributor = (id: string) => `${ARN('tables')}/contributor/${id}`;
    expect(real).toEqual({
      open: [ARN('tables'), contributor('c-orders'), contributor('c-users')].sort(),
      missed: 0,
    });
    expect(swept).toEqual({ open: real.open, missed: 3 });
  });

  it('does not page a composite alarm whose actions CloudWatch suppresses, and says why', async () => {
    const rig = sweepRig();
    const composite = rig.cloudWatch.putCompositeAlarm('service-down');
    composite.state = 'ALARM';
    composite.suppressedBy = 'Alarm';
    rig.clock.now += 5 * MINUTE;
    await rig.sweep();
    expect(rig.pagerDuty.landed).toHaveLength(0);
    expect(
      rig.logger.lines.some((l) => JSON.stringify(l.extra).includes('suppresses its actions (Alarm)')),
    ).toBe(true);
    composite.suppressedBy = undefined;
    await rig.sweep();
    expect(rig.pagerDuty.isOpen(ARN('service-down'))).toBe(true);
  });

  it('pages through DescribeAlarms 100 at a time and stops at RECONCILE_MAX_CORRECTIONS, resuming next time', async () => {
    const rig = sweepRig({ RECONCILE_MAX_CORRECTIONS: '150' });
    for (let i = 0; i < 230; i++)
      rig.cloudWatch.putMetricAlarm(`bulk-${String(i).padStart(3, '0')}`, { state: 'ALARM' });
    rig.clock.now += 5 * MINUTE;
    const first = await rig.sweep();
    expect(first).toMatchObject({ missedNotifications: 150, incomplete: true });
    const pages = rig.cloudWatch.requests.filter((r) => r.operation === 'DescribeAlarms');
    expect(pages.map((r) => r.input.NextToken)).toEqual([undefined, '100', '200']);
    expect(await rig.sweep()).toMatchObject({ missedNotifications: 80, incomplete: false });
    expect(rig.telemetry.get('SweepIncomplete')).toBe(1);
  });

  it('reads RECONCILE_SOURCES and rejects a malformed one, naming it', () => {
    const sources = [
      {
        region: 'eu-west-1',
        accountId: '111111111111',
        topicArns: [],
        roleArn: 'arn:aws:iam::111111111111:role/r',
      },
    ];
    expect(loadConfig({ ...TEST_ENV, RECONCILE_SOURCES: JSON.stringify(sources) }).reconcileSources).toEqual([
      { ...sources[0], alarmNamePrefixes: [], routeTagged: false },
    ]);
    expect(loadConfig(TEST_ENV).reconcileSources).toEqual([]);
    expect(() => loadConfig({ ...TEST_ENV, RECONCILE_SOURCES: '[{"region":"x"}]' })).toThrow(
      /RECONCILE_SOURCES/,
    );
  });
});

describe('a sweep cut short resumes where it was cut', () => {
  const topicOf = (fake: CloudWatchFake) => `arn:aws:sns:${fake.region}:${fake.accountId}:alarm-to-pagerduty`;

  /** Sources in accounts of their own, each with `missed[i]` wired alarms in ALARM that no notification reported. */
  function estate(missed: number[], env: Record<string, string> = {}) {
    const pipeline = inProcessDeps({ RECONCILE_MAX_CORRECTIONS: '3', ...env });
    const fakes = missed.map(
      (_, i) => new CloudWatchFake(() => pipeline.clock.now, String(100000000000 + i), 'eu-west-1'),
    );
    const sources = fakes.map(({ accountId, region }, i) => ({
      accountId,
      region,
      topicArns: [topicOf(fakes[i]!)],
      alarmNamePrefixes: [],
      routeTagged: false,
    }));
    const addMissed = (i: number, count: number, from = 0) => {
      for (let n = from; n < from + count; n++) {
        fakes[i]!.putMetricAlarm(`missed-${n}`, { state: 'ALARM', actions: [topicOf(fakes[i]!)] });
      }
    };
    missed.forEach((count, i) => addMissed(i, count));
    pipeline.clock.now += 5 * MINUTE;
    let slowReads = 0;
    const readerFor = (source: { accountId: string }) => {
      const index = fakes.findIndex((fake) => fake.accountId === source.accountId);
      const reader = new CloudWatchAlarmReader(fakes[index] as unknown as CloudWatchClient);
      const alarmsInAlarm = reader.alarmsInAlarm.bind(reader);
      // The next `slowReads` ALARM lists of the first source take 70 s each (a throttled source).
      reader.alarmsInAlarm = async () => {
        if (index === 0 && slowReads > 0) {
          slowReads--;
          pipeline.clock.now += 70_000;
        }
        return alarmsInAlarm();
      };
      return reader;
    };
    const sweep = (shard = sources) =>
      runSweep(sweepDeps(pipeline.deps, readerFor), shard, pipeline.clock.now + 60_000);
    const accountOf = (event: { dedup_key?: string }) =>
      fakes.findIndex((fake) => event.dedup_key?.includes(`:${fake.accountId}:`));
    const paged = () =>
      fakes.map((_, i) => pipeline.pagerDuty.landed.filter((l) => accountOf(l.event) === i).length);
    return {
      pipeline,
      sources,
      sweep,
      paged,
      accountOf,
      addMissed,
      slowFirst: (n: number) => (slowReads = n),
    };
  }

  it('a source cut by RECONCILE_MAX_CORRECTIONS mid-way is resumed at itself, not after a round of the others', async () => {
    const { sweep, paged } = estate([5, 2]);
    expect(await sweep()).toMatchObject({ missedNotifications: 3, incomplete: true, nextSource: 0 });
    expect(paged()).toEqual([3, 0]);
    // The first source's last two first, then the second's first one: that one is cut in turn, resumed at itself.
    expect(await sweep()).toMatchObject({ missedNotifications: 3, incomplete: true, nextSource: 1 });
    expect(paged()).toEqual([5, 1]);
    expect(await sweep()).toMatchObject({ missedNotifications: 1, incomplete: false });
    expect(paged()).toEqual([5, 2]);
  });

  it('a source finished exactly at the cut resumes at the next source', async () => {
    const { sweep, paged } = estate([3, 2]);
    expect(await sweep()).toMatchObject({ missedNotifications: 3, incomplete: true, nextSource: 1 });
    expect(await sweep()).toMatchObject({ missedNotifications: 2, incomplete: false });
    expect(paged()).toEqual([3, 2]);
  });

  it('a source that used the whole sweep and corrected nothing goes after the others next time', async () => {
    const { sweep, paged, slowFirst } = estate([2, 2], { RECONCILE_MAX_CORRECTIONS: '500' });
    slowFirst(1);
    // Its ALARM list alone outlasts the budget: nothing of it is corrected, and the other must not wait behind it.
    expect(await sweep()).toMatchObject({ missedNotifications: 0, incomplete: true, nextSource: 1 });
    expect(await sweep()).toMatchObject({ missedNotifications: 4, incomplete: false });
    expect(paged()).toEqual([2, 2]);
  });

  it('two sweep functions (shards) on one ledger each resume where they stopped', async () => {
    const { pipeline, sources, sweep, accountOf, addMissed } = estate([1, 4, 4, 1]);
    const [one, two] = [sources.slice(0, 2), sources.slice(2)];
    expect(await sweep(one)).toMatchObject({ incomplete: true, nextSource: 1 }); // cut in its second source
    expect(await sweep(two)).toMatchObject({ incomplete: true, nextSource: 0 }); // cut in its first source
    expect(await pipeline.ledger.readSweepCursor(shardOf(one))).toBe(1);
    expect(await pipeline.ledger.readSweepCursor(shardOf(two))).toBe(0);
    addMissed(0, 1, 1);
    pipeline.clock.now += 5 * MINUTE;
    const before = pipeline.pagerDuty.landed.length;
    expect(await sweep(one)).toMatchObject({ missedNotifications: 3, incomplete: false });
    // It resumed at its own cursor (the second source), not at the other shard's.
    expect(pipeline.pagerDuty.landed.slice(before).map((l) => accountOf(l.event))).toEqual([1, 1, 0]);
    expect(await sweep(two)).toMatchObject({ missedNotifications: 2, incomplete: false });
  });
});

describe('a sweep while the ledger fails', () => {
  type Read = 'openIncidents' | 'read' | 'readSweepCursor' | 'writeSweepCursor';

  /** These ledger calls throw, as DynamoDB unreachable would; answers a function that brings them back. */
  function failing(rig: SweepRig, calls: readonly Read[]): () => void {
    const ledger = rig.ledger;
    const saved = Object.fromEntries(calls.map((call) => [call, ledger[call].bind(ledger)]));
    const down = async () => {
      throw new Error('connect ETIMEDOUT (DynamoDB unreachable)');
    };
    Object.assign(ledger, Object.fromEntries(calls.map((call) => [call, down])));
    return () => Object.assign(ledger, saved);
  }

  /** An incident whose OK was lost, and an alarm in ALARM never paged: one resolve and one page due. */
  async function twoDue() {
    const rig = sweepRig();
    await pagedAndOpen(rig, 'lost-ok');
    rig.clock.now += MINUTE;
    rig.cloudWatch.setState('lost-ok', 'OK'); // lost
    rig.cloudWatch.putMetricAlarm('missed', { state: 'OK' });
    rig.clock.now += 1000;
    rig.cloudWatch.setState('missed', 'ALARM'); // never delivered
    rig.clock.now += 5 * MINUTE;
    return rig;
  }

  async function afterTheLedgerReturns(rig: SweepRig, restore: () => void) {
    restore();
    rig.clock.now += 5 * MINUTE;
    const back = await rig.sweep();
    expect(back).toMatchObject({ resolvedOk: 1, missedNotifications: 1, errors: 0, incomplete: false });
    expect(openKeys(rig)).toEqual([ARN('missed')]);
  }

  const saidErrors = (rig: SweepRig) =>
    rig.logger.lines.filter((line) => line.level === 'error').map((line) => line.message);

  it('leaves a source whose open incidents it cannot list, sending nothing, and says so', async () => {
    const rig = await twoDue();
    const sent = rig.pagerDuty.landed.length;
    // Only the index and the cursor fail: the items would still read, so only the listing's failure holds it back.
    const restore = failing(rig, ['openIncidents', 'readSweepCursor', 'writeSweepCursor']);
    const down = await rig.sweep();
    expect(rig.pagerDuty.landed).toHaveLength(sent);
    expect(down).toMatchObject({ resolvedOk: 0, missedNotifications: 0, errors: 1 });
    expect(saidErrors(rig)).toEqual(['Sweep: reading the open incidents failed']);
    expect(rig.telemetry.get('SweepErrors')).toBe(1);
    await afterTheLedgerReturns(rig, restore);
  });

  it('sends neither the resolve nor the page while it cannot read their items', async () => {
    const rig = await twoDue();
    const sent = rig.pagerDuty.landed.length;
    // The index answers; the items do not: is the incident still open, is the page new?
    const restore = failing(rig, ['read']);
    const down = await rig.sweep();
    expect(rig.pagerDuty.landed).toHaveLength(sent);
    expect(down).toMatchObject({ resolvedOk: 0, missedNotifications: 0, errors: 2 });
    expect(saidErrors(rig).sort()).toEqual([
      'Sweep: a correction could not be delivered; the next sweep tries again',
      'Sweep: the ledger read before a page failed; the next sweep tries again',
    ]);
    await afterTheLedgerReturns(rig, restore);
  });
});
