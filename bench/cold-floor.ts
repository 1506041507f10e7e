// The protocol floor as a function of its own: one secret read (cached, as the pipeline caches it), the ledger's
// claim UpdateItem, one POST, the settle UpdateItem, through the same Ledger and PagerDutyClient code (so the
// DynamoDB and Secrets Manager clients, lib-dynamodb and Node's http pool), and nothing else. Bundled like the
// handler (lib/private/handler-bundle.ts); the cold path invokes it once in a fresh process, the warm path many
// times in one process beside the pipeline.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Ledger } from '../lambda/pipeline/ledger';
import { PagerDutyClient } from '../lambda/pagerduty/client';
import type { PagerDutyAlertEvent } from '../lambda/pagerduty/types';

export interface FloorEvent {
  readonly dedupKey: string;
  readonly stateChangeMs: number;
  readonly alertEvent: PagerDutyAlertEvent;
  /** The trigger event as the ledger stores it (the claim's item is as large as the pipeline's). */
  readonly storedTrigger: string;
}

const env = process.env;
const ledger = new Ledger({
  tableName: env.LEDGER_TABLE_NAME ?? '',
  ttlSeconds: 90 * 86400,
  client: new DynamoDBClient({
    region: env.AWS_REGION,
    endpoint: env.AWS_ENDPOINT_URL_DYNAMODB,
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 500, requestTimeout: 1500 },
  }),
});
const secrets = new SecretsManagerClient({
  region: env.AWS_REGION,
  endpoint: env.AWS_ENDPOINT_URL_SECRETS_MANAGER,
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 },
});
const pagerDuty = new PagerDutyClient({
  baseUrl: env.PAGERDUTY_EVENTS_URL ?? '',
  connectTimeoutMs: 3000,
  responseTimeoutMs: 10_000,
  retryBaseDelayMs: 200,
  retryMaxDelayMs: 8000,
  rateLimitPerMinute: 0,
});
let routingKey: Promise<string> | undefined;

export async function handler(event: FloorEvent): Promise<void> {
  const { dedupKey, stateChangeMs } = event;
  routingKey ??= secrets
    .send(
      new GetSecretValueCommand({
        SecretId: (JSON.parse(env.ROUTING_KEY_SECRETS ?? '{}') as Record<string, string>).default,
      }),
    )
    .then((secret) => secret.SecretString ?? '');
  const key = await routingKey;
  await ledger.claim(
    {
      dedupKey,
      stateChangeMs,
      stateChangeTime: '2026-11-23T06:00:00.000+0000',
      action: 'trigger',
      route: 'default',
      alarmName: 'cold-floor',
      triggerEvent: event.storedTrigger,
      futureLimitMs: Date.now() + 60_000,
    },
    Date.now(),
    Date.now() + 35_000,
  );
  await pagerDuty.sendAlert(key, { ...event.alertEvent, dedup_key: dedupKey }, Date.now() + 30_000);
  await ledger.settle(dedupKey, { stateChangeMs, action: 'trigger' }, Date.now());
}
