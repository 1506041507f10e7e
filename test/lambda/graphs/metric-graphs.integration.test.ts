import { REPO_ROOT } from '../../support/paths';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { parseNotification } from '../../../lambda/messages/alarm-message';
import { createImageEndpoint } from '../../../lambda/image-endpoint';
import { ImageSigningKeys } from '../../../lambda/graphs/image-signing-keys';
import {
  createMetricGraphs,
  type MetricGraphsOptions,
  type PagerDutyImage,
} from '../../../lambda/graphs/metric-graphs';
import type { AlarmNotification, Notification } from '../../../lambda/messages/notification';
import { PagerDutyClient } from '../../../lambda/pagerduty/client';
import { CloudWatchStandIn, TINY_PNG } from '../../../local/cloudwatch-stand-in';
import { lambdaContext, metricAlarmMessage, snsEvent } from '../../../local/alarm-fixtures';
import { newRoutingKey, startPipeline } from '../../../local/harness';
import { PagerDutyEmulator } from '../../../local/pagerduty-emulator';
import { captureStdout, metricTotal } from '../../support/output';
import { startStores, type TestStores } from '../../support/stores';

const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const URL_BASE = 'https://abcdefghijklmnop.lambda-url.us-east-1.on.aws';
const DAY_MS = 86_400_000;

function example(name: string): AlarmNotification {
  const message = readFileSync(join(REPO_ROOT, 'examples', name), 'utf8');
  const parsed: Notification = parseNotification({
    messageId: 'm-1',
    topicArn: 'arn:aws:sns:us-east-1:123456789012:alarms',
    timestamp: new Date().toISOString(),
    message,
  });
  if (parsed.type !== 'alarm') throw new Error(`${name} is not an alarm: ${parsed.why}`);
  return parsed;
}

/** An alarm of the SNS corpus (test/corpus), as the parser reads it. */
function corpusAlarm(name: string): AlarmNotification {
  const record = JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'corpus', name), 'utf8')) as {
    Sns: { MessageId: string; TopicArn: string; Timestamp: string; Message: string };
  };
  const parsed = parseNotification({
    messageId: record.Sns.MessageId,
    topicArn: record.Sns.TopicArn,
    timestamp: record.Sns.Timestamp,
    message: record.Sns.Message,
  });
  if (parsed.type !== 'alarm') throw new Error(`${name} is not an alarm: ${parsed.why}`);
  return parsed;
}

function urlEvent(src: string, method = 'GET'): LambdaFunctionURLEvent {
  const url = new URL(src);
  return {
    rawPath: url.pathname,
    queryStringParameters: Object.fromEntries(url.searchParams),
    requestContext: { http: { method, path: url.pathname } },
  } as unknown as LambdaFunctionURLEvent;
}

// S3 and Secrets Manager are moto where it runs (always under CI=true), else the loopback stand-ins: the fast loop
// runs these tests too. CloudWatch is the stand-in either way (moto has no GetMetricWidgetImage).
describe('metric graph images (S3 + Secrets Manager, CloudWatch stand-in)', () => {
  let backend: TestStores;
  let standIn: CloudWatchStandIn;
  let s3: S3Client;
  let secrets: SecretsManagerClient;
  let bucket: string;
  let secretId: string;
  let failures: number;
  let warnings: Record<string, unknown>[];
  let n = 0;

  beforeAll(async () => {
    [backend, standIn] = await Promise.all([startStores({ s3: true }), CloudWatchStandIn.start()]);
    s3 = new S3Client({
      region: 'us-east-1',
      endpoint: backend.s3Endpoint,
      forcePathStyle: true,
      credentials,
    });
    secrets = new SecretsManagerClient({
      region: 'us-east-1',
      endpoint: backend.stores.secretsEndpoint,
      credentials,
    });
  });

  afterAll(async () => {
    s3?.destroy();
    secrets?.destroy();
    await Promise.all([backend?.stop(), standIn?.stop()]);
  });

  beforeEach(async () => {
    n += 1;
    bucket = `graphs-${n}`;
    secretId = `image-key-${n}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await secrets.send(
      new CreateSecretCommand({ Name: secretId, SecretString: 'k'.repeat(20) + 'a'.repeat(44) }),
    );
    standIn.widgetBehaviour = { kind: 'answer' };
    standIn.describeBehaviour = { kind: 'answer' };
    standIn.metricAlarms = [];
    standIn.requests.length = 0;
    failures = 0;
    warnings = [];
  });

  const graphs = (overrides: Partial<MetricGraphsOptions> = {}) =>
    createMetricGraphs({
      bucket,
      urlBase: URL_BASE,
      tokenSecretId: secretId,
      homeAccountId: '123456789012',
      s3,
      secrets,
      cloudWatchFor: (region) =>
        new CloudWatchClient({ region, endpoint: standIn.url, credentials, maxAttempts: 1 }),
      // Generous unless a test is about the deadline: on a loaded machine a failure must not turn into a time-out.
      timeoutMs: 5000,
      count: (_metric, value) => (failures += value),
      log: { info: () => undefined, warn: (_message, extra) => warnings.push(extra ?? {}) },
      ...overrides,
    });

  const endpoint = (now: () => number) =>
    createImageEndpoint({
      bucket,
      s3,
      now,
      keys: new ImageSigningKeys({ client: secrets, secretId, cacheMs: 0 }),
    });

  it('renders a single-metric alarm in its own region, stores the PNG privately and links to it', async () => {
    const alarm = example('metric-alarm.json');
    const images = await graphs().imagesFor(alarm, Date.now() + 5000);

    expect(images).toHaveLength(1);
    const [image] = images as [PagerDutyImage];
    expect(image.src).toMatch(
      new RegExp(`^${URL_BASE}/v1/[A-Za-z0-9_-]{22}\\.png\\?exp=\\d+&sig=[A-Za-z0-9_-]{43}$`),
    );
    expect(image.href).toContain('#alarmsV2:alarm/');
    expect(image.alt).toContain(alarm.alarmName);

    const [widget] = standIn.widgets();
    expect(widget).toMatchObject({ region: alarm.regionCode, view: 'timeSeries' });
    expect(JSON.stringify(widget)).toContain('Threshold');

    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual([
      expect.stringMatching(/^graphs\/[A-Za-z0-9_-]{22}\.png$/),
    ]);
    const stored = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: listed.Contents![0]!.Key! }));
    expect(Buffer.from(await stored.Body!.transformToByteArray())).toEqual(TINY_PNG);
    expect(stored.ContentType).toBe('image/png');
    expect(failures).toBe(0);
  });

  it('the link answers the PNG for 7 days and more, and 403 after it expires, without or with a forged token', async () => {
    const alarm = example('metric-alarm.json');
    const issuedAt = Date.now();
    const [image] = (await graphs({ linkTtlDays: 14 }).imagesFor(alarm, Date.now() + 5000)) as [
      PagerDutyImage,
    ];

    const atDay = async (days: number, src = image.src) =>
      endpoint(() => issuedAt + days * DAY_MS)(urlEvent(src));

    const fresh = await atDay(0);
    expect(fresh).toMatchObject({ statusCode: 200, isBase64Encoded: true });
    expect(Buffer.from(String((fresh as { body: string }).body), 'base64')).toEqual(TINY_PNG);
    expect((fresh as { headers: Record<string, string> }).headers['content-type']).toBe('image/png');
    expect(await atDay(7)).toMatchObject({ statusCode: 200 });
    expect(await atDay(13.9)).toMatchObject({ statusCode: 200 });
    expect(await atDay(14.01)).toMatchObject({ statusCode: 403 });

    const url = new URL(image.src);
    const noToken = `${url.origin}${url.pathname}`;
    expect(await atDay(0, noToken)).toMatchObject({ statusCode: 403 });
    const later = new URL(image.src);
    later.searchParams.set('exp', String(Number(url.searchParams.get('exp')) + 30 * 86_400));
    expect(await atDay(0, later.toString())).toMatchObject({ statusCode: 403 });
    const otherObject = image.src.replace(/\/v1\/[A-Za-z0-9_-]{22}\.png/, `/v1/${'A'.repeat(22)}.png`);
    expect(await atDay(0, otherObject)).toMatchObject({ statusCode: 403 });
  });

  it('links signed before a key rotation keep working; links signed with an unknown key do not', async () => {
    const alarm = example('metric-alarm.json');
    const [image] = (await graphs().imagesFor(alarm, Date.now() + 5000)) as [PagerDutyImage];
    await secrets.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: 'r'.repeat(64) }));
    expect(await endpoint(Date.now)(urlEvent(image.src))).toMatchObject({ statusCode: 200 });
    await secrets.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: 's'.repeat(64) }));
    expect(await endpoint(Date.now)(urlEvent(image.src))).toMatchObject({ statusCode: 403 });
  });

  // Bounds wide enough for a loaded machine, and still proofs: the answer would come at 5 s, the timeout is 1 s.
  it('a slow GetMetricWidgetImage (5 s) costs the page about 1 s: no image, logged and counted', async () => {
    standIn.widgetBehaviour = { kind: 'answer', delayMs: 5000 };
    const started = Date.now();
    const images = await graphs({ timeoutMs: 1000 }).imagesFor(
      example('metric-alarm.json'),
      Date.now() + 30_000,
    );
    const elapsed = Date.now() - started;
    expect(images).toEqual([]);
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(3000);
    expect(failures).toBe(1);
    expect(warnings).toEqual([expect.objectContaining({ step: 'timeout', alarmName: 'HighErrorRate' })]);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(listed.Contents ?? []).toEqual([]);
  });

  it('a GetMetricWidgetImage that never answers is cut at the caller deadline when that comes first', async () => {
    standIn.widgetBehaviour = { kind: 'hang' };
    const started = Date.now();
    const images = await graphs({ timeoutMs: 5000 }).imagesFor(
      example('metric-alarm.json'),
      Date.now() + 300,
    );
    const elapsed = Date.now() - started;
    expect(images).toEqual([]);
    expect(elapsed).toBeLessThan(3000);
    expect(failures).toBe(1);
  });

  it.each([
    [500, 'InternalServiceError'],
    [400, 'InvalidParameterInput'],
    [403, 'AccessDenied'],
  ])(
    'a failing GetMetricWidgetImage (%i %s) gives no image at once, logged and counted',
    async (status, code) => {
      standIn.widgetBehaviour = { kind: 'error', status, code };
      const started = Date.now();
      const images = await graphs().imagesFor(example('metric-alarm.json'), Date.now() + 5000);
      expect(images).toEqual([]);
      // Well before the 5 s budget: a failure ends the wait at once.
      expect(Date.now() - started).toBeLessThan(2000);
      expect(failures).toBe(1);
      expect(warnings[0]).toMatchObject({ step: 'render' });
      expect(String(warnings[0]!.reason)).toContain(code);
    },
  );

  it('a bucket that cannot be written gives no image, logged and counted as a store failure', async () => {
    const images = await graphs({ bucket: 'no-such-bucket' }).imagesFor(
      example('metric-alarm.json'),
      Date.now() + 5000,
    );
    expect(images).toEqual([]);
    expect(failures).toBe(1);
    expect(warnings[0]).toMatchObject({ step: 'store' });
  });

  it('an unreadable signing key gives no image, logged and counted', async () => {
    const images = await graphs({ tokenSecretId: 'missing' }).imagesFor(
      example('metric-alarm.json'),
      Date.now() + 5000,
    );
    expect(images).toEqual([]);
    expect(failures).toBe(1);
    expect(warnings[0]).toMatchObject({ step: 'sign' });
  });

  it('draws metric math and anomaly detection alarms', async () => {
    const math = await graphs().imagesFor(example('metric-math-alarm.json'), Date.now() + 5000);
    const anomaly = await graphs({ homeAccountId: '257706363616' }).imagesFor(
      example('anomaly-alarm.json'),
      Date.now() + 5000,
    );
    expect(math).toHaveLength(1);
    expect(anomaly).toHaveLength(1);
    const [mathWidget, anomalyWidget] = standIn.widgets();
    expect(mathWidget).toMatchObject({ region: 'eu-central-1' });
    expect(JSON.stringify(mathWidget)).toContain('100 * m2 / m1');
    expect(anomalyWidget).toMatchObject({ region: 'ap-northeast-2' });
    expect(JSON.stringify(anomalyWidget)).toContain('ANOMALY_DETECTION_BAND(m1, 0.592)');
  });

  it('a composite alarm gets the graphs of its triggering children that are metric alarms', async () => {
    const composite = example('composite-alarm.json');
    if (composite.condition.kind !== 'composite') throw new Error('not composite');
    const children = composite.condition.triggeringChildren;
    expect(children.length).toBeGreaterThan(0);
    standIn.metricAlarms = [
      {
        AlarmName: children[0]!.name,
        Namespace: 'AWS/ApplicationELB',
        MetricName: 'HTTPCode_Target_5XX_Count',
        Statistic: 'Sum',
        Dimensions: [{ Name: 'LoadBalancer', Value: 'app/web/123' }],
        Period: 60,
        EvaluationPeriods: 3,
        Threshold: 10,
        ComparisonOperator: 'GreaterThanThreshold',
      },
    ];
    const images = await graphs({ homeAccountId: composite.accountId }).imagesFor(
      composite,
      Date.now() + 5000,
    );
    expect(images).toHaveLength(1);
    expect(images[0]!.alt).toContain(children[0]!.name);
    const describe = standIn.requests.find((r) => r.operation === 'DescribeAlarms');
    expect(describe?.body).toMatchObject({ AlarmTypes: ['MetricAlarm'] });
    expect(JSON.stringify(standIn.widgets()[0])).toContain('HTTPCode_Target_5XX_Count');
    expect(failures).toBe(0);
  });

  it('a composite whose DescribeAlarms fails, or never answers before the deadline, gets no graph, logged and counted', async () => {
    const composite = example('composite-alarm.json');
    const options = { homeAccountId: composite.accountId };
    standIn.describeBehaviour = { kind: 'error', status: 400, code: 'AccessDenied' };
    expect(await graphs(options).imagesFor(composite, Date.now() + 5000)).toEqual([]);
    expect(warnings).toEqual([expect.objectContaining({ step: 'describe', alarmName: composite.alarmName })]);
    expect(String(warnings[0]!.reason)).toContain('AccessDenied');

    standIn.describeBehaviour = { kind: 'hang' };
    const started = Date.now();
    // The caller's deadline (300 ms) comes well before the graphs' own 5 s limit.
    expect(await graphs(options).imagesFor(composite, started + 300)).toEqual([]);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(warnings[1]).toMatchObject({ step: 'timeout', alarmName: composite.alarmName });
    expect(failures).toBe(2);
    expect(standIn.widgets()).toEqual([]);
  });

  it('alarms with nothing to draw by design get no graph, no CloudWatch call and no failure count', async () => {
    const byHand = corpusAlarm('composite-set-by-hand.json');
    const noMetricChildren = example('composite-alarm.json');
    const cases = [
      [
        corpusAlarm('govcloud-partition.json'),
        'GetMetricWidgetImage is not available in partition aws-us-gov',
      ],
      [byHand, 'the composite alarm has no triggering children (state set by hand)'],
      [corpusAlarm('log-alarm.json'), 'nothing to draw'],
      [noMetricChildren, 'none of its triggering children is a metric alarm this account can read'],
    ] as const;
    for (const [alarm, reason] of cases) {
      const info: Record<string, unknown>[] = [];
      const images = await graphs({
        homeAccountId: alarm.accountId,
        log: { info: (_message, extra) => info.push(extra ?? {}), warn: () => undefined },
      }).imagesFor(alarm, Date.now() + 5000);
      expect(images).toEqual([]);
      expect(info).toEqual([{ alarmName: alarm.alarmName, reason }]);
    }
    // Only the composite whose children were looked up asked CloudWatch anything, and drew nothing.
    expect(standIn.requests.map((r) => r.operation)).toEqual(['DescribeAlarms']);
    expect(failures).toBe(0);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(listed.Contents ?? []).toEqual([]);
  });

  it('a signing key shorter than 32 characters gives no image, logged and counted', async () => {
    await secrets.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: 'short-key' }));
    const images = await graphs().imagesFor(example('metric-alarm.json'), Date.now() + 5000);
    expect(images).toEqual([]);
    expect(failures).toBe(1);
    expect(warnings[0]).toMatchObject({ step: 'sign' });
    expect(String(warnings[0]!.reason)).toContain('at least 32 characters');
  });

  it('a rotated signing key is picked up once the cached key is older than the cache period', async () => {
    let clock = Date.now();
    const keys = new ImageSigningKeys({ client: secrets, secretId, cacheMs: 60_000, now: () => clock });
    const first = await keys.all();
    expect(first).toHaveLength(1);
    await secrets.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: 'n'.repeat(64) }));
    clock += 59_000;
    expect(await keys.all()).toEqual(first);
    clock += 2_000;
    // Signs with the new key; still accepts the one before it for links in open incidents.
    expect(await keys.all()).toEqual(['n'.repeat(64), first[0]]);
    expect(await keys.current()).toBe('n'.repeat(64));
  });

  it("another account's alarm gets no graph unless cross-account observability is on, and is not a failure", async () => {
    const alarm = example('metric-alarm.json');
    const skipped = await graphs({ homeAccountId: '999999999999' }).imagesFor(alarm, Date.now() + 5000);
    expect(skipped).toEqual([]);
    expect(standIn.requests).toEqual([]);
    expect(failures).toBe(0);

    const drawn = await graphs({ homeAccountId: '999999999999', crossAccount: 'observability' }).imagesFor(
      alarm,
      Date.now() + 5000,
    );
    expect(drawn).toHaveLength(1);
    expect(JSON.stringify(standIn.widgets()[0])).toContain(`"accountId":"${alarm.accountId}"`);
  });

  it('the images are a valid part of a trigger PagerDuty accepts (the emulator checks the OpenAPI schema)', async () => {
    const emulator = await PagerDutyEmulator.start();
    const client = new PagerDutyClient({
      baseUrl: emulator.url,
      connectTimeoutMs: 1000,
      responseTimeoutMs: 2000,
      retryBaseDelayMs: 10,
      retryMaxDelayMs: 50,
      rateLimitPerMinute: 0,
    });
    try {
      const images = await graphs().imagesFor(example('metric-alarm.json'), Date.now() + 5000);
      await client.sendAlert(
        'R0123456789abcdef0123456789abcde',
        {
          event_action: 'trigger',
          dedup_key: 'graph-test',
          payload: { summary: 'graph test', source: 'test', severity: 'critical' },
          images,
        },
        Date.now() + 5000,
      );
      expect(emulator.accepted.at(-1)?.images).toEqual(images);
    } finally {
      await client.close();
      await emulator.stop();
    }
  });

  it('end to end: the handler with METRIC_GRAPHS=on pages a metric alarm with its graph; the link works 7 days, then not', async () => {
    const emulator = await PagerDutyEmulator.start();
    const endpointVariables = [
      'AWS_ENDPOINT_URL_CLOUDWATCH',
      'AWS_ENDPOINT_URL_S3',
      'AWS_ENDPOINT_URL_SECRETS_MANAGER',
    ];
    const saved = endpointVariables.map((name) => [name, process.env[name]] as const);
    // The graphs' SDK clients read their endpoints from the process environment (the handler passes its own env
    // only to the clients it builds itself): CloudWatch is the stand-in, S3 and Secrets Manager the test's stores.
    process.env.AWS_ENDPOINT_URL_CLOUDWATCH = standIn.url;
    process.env.AWS_ENDPOINT_URL_S3 = backend.s3Endpoint;
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = backend.stores.secretsEndpoint;
    try {
      const pipeline = await startPipeline({
        stores: backend.stores,
        pagerDutyUrl: emulator.url,
        routingKeys: { default: newRoutingKey() },
        env: {
          METRIC_GRAPHS: 'on',
          IMAGE_BUCKET: bucket,
          IMAGE_URL_BASE: URL_BASE,
          IMAGE_TOKEN_SECRET_ID: secretId,
          IMAGE_HOME_ACCOUNT_ID: '123456789012',
        },
      });
      const pagedAt = Date.now();
      const out = captureStdout();
      try {
        await pipeline.handler(
          snsEvent([metricAlarmMessage({ state: 'ALARM', stateChangeMs: pagedAt - 1000 })]),
          lambdaContext(),
        );
        await pipeline.handler(
          snsEvent([metricAlarmMessage({ state: 'OK', stateChangeMs: pagedAt })]),
          lambdaContext(),
        );
      } finally {
        out.restore();
      }
      const [trigger, resolve] = emulator.accepted as unknown as [
        { images?: PagerDutyImage[] },
        { images?: unknown },
      ];
      expect(trigger.images).toEqual([
        expect.objectContaining({ src: expect.stringMatching(new RegExp(`^${URL_BASE}/v1/`)) }),
      ]);
      expect(resolve.images).toBeUndefined();
      expect(standIn.widgets()).toEqual([expect.objectContaining({ region: 'us-east-1' })]);
      expect(metricTotal(out.lines(), 'ImageFailures')).toBe(0);

      const src = trigger.images![0]!.src;
      const at = (days: number) => endpoint(() => pagedAt + days * DAY_MS)(urlEvent(src));
      expect(await at(7)).toMatchObject({ statusCode: 200, isBase64Encoded: true });
      expect(await at(15)).toMatchObject({ statusCode: 403 });
      expect(await endpoint(() => pagedAt)(urlEvent(src.replace(/\?.*$/, '')))).toMatchObject({
        statusCode: 403,
      });
    } finally {
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      await emulator.stop();
    }
  });
});
