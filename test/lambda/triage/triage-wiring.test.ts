// The handler as deployed wires triage from its environment alone: off (and not loaded) without TRIAGE_MODEL_ID;
// with it, the triage code is imported and asks the endpoint in AWS_ENDPOINT_URL_BEDROCK_RUNTIME over HTTP/2.
import { metricAlarmMessage, snsEvent } from '../../../local/alarm-fixtures';
import { converseAnswers, startBedrockEmulator, type BedrockEmulator } from '../../../local/bedrock-emulator';
import type { AlarmNotification } from '../../../lambda/messages/notification';
import { parseNotification } from '../../../lambda/messages/parse-notification';
import { PROMPT_LIMITS, userMessage } from '../../../lambda/triage/prompt';
import { inProcessDeps, TEST_ENV } from '../../support/in-process';
import { captureStdout, metricTotal } from '../../support/output';

const NOW = Date.UTC(2026, 10, 29, 12);
const T0 = NOW - 3_600_000;
const MODEL = 'amazon.nova-micro-v1:0';

let emulator: BedrockEmulator;
beforeAll(async () => {
  emulator = await startBedrockEmulator();
  process.env.AWS_ACCESS_KEY_ID ??= 'testing';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';
});
afterAll(async () => emulator.close());
let output: ReturnType<typeof captureStdout>;
beforeEach(() => {
  emulator.reset();
  output = captureStdout();
});
afterEach(() => output.restore());

/** A handler built from `env` in a fresh module registry, telling whether the triage code was loaded. */
async function isolatedHandler(env: Record<string, string>) {
  const loaded: string[] = [];
  let handlerModule: typeof import('../../../lambda/handler') | undefined;
  jest.isolateModules(() => {
    jest.doMock('../../../lambda/triage/bedrock-triage', () => {
      loaded.push('bedrock-triage');
      return jest.requireActual('../../../lambda/triage/bedrock-triage');
    });
    handlerModule = jest.requireActual('../../../lambda/handler');
  });
  const pipeline = inProcessDeps(env, NOW);
  const { ledger, routingKeys, declared, now } = pipeline.deps;
  const { pagerDuty } = pipeline;
  // Everything but triage from the in-process pipeline: triage is what the environment wires.
  const handler = handlerModule!.createHandler(
    { ...TEST_ENV, ...env },
    { deps: { ledger, pagerDuty, routingKeys, declared, now, logger: pipeline.logger } },
  );
  const notify = () =>
    handler(
      snsEvent([metricAlarmMessage({ state: 'ALARM', stateChangeMs: T0 })], {
        timestamp: new Date(T0 + 500).toISOString(),
      }),
    );
  return { notify, loaded, pagerDuty, logger: pipeline.logger };
}

test('off by default: no triage module loaded, no Bedrock request, the event as before', async () => {
  const { notify, loaded, pagerDuty } = await isolatedHandler({
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulator.url,
  });
  await notify();
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(loaded).toEqual([]);
  expect(emulator.requests).toEqual([]);
  expect(pagerDuty.landed[0]!.event.payload!.custom_details).not.toHaveProperty('triage');
  expect(metricTotal(output.lines(), 'TriageCalls')).toBe(0);
});

test('TRIAGE_MODEL_ID set: the triage code is imported and the SDK asks the configured endpoint over HTTP/2', async () => {
  emulator.scriptNext(
    converseAnswers.toolUse({ severity: 'error', confidence: 0.9, note: 'Look at the DB.' }),
  );
  const { notify, loaded, pagerDuty, logger } = await isolatedHandler({
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulator.url,
    TRIAGE_MODEL_ID: MODEL,
    TRIAGE_SEVERITY: 'apply',
  });
  await notify();
  expect(loaded).toEqual(['bedrock-triage']);
  expect(emulator.requests.map(({ protocol, modelId }) => ({ protocol, modelId }))).toEqual([
    { protocol: 'h2', modelId: MODEL },
  ]);
  expect(pagerDuty.landed[0]!.event.payload).toMatchObject({
    severity: 'error',
    custom_details: { triage: { severity: 'error', confidence: 0.9, note: 'Look at the DB.', model: MODEL } },
  });
  expect(metricTotal(output.lines(), 'TriageCalls')).toBe(1);
  expect(metricTotal(output.lines(), 'TriageApplied')).toBe(1);
  expect(metricTotal(output.lines(), 'TriageTokens')).toBeGreaterThan(0);
  expect(logger.lines).toContainEqual(
    expect.objectContaining({
      message: 'Triage: the model answered',
      extra: expect.objectContaining({ inputTokens: expect.any(Number), outputTokens: expect.any(Number) }),
    }),
  );
});

test('the prompt is bounded whatever the publisher wrote', () => {
  const huge = 'x'.repeat(200_000);
  const message = metricAlarmMessage({ state: 'ALARM', stateChangeMs: T0, alarmName: huge, reason: huge });
  message.AlarmDescription = huge;
  const alarm = parseNotification({
    messageId: 'm',
    topicArn: 'arn:aws:sns:us-east-1:123456789012:t',
    timestamp: new Date(T0).toISOString(),
    message: JSON.stringify(message),
  }) as AlarmNotification;
  expect(alarm.type).toBe('alarm');
  const openAlarms = Array.from({ length: 500 }, (_, i) => ({
    dedupKey: `k${i}`,
    alarmName: huge,
    stateChangeMs: T0 - i,
  }));
  const text = userMessage({ alarm, openAlarms }).content![0]!.text!;
  expect(text.length).toBeLessThanOrEqual(PROMPT_LIMITS.total);
  expect(text).toContain('"otherOpenAlarmsTotal": 500');
});
