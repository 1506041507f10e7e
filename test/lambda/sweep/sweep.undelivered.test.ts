// A trigger the ledger holds but PagerDuty never received (its send failed) is no open incident: the next sweep
// pages it. Found by the scale simulation, where the sweep's own pages failed at PagerDuty's rate limit and no
// later sweep sent them (an undelivered trigger counted as open, and a sweep's page has no retry queue behind it).
import { sweepRig } from '../../support/sweep';

const ARN = (name: string) => `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`;

describe('an undelivered trigger', () => {
  it("is paged by the next sweep when the sweep's own page failed", async () => {
    const rig = sweepRig();
    rig.cloudWatch.putMetricAlarm('failed-page', { state: 'ALARM' });
    rig.clock.now += 5 * 60_000;
    rig.pagerDuty.next({ kind: 'reject', status: 500 });
    const first = await rig.sweep();
    expect(first.errors).toBe(1);
    expect(rig.pagerDuty.isOpen(ARN('failed-page'))).toBe(false);
    expect(await rig.ledger.read(ARN('failed-page'))).toMatchObject({ action: 'trigger', delivered: false });

    rig.clock.now += 5 * 60_000;
    expect(await rig.sweep()).toMatchObject({ missedNotifications: 1, errors: 0 });
    expect(rig.pagerDuty.isOpen(ARN('failed-page'))).toBe(true);
    expect(await rig.ledger.read(ARN('failed-page'))).toMatchObject({ action: 'trigger', delivered: true });
  });

  it("is paged by the next sweep when a notification's send failed and nothing retried it", async () => {
    const rig = sweepRig();
    rig.cloudWatch.putMetricAlarm('lost-send', { state: 'OK' });
    rig.clock.now += 1000;
    rig.pagerDuty.next({ kind: 'reject', status: 500 });
    await rig.deliver(rig.cloudWatch.setState('lost-send', 'ALARM')).catch(() => undefined);
    expect(rig.pagerDuty.isOpen(ARN('lost-send'))).toBe(false);
    rig.clock.now += 5 * 60_000; // the retry queue gave up, or the letter was parked

    expect(await rig.sweep()).toMatchObject({ missedNotifications: 1 });
    expect(rig.pagerDuty.isOpen(ARN('lost-send'))).toBe(true);
  });
});
