import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context, SNSEvent, SNSEventRecord } from 'aws-lambda';
import { parseDeclaredSettings } from './alarm-settings';
import { loadConfig, type Config } from './config';
import { Ledger } from './ledger';
import type { SnsEnvelope } from './notification';
import { describeFailure, PagerDutyClient } from './pagerduty-client';
import { processRecord, type PipelineDeps, type RecordOutcome } from './process-record';
import { RoutingKeys } from './routing-keys';
import { logger, powertoolsTelemetry, publishMetrics } from './telemetry';

/** Used when there is no Lambda context (local runs, tools): the budget an invocation gets to deliver. */
const DEFAULT_BUDGET_MS = 60_000;

/** One or more records could not be delivered; Lambda retries the event, then keeps it in the DLQ. */
export class RecordsFailedError extends Error {
  override readonly name = 'RecordsFailedError';
}

export type SnsHandler = (event: SNSEvent, context?: Partial<Context>) => Promise<RecordOutcome[]>;

/** Builds a handler and its clients from an environment; the exported `handler` uses `process.env`. */
export function createHandler(env: NodeJS.ProcessEnv = process.env): SnsHandler {
  const config = loadConfig(env);
  const deps = createDeps(config, env);
  return async (event, context) => {
    if (context?.awsRequestId) logger.addContext(context as Context);
    const remaining = context?.getRemainingTimeInMillis?.() ?? DEFAULT_BUDGET_MS;
    const deadline = Date.now() + remaining - config.timeBudgetMarginMs;
    try {
      const records = event?.Records ?? [];
      const results = await Promise.allSettled(
        records.map((record) => processRecord(envelopeOf(record), deps, deadline)),
      );
      const failures = results.flatMap((result, index) =>
        result.status === 'rejected' ? [{ index, error: result.reason as unknown }] : [],
      );
      if (failures.length > 0) {
        const first = failures[0]!.error;
        throw new RecordsFailedError(
          `${failures.length} of ${records.length} record(s) not delivered: ` +
            failures.map(({ index, error }) => `record ${index}: ${messageOf(error)}`).join(' | '),
          { cause: first },
        );
      }
      return results.map((result) => (result as PromiseFulfilledResult<RecordOutcome>).value);
    } finally {
      publishMetrics();
    }
  };
}

function createDeps(config: Config, env: NodeJS.ProcessEnv): PipelineDeps {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  // Short timeouts: a stuck DynamoDB must not eat the time paging needs (the claim fails open), and a settle after
  // the send must fit in TIME_BUDGET_MARGIN_MS (worst case about 2 × 1.5 s plus one back-off).
  const dynamo = new DynamoDBClient({
    region,
    endpoint: env.AWS_ENDPOINT_URL_DYNAMODB ?? env.AWS_ENDPOINT_URL,
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 500, requestTimeout: 1500 },
  });
  const secrets = new SecretsManagerClient({
    region,
    endpoint: env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? env.AWS_ENDPOINT_URL,
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 },
  });
  const telemetry = powertoolsTelemetry();
  return {
    config,
    ledger: new Ledger({
      tableName: config.ledgerTableName,
      ttlSeconds: config.ledgerTtlSeconds,
      client: dynamo,
    }),
    pagerDuty: new PagerDutyClient({
      baseUrl: config.pagerDutyEventsUrl,
      connectTimeoutMs: config.httpConnectTimeoutMs,
      responseTimeoutMs: config.httpResponseTimeoutMs,
      retryBaseDelayMs: config.retryBaseDelayMs,
      retryMaxDelayMs: config.retryMaxDelayMs,
      rateLimitPerMinute: config.rateLimitPerMinute,
      onRetry: (failure, attempt, delayMs) =>
        logger.warn('PagerDuty attempt failed; retrying', {
          attempt,
          delayMs,
          failure: describeFailure(failure),
        }),
    }),
    routingKeys: new RoutingKeys({
      client: secrets,
      secretIds: config.routingKeySecrets,
      cacheMs: config.secretsCacheMs,
      onStaleKeyUsed: (route, error) => {
        telemetry.count('StaleRoutingKeyUsed');
        logger.warn('Secrets Manager unavailable; using the cached integration key', {
          route,
          error: messageOf(error),
        });
      },
    }),
    declared: parseDeclaredSettings(env.ALARM_SETTINGS, (problem) => {
      // One bad declaration must not stop paging for every alarm: its alarms fall back to tags and defaults.
      telemetry.count('TagProblems');
      logger.warn('Ignored a bad ALARM_SETTINGS declaration', { problem });
    }),
    telemetry,
    logger,
    now: Date.now,
  };
}

function envelopeOf(record: SNSEventRecord): SnsEnvelope {
  const sns = record?.Sns ?? ({} as Partial<SNSEventRecord['Sns']>);
  return {
    messageId: sns.MessageId ?? 'unknown',
    topicArn: sns.TopicArn ?? 'unknown',
    subject: sns.Subject ?? undefined,
    timestamp: sns.Timestamp ?? new Date(0).toISOString(),
    message: typeof sns.Message === 'string' ? sns.Message : JSON.stringify(sns.Message ?? ''),
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

let lazyHandler: SnsHandler | undefined;

/** The Lambda entry point for SNS events. */
export async function handler(event: SNSEvent, context?: Context): Promise<RecordOutcome[]> {
  lazyHandler ??= createHandler(process.env);
  return lazyHandler(event, context);
}
