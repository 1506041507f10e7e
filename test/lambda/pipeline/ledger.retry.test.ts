// A claim that DynamoDB applied but whose answer was lost: the SDK sends the same request again. That retry must
// find its own lease and be taken, not be refused as busy (which made the delivery wait on itself until its
// deadline, and the copy from the other intake with it).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDynalite } from '../../../local/dynalite';
import { createLedgerTable } from '../../../local/harness';
import { Ledger, type Claim } from '../../../lambda/pipeline/ledger';

const NOW = Date.UTC(2026, 10, 29, 12);

test('a claim applied but answered with a timeout is taken on the SDK retry', async () => {
  const server = await startDynalite();
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: server.endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 2,
  });
  let lost = 0;
  // After DynamoDB has applied the first UpdateItem, its answer is lost: a transient error the SDK retries.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === 'UpdateItemCommand' && lost++ === 0) {
        throw Object.assign(new Error('the answer was lost'), { name: 'TimeoutError', $retryable: {} });
      }
      return result;
    },
    { step: 'deserialize', name: 'loseFirstAnswer' },
  );
  try {
    await createLedgerTable(server.endpoint, 'retry-ledger', false);
    const ledger = new Ledger({ tableName: 'retry-ledger', ttlSeconds: 86400, client });
    const claim: Claim = {
      dedupKey: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:db-cpu',
      stateChangeMs: NOW - 60_000,
      stateChangeTime: '2026-11-29T11:59:00.000+0000',
      action: 'trigger',
      route: 'default',
      alarmName: 'db-cpu',
      futureLimitMs: NOW + 60_000,
    };
    const result = await ledger.claim(claim, NOW, NOW + 30_000);
    expect(lost).toBe(2);
    expect(result).toMatchObject({ claimed: true });
    expect(await ledger.read(claim.dedupKey)).toMatchObject({
      sendingUntilMs: NOW + 30_000,
      delivered: false,
    });
  } finally {
    client.destroy();
    await server.stop();
  }
});
