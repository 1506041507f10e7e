import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SQSClient as SqsClient } from '@aws-sdk/client-sqs';
import type { Context, EventBridgeEvent, SNSEvent, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseDeclaredSettings } from './pipeline/alarm-settings';
import { loadConfig, pagerDutyClientSettings, type Config, type TriageConfig } from './pipeline/config';
import { readLetter } from './pipeline/dead-letters';
import { describeError, isRetryable, MalformedEventError, RecordsFailedError } from './shared/errors';
import {
  classifyEvent,
  eventBridgeRecordInput,
  snsRecordInput,
  type RecordInputResult,
} from './pipeline/intake';
import { Ledger } from './pipeline/ledger';
import { lazyMetricGraphs, metricGraphsConfigFromEnv } from './graphs/graphs-config';
import { describeFailure, PagerDutyClient } from './pagerduty/client';
import { processRecord, type PipelineDeps, type RecordOutcome } from './pipeline/process-record';
import { RoutingKeys } from './pagerduty/routing-keys';
import { logger, powertoolsTelemetry, publishMetrics, type Telemetry } from './shared/telemetry';
import { lazyTriage } from './triage/lazy';
import { lazyImport } from './shared/lazy-import';
import type { TriageStep } from './triage/types';
import type { AlarmReader, SweepSummary } from './sweep';
import type { ReconcileSource } from './pipeline/config';

export { RecordsFailedError } from './shared/errors';
export type { RecordOutcome } from './pipeline/process-record';

// Each loaded at its first use (most functions see no schedule, letter or parked letter), then kept.
const loadSweep = lazyImport(() => import('./sweep'));
const loadBatch = lazyImport(() => import('@aws-lambda-powertools/batch'));
const loadSqs = lazyImport(() => import('@aws-sdk/client-sqs'));

/** Used when there is no Lambda context (local runs, tools): the budget an invocation gets to deliver. */
const DEFAULT_BUDGET_MS = 60_000;
/**
 * How long a dead letter's send retries a down PagerDuty (5xx, network) before the retry queue takes it back: it
 * failed before, and a consumer held for a whole timeout per letter could not retry every letter each 5 minutes.
 */
const LETTER_FAILURE_RETRY_MS = 10_000;
/** SQS caps a message attribute's value; a reason longer than this is cut. */
const MAX_PARK_REASON = 1000;

export type HandlerResult = RecordOutcome[] | SQSBatchResponse | SweepSummary;

/**
 * The function's entry, for every event it is wired to: SNS notifications (resolves with one outcome per record,
 * throws when any must be retried or cannot be delivered), SQS batches of dead letters from the retry queue
 * (answers `batchItemFailures` for the letters to retry later), and EventBridge alarm state changes.
 */
export interface PipelineHandler {
  (event: SNSEvent | EventBridgeEvent<string, unknown>, context?: Partial<Context>): Promise<RecordOutcome[]>;
  (event: SQSEvent, context?: Partial<Context>): Promise<SQSBatchResponse>;
  (event: unknown, context?: Partial<Context>): Promise<HandlerResult>;
}

/** The handler as the SNS-only tools of earlier versions typed it. */
export type SnsHandler = PipelineHandler;

/** Where letters that retrying cannot fix go, with their reason. */
export interface ParkingLot {
  park(body: string, reason: string): Promise<void>;
}

export interface HandlerOverrides {
  readonly deps?: Partial<PipelineDeps>;
  readonly parkingLot?: ParkingLot;
  /** Where the sweep reads alarms; the AWS SDK by default. */
  readonly readerFor?: (source: ReconcileSource) => AlarmReader;
}

/** Builds a handler and its clients from an environment; the exported `handler` uses `process.env`. */
export function createHandler(
  env: NodeJS.ProcessEnv = process.env,
  overrides: HandlerOverrides = {},
): PipelineHandler {
  const config = loadConfig(env);
  const deps: PipelineDeps = { ...createDeps(config, env), ...overrides.deps };
  const parkingLot = overrides.parkingLot ?? sqsParkingLot(config, env);
  const { fresh: freshDeps, letter: letterDeps } = deliveryDepsFor(deps);

  const runRecords = (
    items: readonly RecordInputResult[],
    deadline: number,
    letter: boolean,
  ): Promise<RecordOutcome[]> =>
    processRecords({ deps, freshDeps, letterDeps, refuse }, items, deadline, letter);

  // The sweep's code is loaded on its first schedule only: the alarm path never evaluates it.
  const runSweepEvent = async (deadline: number, context?: Partial<Context>): Promise<SweepSummary> => {
    const sweep = await loadSweep();
    const readerFor = overrides.readerFor ?? sweep.sdkReaderFor(env);
    return sweep.runScheduledSweep(sweep.sweepDeps(deps, readerFor), {
      deadline,
      ownSource: ownSourceOf(context?.invokedFunctionArn),
    });
  };

  const refuse = (why: string, logKeys: Record<string, unknown>): RecordOutcome =>
    refuseRecord(deps, why, logKeys);

  /** An SNS or EventBridge event, or the event a dead letter holds; `letter` forbids nesting batches. */
  const runEvent = async (
    event: unknown,
    deadline: number,
    letter: boolean,
    context?: Partial<Context>,
  ): Promise<HandlerResult> => {
    const intake = classifyEvent(event);
    switch (intake.kind) {
      case 'scheduled':
        if (!letter) return runSweepEvent(deadline, context);
        // A parked schedule is stale: the next schedule sweeps.
        return [];
      case 'alarm-deleted': {
        const sweep = await loadSweep();
        return sweep.resolveDeletedAlarm(intake.deleted, deps, deadline);
      }
      case 'refused':
        return [refuse(intake.why, { intake: 'eventbridge' })];
      case 'ignored':
        deps.logger.info('Nothing to do for this event', { why: intake.why });
        return [];
      case 'sns':
        return runRecords(
          await Promise.all(
            intake.records.map((record, index) => snsRecordInput(record, index, config.intakeTrust)),
          ),
          deadline,
          letter,
        );
      case 'eventbridge':
        return runRecords([eventBridgeRecordInput(intake.event, config.intakeTrust)], deadline, letter);
      case 'failure-record':
        if (!letter) return runEvent(intake.payload, deadline, true);
        break;
      case 'sqs':
        if (!letter) return runLetters(intake.records as SQSRecord[], deadline);
        break;
      case 'malformed':
        deps.telemetry.count('MalformedEvents');
        deps.logger.error('The function was invoked with an event it cannot read', {
          outcome: 'malformed',
          why: intake.why,
        });
        throw new MalformedEventError(`Cannot handle this event: ${intake.why}.`);
    }
    deps.telemetry.count('MalformedEvents');
    throw new MalformedEventError(
      `Cannot handle this event: a dead letter holds another batch of dead letters.`,
    );
  };

  const runLetters = (records: SQSRecord[], deadline: number): Promise<SQSBatchResponse> =>
    deliverLetters({ deps, config, parkingLot, runEvent }, records, deadline);

  const invoke = async (event: unknown, context?: Partial<Context>): Promise<HandlerResult> => {
    if (context?.awsRequestId) deps.logger.addContext(context as Context);
    const remaining = context?.getRemainingTimeInMillis?.() ?? DEFAULT_BUDGET_MS;
    const deadline = deps.now() + remaining - config.timeBudgetMarginMs;
    try {
      return await runEvent(event, deadline, false, context);
    } finally {
      publishMetrics();
    }
  };
  return invoke as PipelineHandler;
}

/** Each record of the event through the pipeline; one failed record fails the invocation, naming every failure. */
async function processRecords(
  {
    deps,
    freshDeps,
    letterDeps,
    refuse,
  }: {
    deps: PipelineDeps;
    freshDeps: PipelineDeps;
    letterDeps: PipelineDeps;
    refuse: (why: string, logKeys: Record<string, unknown>) => RecordOutcome;
  },
  items: readonly RecordInputResult[],
  deadline: number,
  letter: boolean,
): Promise<RecordOutcome[]> {
  const results = await Promise.allSettled(
    items.map(async (item) => {
      if (item.ok) return processRecord(item.input, letter ? letterDeps : freshDeps, deadline);
      if (item.refused) return refuse(item.why, item.refused.logKeys);
      deps.telemetry.count('MalformedEvents');
      deps.logger.error('A record of the event cannot be read', { outcome: 'malformed', why: item.why });
      throw new MalformedEventError(`${item.why}. Nothing was sent for it; fix the publisher.`);
    }),
  );
  const failures = results.flatMap((result, index) =>
    result.status === 'rejected' ? [{ index, error: result.reason as unknown }] : [],
  );
  if (failures.length > 0) {
    throw new RecordsFailedError(
      `${failures.length} of ${items.length} record(s) not delivered: ` +
        failures.map(({ index, error }) => `record ${index}: ${describeError(error)}`).join(' | '),
      failures.every(({ error }) => isRetryable(error)),
      { cause: failures[0]!.error },
    );
  }
  return results.map((result) => (result as PromiseFulfilledResult<RecordOutcome>).value);
}

// Retrying cannot make a forged claim true: refused for good, nothing written or sent, and said loudly.
function refuseRecord(deps: PipelineDeps, why: string, logKeys: Record<string, unknown>): RecordOutcome {
  deps.telemetry.count('ForeignAlarmsRefused');
  deps.logger.error('Refused a notification its intake may not carry: nothing was sent or recorded', {
    ...logKeys,
    outcome: 'refused',
    why,
  });
  return { outcome: 'skipped', reason: `refused: ${why}` };
}

/** The deps for a fresh notification and for a dead letter: they differ in how long a send may wait. */
function deliveryDepsFor(deps: PipelineDeps): { fresh: PipelineDeps; letter: PipelineDeps } {
  // A fresh notification does not wait for PagerDuty's rate limit: throttled, it goes to the retry queue at once,
  // whose few consumers wait for free slots. Every instance waiting held one instance per alarm of a storm for a
  // whole timeout, then left the event idle in Lambda's retry delays (test/lambda/handler.storm.simulation.test.ts).
  const freshDeps: PipelineDeps = {
    ...deps,
    pagerDuty: {
      sendAlert: (routingKey, event, deadline) =>
        deps.pagerDuty.sendAlert(routingKey, event, deadline, { waitForRateLimit: false }),
    },
  };
  const letterDeps: PipelineDeps = {
    ...deps,
    pagerDuty: {
      sendAlert: (routingKey, event, deadline) =>
        deps.pagerDuty.sendAlert(routingKey, event, deadline, { failureRetryMs: LETTER_FAILURE_RETRY_MS }),
    },
    // Nor does it wait longer than that for another delivery of its alert to end: the queue brings it back.
    maxLeaseWaitMs: LETTER_FAILURE_RETRY_MS,
  };
  return { fresh: freshDeps, letter: letterDeps };
}

/** What the dead-letter path needs from the handler: its deps, settings, parked queue and event runner. */
interface LetterContext {
  readonly deps: PipelineDeps;
  readonly config: Config;
  readonly parkingLot: ParkingLot | undefined;
  readonly runEvent: (event: unknown, deadline: number, letter: boolean) => Promise<unknown>;
}

async function deliverLetters(
  { deps, config, parkingLot, runEvent }: LetterContext,
  records: SQSRecord[],
  deadline: number,
): Promise<SQSBatchResponse> {
  const park = (record: SQSRecord, reason: string, log: Record<string, unknown>) =>
    parkLetter({ deps, parkingLot }, record, reason, log);
  const handleLetter = async (record: SQSRecord): Promise<void> => {
    const log = { letterId: record.messageId };
    const letter = readLetter(record.body);
    if (!letter.readable) {
      await park(record, `Unreadable letter: ${letter.why}`, log);
      return;
    }
    try {
      await runEvent(letter.event, deadline, true);
      deps.telemetry.count('DeadLettersDelivered');
      deps.logger.info('Delivered a dead letter from the retry queue', { ...log, letterKind: letter.kind });
    } catch (error) {
      const sentMs = Number(record.attributes?.SentTimestamp);
      const ageMs = Number.isFinite(sentMs) ? deps.now() - sentMs : 0;
      if (!isRetryable(error)) {
        await park(record, `Retrying cannot fix it: ${describeError(error)}`, log);
      } else if (ageMs > config.retryWindowMs) {
        await park(
          record,
          `Still failing after the retry window (RETRY_WINDOW_HOURS=${config.retryWindowMs / 3_600_000}): ` +
            describeError(error),
          log,
        );
      } else {
        deps.telemetry.count('DeadLettersRetried');
        deps.logger.warn('A dead letter is still undeliverable; the retry queue brings it back', {
          ...log,
          ageMs,
          error: describeError(error),
        });
        throw error;
      }
    }
  };
  // Never fail a whole batch for one letter: each answers for itself. Loaded here: most functions see no letter.
  const { BatchProcessor, EventType, processPartialResponse } = await loadBatch();
  return processPartialResponse({ Records: records }, handleLetter, new BatchProcessor(EventType.SQS), {
    throwOnFullBatchFailure: false,
  });
}

async function parkLetter(
  { deps, parkingLot }: Pick<LetterContext, 'deps' | 'parkingLot'>,
  record: SQSRecord,
  reason: string,
  log: Record<string, unknown>,
): Promise<void> {
  const cut = reason.length > MAX_PARK_REASON ? `${reason.slice(0, MAX_PARK_REASON)}…` : reason;
  if (!parkingLot) {
    deps.logger.error(
      'A dead letter cannot be delivered, and PARKED_QUEUE_URL is unset: the retry queue keeps it',
      {
        ...log,
        reason: cut,
      },
    );
    throw new MalformedEventError(
      `${cut} (PARKED_QUEUE_URL is unset, so the letter stays in the retry queue)`,
    );
  }
  await parkingLot.park(record.body, cut);
  deps.telemetry.count('DeadLettersParked');
  deps.logger.error('Parked a dead letter for a person: retrying cannot deliver it', {
    ...log,
    reason: cut,
  });
}

/** The function's own account and region, from its ARN (`arn:aws:lambda:<region>:<account>:function:…`). */
function ownSourceOf(functionArn: string | undefined): { accountId: string; region: string } | undefined {
  const match = /^arn:[^:]+:lambda:([^:]+):(\d{12}):/.exec(functionArn ?? '');
  return match ? { region: match[1]!, accountId: match[2]! } : undefined;
}

function sqsParkingLot(config: Config, env: NodeJS.ProcessEnv): ParkingLot | undefined {
  const queueUrl = config.parkedQueueUrl;
  if (queueUrl === undefined) return undefined;
  // The SQS client is loaded and made at the first letter parked: the alarm path never parks.
  let sqs: SqsClient | undefined;
  return {
    park: async (body, reason) => {
      const { SQSClient, SendMessageCommand } = await loadSqs();
      sqs ??= new SQSClient({
        region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
        endpoint: env.AWS_ENDPOINT_URL_SQS ?? env.AWS_ENDPOINT_URL,
        maxAttempts: 3,
      });
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: body,
          MessageAttributes: { reason: { DataType: 'String', StringValue: reason } },
        }),
      );
    },
  };
}

/** The DynamoDB and Secrets Manager clients, each with timeouts that leave the page its time. */
function awsClients(env: NodeJS.ProcessEnv): { dynamo: DynamoDBClient; secrets: SecretsManagerClient } {
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
  return { dynamo, secrets };
}

function createDeps(config: Config, env: NodeJS.ProcessEnv): PipelineDeps {
  const { dynamo, secrets } = awsClients(env);
  const telemetry = powertoolsTelemetry();
  const graphs = metricGraphsConfigFromEnv(env);
  const ledger = new Ledger({
    tableName: config.ledgerTableName,
    ttlSeconds: config.ledgerTtlSeconds,
    client: dynamo,
  });
  return {
    metricGraphs:
      graphs &&
      lazyMetricGraphs({
        ...graphs,
        log: {
          info: (message, extra = {}) => logger.info(message, extra),
          warn: (message, extra = {}) => logger.warn(message, extra),
        },
        count: (metric, value) => telemetry.count(metric, value),
      }),
    config,
    triage: config.triage && triageStep(config.triage, env, telemetry, ledger),
    leaseGraceMs: config.leaseGraceMs,
    ledger,
    pagerDuty: new PagerDutyClient({
      ...pagerDutyClientSettings(config),
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
          error: describeError(error),
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

/** Model triage, imported only when TRIAGE_MODEL_ID is set: the path without it loads nothing more. */
function triageStep(
  config: TriageConfig,
  env: NodeJS.ProcessEnv,
  telemetry: Telemetry,
  ledger: Pick<Ledger, 'openIncidents'>,
): TriageStep {
  return lazyTriage({
    timeoutMs: config.timeoutMs,
    count: (metric) => telemetry.count(metric),
    load: async () => {
      const { bedrockClient, createBedrockTriage } = await import('./triage/bedrock-triage');
      // The first page of the open-incidents index: enough for the prompt, which shows at most ten.
      const openAlarms = async (openSource: string) => (await ledger.openIncidents(openSource)).items;
      return createBedrockTriage({ config, client: bedrockClient(env), telemetry, openAlarms });
    },
  });
}

let lazyHandler: PipelineHandler | undefined;

/**
 * The Lambda entry point: SNS events, SQS batches of dead letters, EventBridge alarm state changes and alarm
 * deletions, and EventBridge's schedule (one reconciliation sweep, answering its summary).
 */
export async function handler(event: SNSEvent, context?: Context): Promise<RecordOutcome[]>;
export async function handler(event: SQSEvent, context?: Context): Promise<SQSBatchResponse>;
export async function handler(event: unknown, context?: Context): Promise<HandlerResult>;
export async function handler(event: unknown, context?: Context): Promise<HandlerResult> {
  lazyHandler ??= createHandler(process.env);
  return lazyHandler(event, context);
}
