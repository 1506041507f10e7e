import { REPO_ROOT } from '../support/paths';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { answers, awsEnvFor, describeWithMoto, startMoto, type MotoServer } from '../../local/moto';

// Drives moto-serialized.py's middleware with a WSGI app whose body is produced lazily and slowly, from 8 threads
// at once, and reports the peak number of requests in progress, with and without the middleware.
const PEAK_CONCURRENCY = `
import importlib.util, json, sys, threading, time
sys.dont_write_bytecode = True
spec = importlib.util.spec_from_file_location("moto_serialized", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
state = {"active": 0, "peak": 0}
guard = threading.Lock()
def app(environ, start_response):
    with guard:
        state["active"] += 1
        state["peak"] = max(state["peak"], state["active"])
    start_response("200 OK", [])
    def body():
        time.sleep(0.02)
        yield b"x"
        with guard:
            state["active"] -= 1
    return body()
def peak(wsgi):
    state["peak"] = 0
    threads = [threading.Thread(target=lambda: b"".join(wsgi({}, lambda *a: None))) for _ in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    return state["peak"]
print(json.dumps({"serialized": peak(module.Serialized(app)), "plain": peak(app)}))
`;

describeWithMoto('moto_server for integration tests', () => {
  let moto: MotoServer;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    moto = await startMoto();
    // The SDK picks region, credentials and endpoint up from the environment, as the handler does in tests.
    Object.assign(process.env, awsEnvFor(moto.endpoint));
  });
  afterAll(async () => {
    process.env = savedEnv;
    await moto?.stop();
  });

  it('gives the SDK fake credentials, one region and moto as the endpoint', () => {
    expect(awsEnvFor(moto.endpoint)).toEqual({
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_ENDPOINT_URL: moto.endpoint,
    });
    expect(moto.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('serializes requests: of 20 concurrent conditional writes to one item exactly one succeeds', async () => {
    const dynamo = new DynamoDBClient({ maxAttempts: 1 });
    const TableName = 'ledger-serialization';
    await dynamo.send(
      new CreateTableCommand({
        TableName,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const claim = (writer: number) =>
      dynamo.send(
        new UpdateItemCommand({
          TableName,
          Key: { pk: { S: 'alarm-1' } },
          UpdateExpression: 'SET v = :v, writer = :writer',
          ConditionExpression: 'attribute_not_exists(pk) OR v < :v',
          ExpressionAttributeValues: { ':v': { N: '1' }, ':writer': { N: String(writer) } },
        }),
      );

    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, writer) => claim(writer)));

    const winners = results.flatMap((r, writer) => (r.status === 'fulfilled' ? [writer] : []));
    const losers = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(19);
    losers.forEach((error) => expect(error).toBeInstanceOf(ConditionalCheckFailedException));
    const item = await dynamo.send(new GetItemCommand({ TableName, Key: { pk: { S: 'alarm-1' } } }));
    expect(item.Item).toEqual({ pk: { S: 'alarm-1' }, v: { N: '1' }, writer: { N: String(winners[0]) } });
    dynamo.destroy();
  });

  it('runs one request at a time, the production of its response body included', () => {
    const run = spawnSync(
      'python3',
      ['-c', PEAK_CONCURRENCY, join(REPO_ROOT, 'local', 'moto-serialized.py')],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(run.stderr).toBe('');
    const peaks = JSON.parse(run.stdout) as { serialized: number; plain: number };
    expect(peaks.serialized).toBe(1);
    expect(peaks.plain).toBeGreaterThan(1); // the same app without the middleware does overlap
  });

  it('stores and returns a secret through Secrets Manager', async () => {
    const secrets = new SecretsManagerClient({});
    const routingKey = 'a'.repeat(32);
    await secrets.send(new CreateSecretCommand({ Name: 'pagerduty/default', SecretString: routingKey }));
    const got = await secrets.send(new GetSecretValueCommand({ SecretId: 'pagerduty/default' }));
    expect(got.SecretString).toBe(routingKey);
    secrets.destroy();
  });

  it.each([true, false])(
    'stops the server (serialized: %s): its port no longer answers',
    async (serialized) => {
      const other = await startMoto({ serialized });
      expect(other.endpoint).not.toBe(moto.endpoint);
      expect(await answers(other.endpoint)).toBe(true);
      await other.stop();
      expect(await answers(other.endpoint)).toBe(false);
      expect(await answers(moto.endpoint)).toBe(true);
    },
  );
});
