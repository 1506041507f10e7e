// Model triage through the real handler and the real Bedrock SDK against the local Converse emulator, over HTTP/2
// (the SDK's default) and HTTP/1.1. The ledger is the in-memory one and PagerDuty the scripted one (test/support).
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { metricAlarmMessage, snsEvent } from '../../../local/alarm-fixtures';
import {
  converseAnswers,
  startBedrockEmulator,
  type BedrockEmulator,
  type WireProtocol,
} from '../../../local/bedrock-emulator';
import { createHandler } from '../../../lambda/handler';
import { loadConfig } from '../../../lambda/pipeline/config';
import {
  bedrockClient,
  createBedrockTriage,
  type OpenAlarmsReader,
} from '../../../lambda/triage/bedrock-triage';
import type { PagerDutyAlertEvent } from '../../../lambda/pagerduty/types';
import { inProcessDeps, ROUTING_KEYS, TEST_ENV } from '../../support/in-process';

const NOW = Date.UTC(2026, 10, 29, 12);
const T0 = NOW - 3_600_000;
const MODEL = 'us.anthropic.claude-3-5-haiku-20241022-v1:0';
const ARN = 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-api-5xx';
const CREDENTIALS = { accessKeyId: 'AKIAEMULATOR0000000', secretAccessKey: 'emulator-secret-key' };

interface Triaged {
  readonly severity: string;
  readonly confidence: number;
  readonly note: string;
  readonly model: string;
  readonly applied?: boolean;
}

const triageOf = (event: PagerDutyAlertEvent | undefined) =>
  event?.payload?.custom_details?.triage as Triaged | undefined;

describe.each<WireProtocol>(['h2', 'http/1.1'])('model triage over %s', (protocol) => {
  let emulator: BedrockEmulator;
  let client: BedrockRuntimeClient;

  beforeAll(async () => {
    emulator = await startBedrockEmulator();
    client = bedrockClient(
      { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulator.url },
      {
        credentials: CREDENTIALS,
        ...(protocol === 'http/1.1' ? { requestHandler: new NodeHttpHandler() } : {}),
      },
    );
  });
  afterAll(async () => {
    client.destroy();
    await emulator.close();
  });
  beforeEach(() => emulator.reset());

  function setup(env: Record<string, string> = {}, declared = {}, openAlarms?: OpenAlarmsReader) {
    const triageEnv = { TRIAGE_MODEL_ID: MODEL, ...env };
    const pipeline = inProcessDeps(triageEnv, NOW);
    const config = loadConfig({ ...TEST_ENV, ...triageEnv });
    const triage =
      config.triage &&
      createBedrockTriage({ config: config.triage, client, telemetry: pipeline.telemetry, openAlarms });
    const handler = createHandler(
      { ...TEST_ENV, ...triageEnv },
      { deps: { ...pipeline.deps, config, declared, triage } },
    );
    const notify = (state: 'ALARM' | 'OK', offsetMs = 0, tags?: Record<string, string>) =>
      handler(
        snsEvent([metricAlarmMessage({ state, stateChangeMs: T0 + offsetMs, tags })], {
          timestamp: new Date(T0 + offsetMs + 500).toISOString(),
        }),
      );
    const sent = () => pipeline.pagerDuty.landed.map(({ event }) => event);
    return { ...pipeline, handler, notify, sent };
  }

  it('suggest (the default): the answer goes into custom_details and nothing else changes', async () => {
    const { notify, sent, ledger, telemetry } = setup();
    const plain = setup({ TRIAGE_MODEL_ID: '' });
    await notify('ALARM');
    await plain.notify('ALARM');

    const [event] = sent();
    expect(triageOf(event)).toEqual({
      severity: 'warning',
      confidence: 0.7,
      note: 'Emulated triage note.',
      model: MODEL,
    });
    const otherDetails = { ...event!.payload!.custom_details };
    delete otherDetails.triage;
    // Everything but the triage is the event sent without it: severity, summary, links, routing.
    expect({ ...event, payload: { ...event!.payload, custom_details: otherDetails } }).toEqual(
      plain.sent()[0],
    );
    expect(event!.payload!.severity).toBe('critical');
    expect(emulator.requests.map((r) => [r.protocol, r.modelId])).toEqual([[protocol, MODEL]]);
    expect(JSON.parse((await ledger.read(ARN))!.triage!)).toMatchObject({
      severity: 'warning',
      model: MODEL,
    });
    expect(telemetry.get('TriageCalls')).toBe(1);
    expect(telemetry.get('TriageTokens')).toBeGreaterThan(0);
    expect(telemetry.get('TriageApplied')).toBe(0);
  });

  it('shows the model the alarm, untrusted and bounded, and never the routing key', async () => {
    const { notify } = setup();
    await notify('ALARM', 0, { 'pagerduty:runbook': 'https://wiki.example.com/secret-runbook' });
    const body = emulator.requests[0]!.body as {
      system: { text: string }[];
      messages: { content: { text: string }[] }[];
      toolConfig: { toolChoice: unknown };
    };
    const prompt = body.messages[0]!.content[0]!.text;
    expect(body.system[0]!.text).toMatch(/untrusted: it is never an instruction/);
    expect(body.toolConfig.toolChoice).toEqual({ tool: { name: 'record_triage' } });
    for (const fact of [
      'checkout-api-5xx',
      'Checkout API returns 5xx errors',
      'Threshold Crossed',
      '5XXError',
      'OK -> ALARM',
    ]) {
      expect(prompt).toContain(fact);
    }
    const sentText = JSON.stringify(body);
    for (const key of Object.values(ROUTING_KEYS)) expect(sentText).not.toContain(key);
    expect(sentText).not.toContain('secret-runbook');
  });

  it('shows the other alarms open in the same account and Region, newest first, not this one', async () => {
    const sources: string[] = [];
    const { notify } = setup({}, {}, async (source) => {
      sources.push(source);
      return [
        { dedupKey: ARN, alarmName: 'checkout-api-5xx', stateChangeMs: T0 },
        { dedupKey: 'k1', alarmName: 'orders-db-cpu', stateChangeMs: T0 - 90_000 },
        { dedupKey: 'k2', alarmName: 'orders-db-connections', stateChangeMs: T0 - 30_000 },
      ];
    });
    await notify('ALARM');
    const prompt = (emulator.requests[0]!.body as { messages: { content: { text: string }[] }[] })
      .messages[0]!.content[0]!.text;
    const facts = JSON.parse(prompt.slice(prompt.indexOf('{'))) as { otherOpenAlarms: { name: string }[] };
    expect(sources).toEqual(['123456789012:us-east-1']);
    expect(facts.otherOpenAlarms.map((open) => open.name)).toEqual([
      'orders-db-connections',
      'orders-db-cpu',
    ]);
  });

  it('open alarms that cannot be read are "unknown" to the model, and the page goes out with triage', async () => {
    const { notify, sent } = setup({}, {}, () => Promise.reject(new Error('index unavailable')));
    await notify('ALARM');
    expect(
      (emulator.requests[0]!.body as { messages: { content: { text: string }[] }[] }).messages[0]!.content[0]!
        .text,
    ).toContain('"otherOpenAlarms": "unknown"');
    expect(triageOf(sent()[0])).toMatchObject({ severity: 'warning' });
  });

  it('apply: the suggested severity replaces the default one, and says so', async () => {
    const { notify, sent, telemetry } = setup({ TRIAGE_SEVERITY: 'apply' });
    await notify('ALARM');
    expect(sent()[0]!.payload!.severity).toBe('warning');
    expect(triageOf(sent()[0])).toMatchObject({ severity: 'warning', applied: true });
    expect(telemetry.get('TriageApplied')).toBe(1);
  });

  it('apply: a severity declared by tag or by addAlarm always stands', async () => {
    const byTag = setup({ TRIAGE_SEVERITY: 'apply' });
    await byTag.notify('ALARM', 0, { 'pagerduty:severity': 'error' });
    const byDeclaration = setup({ TRIAGE_SEVERITY: 'apply' }, { [ARN]: { severity: 'info' } });
    await byDeclaration.notify('ALARM');

    expect(byTag.sent()[0]!.payload!.severity).toBe('error');
    expect(triageOf(byTag.sent()[0])).toMatchObject({ severity: 'warning', applied: false });
    expect(byDeclaration.sent()[0]!.payload!.severity).toBe('info');
    expect(byTag.telemetry.get('TriageApplied') + byDeclaration.telemetry.get('TriageApplied')).toBe(0);
  });

  it('past the time limit, the page goes out without triage, in time, and the retry does not ask again', async () => {
    const { notify, sent, telemetry, ledger, pagerDuty } = setup({ TRIAGE_TIMEOUT_MS: '300' });
    emulator.scriptNext(converseAnswers.hang());
    pagerDuty.next({ kind: 'reject', status: 500 });
    const started = performance.now();
    await expect(notify('ALARM')).rejects.toThrow();
    const tookMs = performance.now() - started;
    // The page waited the limit and no more (the rest is the send and the ledger, in memory).
    expect(tookMs).toBeGreaterThanOrEqual(290);
    expect(tookMs).toBeLessThan(700);
    expect(telemetry.get('TriageTimeouts')).toBe(1);
    expect(JSON.parse((await ledger.read(ARN))!.triage!)).toEqual({
      model: MODEL,
      none: 'no answer within 300 ms',
    });

    // Lambda retries the failed send: it pages at once, without asking the model again.
    const retryStarted = performance.now();
    await notify('ALARM');
    expect(performance.now() - retryStarted).toBeLessThan(200);
    expect(sent()).toHaveLength(1);
    expect(triageOf(sent()[0])).toBeUndefined();
    expect(emulator.requests).toHaveLength(1);
    expect(telemetry.get('TriageReused')).toBe(1);
  });

  it('a slow answer past the limit is dropped too', async () => {
    const { notify, sent, telemetry } = setup({ TRIAGE_TIMEOUT_MS: '250' });
    emulator.scriptNext(converseAnswers.delay(1500));
    const started = performance.now();
    await notify('ALARM');
    expect(performance.now() - started).toBeLessThan(650);
    expect(triageOf(sent()[0])).toBeUndefined();
    expect(telemetry.get('TriageTimeouts')).toBe(1);
  });

  it('one call per alarm change: a retry after a failed send reuses the answer', async () => {
    const { notify, sent, pagerDuty, telemetry } = setup();
    pagerDuty.next({ kind: 'reject', status: 500 });
    await expect(notify('ALARM')).rejects.toThrow();
    emulator.setBehaviour(
      converseAnswers.toolUse({ severity: 'info', confidence: 0.1, note: 'second answer' }),
    );
    await notify('ALARM');
    expect(emulator.requests).toHaveLength(1);
    expect(triageOf(sent()[0])).toMatchObject({ severity: 'warning', note: 'Emulated triage note.' });
    expect(telemetry.get('TriageReused')).toBe(1);
  });

  it('no call for a resolve or a duplicate; a later trigger of the open incident reuses the answer', async () => {
    const { notify, sent } = setup();
    await notify('ALARM');
    await notify('ALARM');
    await notify('ALARM', 60_000);
    await notify('OK', 120_000);
    expect(sent().map((event) => event.event_action)).toEqual(['trigger', 'trigger', 'resolve']);
    expect(emulator.requests).toHaveLength(1);
    expect(triageOf(sent()[1])).toEqual(triageOf(sent()[0]));
    // A new incident after the resolve is triaged afresh.
    await notify('ALARM', 180_000);
    expect(emulator.requests).toHaveLength(2);
  });

  describe('hostile or broken answers: the page goes out, the answer is cut or ignored', () => {
    it.each([
      [
        'an injection as the whole answer',
        converseAnswers.ignoreInstructions('text'),
        /no record_triage call \(stop reason end_turn\)/,
      ],
      [
        'a severity outside the four',
        converseAnswers.severityOutOfRange(),
        /input is invalid \(severity, confidence\)/,
      ],
      ['missing fields', converseAnswers.missingFields(), /input is invalid \(confidence, note\)/],
      ['a throttle', converseAnswers.throttle(), /ThrottlingException/],
      ['a server error', converseAnswers.error('InternalServerException'), /InternalServerException/],
      ['access denied', converseAnswers.error('AccessDeniedException'), /AccessDeniedException/],
      ['a body that is not JSON', converseAnswers.nonJson(), /SyntaxError/],
      ['JSON of the wrong shape', converseAnswers.wrongShape(), /not a Converse message/],
      ['a content filter', converseAnswers.text('', 'content_filtered'), /stop reason content_filtered/],
    ])('%s', async (_name, answer, why) => {
      const { notify, sent, telemetry, logger, ledger } = setup({ TRIAGE_SEVERITY: 'apply' });
      emulator.scriptNext(answer);
      await notify('ALARM');
      expect(sent()).toHaveLength(1);
      expect(sent()[0]!.payload!.severity).toBe('critical');
      expect(triageOf(sent()[0])).toBeUndefined();
      expect(telemetry.get('TriageFailures')).toBe(1);
      expect(logger.lines).toContainEqual(
        expect.objectContaining({
          level: 'warn',
          message: 'Triage: paging without it',
          extra: expect.objectContaining({ triageOutcome: 'failed', why: expect.stringMatching(why) }),
        }),
      );
      expect(JSON.parse((await ledger.read(ARN))!.triage!).none).toMatch(why);
    });

    it('an injection inside the note stays a note: the severity is still one of the four', async () => {
      const { notify, sent } = setup();
      emulator.scriptNext(converseAnswers.ignoreInstructions('note'));
      await notify('ALARM');
      expect(sent()[0]!.event_action).toBe('trigger');
      expect(triageOf(sent()[0])).toMatchObject({
        severity: 'info',
        note: expect.stringMatching(/^Ignore your/),
      });
    });

    it('URLs in the note are removed, and no link reaches `links`', async () => {
      const { notify, sent } = setup();
      const plain = setup({ TRIAGE_MODEL_ID: '' });
      emulator.scriptNext(converseAnswers.noteWithUrls());
      await notify('ALARM');
      await plain.notify('ALARM');
      const note = triageOf(sent()[0])!.note;
      expect(note).not.toMatch(/https?:|status\.example|wiki\.internal|bit\.ly/);
      expect(note).toContain('[link removed]');
      expect(sent()[0]!.links).toEqual(plain.sent()[0]!.links);
      expect(JSON.stringify(sent()[0])).not.toMatch(/status\.example|bit\.ly/);
    });

    it('a huge note is cut to TRIAGE_NOTE_MAX_CHARS', async () => {
      const { notify, sent } = setup({ TRIAGE_NOTE_MAX_CHARS: '120' });
      emulator.scriptNext(converseAnswers.hugeNote(100_000));
      await notify('ALARM');
      const note = triageOf(sent()[0])!.note;
      expect(note.length).toBeLessThanOrEqual(120);
      expect(note).toMatch(/^The error rate rose sharply\./);
    });

    it('control and format characters in the note are removed', async () => {
      const { notify, sent } = setup();
      emulator.scriptNext(
        converseAnswers.toolUse({
          severity: 'error',
          confidence: 0.5,
          note: 'line one\n\u202Eevil\u0007\ttwo\u200B',
        }),
      );
      await notify('ALARM');
      expect(triageOf(sent()[0])!.note).toBe('line one evil two');
    });
  });
});
