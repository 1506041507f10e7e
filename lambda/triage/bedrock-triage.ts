import {
  BedrockRuntimeClient,
  ConverseCommand,
  type BedrockRuntimeClientConfig,
  type ConverseCommandOutput,
} from '@aws-sdk/client-bedrock-runtime';
import type { TriageConfig } from '../pipeline/config';
import { describeError } from '../shared/errors';
import type { Telemetry } from '../shared/telemetry';
import { readAnswer } from './answer';
import { MAX_ANSWER_TOKENS, systemPrompt, triageTool, userMessage, type OpenAlarm } from './prompt';
import { enrichEvent, readRecord, storedRecord, type TriageRecord } from './record';
import type { TriageRequest, TriageResult, TriageStep } from './types';

/** The other alarms with an incident open now in an account and region (`<accountId>:<region>`). */
export type OpenAlarmsReader = (openSource: string) => Promise<readonly OpenAlarm[]>;

export interface BedrockTriageOptions {
  readonly config: TriageConfig;
  readonly client: Pick<BedrockRuntimeClient, 'send'>;
  readonly telemetry: Pick<Telemetry, 'count'>;
  /** Absent: the model is told the other open alarms are unknown. */
  readonly openAlarms?: OpenAlarmsReader;
  /** Real time: the limit is on what the page waits, whatever clock the pipeline runs on. */
  readonly now?: () => number;
}

type Asked =
  | { readonly kind: 'answer'; readonly record: TriageRecord; readonly output: ConverseCommandOutput }
  | { readonly kind: 'no-answer'; readonly why: string; readonly output?: ConverseCommandOutput }
  | { readonly kind: 'failed'; readonly why: string }
  | { readonly kind: 'timeout' };

/**
 * The Bedrock client as the handler builds it: one attempt (a retry would only eat the time limit), the endpoint from
 * AWS_ENDPOINT_URL_BEDROCK_RUNTIME. The SDK's default handler (HTTP/2, a fresh session per call) is kept: a pooled
 * session can be dead after Lambda thaws a container, which would cost a whole time limit.
 */
export function bedrockClient(
  env: NodeJS.ProcessEnv,
  overrides: Partial<BedrockRuntimeClientConfig> = {},
): BedrockRuntimeClient {
  return new BedrockRuntimeClient({
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
    endpoint: env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME ?? env.AWS_ENDPOINT_URL,
    maxAttempts: 1,
    ...overrides,
  });
}

/** Model triage through Bedrock Runtime's Converse: an enrichment of a trigger, never a gate (design decision 16). */
export function createBedrockTriage(options: BedrockTriageOptions): TriageStep {
  return { enrich: (request) => enrich(options, request) };
}

async function enrich(options: BedrockTriageOptions, request: TriageRequest): Promise<TriageResult> {
  const { config, telemetry } = options;
  const { subject, log } = request;
  const how = { mode: config.mode, severityDeclared: subject.severityDeclared };
  // Never twice for one alarm change: a retry, a sweep re-page or a later trigger of the open incident reuses it.
  const earlier = request.previous?.action === 'trigger' ? readRecord(request.previous.triage) : undefined;
  if (earlier) {
    telemetry.count('TriageReused');
    const { event, applied } = enrichEvent(request.event, earlier, how);
    log.info('Triage: reusing the answer recorded for this incident', {
      triage: summaryOf(earlier, applied),
    });
    return { event };
  }

  const now = options.now ?? Date.now;
  const started = now();
  const limitMs = Math.min(config.timeoutMs, request.timeLeftMs);
  telemetry.count('TriageCalls');
  const asked =
    limitMs > 0 ? await withinLimit(limitMs, (signal) => ask(options, request, signal)) : undefined;
  const tookMs = now() - started;
  const usage = asked && 'output' in asked ? asked.output?.usage : undefined;
  if (usage?.totalTokens) telemetry.count('TriageTokens', usage.totalTokens);
  const tokens = { inputTokens: usage?.inputTokens, outputTokens: usage?.outputTokens };

  if (asked?.kind === 'answer') {
    const { event, applied } = enrichEvent(request.event, asked.record, how);
    if (applied) telemetry.count('TriageApplied');
    log.info('Triage: the model answered', { triage: summaryOf(asked.record, applied), tookMs, ...tokens });
    return { event, record: storedRecord(asked.record) };
  }
  const timedOut = asked === undefined || asked.kind === 'timeout';
  telemetry.count(timedOut ? 'TriageTimeouts' : 'TriageFailures');
  const why = timedOut ? `no answer within ${limitMs} ms` : asked.why;
  log.warn('Triage: paging without it', {
    triageOutcome: timedOut ? 'timeout' : 'failed',
    why,
    tookMs,
    ...tokens,
  });
  return { event: request.event, record: storedRecord({ model: config.modelId, none: why }) };
}

async function ask(
  options: BedrockTriageOptions,
  request: TriageRequest,
  signal: AbortSignal,
): Promise<Asked> {
  const { config } = options;
  const { alarm } = request.subject;
  let output: ConverseCommandOutput;
  try {
    const openAlarms = await readOpenAlarms(options, request);
    output = await options.client.send(
      new ConverseCommand({
        modelId: config.modelId,
        system: systemPrompt(config.noteMaxChars),
        messages: [userMessage({ alarm, previous: request.previous, openAlarms })],
        inferenceConfig: { maxTokens: MAX_ANSWER_TOKENS, temperature: 0 },
        toolConfig: triageTool(config.noteMaxChars),
      }),
      { abortSignal: signal },
    );
  } catch (error) {
    if (signal.aborted) return { kind: 'timeout' };
    return { kind: 'failed', why: describeError(error) };
  }
  const reading = readAnswer(output, config.noteMaxChars);
  return reading.ok
    ? { kind: 'answer', record: { model: config.modelId, ...reading.answer }, output }
    : { kind: 'no-answer', why: reading.why, output };
}

/** The other alarms open now, but not this one; undefined (the model is told "unknown") when they cannot be read. */
async function readOpenAlarms(
  options: BedrockTriageOptions,
  request: TriageRequest,
): Promise<readonly OpenAlarm[] | undefined> {
  const { alarm, dedupKey } = request.subject;
  if (!options.openAlarms || !alarm.regionCode) return undefined;
  try {
    const open = await options.openAlarms(`${alarm.accountId}:${alarm.regionCode}`);
    return open
      .filter((other) => other.dedupKey !== dedupKey)
      .sort((a, b) => b.stateChangeMs - a.stateChangeMs);
  } catch (error) {
    request.log.warn('Triage: the open alarms could not be read; asking without them', {
      error: describeError(error),
    });
    return undefined;
  }
}

/**
 * Runs `work` with a signal that aborts after `limitMs`, and stops waiting for it then, whatever it does with the
 * signal: undefined means the limit was reached.
 */
async function withinLimit<T>(
  limitMs: number,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T | undefined> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve(undefined);
    }, limitMs);
  });
  try {
    return await Promise.race([work(controller.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}

function summaryOf(record: TriageRecord, applied: boolean): Record<string, unknown> {
  return 'none' in record
    ? { none: record.none, model: record.model }
    : { severity: record.severity, confidence: record.confidence, applied, model: record.model };
}
