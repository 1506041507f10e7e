import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { lambdaContext, metricAlarmMessage, snsEvent } from '../../local/alarm-fixtures';
import {
  newRoutingKey,
  startPipeline,
  type LocalPipeline,
  type PipelineStores,
  localStores,
} from '../../local/harness';
import { PagerDutyEmulator } from '../../local/pagerduty-emulator';
import { LocalSecretsStore } from '../../local/secrets-store';
import { captureStdout, metricTotal } from '../support/output';
import { startStores, type TestStores } from '../support/stores';

const T0 = Date.parse('2026-11-23T05:00:00.000Z');
const dedupKeyOf = (name: string) => `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`;
const alarm = (name: string, state: 'ALARM' | 'OK' = 'ALARM', offset = 0, tags?: Record<string, string>) =>
  metricAlarmMessage({ alarmName: name, state, stateChangeMs: T0 + offset, tags });

/** A DynamoDB endpoint that always answers "throttled", as DynamoDB does under a hot partition. */
async function throttlingDynamo(): Promise<{
  endpoint: string;
  requests: () => number;
  stop(): Promise<void>;
}> {
  let count = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      count++;
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(
        JSON.stringify({
          __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
          message: 'The level of configured provisioned throughput for the table was exceeded.',
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests: () => count,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Forwards DynamoDB calls to the store, but answers the first `failures` settles (delivered = true) with a 500. */
async function failingSettles(
  upstream: string,
  failures: number,
): Promise<{ endpoint: string; failed: () => number; stop(): Promise<void> }> {
  let failed = 0;
  const target = new URL(upstream);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (failed < failures && body.toString().includes('SET delivered = :true')) {
        failed++;
        res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
        return res.end(
          JSON.stringify({
            __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
            message: 'injected',
          }),
        );
      }
      const forward = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (response) => {
          res.writeHead(response.statusCode ?? 502, response.headers);
          response.pipe(res);
        },
      );
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    failed: () => failed,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// Against moto_server (CI), or dynalite and the loopback secrets store where moto is not installed.
describe('delivery under faults (DynamoDB, Secrets Manager and the PagerDuty emulator)', () => {
  let backend: TestStores;
  let emulator: PagerDutyEmulator;
  let secrets: LocalSecretsStore;
  let output: ReturnType<typeof captureStdout>;
  const keys: string[] = [];

  const pipelineWith = async (
    env: Record<string, string> = {},
    routes: Record<string, string> = {},
    over: Partial<PipelineStores> = {},
  ): Promise<LocalPipeline> => {
    const routingKeys = { default: newRoutingKey(), ...routes };
    keys.push(...Object.values(routingKeys));
    return startPipeline({
      stores: { ...backend.stores, ...over },
      pagerDutyUrl: emulator.url,
      routingKeys,
      env: { RETRY_BASE_DELAY_MS: '10', RETRY_MAX_DELAY_MS: '100', TIME_BUDGET_MARGIN_MS: '100', ...env },
    });
  };

  beforeAll(async () => {
    backend = await startStores();
    emulator = await PagerDutyEmulator.start();
  });
  afterAll(async () => {
    await emulator?.stop();
    await backend?.stop();
  });
  beforeEach(() => {
    emulator.reset();
    output = captureStdout();
  });
  afterEach(() => {
    output.restore();
    // No integration key in any log line, error text or metric, whatever path the test took.
    for (const key of keys) expect(output.text()).not.toContain(key);
  });

  const errorOf = async (promise: Promise<unknown>): Promise<Error> => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    for (const key of keys) expect(String((error as Error).message)).not.toContain(key);
    return error as Error;
  };

  it('429: a fresh notification goes to the retry queue at once; from there, 429s are retried until ingested once', async () => {
    const pipeline = await pipelineWith();
    emulator.failNext(4, { status: 429 });
    const event = snsEvent([alarm('throttled')]);
    const error = await errorOf(pipeline.handler(event, lambdaContext()));
    expect(error).toMatchObject({
      retryable: true,
      message: expect.stringMatching(/PagerDutyThrottledError/),
    });
    expect(emulator.requests.map((r) => r.status)).toEqual([429]);
    // What the on-failure destination writes to the retry queue, read back by the event source mapping.
    const letter = {
      messageId: 'letter-1',
      receiptHandle: 'rh-1',
      body: JSON.stringify({
        requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 1 },
        requestPayload: event,
        responsePayload: { errorType: 'RecordsFailedError', errorMessage: error.message },
      }),
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()) },
      messageAttributes: {},
      eventSource: 'aws:sqs',
    };
    expect(await pipeline.handler({ Records: [letter] }, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(emulator.requests.map((r) => r.status)).toEqual([429, 429, 429, 429, 202]);
    expect(emulator.accepted).toHaveLength(1);
    expect(metricTotal(output.lines(), 'DeliveryRetries')).toBe(3);
    expect(emulator.openIncidents({ dedupKey: dedupKeyOf('throttled') })).toHaveLength(1);
  });

  it('5xx forever: retries only within the time budget, throws a typed error, and Lambda’s retry delivers', async () => {
    // A 2 s margin: what the handler does after its last attempt (two ledger calls) fits in it on a loaded
    // machine, as the default 5 s does in Lambda.
    const pipeline = await pipelineWith({ TIME_BUDGET_MARGIN_MS: '2000' });
    emulator.failAlways({ status: 503 });
    const event = snsEvent([alarm('pd-down')]);
    const started = Date.now();
    const error = await errorOf(pipeline.handler(event, lambdaContext(6000)));
    const elapsed = Date.now() - started;
    expect(error.message).toMatch(/DeliveryBudgetExhaustedError.*HTTP 503/s);
    // It stopped before the invocation's time ran out (budget 6 s, safety margin 2 s).
    expect(elapsed).toBeLessThan(6000);
    expect(emulator.requests.length).toBeGreaterThan(2);
    expect(metricTotal(output.lines(), 'DeliveryFailures')).toBe(1);
    // Nothing half-recorded: the claim is there but not delivered, so the retry is not skipped.
    expect(await pipeline.readLedger(dedupKeyOf('pd-down'))).toMatchObject({ delivered: false });
    emulator.clearFaults();
    await pipeline.handler(event, lambdaContext());
    expect(emulator.accepted).toHaveLength(1);
    expect(await pipeline.readLedger(dedupKeyOf('pd-down'))).toMatchObject({ delivered: true });
  });

  it('a response that never comes: each attempt times out, then the handler gives up in time', async () => {
    const pipeline = await pipelineWith({ HTTP_RESPONSE_TIMEOUT_MS: '500', TIME_BUDGET_MARGIN_MS: '2000' });
    emulator.failAlways('hang');
    const started = Date.now();
    const error = await errorOf(pipeline.handler(snsEvent([alarm('pd-hangs')]), lambdaContext(6000)));
    expect(error.message).toMatch(/timeout/i);
    expect(Date.now() - started).toBeLessThan(6000);
    expect(emulator.requests.length).toBeGreaterThanOrEqual(2);
    emulator.clearFaults();
  });

  it('a reset connection is retried and the event still goes through', async () => {
    const pipeline = await pipelineWith();
    emulator.failNext(2, 'reset');
    await pipeline.handler(snsEvent([alarm('pd-resets')]), lambdaContext());
    expect(emulator.accepted).toHaveLength(1);
    expect(metricTotal(output.lines(), 'DeliveryRetries')).toBe(2);
  });

  it('400: no retry inside the invocation; the error carries PagerDuty’s reason', async () => {
    const pipeline = await pipelineWith();
    emulator.failNext(1, { status: 400 });
    const error = await errorOf(pipeline.handler(snsEvent([alarm('pd-rejects')]), lambdaContext()));
    expect(error.message).toMatch(
      /PagerDutyRejectedError: PagerDuty rejected the event with HTTP 400: .*invalid/i,
    );
    expect(emulator.requests).toHaveLength(1);
  });

  it('DynamoDB throttled: the page still goes out, with a metric and a warning', async () => {
    const dynamo = await throttlingDynamo();
    try {
      const pipeline = await pipelineWith({ AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint });
      await pipeline.handler(snsEvent([alarm('ddb-throttled')]), lambdaContext());
      expect(dynamo.requests()).toBeGreaterThan(0);
      expect(emulator.openIncidents({ dedupKey: dedupKeyOf('ddb-throttled') })).toHaveLength(1);
      expect(metricTotal(output.lines(), 'LedgerUnavailable')).toBe(1);
      expect(output.lines()).toContainEqual(
        expect.objectContaining({
          level: 'WARN',
          error: expect.stringMatching(/ProvisionedThroughputExceeded/),
        }),
      );
    } finally {
      await dynamo.stop();
    }
  });

  it('a settle that fails after the send throws, and Lambda’s retry sends again and settles', async () => {
    // Two failures: the SDK's own retry (2 attempts) fails too.
    const proxy = await failingSettles(backend.stores.dynamoEndpoint, 2);
    try {
      const pipeline = await pipelineWith({ AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint });
      const event = snsEvent([alarm('settle-fails')]);
      const error = await errorOf(pipeline.handler(event, lambdaContext()));
      expect(error.message).toMatch(
        /LedgerSettleError: Sent to PagerDuty, but the ledger could not record it/,
      );
      expect(proxy.failed()).toBe(2);
      expect(await pipeline.readLedger(dedupKeyOf('settle-fails'))).toMatchObject({ delivered: false });
      expect(metricTotal(output.lines(), 'LedgerUnavailable')).toBe(1);

      await pipeline.handler(event, lambdaContext());
      expect(await pipeline.readLedger(dedupKeyOf('settle-fails'))).toMatchObject({ delivered: true });
      // Sent twice, one incident: PagerDuty folds the repeat into the open alert.
      expect(emulator.accepted.filter((e) => e.dedup_key === dedupKeyOf('settle-fails'))).toHaveLength(2);
      expect(emulator.incidents({ dedupKey: dedupKeyOf('settle-fails') })).toHaveLength(1);
    } finally {
      await proxy.stop();
    }
  });

  it('Secrets Manager unreachable: throws without a key, keeps paging with a cached one', async () => {
    secrets = await LocalSecretsStore.start({});
    const over = {
      ...localStores(backend.stores.dynamoEndpoint, secrets),
      supportsTtl: backend.stores.supportsTtl,
    };
    // SECRETS_CACHE_SECONDS=0: every record tries a refresh, so the cached key is only a fallback.
    const pipeline = await pipelineWith({ SECRETS_CACHE_SECONDS: '0' }, {}, over);
    await pipeline.handler(snsEvent([alarm('secrets-a')]), lambdaContext());
    await secrets.stop();

    await pipeline.handler(snsEvent([alarm('secrets-b')]), lambdaContext());
    expect(emulator.openIncidents()).toHaveLength(2);
    expect(metricTotal(output.lines(), 'StaleRoutingKeyUsed')).toBe(1);

    const coldContainer = pipeline.newHandler();
    const error = await errorOf(coldContainer(snsEvent([alarm('secrets-c')]), lambdaContext()));
    expect(error.message).toMatch(
      /RoutingKeyUnavailableError: Could not read the integration key for route "default"/,
    );
    expect(emulator.openIncidents()).toHaveLength(2);
  });

  it('a key rotated in Secrets Manager is used once the cache expires, without a redeploy', async () => {
    secrets = await LocalSecretsStore.start({});
    const over = {
      ...localStores(backend.stores.dynamoEndpoint, secrets),
      supportsTtl: backend.stores.supportsTtl,
    };
    // A 6 s cache: long enough that the second delivery falls within it on a loaded machine.
    const pipeline = await pipelineWith({ SECRETS_CACHE_SECONDS: '6' }, {}, over);
    await pipeline.handler(snsEvent([alarm('rotate-a')]), lambdaContext());
    const rotated = newRoutingKey();
    keys.push(rotated);
    secrets.put(pipeline.secretIds.default!, rotated);
    // Within the cache time the old key is still used; after it, the new one.
    await pipeline.handler(snsEvent([alarm('rotate-b')]), lambdaContext());
    await new Promise((resolve) => setTimeout(resolve, 6100));
    await pipeline.handler(snsEvent([alarm('rotate-c')]), lambdaContext());
    const keyOf = (name: string) => emulator.incidents({ dedupKey: dedupKeyOf(name) })[0]?.routingKey;
    expect(keyOf('rotate-a')).toBe(keyOf('rotate-b'));
    expect(keyOf('rotate-c')).toBe(rotated);
    expect(keyOf('rotate-a')).not.toBe(rotated);
    await secrets.stop();
  });

  it('UNRECOGNISED_MESSAGES=drop: nothing is sent, and the drop is logged and counted', async () => {
    const pipeline = await pipelineWith({ UNRECOGNISED_MESSAGES: 'drop' });
    const outcomes = await pipeline.handler(
      snsEvent(['just some text'], { subject: 'hello' }),
      lambdaContext(),
    );
    expect(outcomes).toEqual([expect.objectContaining({ outcome: 'skipped' })]);
    expect(emulator.requests).toHaveLength(0);
    expect(metricTotal(output.lines(), 'UnrecognisedDropped')).toBe(1);
    expect(output.lines()).toContainEqual(
      expect.objectContaining({ level: 'WARN', outcome: 'dropped', subject: 'hello' }),
    );
  });

  it('UNRECOGNISED_MESSAGES=drop still pages what an AWS service published (an AWS Backup failure)', async () => {
    const pipeline = await pipelineWith({ UNRECOGNISED_MESSAGES: 'drop' });
    const backupFailed =
      'An AWS Backup job failed. Resource ARN : arn:aws:ec2:us-west-1:123456789012:volume/vol-012f345df6789012e. BackupJob ID : 1b2345b2-f22c-4dab-5eb6-bbc7890ed123';
    const outcomes = await pipeline.handler(
      snsEvent([backupFailed], { subject: 'Notification from AWS Backup' }),
      lambdaContext(),
    );
    expect(outcomes).toEqual([expect.objectContaining({ outcome: 'sent', action: 'trigger' })]);
    expect(emulator.requests.map((r) => (r.body as { payload?: unknown }).payload)).toEqual([
      expect.objectContaining({
        summary: expect.stringMatching(
          /^AWS Backup: An AWS Backup job failed — volume\/vol-012f345df6789012e/,
        ),
        severity: 'error',
      }),
    ]);
    expect(metricTotal(output.lines(), 'UnrecognisedDropped')).toBe(0);
  });

  it('several records: one failure loses none of the others, and the retry pages nobody twice', async () => {
    secrets = await LocalSecretsStore.start({});
    const over = {
      ...localStores(backend.stores.dynamoEndpoint, secrets),
      supportsTtl: backend.stores.supportsTtl,
    };
    const goodKey = newRoutingKey();
    const pipeline = await pipelineWith({}, { payments: goodKey }, over);
    // The payments route's secret is broken: it does not hold a 32-character key.
    secrets.put(pipeline.secretIds.payments!, 'not-a-key');
    const event = snsEvent([
      alarm('multi-a'),
      alarm('multi-b', 'ALARM', 0, { 'pagerduty:route': 'payments' }),
      alarm('multi-c'),
    ]);
    const error = await errorOf(pipeline.handler(event, lambdaContext()));
    expect(error.message).toMatch(/1 of 3 record\(s\) not delivered: record 1: RoutingKeyInvalidError/);
    expect(emulator.accepted.map((e) => e.dedup_key).sort()).toEqual([
      dedupKeyOf('multi-a'),
      dedupKeyOf('multi-c'),
    ]);

    secrets.put(pipeline.secretIds.payments!, goodKey);
    await pipeline.handler(event, lambdaContext());
    expect(emulator.accepted.map((e) => e.dedup_key).sort()).toEqual(
      [dedupKeyOf('multi-a'), dedupKeyOf('multi-b'), dedupKeyOf('multi-c')].sort(),
    );
    expect(emulator.incidents({ dedupKey: dedupKeyOf('multi-b') })).toEqual([
      expect.objectContaining({ routingKey: goodKey, status: 'triggered' }),
    ]);
    expect(metricTotal(output.lines(), 'DuplicatesSkipped')).toBe(2);
    await secrets.stop();
  });
});
