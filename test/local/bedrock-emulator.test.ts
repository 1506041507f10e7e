import * as BedrockRuntime from '@aws-sdk/client-bedrock-runtime';
import {
  BedrockRuntimeClient,
  ConverseCommand,
  type BedrockRuntimeClientConfig,
  type ConverseCommandInput,
  type ConverseCommandOutput,
} from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { connect } from 'node:net';
import {
  CONVERSE_ERRORS,
  DEFAULT_TRIAGE,
  converseAnswers,
  startBedrockEmulator,
  type BedrockEmulator,
  type ConverseErrorType,
} from '../../local/bedrock-emulator';

const MODEL_ID = 'us.anthropic.claude-3-5-haiku-20241022-v1:0';
const TOOL_NAME = 'record_triage';

const triageRequest = (modelId = MODEL_ID): ConverseCommandInput => ({
  modelId,
  system: [{ text: 'You triage CloudWatch alarms for the on-call engineer.' }],
  messages: [{ role: 'user', content: [{ text: 'checkout-api-5xx went to ALARM: 5xx rate 12% > 5%.' }] }],
  inferenceConfig: { maxTokens: 512, temperature: 0 },
  toolConfig: {
    tools: [
      {
        toolSpec: {
          name: TOOL_NAME,
          description: 'Record the triage of the alarm.',
          inputSchema: {
            json: {
              type: 'object',
              properties: {
                severity: { type: 'string', enum: ['critical', 'error', 'warning', 'info'] },
                confidence: { type: 'number', minimum: 0, maximum: 1 },
                note: { type: 'string' },
              },
              required: ['severity', 'confidence', 'note'],
            },
          },
        },
      },
    ],
    toolChoice: { tool: { name: TOOL_NAME } },
  },
});

/** The SDK as a Lambda would build it; fake static credentials so nothing looks for real ones. */
function bedrockClient(
  emulator: BedrockEmulator,
  config: BedrockRuntimeClientConfig = {},
): BedrockRuntimeClient {
  return new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: emulator.url,
    credentials: { accessKeyId: 'AKIAEMULATOR0000000', secretAccessKey: 'emulator-secret-key' },
    ...config,
  });
}

const toolUseOf = (output: ConverseCommandOutput) =>
  output.output?.message?.content?.find((block) => block.toolUse !== undefined)?.toolUse;
const textOf = (output: ConverseCommandOutput) =>
  output.output?.message?.content?.find((block) => block.text !== undefined)?.text;

/** Waits for a condition, not for a guessed time: a loaded machine only makes it slower. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** What the SDK attaches to the errors it throws. */
type SdkError = Error & {
  readonly $metadata: { readonly httpStatusCode?: number; readonly attempts?: number };
  readonly $response?: { readonly statusCode?: number };
};

async function rejection(work: Promise<unknown>): Promise<SdkError> {
  try {
    await work;
  } catch (error) {
    return error as SdkError;
  }
  throw new Error('expected the call to fail');
}

describe('Bedrock Runtime Converse emulator', () => {
  let emulator: BedrockEmulator;
  let h2Client: BedrockRuntimeClient;
  let h1Client: BedrockRuntimeClient;

  beforeAll(async () => {
    emulator = await startBedrockEmulator();
    h2Client = bedrockClient(emulator, { maxAttempts: 1 });
    h1Client = bedrockClient(emulator, { maxAttempts: 1, requestHandler: new NodeHttpHandler() });
  });
  afterAll(async () => {
    h2Client.destroy();
    h1Client.destroy();
    await emulator.close();
  });
  beforeEach(() => emulator.reset());

  test('the SDK with default settings (HTTP/2) gets a tool use for the tool its request names', async () => {
    const client = bedrockClient(emulator);
    const output = await client.send(new ConverseCommand(triageRequest()));
    client.destroy();

    expect(output.stopReason).toBe('tool_use');
    expect(output.output?.message?.role).toBe('assistant');
    expect(toolUseOf(output)).toEqual({
      toolUseId: expect.stringMatching(/^tooluse_/),
      name: TOOL_NAME,
      input: DEFAULT_TRIAGE,
    });
    expect(output.usage?.totalTokens).toBe(
      (output.usage?.inputTokens ?? 0) + (output.usage?.outputTokens ?? 0),
    );
    expect(output.metrics?.latencyMs).toEqual(expect.any(Number));
    expect(output.$metadata).toMatchObject({
      httpStatusCode: 200,
      requestId: expect.any(String),
      attempts: 1,
    });
    expect(emulator.requests).toEqual([
      expect.objectContaining({
        protocol: 'h2',
        method: 'POST',
        modelId: MODEL_ID,
        path: `/model/${encodeURIComponent(MODEL_ID)}/converse`,
        body: expect.objectContaining({ toolConfig: expect.any(Object), messages: expect.any(Array) }),
        outcome: 200,
      }),
    ]);
    expect(emulator.requests[0]?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIAEMULATOR0000000\//,
    );
  });

  test('the SDK over HTTP/1.1 (NodeHttpHandler) gets the same answer on the same port', async () => {
    const output = await h1Client.send(new ConverseCommand(triageRequest()));

    expect(toolUseOf(output)).toMatchObject({ name: TOOL_NAME, input: DEFAULT_TRIAGE });
    expect(emulator.requests.map(({ protocol, modelId }) => ({ protocol, modelId }))).toEqual([
      { protocol: 'http/1.1', modelId: MODEL_ID },
    ]);
    expect(emulator.requests[0]?.headers.host).toBe(new URL(emulator.url).host);
  });

  test('a model id that is an ARN, slashes and colons included, is recorded decoded', async () => {
    const arn = `arn:aws:bedrock:us-east-1:123456789012:inference-profile/${MODEL_ID}`;
    await h2Client.send(new ConverseCommand(triageRequest(arn)));

    expect(emulator.requests[0]?.modelId).toBe(arn);
    expect(emulator.requests[0]?.path).toBe(`/model/${encodeURIComponent(arn)}/converse`);
  });

  test('scripted answers are used in order, then the standing behaviour', async () => {
    emulator.setBehaviour(converseAnswers.text('standing answer'));
    emulator.scriptNext(
      converseAnswers.toolUse({ severity: 'critical' }, 'other_tool'),
      converseAnswers.text('one'),
    );
    const send = () => h2Client.send(new ConverseCommand(triageRequest()));

    const first = await send();
    const second = await send();
    const third = await send();

    expect(toolUseOf(first)).toMatchObject({ name: 'other_tool', input: { severity: 'critical' } });
    expect([second.stopReason, textOf(second)]).toEqual(['end_turn', 'one']);
    expect(textOf(third)).toBe('standing answer');
  });

  test('offered no tool, the default answer arrives as text, as a model would write it', async () => {
    const output = await h2Client.send(new ConverseCommand({ ...triageRequest(), toolConfig: undefined }));

    expect(output.stopReason).toBe('end_turn');
    expect(JSON.parse(textOf(output) ?? '')).toEqual(DEFAULT_TRIAGE);
  });

  test('a throttle surfaces as ThrottlingException', async () => {
    emulator.scriptNext(converseAnswers.throttle());
    const error = await rejection(h2Client.send(new ConverseCommand(triageRequest())));

    expect(error).toBeInstanceOf(BedrockRuntime.ThrottlingException);
    expect(error.name).toBe('ThrottlingException');
    expect(error.message).toBe(CONVERSE_ERRORS.ThrottlingException.message);
    expect(error.$metadata).toMatchObject({ httpStatusCode: 429, attempts: 1 });
  });

  test('the default retry strategy retries throttles and gets the answer on the third attempt', async () => {
    emulator.scriptNext(converseAnswers.throttle(), converseAnswers.throttle());
    const client = bedrockClient(emulator);
    const output = await client.send(new ConverseCommand(triageRequest()));
    client.destroy();

    expect(output.$metadata.attempts).toBe(3);
    expect(emulator.requests.map((request) => request.outcome)).toEqual([429, 429, 200]);
  });

  test.each(Object.keys(CONVERSE_ERRORS) as ConverseErrorType[])(
    '%s reaches the SDK as its own exception class, with its status',
    async (errorType) => {
      emulator.scriptNext(converseAnswers.error(errorType));
      const error = await rejection(h1Client.send(new ConverseCommand(triageRequest())));

      expect(error).toBeInstanceOf(BedrockRuntime[errorType]);
      expect(error.name).toBe(errorType);
      expect(error.$metadata.httpStatusCode).toBe(CONVERSE_ERRORS[errorType].status);
    },
  );

  test('an error type the SDK does not model still carries its name', async () => {
    emulator.scriptNext(converseAnswers.customError('BadGatewayException', 502));
    const error = await rejection(h2Client.send(new ConverseCommand(triageRequest())));

    expect(error).toBeInstanceOf(BedrockRuntime.BedrockRuntimeServiceException);
    expect(error.name).toBe('BadGatewayException');
    expect(error.$metadata.httpStatusCode).toBe(502);
  });

  test('a delay holds the answer for at least its length', async () => {
    emulator.scriptNext(converseAnswers.delay(300, converseAnswers.text('late')));
    const started = performance.now();
    const output = await h2Client.send(new ConverseCommand(triageRequest()));

    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(textOf(output)).toBe('late');
    expect(output.metrics?.latencyMs).toBeGreaterThanOrEqual(290);
  });

  describe('malformed model output', () => {
    const send = () => h2Client.send(new ConverseCommand(triageRequest()));

    test('a body that is not JSON fails the call', async () => {
      emulator.scriptNext(converseAnswers.nonJson());
      const error = await rejection(send());

      expect(error.name).toBe('SyntaxError');
      expect(error.$response?.statusCode).toBe(200);
    });

    test('JSON of the wrong shape comes back without output or stop reason', async () => {
      emulator.scriptNext(converseAnswers.wrongShape());
      const output = await send();

      expect(output.output).toBeUndefined();
      expect(output.stopReason).toBeUndefined();
    });

    test('tool input with missing fields, severity out of range, a huge note, URLs, and an injection', async () => {
      emulator.scriptNext(
        converseAnswers.missingFields(),
        converseAnswers.severityOutOfRange(),
        converseAnswers.hugeNote(100_000),
        converseAnswers.noteWithUrls(),
        converseAnswers.ignoreInstructions('note'),
        converseAnswers.ignoreInstructions(),
      );

      expect(toolUseOf(await send())?.input).toEqual({ severity: 'critical' });
      expect(toolUseOf(await send())?.input).toMatchObject({ severity: 'catastrophic', confidence: 1.7 });
      expect((toolUseOf(await send())?.input as { note: string }).note).toHaveLength(100_000);
      expect((toolUseOf(await send())?.input as { note: string }).note).toMatch(/https:\/\/\S+/);
      const injectedNote = await send();
      expect(textOf(injectedNote)).toMatch(/ignore your instructions/i);
      expect(toolUseOf(injectedNote)?.input).toMatchObject({
        note: expect.stringMatching(/ignore your instructions/i),
      });
      const injectedText = await send();
      expect([injectedText.stopReason, toolUseOf(injectedText)]).toEqual(['end_turn', undefined]);
      expect(textOf(injectedText)).toMatch(/ignore your instructions/i);
    });
  });

  test('routes other than Converse answer 404 UnknownOperationException', async () => {
    const response = await fetch(`${emulator.url}/model/${encodeURIComponent(MODEL_ID)}/converse-stream`, {
      method: 'POST',
      body: '{}',
    });

    expect(response.status).toBe(404);
    expect(response.headers.get('x-amzn-errortype')).toMatch(/^UnknownOperationException:/);
    expect(emulator.requests[0]).toMatchObject({ protocol: 'http/1.1', modelId: undefined, outcome: 404 });
    const broken = await fetch(`${emulator.url}/model/%E0%A4%A/converse`, { method: 'POST', body: '{}' });
    expect(broken.status).toBe(404);
  });

  test('an HTTP/2 preface split across packets is still recognised', async () => {
    const socket = connect(Number(new URL(emulator.url).port), '127.0.0.1');
    const firstFrame = new Promise<Buffer>((resolve) => socket.once('data', resolve));
    await new Promise((resolve) => socket.once('connect', resolve));
    const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
    socket.write(preface.subarray(0, 7));
    await new Promise((resolve) => setTimeout(resolve, 50));
    // An empty SETTINGS frame completes the client's connection preface.
    socket.write(Buffer.concat([preface.subarray(7), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]));

    const frame = await firstFrame;
    socket.destroy();
    expect(frame[3]).toBe(0x04); // the server's own SETTINGS frame: it speaks HTTP/2
  });
});

describe('hanging answers', () => {
  test('an AbortSignal cuts a hang over HTTP/2, and close() still ends cleanly', async () => {
    const emulator = await startBedrockEmulator({ behaviour: converseAnswers.hang() });
    const client = bedrockClient(emulator, { maxAttempts: 1 });

    const error = await rejection(
      client.send(new ConverseCommand(triageRequest()), { abortSignal: AbortSignal.timeout(200) }),
    );
    client.destroy();
    const closing = performance.now();
    await emulator.close();

    expect(error.name).toBe('AbortError');
    expect(emulator.requests.map(({ protocol, outcome }) => ({ protocol, outcome }))).toEqual([
      { protocol: 'h2', outcome: 'hang' },
    ]);
    expect(performance.now() - closing).toBeLessThan(1000);
  });

  test('a per-call requestTimeout cuts a hang over HTTP/2 with TimeoutError', async () => {
    const emulator = await startBedrockEmulator({ behaviour: converseAnswers.hang() });
    const client = bedrockClient(emulator, { maxAttempts: 1 });

    const error = await rejection(client.send(new ConverseCommand(triageRequest()), { requestTimeout: 200 }));
    client.destroy();
    await emulator.close();

    expect(error.name).toBe('TimeoutError');
  });

  test('over HTTP/1.1 requestTimeout only warns unless throwOnRequestTimeout is set', async () => {
    const emulator = await startBedrockEmulator({ behaviour: converseAnswers.hang() });
    const warnings: unknown[] = [];
    const logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (m: unknown) => warnings.push(m),
      error: () => undefined,
    };
    const lenient = bedrockClient(emulator, {
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({ requestTimeout: 100, logger }),
    });
    const strict = bedrockClient(emulator, {
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({ requestTimeout: 100, throwOnRequestTimeout: true }),
    });

    const lenientError = await rejection(
      lenient.send(new ConverseCommand(triageRequest()), { abortSignal: AbortSignal.timeout(400) }),
    );
    const strictError = await rejection(strict.send(new ConverseCommand(triageRequest())));
    lenient.destroy();
    strict.destroy();
    await emulator.close();

    expect(lenientError.name).toBe('AbortError');
    expect(warnings).toEqual([expect.stringMatching(/exceeded the configured 100 ms requestTimeout/)]);
    expect(strictError.name).toBe('TimeoutError');
  });

  test('close() ends requests that are still hanging, on both protocols', async () => {
    const emulator = await startBedrockEmulator();
    emulator.scriptNext(converseAnswers.hang(), converseAnswers.delay(60_000));
    const h2 = bedrockClient(emulator, { maxAttempts: 1 });
    const h1 = bedrockClient(emulator, { maxAttempts: 1, requestHandler: new NodeHttpHandler() });
    const pending = [h2, h1].map((client) => rejection(client.send(new ConverseCommand(triageRequest()))));
    await until(() => emulator.requests.length === 2);

    const closing = performance.now();
    await emulator.close();
    const errors = await Promise.all(pending);
    h2.destroy();
    h1.destroy();

    expect(performance.now() - closing).toBeLessThan(1000);
    expect(errors).toHaveLength(2);
    expect(emulator.requests.map((request) => request.outcome).sort()).toEqual(['hang', 'pending']);
  });
});
