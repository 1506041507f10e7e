// Integration keys per route from Secrets Manager (the loopback stand-in, through the real SDK client): a bad value
// written over a working key must not stop paging, and a route or key that cannot work says what to fix.
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { RoutingKeys } from '../../../lambda/pagerduty/routing-keys';
import { LocalSecretsStore } from '../../../local/secrets-store';

const GOOD = 'R0123456789abcdef0123456789abcde';
let store: LocalSecretsStore;
let client: SecretsManagerClient;

beforeAll(async () => {
  store = await LocalSecretsStore.start({});
  client = new SecretsManagerClient({
    region: 'us-east-1',
    endpoint: store.url,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  client.destroy();
  await store.stop();
});

function keys(secretIds: Record<string, string>) {
  let clock = Date.UTC(2026, 10, 29, 12);
  const stale: [string, string][] = [];
  const routingKeys = new RoutingKeys({
    client,
    secretIds,
    cacheMs: 60_000,
    now: () => clock,
    onStaleKeyUsed: (route, error) =>
      stale.push([route, error instanceof Error ? error.message : String(error)]),
  });
  return { routingKeys, stale, advance: (ms: number) => void (clock += ms) };
}

it('a bad value written over a working key: the cached key keeps paging, and the stale use is reported', async () => {
  store.put('pd/default-1', `${GOOD}\n`);
  const { routingKeys, stale, advance } = keys({ default: 'pd/default-1' });
  expect(await routingKeys.keyFor('default')).toBe(GOOD);
  store.put('pd/default-1', 'paste the key here');
  advance(60_001);
  expect(await routingKeys.keyFor('default')).toBe(GOOD);
  expect(stale).toEqual([['default', 'secret "pd/default-1" no longer holds a valid key']]);
  // Fixed by a person: the next read after the cache period takes the new key.
  const next = 'N0123456789abcdef0123456789abcde';
  store.put('pd/default-1', next);
  advance(60_001);
  expect(await routingKeys.keyFor('default')).toBe(next);
});

it('a secret that never held a key fails for good (not retried), saying what to put there', async () => {
  store.put('pd/default-2', 'not-a-key');
  const { routingKeys } = keys({ default: 'pd/default-2' });
  await expect(routingKeys.keyFor('default')).rejects.toMatchObject({
    name: 'RoutingKeyInvalidError',
    retryable: false,
    message: expect.stringContaining('expected 32 letters or digits, found 9 characters') as string,
  });
});

it('a missing secret is retried by Lambda; a route without a secret names the routes there are', async () => {
  const { routingKeys } = keys({ default: 'pd/missing', payments: 'pd/missing-too' });
  await expect(routingKeys.keyFor('default')).rejects.toMatchObject({
    name: 'RoutingKeyUnavailableError',
    retryable: true,
    message: expect.stringContaining('ResourceNotFoundException') as string,
  });
  await expect(routingKeys.keyFor('retired')).rejects.toMatchObject({
    name: 'RoutingKeyInvalidError',
    message: 'No secret is configured for route "retired" (ROUTING_KEY_SECRETS has: default, payments).',
  });
});
