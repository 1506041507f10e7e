import { isAlarmEventShaped, parseAlarmEvent } from '../../../lambda/messages/alarm-event';
import { parseNotification } from '../../../lambda/messages/parse-notification';
import { ALARM_STATE_CHANGE } from '../../../lambda/shared/contract';
import { decideAction } from '../../../lambda/pipeline/decide';
import { dedupKeyFor } from '../../../lambda/pipeline/dedup-key';
import type { AlarmNotification, Notification } from '../../../lambda/messages/notification';
import { enqueueSchemaErrors, PAGERDUTY_MAX_EVENT_BYTES, sentBytes } from '../../support/enqueue-schema';
import { eventCases, runEventCase } from '../../support/event-corpus';
import { alarmMessage, envelope, settings } from '../../support/notifications';

const cases = eventCases();

describe('corpus of EventBridge alarm events', () => {
  it('holds every kind: metric, metric math, anomaly, composite, suppressed, muted, contributor, Lambda action', () => {
    const kinds = new Set(
      cases.flatMap(
        ([, c]) => (c.expect?.notification?.condition as { kind?: string } | undefined)?.kind ?? [],
      ),
    );
    expect([...kinds].sort()).toEqual(['anomaly', 'composite', 'metric', 'metric-math']);
    expect(cases.length).toBeGreaterThanOrEqual(15);
  });

  describe.each(cases)('%s', (_file, c) => {
    const result = runEventCase(c);
    const expected = c.expect!;

    it('says where its shape comes from', () => {
      expect(c.source).toMatch(/^(https:\/\/docs\.(aws\.amazon\.com|amazonaws\.cn)\/|Constructed \()/);
    });

    it('parses and decides as expected, under the expected dedup key', () => {
      expect(result.notification.type).toBe(expected.type);
      if (expected.notification) expect(result.notification).toMatchObject(expected.notification);
      expect(result.dedupKey).toBe(expected.dedupKey);
      expect(result.decision).toEqual(expected.decision);
    });

    it('builds exactly the expected PagerDuty event, valid against the Events API', () => {
      expect(result.event).toEqual(expected.event);
      if (result.event === undefined) return;
      expect(enqueueSchemaErrors(result.event)).toEqual([]);
      expect(result.event.dedup_key.length).toBeLessThanOrEqual(255);
      expect(sentBytes(result.event)).toBeLessThanOrEqual(PAGERDUTY_MAX_EVENT_BYTES);
    });
  });
});

const eventOf = (file: string): Record<string, unknown> =>
  structuredClone(cases.find(([name]) => name === file)![1].event) as Record<string, unknown>;

function alarmOf(n: Notification): AlarmNotification {
  if (n.type !== 'alarm') throw new Error(`expected an alarm, got: ${n.why}`);
  return n;
}

describe('parseAlarmEvent', () => {
  it('gives a state change the same dedup key and ordering time over EventBridge as over SNS', () => {
    const sns = alarmOf(
      parseNotification(
        envelope(
          alarmMessage({
            AlarmName: 'ServerCpuTooHigh',
            AlarmArn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh',
            StateChangeTime: '2019-10-02T17:04:40.989+0000',
          }),
        ),
      ),
    );
    const event = alarmOf(parseAlarmEvent(eventOf('single-metric-alarm.json')));
    expect(dedupKeyFor(event)).toBe(dedupKeyFor(sns));
    expect(event.stateChangeEpochMs).toBe(sns.stateChangeEpochMs);
    expect(event.intake).toBe('eventbridge');
  });

  it('gives a contributor the same key over SNS (AlarmContributorId) as over EventBridge (alarmContributor.id)', () => {
    const sns = parseNotification(
      envelope(
        alarmMessage({
          AlarmName: 'DynamoDBInsightsAlarm',
          AlarmArn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:DynamoDBInsightsAlarm',
          AlarmContributorId: '6d442278dba546f6',
          AlarmContributorAttributes: { TableName: 'example-dynamodb-table-name' },
        }),
      ),
    );
    const event = parseAlarmEvent(eventOf('contributor-alarm.json'));
    expect(dedupKeyFor(sns)).toBe(dedupKeyFor(event));
    expect(dedupKeyFor(sns)).toBe(
      'arn:aws:cloudwatch:us-east-1:123456789012:alarm:DynamoDBInsightsAlarm/contributor/6d442278dba546f6',
    );
  });

  it('builds the alarm ARN from account, region and name when resources carry none: the same key', () => {
    const event = eventOf('single-metric-alarm.json');
    event.resources = [];
    expect(dedupKeyFor(parseAlarmEvent(event))).toBe(
      'arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh',
    );
  });

  it('marks suppressed actions by the state, not by the previous state', () => {
    const suppressed = alarmOf(parseAlarmEvent(eventOf('composite-suppressed.json')));
    expect(suppressed.actionsSuppressed).toEqual({
      by: 'WaitPeriod',
      reason: 'Actions suppressed by WaitPeriod',
    });
    expect(decideAction(suppressed, settings())).toMatchObject({ send: false });
    const ran = alarmOf(parseAlarmEvent(eventOf('lambda-alarm-action-composite.json')));
    expect(ran.actionsSuppressed).toBeUndefined();
  });

  it.each([
    ['2019-10-02T17:00:00.000+0000', '2019-10-02T19:00:00.000+0000', true],
    ['2019-10-02T17:05:00.000+0000', '2019-10-02T19:00:00.000+0000', false],
    ['2019-10-02T16:00:00.000+0000', '2019-10-02T17:04:40.989+0000', false],
    [undefined, undefined, true],
  ])('takes a change as muted only inside the mute window it names (%s to %s: %s)', (start, end, muted) => {
    const event = eventOf('single-metric-alarm.json');
    (event.detail as Record<string, unknown>).muteDetail = {
      mutedByArn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm-mute-rule:m',
      muteWindowStart: start,
      muteWindowEnd: end,
    };
    const n = alarmOf(parseAlarmEvent(event));
    expect(n.actionsSuppressed?.by).toBe(muted ? 'MuteRule' : undefined);
  });

  it('keeps an alarm whose configuration it cannot read an alarm, keyed by its ARN', () => {
    const event = eventOf('single-metric-alarm.json');
    (event.detail as Record<string, unknown>).configuration = {
      evaluationCriteria: { promQLCriteria: { query: 'up == 0' } },
      metrics: 'not a list',
    };
    const n = alarmOf(parseAlarmEvent(event));
    expect(n.condition).toMatchObject({
      kind: 'unknown',
      why: expect.stringContaining('detail.configuration.metrics'),
    });
    expect(dedupKeyFor(n)).toBe('arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh');
  });

  it.each<[string, unknown, string]>([
    ['not an object', 'hello', 'the event is "hello", not an object'],
    ['no detail', { 'detail-type': ALARM_STATE_CHANGE, account: '123456789012' }, 'detail: missing'],
    [
      'no state',
      { 'detail-type': ALARM_STATE_CHANGE, account: '123456789012', detail: { alarmName: 'a' } },
      'detail.state: missing',
    ],
    [
      'a bad state',
      {
        'detail-type': ALARM_STATE_CHANGE,
        detail: { alarmName: 'a', state: { value: 'FIRING', timestamp: '2019-10-02T17:04:40.989+0000' } },
      },
      'detail.state.value: "FIRING" is not one of OK, ALARM, INSUFFICIENT_DATA',
    ],
    [
      'no account',
      {
        'detail-type': ALARM_STATE_CHANGE,
        detail: { alarmName: 'a', state: { value: 'OK', timestamp: '2019-10-02T17:04:40.989+0000' } },
      },
      'account: missing',
    ],
  ])('makes %s unrecognised, saying why', (_what, event, why) => {
    const n = parseAlarmEvent(event);
    expect(n).toMatchObject({
      type: 'unrecognised',
      intake: 'eventbridge',
      why: expect.stringContaining(why),
    });
  });

  it('recognises both detail types and the Lambda action payload, and nothing else', () => {
    expect(isAlarmEventShaped(eventOf('contributor-alarm.json'))).toBe(true);
    expect(isAlarmEventShaped(eventOf('single-metric-alarm.json'))).toBe(true);
    expect(isAlarmEventShaped(eventOf('lambda-alarm-action.json'))).toBe(true);
    expect(isAlarmEventShaped(eventOf('configuration-change.json'))).toBe(false);
    expect(isAlarmEventShaped({ Records: [] })).toBe(false);
  });

  it('parses an alarm event published to the topic by an EventBridge rule as the same alarm', () => {
    const event = eventOf('contributor-alarm.json');
    const n = parseNotification(envelope(event));
    expect(dedupKeyFor(n)).toBe(dedupKeyFor(parseAlarmEvent(event)));
  });

  it('never throws, whatever is in place of any part of the event', () => {
    const values: unknown[] = [null, 42, 'x', [], {}, [[[]]], { value: 'ALARM' }, true];
    const event = eventOf('contributor-alarm.json');
    const paths = [
      ['detail'],
      ['detail', 'state'],
      ['detail', 'state', 'timestamp'],
      ['detail', 'alarmContributor'],
      ['detail', 'alarmContributor', 'attributes'],
      ['detail', 'configuration'],
      ['detail', 'configuration', 'metrics'],
      ['detail', 'muteDetail'],
      ['detail', 'alarmTags'],
      ['resources'],
      ['account'],
      ['region'],
    ];
    for (const path of paths) {
      for (const value of values) {
        const copy = structuredClone(event);
        let node = copy;
        for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
        node[path[path.length - 1]!] = value;
        expect(() => parseAlarmEvent(copy)).not.toThrow();
        expect(['alarm', 'unrecognised']).toContain(parseAlarmEvent(copy).type);
      }
    }
  });
});
