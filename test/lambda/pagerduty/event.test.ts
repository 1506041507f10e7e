import fc from 'fast-check';
import { parseNotification } from '../../../lambda/messages/parse-notification';
import { dedupKeyFor } from '../../../lambda/pipeline/dedup-key';
import type { AlarmCondition, AlarmNotification, MathMetric } from '../../../lambda/messages/notification';
import type { PagerDutyAlertEvent } from '../../../lambda/pagerduty/types';
import { buildAlertEvent } from '../../../lambda/pagerduty/event';
import { describeCondition } from '../../../lambda/pagerduty/condition';
import { fitToLimits, MAX_SUMMARY_LENGTH } from '../../../lambda/pagerduty/limits';
import { enqueueSchemaErrors, PAGERDUTY_MAX_EVENT_BYTES, sentBytes } from '../../support/enqueue-schema';
import { alarm, envelope, lambdaErrors, settings, unrecognised } from '../../support/notifications';

const options = { clientName: 'CloudWatch alarm pipeline' };
const trigger = (n: Parameters<typeof buildAlertEvent>[0], s = settings()) =>
  buildAlertEvent(n, s, 'trigger', dedupKeyFor(n), options);
const summaryOf = (event: PagerDutyAlertEvent) => event.payload?.summary ?? '';
const metric = (overrides: Partial<typeof lambdaErrors>): AlarmCondition => ({
  ...lambdaErrors,
  ...overrides,
});

const requestCount: MathMetric = {
  id: 'm1',
  returnData: true,
  metricStat: {
    metric: {
      namespace: 'AWS/ApplicationELB',
      metricName: 'RequestCount',
      dimensions: [{ name: 'LoadBalancer', value: 'app/web/1' }],
    },
    period: 300,
    stat: 'Sum',
  },
};
const band: MathMetric = {
  id: 'ad1',
  returnData: true,
  expression: 'ANOMALY_DETECTION_BAND(m1, 2)',
  label: 'RequestCount (expected)',
};
const anomaly = (comparisonOperator: string): AlarmCondition => ({
  kind: 'anomaly',
  metrics: [band, requestCount],
  thresholdMetricId: 'ad1',
  comparisonOperator,
  evaluationPeriods: 3,
  datapointsToAlarm: 2,
});

describe('trigger summary', () => {
  it('reads at a glance: environment, state, alarm, condition, dimension, region, account', () => {
    expect(summaryOf(trigger(alarm(), settings({ environment: 'prod' })))).toBe(
      '[prod] ALARM: HighErrorRate — Errors Sum > 5 for 1 datapoint within 1 minute (myfunc) in us-east-1 (123456789012)',
    );
    expect(summaryOf(trigger(alarm()))).toBe(
      'ALARM: HighErrorRate — Errors Sum > 5 for 1 datapoint within 1 minute (myfunc) in us-east-1 (123456789012)',
    );
  });

  it.each([
    ['GreaterThanOrEqualToThreshold', '>='],
    ['LessThanThreshold', '<'],
    ['LessThanOrEqualToThreshold', '<='],
    ['SomeFutureOperator', 'SomeFutureOperator'],
  ])('writes %s as %s', (comparisonOperator, words) => {
    expect(describeCondition(alarm({ condition: metric({ comparisonOperator }) }))).toBe(
      `Errors Sum ${words} 5 for 1 datapoint within 1 minute (myfunc)`,
    );
  });

  it.each([
    [10, 1, undefined, 'for 1 datapoint within 10 seconds'],
    [90, 2, undefined, 'for 2 datapoints within 3 minutes'],
    [300, 5, 3, 'for 3 of 5 datapoints within 25 minutes'],
    [3600, 1, 1, 'for 1 datapoint within 1 hour'],
    [86400, 2, 1, 'for 1 of 2 datapoints within 2 days'],
  ])(
    'says the window for period %i × %i periods, %s to alarm',
    (period, evaluationPeriods, datapointsToAlarm, words) => {
      expect(
        describeCondition(alarm({ condition: metric({ period, evaluationPeriods, datapointsToAlarm }) })),
      ).toContain(words);
    },
  );

  it('writes units compactly and lists at most three dimension values', () => {
    const condition = metric({
      unit: 'Percent',
      threshold: 80.5,
      metric: {
        namespace: 'CWAgent',
        metricName: 'mem_used_percent',
        dimensions: ['a', 'b', 'c', 'd', 'e'].map((value, i) => ({ name: `d${i}`, value })),
      },
    });
    expect(describeCondition(alarm({ condition }))).toBe(
      'mem_used_percent Sum > 80.5% for 1 datapoint within 1 minute (a, b, c +2)',
    );
    expect(describeCondition(alarm({ condition: metric({ unit: 'Bytes' }) }))).toContain('> 5 Bytes for');
    expect(describeCondition(alarm({ condition: metric({ unit: 'Count' }) }))).toContain('> 5 for');
  });

  it.each([
    ['GreaterThanUpperThreshold', 'above the expected band'],
    ['LessThanLowerThreshold', 'below the expected band'],
    ['LessThanLowerOrGreaterThanUpperThreshold', 'outside the expected band'],
    ['NewBandOperator', 'outside the expected band (NewBandOperator)'],
  ])('says an anomaly alarm with %s left its band: %s', (operator, words) => {
    const summary = summaryOf(trigger(alarm({ condition: anomaly(operator) })));
    expect(summary).toBe(
      `ALARM: HighErrorRate — RequestCount Sum ${words} for 2 of 3 datapoints within 15 minutes (app/web/1) in us-east-1 (123456789012)`,
    );
    expect(summary).not.toMatch(/undefined|threshold/i);
  });

  it('names the alarmed expression of a metric-math alarm by label, else expression, else metric', () => {
    const math = (first: MathMetric): AlarmCondition => ({
      kind: 'metric-math',
      metrics: [first, { ...requestCount, returnData: false }],
      threshold: 2,
      comparisonOperator: 'GreaterThanThreshold',
      evaluationPeriods: 1,
    });
    const e1 = { id: 'e1', returnData: true, expression: 'm1 / 60' };
    expect(describeCondition(alarm({ condition: math({ ...e1, label: 'Requests per second' }) }))).toBe(
      'Requests per second > 2 for 1 datapoint within 5 minutes (app/web/1)',
    );
    expect(describeCondition(alarm({ condition: math(e1) }))).toBe(
      'm1 / 60 > 2 for 1 datapoint within 5 minutes (app/web/1)',
    );
  });

  it('names the triggering children of a composite alarm, or says it was set by hand', () => {
    const composite = (names: string[]): AlarmCondition => ({
      kind: 'composite',
      alarmRule: names.map((name) => `ALARM(${name})`).join(' OR '),
      triggeringChildren: names.map((name) => ({
        arn: `arn:aws:cloudwatch:us-east-1:1:alarm:${name}`,
        name,
        state: 'ALARM',
      })),
    });
    expect(describeCondition(alarm({ condition: composite([]) }))).toBe(
      'composite alarm state set by hand (no triggering child alarm)',
    );
    expect(describeCondition(alarm({ condition: composite(['api-5xx']) }))).toBe(
      'composite alarm triggered by api-5xx',
    );
    expect(describeCondition(alarm({ condition: composite(['a', 'b', 'c', 'd', 'e']) }))).toBe(
      'composite alarm triggered by a, b, c and 2 more',
    );
  });

  it('says INSUFFICIENT_DATA when the policy pages for it, and the region name when the code is unknown', () => {
    const n = alarm({
      newState: 'INSUFFICIENT_DATA',
      regionCode: undefined,
      regionName: 'Atlantis (Central)',
      alarmArn: undefined,
    });
    expect(summaryOf(trigger(n))).toBe(
      'INSUFFICIENT_DATA: HighErrorRate — Errors Sum > 5 for 1 datapoint within 1 minute (myfunc) in Atlantis (Central) (123456789012)',
    );
  });

  it('says the subject and the beginning of the body of a message that is not an alarm', () => {
    expect(
      summaryOf(trigger(unrecognised({ subject: 'Deploy finished' }), settings({ environment: 'dev' }))),
    ).toBe('[dev] SNS message: Deploy finished — hello');
    expect(summaryOf(trigger(unrecognised({ subject: 'Test', body: 'disk full on db-7' })))).toBe(
      'SNS message: Test — disk full on db-7',
    );
    expect(summaryOf(trigger(unrecognised({ subject: 'Test', body: '' })))).toBe('SNS message: Test');
    expect(summaryOf(trigger(unrecognised({ subject: undefined, body: '\n  first line \nsecond' })))).toBe(
      'SNS message: first line second',
    );
    expect(
      summaryOf(
        trigger(unrecognised({ subject: undefined, body: '{"a":1}', why: 'JSON without AlarmName' })),
      ),
    ).toBe('SNS message: JSON without AlarmName');
  });
});

describe('trigger event', () => {
  it('fills source, severity, timestamp, component, group, class, client and links', () => {
    const event = trigger(
      alarm(),
      settings({
        severity: 'warning',
        runbookUrl: 'https://wiki.example.com/rb',
        dashboardUrl: 'https://grafana.example.com/d/1',
      }),
    );
    expect(event).toMatchObject({
      event_action: 'trigger',
      dedup_key: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighErrorRate',
      payload: {
        source: 'cloudwatch:us-east-1:123456789012',
        severity: 'warning',
        timestamp: '2021-11-10T02:45:55.640Z',
        component: 'myfunc',
        group: '123456789012/us-east-1',
        class: 'AWS/Lambda',
      },
      client: 'CloudWatch alarm pipeline',
      client_url:
        'https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/HighErrorRate',
    });
    expect(event.links?.map((link) => link.text)).toEqual([
      'CloudWatch alarm',
      'Runbook',
      'Dashboard',
      'Metric graph (last 3 hours)',
    ]);
    expect(enqueueSchemaErrors(event)).toEqual([]);
  });

  it('puts the alarm in custom_details, with settings problems', () => {
    const n = alarm({
      alarmDescription: 'Checkout errors',
      tags: { team: 'payments' },
      tagsStatus: 'SUCCESS',
      actionExecutedAfterMuteWindow: true,
    });
    const details = trigger(
      n,
      settings({ route: 'payments', problems: ['tag pagerduty:severity: "x" is bad'] }),
    ).payload?.custom_details;
    expect(details).toEqual({
      state_reason: n.reason,
      state_change: 'OK → ALARM',
      state_change_time: '2021-11-10T02:45:55.640+0000',
      condition: 'Errors Sum > 5 for 1 datapoint within 1 minute (myfunc)',
      metric: { namespace: 'AWS/Lambda', name: 'Errors', dimensions: { FunctionName: 'myfunc' } },
      statistic: 'Sum',
      threshold: 5,
      period_seconds: 60,
      comparison_operator: 'GreaterThanThreshold',
      evaluation_periods: 1,
      datapoints_to_alarm: 1,
      treat_missing_data: 'missing',
      alarm_name: 'HighErrorRate',
      alarm_description: 'Checkout errors',
      alarm_arn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighErrorRate',
      account: '123456789012',
      region: 'US East (N. Virginia)',
      region_code: 'us-east-1',
      tags: { team: 'payments' },
      tags_status: 'SUCCESS',
      action_executed_after_mute_window: true,
      route: 'payments',
      settings_problems: ['tag pagerduty:severity: "x" is bad'],
    });
  });

  it('links the console of the alarm’s own partition, URL-encoding the name', () => {
    const name = 'p99 latency / checkout #1 ü?';
    const cn = trigger(
      alarm({ alarmName: name, alarmArn: undefined, partition: 'aws-cn', regionCode: 'cn-north-1' }),
    );
    expect(cn.client_url).toBe(
      'https://console.amazonaws.cn/cloudwatch/home?region=cn-north-1#alarmsV2:alarm/p99%20latency%20%2F%20checkout%20%231%20%C3%BC%3F',
    );
    expect(enqueueSchemaErrors(cn)).toEqual([]);
  });

  it('escapes the metric console notation’s own punctuation inside values', () => {
    const condition = metric({
      metric: { namespace: 'App', metricName: "it's~(odd)*", dimensions: [{ name: 'k', value: 'a b!' }] },
    });
    const link = trigger(alarm({ condition })).links?.find((l) => l.text?.startsWith('Metric graph'))?.href;
    expect(link).toContain("metrics~(~(~'App~'it*27s*7E*28odd*29*2A~'k~'a*20b*21~(stat~'Sum)))");
  });

  it('has no console links where the region or the console is unknown', () => {
    const unknown = trigger(
      alarm({ regionCode: undefined, regionName: 'Atlantis (Central)', alarmArn: undefined }),
    );
    expect(unknown.links).toBeUndefined();
    expect(unknown.client_url).toBeUndefined();
    const iso = trigger(alarm({ partition: 'aws-iso', regionCode: 'us-iso-east-1', alarmArn: undefined }));
    expect(iso.links).toBeUndefined();
  });

  it('keeps the raw text and the why for a message that is not an alarm', () => {
    const event = trigger(
      unrecognised({ body: 'raw text', why: 'the SNS message body is plain text, not JSON' }),
    );
    expect(event).toMatchObject({
      payload: {
        source: 'arn:aws:sns:us-east-1:123456789012:alarms',
        class: 'sns-message',
        timestamp: '2021-11-10T02:45:55.703Z',
        custom_details: {
          why: 'the SNS message body is plain text, not JSON',
          body: 'raw text',
          subject: 'Test',
        },
      },
      links: [
        {
          href: 'https://console.aws.amazon.com/sns/v3/home?region=us-east-1#/topic/arn:aws:sns:us-east-1:123456789012:alarms',
          text: 'SNS topic',
        },
      ],
    });
  });
});

describe('resolve event', () => {
  it('is the event action and the dedup key only', () => {
    const n = alarm({ newState: 'OK' });
    expect(buildAlertEvent(n, settings(), 'resolve', dedupKeyFor(n), options)).toEqual({
      event_action: 'resolve',
      dedup_key: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighErrorRate',
    });
  });
});

describe('fitToLimits', () => {
  const event = (
    summary: string,
    details: Record<string, unknown> = {},
    dedupKey = 'k',
  ): PagerDutyAlertEvent => ({
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: { summary, source: 's', severity: 'critical', custom_details: details },
  });

  it('cuts the summary to 1024 characters with an ellipsis, without splitting a surrogate pair', () => {
    expect(summaryOf(fitToLimits(event('x'.repeat(2000))))).toBe(`${'x'.repeat(1023)}…`);
    const emoji = summaryOf(fitToLimits(event('a' + '😀'.repeat(1000))));
    expect(emoji.length).toBeLessThanOrEqual(MAX_SUMMARY_LENGTH);
    expect(emoji).toBe(`a${'😀'.repeat(511)}…`);
    expect(summaryOf(fitToLimits(event('x'.repeat(1024))))).toBe('x'.repeat(1024));
  });

  it('shrinks a dedup key over 255 characters', () => {
    expect(fitToLimits(event('s', {}, 'k'.repeat(300))).dedup_key).toMatch(/^k{183}:sha256:[0-9a-f]{64}$/);
  });

  it('leaves an event within the limits as it is', () => {
    const small = event('s', { a: 'b' });
    expect(fitToLimits(small)).toEqual(small);
  });

  it('cuts the largest custom_details strings first and says what it cut', () => {
    const fitted = fitToLimits(event('s', { body: 'b'.repeat(700_000), reason: 'r'.repeat(1000), n: 1 }));
    const details = fitted.payload?.custom_details as Record<string, unknown>;
    expect(sentBytes(fitted)).toBeLessThanOrEqual(PAGERDUTY_MAX_EVENT_BYTES);
    expect(sentBytes(fitted)).toBeGreaterThan(PAGERDUTY_MAX_EVENT_BYTES - 1000);
    expect(details.reason).toBe('r'.repeat(1000));
    expect(details.n).toBe(1);
    expect(String(details.body)).toMatch(/^b+…$/);
    expect(details._truncated).toEqual([
      `body: cut from 700000 to ${String(details.body).length} characters`,
    ]);
  });

  it('counts JSON escaping: a body of control characters is six bytes each when sent', () => {
    const fitted = fitToLimits(event('s', { body: '\u0001'.repeat(200_000) }));
    expect(sentBytes(fitted)).toBeLessThanOrEqual(PAGERDUTY_MAX_EVENT_BYTES);
    expect(String(fitted.payload?.custom_details?.body).length).toBeGreaterThan(80_000);
  });

  it('removes whole entries when there are too many small values to cut', () => {
    const tags = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`tag-${i}`, 'v'.repeat(200)]));
    const fitted = fitToLimits(event('s', { why: 'kept', tags }));
    expect(sentBytes(fitted)).toBeLessThanOrEqual(PAGERDUTY_MAX_EVENT_BYTES);
    expect(fitted.payload?.custom_details).toEqual({
      why: 'kept',
      _truncated: [expect.stringMatching(/^tags: removed \(\d+ bytes\)$/)],
    });
  });

  it('cuts a value under a "__proto__" key like any other', () => {
    const tags = JSON.parse(`{"__proto__": "${'p'.repeat(600_000)}"}`) as Record<string, string>;
    const fitted = fitToLimits(event('s', { tags }));
    expect(sentBytes(fitted)).toBeLessThanOrEqual(PAGERDUTY_MAX_EVENT_BYTES);
    expect((fitted.payload?.custom_details as { _truncated: string[] })._truncated).toEqual([
      expect.stringMatching(/^tags\.__proto__: cut from 600000 to \d+ characters$/),
    ]);
  });

  it('cuts a huge unrecognised body to fit, through buildAlertEvent', () => {
    const n = parseNotification(envelope('x'.repeat(600_000), { subject: undefined }));
    const fitted = trigger(n);
    expect(sentBytes(fitted)).toBeLessThanOrEqual(PAGERDUTY_MAX_EVENT_BYTES);
    expect(summaryOf(fitted)).toBe(`SNS message: ${'x'.repeat(299)}…`);
    expect(enqueueSchemaErrors(fitted)).toEqual([]);
  });
});

describe('limits hold for arbitrary large inputs', () => {
  const text = (max: number) =>
    fc.oneof(
      fc.string({ maxLength: 200, unit: 'grapheme' }),
      fc
        .tuple(fc.string({ minLength: 1, maxLength: 8, unit: 'binary' }), fc.integer({ min: 1, max: max }))
        .map(([chunk, times]) => chunk.repeat(Math.ceil(times / chunk.length)).slice(0, times)),
    );

  const largeAlarm = fc
    .record({
      alarmName: text(400),
      alarmDescription: text(300_000),
      reason: text(700_000),
      regionName: text(300),
      tagValue: text(300_000),
      tagCount: fc.integer({ min: 0, max: 2000 }),
      children: fc.integer({ min: 0, max: 3000 }),
      environment: fc.option(fc.stringMatching(/^[a-z0-9]{1,32}$/), { nil: undefined }),
    })
    .map(({ alarmName, alarmDescription, reason, regionName, tagValue, tagCount, children, environment }) => {
      const n: AlarmNotification = alarm({
        alarmName: alarmName || 'x',
        alarmArn: undefined,
        alarmDescription,
        reason,
        regionName,
        tags: Object.fromEntries(
          Array.from({ length: tagCount }, (_, i) => [`k${i}`, tagValue.slice(0, 256)]),
        ),
        condition:
          children > 0
            ? {
                kind: 'composite',
                alarmRule: reason.slice(0, 10240),
                triggeringChildren: Array.from({ length: children }, (_, i) => ({
                  arn: `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${alarmName}${i}`,
                  name: `${alarmName}${i}`,
                })),
              }
            : lambdaErrors,
      });
      return { n, environment };
    });

  const check = (event: PagerDutyAlertEvent) => {
    expect(sentBytes(event)).toBeLessThanOrEqual(PAGERDUTY_MAX_EVENT_BYTES);
    expect(summaryOf(event).length).toBeLessThanOrEqual(MAX_SUMMARY_LENGTH);
    expect(event.dedup_key.length).toBeLessThanOrEqual(255);
    expect(enqueueSchemaErrors(event)).toEqual([]);
  };

  it('for alarms', () => {
    fc.assert(
      fc.property(largeAlarm, ({ n, environment }) => check(trigger(n, settings({ environment })))),
      { numRuns: 40 },
    );
  });

  it('for anything published to the topic', () => {
    fc.assert(
      fc.property(text(800_000), fc.option(text(200), { nil: undefined }), (body, subject) =>
        check(trigger(parseNotification(envelope(body, { subject })))),
      ),
      { numRuns: 40 },
    );
  });
});

describe('buildAlertEvent: what PagerDuty shows on one line', () => {
  const hostile = 'prod-\u202etxt.exe\u202c-\u2066high\u2069\u200b\u0007\r\nnext\u2028line';

  it('shows no bidi, zero-width or control character in summary, source, component, group or class', () => {
    const n = alarm({
      alarmName: hostile,
      accountId: `1234\u202e5678`,
      condition: {
        ...lambdaErrors,
        metric: {
          namespace: `AWS/\u200bLambda`,
          metricName: 'Errors',
          dimensions: [{ name: 'F', value: hostile }],
        },
      },
    });
    const event = buildAlertEvent(n, settings({ environment: `prod\u202e` }), 'trigger', 'k', {
      clientName: 'c',
    });
    const p = event.payload!;
    for (const field of [p.summary, p.source, p.component, p.group, p.class]) {
      expect(field).not.toMatch(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u);
    }
    expect(p.summary).toContain('prod-txt.exe-high next line');
    expect(p.custom_details?.alarm_name).toBe(hostile);
  });

  it('says why an empty or missing message pages, rather than quoting an empty body', () => {
    const event = buildAlertEvent(
      unrecognised({ body: '', subject: undefined, why: 'the SNS message body is empty' }),
      settings(),
      'trigger',
      'k',
      { clientName: 'c' },
    );
    expect(event.payload!.summary).toBe('SNS message: the SNS message body is empty');
  });

  it('cuts a raw body to what the event has room for in one pass, saying so', () => {
    const body = '\u0000'.repeat(200_000);
    const event = buildAlertEvent(unrecognised({ body }), settings(), 'trigger', 'k', { clientName: 'c' });
    const details = event.payload!.custom_details!;
    expect((details.body as string).length).toBeLessThan(body.length);
    expect(details._truncated).toEqual([
      `body: cut from 200000 to ${(details.body as string).length} characters`,
    ]);
    expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThanOrEqual(512_000);
  });
});

describe('buildAlertEvent: contributors and alarms of unknown kind', () => {
  it('names the contributor in the summary and details, and takes its first attribute as the component', () => {
    const n = alarm({ contributor: { id: 'c1', attributes: { TableName: 'orders', Shard: '3' } } });
    const event = buildAlertEvent(n, settings(), 'trigger', dedupKeyFor(n), { clientName: 'c' });
    expect(event.dedup_key).toBe(
      'arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighErrorRate/contributor/c1',
    );
    expect(event.payload).toMatchObject({
      summary:
        'ALARM: HighErrorRate [TableName=orders, Shard=3] — Errors Sum > 5 for 1 datapoint within 1 minute (myfunc) in us-east-1 (123456789012)',
      component: 'orders',
      custom_details: { contributor: { id: 'c1', attributes: { TableName: 'orders', Shard: '3' } } },
    });
  });

  it('describes an unknown condition by its label, and says in the details why it could not be read', () => {
    const n = alarm({
      condition: { kind: 'unknown', why: 'Trigger has none of …', label: 'PromQL up == 0', raw: '{"x":1}' },
    });
    const event = buildAlertEvent(n, settings(), 'trigger', dedupKeyFor(n), { clientName: 'c' });
    expect(event.payload).toMatchObject({
      summary: 'ALARM: HighErrorRate — PromQL up == 0 in us-east-1 (123456789012)',
      class: 'cloudwatch-alarm',
      custom_details: { condition_unreadable: 'Trigger has none of …', condition_raw: '{"x":1}' },
    });
    expect(event.payload!.component).toBeUndefined();
  });
});
