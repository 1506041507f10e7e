// An alarm deleted (EventBridge "CloudWatch Alarm Configuration Change", operation delete) resolves its incident,
// ordered at the start of the deletion's second (EventBridge gives whole seconds). A late copy of the alarm's last
// ALARM, older than that, does not reopen it; nor does a copy whose time is forged into the future and which SNS
// stamped inside the deletion's second, whichever is processed first; an alarm re-created and in ALARM within that
// second is still paged.
import { metricAlarmMessage, snsEvent } from '../../../local/alarm-fixtures';
import { createHandler } from '../../../lambda/handler';
import { inProcessDeps, TEST_ENV } from '../../support/in-process';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const NAME = 'api-5xx';
const ARN = `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${NAME}`;
const ENV = { MAX_CLOCK_SKEW_SECONDS: '0' };
/** The alarm went into ALARM 20 ms before a second began; SNS stamped its notification 40 ms later. */
const CHANGED = Date.UTC(2026, 11, 6, 12, 0, 0, 980);
const STAMPED = CHANGED + 40;
/** The alarm was deleted 100 ms into the next second; EventBridge says 12:00:01Z. */
const DELETED = Date.UTC(2026, 11, 6, 12, 0, 1, 100);

function deletion(): Record<string, unknown> {
  return {
    version: '0',
    id: 'delete-1',
    'detail-type': 'CloudWatch Alarm Configuration Change',
    source: 'aws.cloudwatch',
    account: ACCOUNT,
    time: new Date(DELETED).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: REGION,
    resources: [ARN],
    detail: { alarmName: NAME, operation: 'delete', state: { value: 'ALARM' } },
  };
}

function alarmCopy(stateChangeMs = CHANGED, stampedMs = STAMPED, state: 'ALARM' | 'OK' = 'ALARM') {
  const message = metricAlarmMessage({
    alarmName: NAME,
    state,
    oldState: state === 'ALARM' ? 'OK' : 'ALARM',
    stateChangeMs,
  });
  return snsEvent([message], { timestamp: new Date(stampedMs).toISOString() });
}

/** A StateChangeTime no clock gives: the pipeline orders the copy at its SNS stamp (MAX_CLOCK_SKEW_SECONDS 0). */
const FORGED = Date.UTC(2099, 0, 1);

/**
 * The alarm's ALARM delivered (a trigger), then the copies in `before` (time of the change, SNS stamp, state), each
 * processed just after its stamp, then its deletion (a resolve): the handler, its PagerDuty and its clock.
 */
async function pagedThenDeleted(before: [number, number, 'ALARM' | 'OK'][] = []) {
  const pipeline = inProcessDeps(ENV, CHANGED);
  const handler = createHandler({ ...TEST_ENV, ...ENV }, { deps: pipeline.deps });
  pipeline.clock.now = STAMPED + 5;
  await handler(alarmCopy());
  for (const [changedMs, stampedMs, state] of before) {
    pipeline.clock.now = stampedMs + 1;
    await handler(alarmCopy(changedMs, stampedMs, state));
  }
  pipeline.clock.now = Math.max(pipeline.clock.now + 1, DELETED + 50);
  await handler(deletion());
  return { ...pipeline, handler };
}

describe("a deleted alarm's incident", () => {
  it('is resolved by the deletion', async () => {
    const { pagerDuty } = await pagedThenDeleted();
    expect(pagerDuty.actions()).toEqual(['trigger', 'resolve']);
    expect(pagerDuty.isOpen(ARN)).toBe(false);
  });

  it('stays resolved when a duplicate of the last ALARM arrives after the deletion', async () => {
    const { handler, pagerDuty, clock } = await pagedThenDeleted();
    clock.now = DELETED + 200;
    await handler(alarmCopy());
    // The stale copy may make the pipeline send the newest state again (a resolve PagerDuty absorbs), never a trigger.
    expect(pagerDuty.actions().slice(0, 2)).toEqual(['trigger', 'resolve']);
    expect(pagerDuty.actions().slice(2)).not.toContain('trigger');
    expect(pagerDuty.isOpen(ARN)).toBe(false);
  });

  it("stays resolved when a copy with a forged future time is stamped inside the deletion's second", async () => {
    const { handler, pagerDuty, clock } = await pagedThenDeleted();
    // Stamped after the deletion's second began (so after the resolve's order), processed after the resolve.
    clock.now = DELETED + 300;
    await handler(alarmCopy(FORGED, DELETED + 200));
    // Held off, not stale: nothing is sent again (the deletion's resolve is PagerDuty's newest state already).
    expect(pagerDuty.actions()).toEqual(['trigger', 'resolve']);
    expect(pagerDuty.isOpen(ARN)).toBe(false);
  });

  it('is still resolved by the deletion when such a copy got there first', async () => {
    // The forged copy, stamped 200 ms into the deletion's second, is processed before the deletion event.
    const { handler, pagerDuty, clock } = await pagedThenDeleted([[FORGED, DELETED + 200, 'ALARM']]);
    expect(pagerDuty.actions()).toEqual(['trigger', 'trigger', 'resolve']);
    expect(pagerDuty.isOpen(ARN)).toBe(false);
    // And it holds to the end of its second, as when the copy comes later.
    clock.now = DELETED + 500;
    await handler(alarmCopy(FORGED, DELETED + 450));
    expect(pagerDuty.isOpen(ARN)).toBe(false);
  });

  it("does not hold off an alarm re-created and in ALARM within the deletion's second", async () => {
    const { handler, pagerDuty, clock } = await pagedThenDeleted();
    const recreatedAlarm = DELETED + 600;
    clock.now = recreatedAlarm + 60;
    await handler(alarmCopy(recreatedAlarm, recreatedAlarm + 40));
    expect(pagerDuty.actions()).toEqual(['trigger', 'resolve', 'trigger']);
    expect(pagerDuty.isOpen(ARN)).toBe(true);
  });

  it("lets a forged copy stamped after the deletion's second reopen it (only a trusted time is held off)", async () => {
    // The hold covers the deletion's own second, the part EventBridge's whole-second time leaves unknown; after
    // it, a forged copy is any message from a publisher the topic admits, and the next sweep resolves it.
    const { handler, pagerDuty, clock } = await pagedThenDeleted();
    clock.now = DELETED + 1_000;
    await handler(alarmCopy(FORGED, DELETED + 950));
    expect(pagerDuty.actions()).toEqual(['trigger', 'resolve', 'trigger']);
  });

  describe('when a forged copy got there before the deletion', () => {
    it('stamped in the last millisecond of the second: still resolved', async () => {
      const { pagerDuty } = await pagedThenDeleted([[FORGED, DELETED - 100 + 999, 'ALARM']]);
      expect(pagerDuty.actions()).toEqual(['trigger', 'trigger', 'resolve']);
      expect(pagerDuty.isOpen(ARN)).toBe(false);
    });

    it('a forged OK: the deletion still holds, so a forged ALARM after it does not reopen', async () => {
      const { handler, pagerDuty, clock } = await pagedThenDeleted([[FORGED, DELETED + 200, 'OK']]);
      clock.now = DELETED + 500;
      await handler(alarmCopy(FORGED, DELETED + 400));
      expect(pagerDuty.actions().filter((action) => action === 'trigger')).toEqual(['trigger']);
      expect(pagerDuty.isOpen(ARN)).toBe(false);
    });

    it('after a re-created alarm went into ALARM within the second: the deletion does not resolve it', async () => {
      const { pagerDuty } = await pagedThenDeleted([
        [DELETED + 600, DELETED + 640, 'ALARM'],
        [FORGED, DELETED + 750, 'ALARM'],
      ]);
      expect(pagerDuty.actions()).toEqual(['trigger', 'trigger', 'trigger']);
      expect(pagerDuty.isOpen(ARN)).toBe(true);
    });
  });
});
