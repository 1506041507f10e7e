import { REPO_ROOT } from '../../support/paths';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseNotification } from '../../../lambda/messages/parse-notification';
import { checkImageRequest, newObjectId, signedImageUrl } from '../../../lambda/graphs/image-token';
import {
  childrenToGraph,
  conditionFromDescribedAlarm,
  graphWindow,
  isGraphable,
  metricWidgetFor,
  type GraphSubject,
} from '../../../lambda/graphs/metric-graph';
import { metricGraphsConfigFromEnv } from '../../../lambda/graphs/graphs-config';
import type { AlarmNotification } from '../../../lambda/messages/notification';

function example(name: string): AlarmNotification {
  const parsed = parseNotification({
    messageId: 'm',
    topicArn: 'arn:aws:sns:us-east-1:123456789012:alarms',
    timestamp: '2030-01-01T00:00:00.000Z',
    message: readFileSync(join(REPO_ROOT, 'examples', name), 'utf8'),
  });
  if (parsed.type !== 'alarm') throw new Error(parsed.why);
  return parsed;
}

function subject(alarm: AlarmNotification): GraphSubject {
  if (!isGraphable(alarm.condition) || !alarm.regionCode) throw new Error('not graphable');
  return { ...alarm, regionCode: alarm.regionCode, condition: alarm.condition };
}

describe('metricWidgetFor', () => {
  it('draws a single metric with its statistic, the threshold shaded on the breaching side, and the change', () => {
    const alarm = example('metric-alarm.json');
    const widget = metricWidgetFor(subject(alarm));
    if (alarm.condition.kind !== 'metric') throw new Error('expected a metric alarm');
    const c = alarm.condition;
    expect(widget.region).toBe('us-east-1');
    expect(widget.metrics).toEqual([
      [
        c.metric.namespace,
        c.metric.metricName,
        ...c.metric.dimensions.flatMap((d) => [d.name, d.value]),
        { stat: c.statistic, period: c.period },
      ],
    ]);
    expect(widget.annotations.horizontal).toEqual([
      expect.objectContaining({
        value: c.threshold,
        fill: 'above',
        label: expect.stringMatching(/^Threshold [>≥] /),
      }),
    ]);
    expect(widget.annotations.vertical).toEqual([
      expect.objectContaining({
        value: new Date(alarm.stateChangeEpochMs).toISOString().replace(/\.\d+Z/, 'Z'),
      }),
    ]);
    expect(Date.parse(widget.start)).toBeLessThan(alarm.stateChangeEpochMs);
    expect(Date.parse(widget.end)).toBeGreaterThan(alarm.stateChangeEpochMs);
    expect(JSON.stringify(widget).length).toBeLessThan(100 * 1024);
  });

  it('draws what a metric-math alarm evaluates and hides its inputs, which the expression still reads', () => {
    const widget = metricWidgetFor(subject(example('metric-math-alarm.json')));
    expect(widget.metrics).toEqual([
      [{ expression: '100 * m2 / m1', period: 60, id: 'e1', label: 'Error rate (%)' }],
      [
        'AWS/ApiGateway',
        'Count',
        'ApiName',
        'checkout',
        { id: 'm1', visible: false, stat: 'Sum', period: 60 },
      ],
      [
        'AWS/ApiGateway',
        '5XXError',
        'ApiName',
        'checkout',
        { id: 'm2', visible: false, stat: 'Sum', period: 60 },
      ],
    ]);
    expect(widget.annotations.horizontal).toEqual([expect.objectContaining({ value: 5, fill: 'above' })]);
  });

  it('draws an anomaly detection alarm with its metric and band, and no threshold line', () => {
    const widget = metricWidgetFor(subject(example('anomaly-alarm.json')));
    expect(widget.metrics).toEqual([
      [
        'ContainerInsights',
        'pod_cpu_utilization',
        'ClusterName',
        'cloudone-dev-v1-eks-cluster',
        expect.objectContaining({ id: 'm1' }),
      ],
      [expect.objectContaining({ expression: 'ANOMALY_DETECTION_BAND(m1, 0.592)', id: 'ad1' })],
    ]);
    expect(JSON.stringify(widget.metrics)).not.toContain('"visible":false');
    expect(widget.annotations.horizontal).toBeUndefined();
  });

  it("marks every metric with the metric account for another account's alarm", () => {
    const widget = metricWidgetFor(subject(example('metric-math-alarm.json')), {
      metricAccountId: '111122223333',
    });
    const stats = widget.metrics.filter((row) => typeof row[0] === 'string');
    expect(stats).toHaveLength(2);
    for (const row of stats) expect(row.at(-1)).toMatchObject({ accountId: '111122223333' });
  });
});

describe('graphWindow', () => {
  const t = Date.UTC(2030, 0, 1, 12, 0, 0);
  it('shows at least an hour before a 1-minute alarm and a little after', () => {
    expect(graphWindow(60, 1, t)).toEqual({ startMs: t - 3_600_000, endMs: t + 300_000 });
  });
  it('shows 24 periods of a 5-minute alarm', () => {
    expect(graphWindow(300, 3, t).startMs).toBe(t - 24 * 300_000);
  });
  it('shows three evaluation windows of a long alarm, beyond 24 hours when it needs to', () => {
    expect(graphWindow(3600, 24, t).startMs).toBe(t - 3 * 24 * 3_600_000);
  });
});

describe('composite alarms and described children', () => {
  it('graphs the children in ALARM first, once each, at most max', () => {
    const chosen = childrenToGraph(
      {
        kind: 'composite',
        alarmRule: '',
        triggeringChildren: [
          { arn: 'arn:a', name: 'a', state: 'OK' },
          { arn: 'arn:b', name: 'b', state: 'ALARM', timestamp: '2021-11-10T02:45:55.640+0000' },
          { arn: 'arn:b', name: 'b', state: 'ALARM' },
          { arn: 'arn:c', name: 'c', state: 'ALARM' },
        ],
      },
      2,
    );
    expect(chosen).toEqual([
      { arn: 'arn:b', name: 'b', state: 'ALARM', stateChangeEpochMs: Date.UTC(2021, 10, 10, 2, 45, 55, 640) },
      { arn: 'arn:c', name: 'c', state: 'ALARM' },
    ]);
  });

  it('reads a described single-metric alarm, percentile included', () => {
    expect(
      conditionFromDescribedAlarm({
        Namespace: 'AWS/Lambda',
        MetricName: 'Duration',
        ExtendedStatistic: 'p99',
        Dimensions: [{ Name: 'FunctionName', Value: 'f' }],
        Period: 60,
        EvaluationPeriods: 2,
        Threshold: 900,
        ComparisonOperator: 'GreaterThanThreshold',
      }),
    ).toMatchObject({
      kind: 'metric',
      statistic: 'p99',
      threshold: 900,
      metric: { dimensions: [{ name: 'FunctionName', value: 'f' }] },
    });
  });

  it('reads described metric math and anomaly alarms, and refuses what it cannot draw', () => {
    const metrics = [
      {
        Id: 'm1',
        ReturnData: true,
        MetricStat: { Metric: { Namespace: 'N', MetricName: 'M' }, Period: 60, Stat: 'Average' },
      },
      { Id: 'ad1', ReturnData: true, Expression: 'ANOMALY_DETECTION_BAND(m1, 2)' },
    ];
    expect(
      conditionFromDescribedAlarm({ Metrics: metrics, ThresholdMetricId: 'ad1', EvaluationPeriods: 1 }),
    ).toMatchObject({
      kind: 'anomaly',
      thresholdMetricId: 'ad1',
      period: 60,
    });
    expect(conditionFromDescribedAlarm({ Metrics: metrics.slice(0, 1), Threshold: 3 })).toMatchObject({
      kind: 'metric-math',
    });
    expect(conditionFromDescribedAlarm({ Metrics: metrics.slice(0, 1) })).toBeUndefined();
    expect(
      conditionFromDescribedAlarm({ Namespace: 'N', MetricName: 'M', Period: 60, Threshold: 1 }),
    ).toBeUndefined();
  });
});

describe('image links', () => {
  const key = 'k'.repeat(64);
  const now = Date.UTC(2030, 0, 1);
  const link = (id = newObjectId(), exp = now / 1000 + 7 * 86_400, signingKey = key) =>
    new URL(signedImageUrl('https://img.example/', signingKey, id, exp));
  const check = (url: URL, at = now, keys = [key]) =>
    checkImageRequest(keys, url.pathname, Object.fromEntries(url.searchParams), at);

  it('accepts its own link until it expires, and never after', () => {
    const url = link();
    expect(url.origin + url.pathname).toMatch(/^https:\/\/img\.example\/v1\/[A-Za-z0-9_-]{22}\.png$/);
    expect(check(url)).toMatchObject({ ok: true });
    expect(check(url, now + 7 * 86_400_000 - 1000)).toMatchObject({ ok: true });
    expect(check(url, now + 7 * 86_400_000)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses a link without a token, with a moved expiry, for another object, or signed with another key', () => {
    const url = link();
    const bare = new URL(url.pathname, url.origin);
    expect(check(bare)).toEqual({ ok: false, reason: 'no token' });
    const extended = new URL(url);
    extended.searchParams.set('exp', String(Number(url.searchParams.get('exp')) + 1));
    expect(check(extended)).toEqual({ ok: false, reason: 'bad signature' });
    const other = new URL(url.toString().replace(/\/v1\/[^.]+\.png/, `/v1/${newObjectId()}.png`));
    expect(check(other)).toEqual({ ok: false, reason: 'bad signature' });
    expect(check(link(undefined, undefined, 'x'.repeat(64)))).toEqual({ ok: false, reason: 'bad signature' });
    expect(check(new URL('https://img.example/v1/../secret.png?exp=1&sig=x'))).toMatchObject({ ok: false });
  });

  it('accepts links signed with the previous key after a rotation', () => {
    const old = link(undefined, undefined, 'o'.repeat(64));
    expect(check(old, now, [key, 'o'.repeat(64)])).toMatchObject({ ok: true });
  });

  it('object ids are 128 random bits and never repeat', () => {
    const ids = new Set(Array.from({ length: 1000 }, newObjectId));
    expect(ids.size).toBe(1000);
  });
});

describe('metricGraphsConfigFromEnv', () => {
  it('is off unless METRIC_GRAPHS=on', () => {
    expect(metricGraphsConfigFromEnv({})).toBeUndefined();
    expect(metricGraphsConfigFromEnv({ METRIC_GRAPHS: 'off', IMAGE_BUCKET: 'b' })).toBeUndefined();
  });

  it('reads the settings with their defaults, and names what is missing or wrong', () => {
    expect(
      metricGraphsConfigFromEnv({
        METRIC_GRAPHS: 'on',
        IMAGE_BUCKET: 'bucket',
        IMAGE_URL_BASE: 'https://x.lambda-url.eu-west-1.on.aws/',
        IMAGE_TOKEN_SECRET_ID: 'arn:aws:secretsmanager:eu-west-1:1:secret:k',
      }),
    ).toEqual({
      bucket: 'bucket',
      urlBase: 'https://x.lambda-url.eu-west-1.on.aws',
      tokenSecretId: 'arn:aws:secretsmanager:eu-west-1:1:secret:k',
      linkTtlDays: 14,
      timeoutMs: 1000,
      crossAccount: 'skip',
    });
    expect(() => metricGraphsConfigFromEnv({ METRIC_GRAPHS: 'on', IMAGE_BUCKET: 'bucket' })).toThrow(
      /IMAGE_URL_BASE, IMAGE_TOKEN_SECRET_ID/,
    );
    expect(() =>
      metricGraphsConfigFromEnv({
        METRIC_GRAPHS: 'on',
        IMAGE_BUCKET: 'b',
        IMAGE_URL_BASE: 'https://x',
        IMAGE_TOKEN_SECRET_ID: 's',
        IMAGE_LINK_TTL_DAYS: '3',
      }),
    ).toThrow(/IMAGE_LINK_TTL_DAYS/);
    expect(() => metricGraphsConfigFromEnv({ METRIC_GRAPHS: 'yes' })).toThrow(/METRIC_GRAPHS/);
  });
});
