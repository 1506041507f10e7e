// Each case of issue 18 end to end: the real handler, built from a Lambda environment, against moto's CloudWatch,
// DynamoDB (the ledger and its OpenIncidents index), Secrets Manager and STS, and the PagerDuty emulator. moto
// publishes nothing when an alarm changes state, so the test delivers each notification itself, or loses it.
// moto lacks composite alarms, contributors and mute rules: those cases run on the in-process fake (sweep.test.ts).
import { readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { lambdaContext } from '../../../local/alarm-fixtures';
import { describeWithMoto, startMoto, type MotoServer } from '../../../local/moto';
import { PagerDutyEmulator } from '../../../local/pagerduty-emulator';
import { createHandler } from '../../../lambda/handler';
import { captureStdout, metricTotal } from '../../support/output';
import { REPO_ROOT } from '../../support/paths';
import {
  ACCOUNT,
  arnOf,
  motoSweepRig,
  TOPIC,
  type AlarmChange,
  type MotoSweepRig,
} from '../../support/sweep-moto';

const MINUTE = 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithMoto('the reconciliation sweep against moto and the PagerDuty emulator', () => {
  let moto: MotoServer;
  let emulator: PagerDutyEmulator;
  let rig: MotoSweepRig | undefined;
  let output: ReturnType<typeof captureStdout>;

  beforeAll(async () => {
    moto = await startMoto();
    emulator = await PagerDutyEmulator.start();
  });
  afterAll(async () => {
    await emulator?.stop();
    await moto?.stop();
  });
  beforeEach(() => {
    emulator.reset();
    output = captureStdout();
  });
  afterEach(() => {
    output.restore();
    rig?.destroy();
    rig = undefined;
  });

  const start = async (env: Record<string, string> = {}, sources?: Record<string, unknown>[]) => {
    rig = await motoSweepRig({
      motoEndpoint: moto.endpoint,
      emulator,
      sources,
      env: { RECONCILE_MISSED_GRACE_SECONDS: '0', ...env },
    });
    return rig;
  };
  const open = (dedupKey: string) => emulator.openIncidents({ dedupKey });
  const metric = (name: string) => metricTotal(output.lines(), name);

  /** An alarm that went to ALARM and was paged through its notification. */
  const paged = async (r: MotoSweepRig, name: string, accountId = ACCOUNT): Promise<AlarmChange> => {
    await r.putAlarm(name, { accountId });
    const change = await r.setState(name, 'ALARM', accountId);
    await r.deliver(change);
    expect(open(arnOf(name, accountId))).toHaveLength(1);
    return change;
  };

  it('lost OK: the sweep resolves the incident, once, and counts it', async () => {
    const r = await start();
    await paged(r, 'lost-ok');
    await r.setState('lost-ok', 'OK'); // its notification never arrives
    expect(open(arnOf('lost-ok'))).toHaveLength(1);

    const summary = await r.sweep();

    expect(summary).toMatchObject({ resolvedOk: 1, errors: 0, incomplete: false, openIncidentsChecked: 1 });
    expect(open(arnOf('lost-ok'))).toHaveLength(0);
    expect(emulator.incidents({ dedupKey: arnOf('lost-ok') })).toEqual([
      expect.objectContaining({ status: 'resolved' }),
    ]);
    expect(await r.pipeline.readLedger(arnOf('lost-ok'))).toMatchObject({
      action: 'resolve',
      delivered: true,
    });
    expect(metric('SweepResolvedOk')).toBe(1);
    const requests = emulator.requests.length;
    expect(await r.sweep()).toMatchObject({ resolvedOk: 0, openIncidentsChecked: 0 });
    expect(emulator.requests).toHaveLength(requests); // the ledger agrees now: no request
  });

  it('missed ALARM: a wired alarm in ALARM with no incident is paged after the grace, and counted', async () => {
    const r = await start({ RECONCILE_MISSED_GRACE_SECONDS: '120' });
    await r.putAlarm('missed');
    await r.putAlarm('not-wired', { actions: [`arn:aws:sns:us-east-1:${ACCOUNT}:someone-else`] });
    await r.setState('missed', 'ALARM'); // no notification is delivered
    await r.setState('not-wired', 'ALARM');

    expect(await r.sweep()).toMatchObject({ missedNotifications: 0 }); // may still be in flight
    expect(emulator.requests).toHaveLength(0);
    r.offsetMs = 3 * MINUTE;
    const summary = await r.sweep();

    // moto answers ListAlarmMuteRules with an HTTP 500: the sweep pages anyway, and counts the failed read.
    expect(summary).toMatchObject({ missedNotifications: 1, errors: 1 });
    expect(open(arnOf('missed'))).toEqual([
      expect.objectContaining({ status: 'triggered', summary: expect.stringContaining('missed') }),
    ]);
    expect(emulator.incidents({ dedupKey: arnOf('not-wired') })).toHaveLength(0);
    expect(metric('MissedNotifications')).toBe(1);
    expect(output.lines()).toContainEqual(
      expect.objectContaining({ message: expect.stringMatching(/never reached the pipeline/) }),
    );
    await r.sweep();
    expect(emulator.accepted).toHaveLength(1);
  });

  it('deleted alarm: the sweep resolves its incident once CloudWatch answers without it', async () => {
    const r = await start();
    await paged(r, 'deleted');
    await r.deleteAlarm('deleted');

    expect(await r.sweep()).toMatchObject({ resolvedDeleted: 1, errors: 0 });

    expect(open(arnOf('deleted'))).toHaveLength(0);
    expect(metric('SweepResolvedDeleted')).toBe(1);
  });

  it('muted OK resolves at once; a muted ALARM pages nothing (the sweep pages it: moto cannot say it is muted)', async () => {
    const r = await start();
    await paged(r, 'recovers-muted');
    const ok = await r.setState('recovers-muted', 'OK');
    await r.handler(mutedEvent(ok), lambdaContext());
    expect(open(arnOf('recovers-muted'))).toHaveLength(0); // no sweep needed

    await r.putAlarm('breaches-muted');
    const alarm = await r.setState('breaches-muted', 'ALARM');
    await r.handler(mutedEvent(alarm), lambdaContext());
    expect(emulator.incidents({ dedupKey: arnOf('breaches-muted') })).toHaveLength(0);

    // moto answers ListAlarmMuteRules with HTTP 500: the sweep cannot tell it is muted and pages through, counted.
    const summary = await r.sweep();
    expect(summary).toMatchObject({ resolvedOk: 0, missedNotifications: 1, errors: 1 });
    expect(open(arnOf('breaches-muted'))).toHaveLength(1);
    expect(emulator.incidents({ dedupKey: arnOf('recovers-muted') })).toHaveLength(1);
  });

  it('forged future time: the real OK after a 2099 ALARM resolves on arrival', async () => {
    const r = await start();
    await r.putAlarm('forged');
    const alarm = await r.setState('forged', 'ALARM');
    await sleep(75); // the reproduction: the real OK 75 ms after the forged ALARM
    const ok = await r.setState('forged', 'OK');
    await r.deliver(alarm, { claimedMs: Date.UTC(2099, 0, 1), publishDelayMs: 20 });
    expect(open(arnOf('forged'))).toHaveLength(1);
    await r.deliver(ok, { publishDelayMs: 75 });
    expect(open(arnOf('forged'))).toHaveLength(0);
    expect(await r.sweep()).toMatchObject({ resolvedOk: 0, missedNotifications: 0 });
  });

  it('forged future time: an item wedged by the old 60 s skew allowance is corrected by the sweep', async () => {
    const r = await start();
    // The handler of before the fix: a forged time is capped at SNS's stamp plus 60 s.
    const before = createHandler({ ...r.env, MAX_CLOCK_SKEW_SECONDS: '60' });
    await r.putAlarm('wedged');
    const alarm = await r.setState('wedged', 'ALARM');
    await sleep(75);
    const ok = await r.setState('wedged', 'OK');
    await r.deliver(alarm, { claimedMs: Date.UTC(2099, 0, 1), publishDelayMs: 20, handler: before });
    await r.deliver(ok, { publishDelayMs: 75, handler: before });
    expect(open(arnOf('wedged'))).toHaveLength(1); // the real OK was dropped as older
    const wedged = await r.pipeline.readLedger(arnOf('wedged'));
    expect(wedged).toMatchObject({ action: 'trigger' });
    expect(wedged!.stateChangeMs).toBeGreaterThan(Date.now()); // the capped future time

    // A sweep observing within the capped minute still claims later than the item (its T_obs >= SNS + 60 s).
    r.offsetMs = 61_000;
    expect(await r.sweep()).toMatchObject({ resolvedOk: 1 });
    expect(open(arnOf('wedged'))).toHaveLength(0);
  });

  it('unreachable CloudWatch: nothing is resolved, and the error is counted and logged', async () => {
    const closed = await closedPort();
    const r = await start({ AWS_ENDPOINT_URL_CLOUDWATCH: `http://127.0.0.1:${closed}` });
    await paged(r, 'unreachable');

    const summary = await r.sweep();

    expect(summary).toMatchObject({ resolvedOk: 0, resolvedDeleted: 0, sourcesSwept: 1 });
    expect(summary.errors).toBeGreaterThan(0);
    expect(open(arnOf('unreachable'))).toHaveLength(1);
    expect(metric('SweepErrors')).toBe(summary.errors);
    expect(output.lines()).toContainEqual(
      expect.objectContaining({ level: 'ERROR', message: expect.stringMatching(/DescribeAlarms.*failed/) }),
    );
  });

  it('a sweep racing a real change: an ALARM made after the observation wins, whichever lands first', async () => {
    const proxy = await cloudWatchProxy(moto.endpoint);
    try {
      const r = await start({ AWS_ENDPOINT_URL_CLOUDWATCH: proxy.url });
      await paged(r, 'racing');
      await r.setState('racing', 'OK'); // lost
      // Right after moto answers the sweep's by-name question ("OK"), the alarm breaches again and that
      // notification is delivered before the sweep's resolve is even claimed.
      proxy.afterAnswer = async (body) => {
        if (!body.includes('"AlarmNames"')) return;
        proxy.afterAnswer = undefined;
        await r.deliver(await r.setState('racing', 'ALARM'));
      };
      const summary = await r.sweep();

      expect(proxy.afterAnswer).toBeUndefined(); // the breach did land inside the sweep
      expect(summary.resolvedOk).toBe(0);
      expect(open(arnOf('racing'))).toHaveLength(1);
      expect(await r.pipeline.readLedger(arnOf('racing'))).toMatchObject({
        action: 'trigger',
        delivered: true,
      });
    } finally {
      await proxy.close();
    }
  });

  it("a sweep racing a real change: the sweep's resolve in flight when the ALARM arrives does not end open = false", async () => {
    const r = await start();
    await paged(r, 'overtaken');
    await r.setState('overtaken', 'OK'); // lost
    const hold = emulator.holdNext(1);
    const sweep = r.sweep();
    await hold.arrived; // the sweep's resolve reached PagerDuty's door
    const breach = r.deliver(await r.setState('overtaken', 'ALARM'));
    hold.release();
    await Promise.all([sweep, breach]);

    expect(open(arnOf('overtaken'))).toHaveLength(1);
    expect(await r.pipeline.readLedger(arnOf('overtaken'))).toMatchObject({
      action: 'trigger',
      delivered: true,
    });
    expect(await r.sweep()).toMatchObject({ resolvedOk: 0 });
    expect(open(arnOf('overtaken'))).toHaveLength(1);
  });

  it('re-page after a manual resolve: the alarm still breaches, so PagerDuty gets a new incident (opt-in)', async () => {
    const r = await start();
    for (const [name, tags] of [
      ['repaged', { 'pagerduty:repage-minutes': '30' }],
      ['not-repaged', undefined],
    ] as const) {
      await r.putAlarm(name, { tags });
      const change = await r.setState(name, 'ALARM');
      // The tags travel in the notification when AlarmTags propagation is on.
      await r.deliver(change, { tags });
      const [incident] = open(arnOf(name));
      emulator.resolveByHand(incident!.id); // someone clicks "Resolve" while the alarm still breaches
    }
    r.offsetMs = 20 * MINUTE;
    expect(await r.sweep()).toMatchObject({ repages: 0 });
    r.offsetMs = 31 * MINUTE;

    expect(await r.sweep()).toMatchObject({ repages: 1 });

    expect(emulator.incidents({ dedupKey: arnOf('repaged') }).map((i) => i.status)).toEqual([
      'resolved',
      'triggered',
    ]);
    expect(emulator.incidents({ dedupKey: arnOf('not-repaged') }).map((i) => i.status)).toEqual(['resolved']);
    expect(metric('Repages')).toBe(1);
  });

  it('another account through STS AssumeRole: its alarms are read with the role, its incidents resolved and paged', async () => {
    const OTHER = '111111111111';
    const r = await start({}, [
      { region: 'us-east-1', accountId: ACCOUNT, topicArns: [TOPIC] },
      {
        region: 'us-east-1',
        accountId: OTHER,
        topicArns: [TOPIC],
        roleArn: `arn:aws:iam::${OTHER}:role/alarm-to-pagerduty-sweep-reader`,
      },
    ]);
    await paged(r, 'shared-name', OTHER);
    await r.setState('shared-name', 'OK', OTHER); // lost
    await r.putAlarm('only-there', { accountId: OTHER });
    await r.setState('only-there', 'ALARM', OTHER); // never delivered
    // The same name in the function's own account is in ALARM: it must not keep the other account's incident open.
    await r.putAlarm('shared-name');
    await r.setState('shared-name', 'ALARM');

    const summary = await r.sweep();

    // One error per source: the mute rules moto cannot answer (paged anyway).
    expect(summary).toMatchObject({ sources: 2, sourcesSwept: 2, resolvedOk: 1, errors: 2 });
    expect(output.lines().filter((l) => /mute rules failed/.test(String(l.message)))).toHaveLength(2);
    expect(open(arnOf('shared-name', OTHER))).toHaveLength(0);
    expect(open(arnOf('only-there', OTHER))).toHaveLength(1);
    expect(open(arnOf('shared-name'))).toHaveLength(1); // paged as missed in its own account
    expect(summary.missedNotifications).toBe(2);
  });
});

/** The EventBridge state change CloudWatch sends while a mute rule holds the alarm (the documented shape). */
function mutedEvent(change: AlarmChange): Record<string, unknown> {
  const file = join(REPO_ROOT, 'test', 'corpus-eventbridge', 'single-metric-muted.json');
  type Json = Record<string, unknown>;
  const { event } = JSON.parse(readFileSync(file, 'utf8')) as { event: Json & { detail: Json } };
  const cw = (ms: number) => new Date(ms).toISOString().replace('Z', '+0000');
  const detail = event.detail;
  Object.assign(event, {
    account: change.accountId,
    time: new Date(change.atMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    resources: [arnOf(change.name, change.accountId)],
  });
  Object.assign(detail, {
    alarmName: change.name,
    state: { ...(detail.state as Json), value: change.state, timestamp: cw(change.atMs) },
    previousState: { ...(detail.previousState as Json), value: change.oldState },
    muteDetail: {
      mutedByArn: `arn:aws:cloudwatch:us-east-1:${change.accountId}:alarm-mute-rule:maintenance`,
      muteWindowStart: cw(change.atMs - MINUTE),
      muteWindowEnd: cw(change.atMs + 60 * MINUTE),
    },
  });
  return event;
}

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A pass-through to moto's CloudWatch that runs a hook after a request is answered and before its reply leaves. */
async function cloudWatchProxy(target: string): Promise<{
  url: string;
  afterAnswer: ((requestBody: string) => Promise<void>) | undefined;
  close(): Promise<void>;
}> {
  const proxy = {
    url: '',
    afterAnswer: undefined as ((requestBody: string) => Promise<void>) | undefined,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const upstream = request(
        `${target}${req.url}`,
        { method: req.method, headers: req.headers, agent: false },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on('data', (c: Buffer) => parts.push(c));
          answer.on('end', () => {
            void (async () => {
              await proxy.afterAnswer?.(body.toString('utf8'));
              res.writeHead(answer.statusCode ?? 502, answer.headers);
              res.end(Buffer.concat(parts));
            })();
          });
        },
      );
      upstream.on('error', () => (res.writeHead(502), res.end()));
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
