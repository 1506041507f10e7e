// The protocol floor as a function of its own, for the cold path: the ledger's claim UpdateItem, one POST, the settle
// UpdateItem, through the same Ledger and PagerDutyClient code (so the DynamoDB client, lib-dynamodb and the undici
// agent), and nothing else. Bundled like the handler (lib/private/handler-bundle.ts) and invoked once in a fresh process.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Ledger } from '../lambda/pipeline/ledger';
import { PagerDutyClient } from '../lambda/pagerduty/client';
import type { PagerDutyAlertEvent } from '../lambda/pagerduty/types';

export interface FloorEvent {
  readonly dedupKey: string;
  readonly stateChangeMs: number;
  readonly routingKey: string;
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
const pagerDuty = new PagerDutyClient({
  baseUrl: env.PAGERDUTY_EVENTS_URL ?? '',
  connectTimeoutMs: 3000,
  responseTimeoutMs: 10_000,
  retryBaseDelayMs: 200,
  retryMaxDelayMs: 8000,
  rateLimitPerMinute: 0,
});

export async function handler(event: FloorEvent): Promise<void> {
  const { dedupKey, stateChangeMs } = event;
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
  await pagerDuty.sendAlert(
    event.routingKey,
    { ...event.alertEvent, dedup_key: dedupKey },
    Date.now() + 30_000,
  );
  await ledger.settle(dedupKey, { stateChangeMs, action: 'trigger' }, Date.now());
}
