// The handler driven through its runtime contract with inputs nobody wrote down: every SNS, SQS, EventBridge and
// corpus message this repository holds, mutated field by field with arbitrary JSON, wrapped in every carrier the
// handler takes (SNS record, SNS-DLQ letter, Lambda failure record, raw letter, EventBridge state change, alarm
// deletion, schedule, batches of them), and arbitrary values as the whole event; a few in a row against one ledger,
// with PagerDuty answering as scripted (accepted, timed out, 429, 400). Whatever arrives, the handler:
//  - resolves, or rejects with one of the pipeline's own errors (never a TypeError or another crash of its code);
//  - answers an SQS batch with `batchItemFailures` naming exactly the letters it logged as worth retrying;
//  - sends PagerDuty only events its Events API v2 schema accepts, within its 512 KB limit.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { createHandler, type ParkingLot } from '../../lambda/handler';
import * as errors from '../../lambda/shared/errors';
import { PipelineError } from '../../lambda/shared/errors';
import type { AlarmReader } from '../../lambda/sweep/cloudwatch';
import { enqueueSchemaErrors, PAGERDUTY_MAX_EVENT_BYTES, sentBytes } from '../support/enqueue-schema';
import { inProcessDeps, TEST_ENV, type SendBehaviour } from '../support/in-process';

const RUNS = Number(process.env.INPUT_PROPERTY_RUNS ?? (process.env.CI === 'true' ? 200 : 150));
const NOW = Date.UTC(2026, 11, 6, 12);
const CORPORA = ['corpus', 'corpus-services', 'corpus-eventbridge'];
/** What only a crash of code throws: the handler turns every bad input into one of its own errors. */
const CRASH =
  /\b(TypeError|RangeError|ReferenceError|SyntaxError|URIError|EvalError|AggregateError|InternalError)\b|Cannot read propert|is not a function|is not iterable/;
/** The error names the handler's texts may quote (`Name: message`, as describeError writes): its own. */
const OWN_ERRORS = new Set(
  Object.values(errors as Record<string, unknown>).flatMap((value) =>
    typeof value === 'function' && value.prototype instanceof Error ? [value.name] : [],
  ),
);
const QUOTED_ERROR = /(?:^|[\s:(|])([A-Z][A-Za-z]*Error|Error): /g;

interface Seeds {
  /** SNS `Sns` objects (their Message a JSON text or plain text). */
  readonly sns: Record<string, unknown>[];
  /** EventBridge events. */
  readonly events: Record<string, unknown>[];
}

function loadSeeds(): Seeds {
  const sns: Record<string, unknown>[] = [];
  const events: Record<string, unknown>[] = [];
  for (const corpus of CORPORA) {
    const dir = join(__dirname, '..', corpus);
    for (const file of readdirSync(dir).filter((name) => name.endsWith('.json'))) {
      const entry = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
      if (entry.Sns && typeof entry.Sns === 'object') sns.push(entry.Sns as Record<string, unknown>);
      if (entry.event && typeof entry.event === 'object') events.push(entry.event as Record<string, unknown>);
    }
  }
  return { sns, events };
}

const seeds = loadSeeds();
const ALARM_ARN = /^arn:aws[a-z-]*:cloudwatch:[a-z0-9-]+:\d{12}:alarm:.+/;

/** Any JSON value, or a value JSON cannot carry (only a direct invocation could send it). */
const anyValue = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }) },
);

/** An object with some of its fields replaced by arbitrary values or removed, and one level of its objects too. */
function mutated(base: Record<string, unknown>): fc.Arbitrary<Record<string, unknown>> {
  const keys = Object.keys(base);
  const replace = fc.dictionary(
    keys.length > 0 ? fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 12 })) : fc.string(),
    fc.option(anyValue, { nil: undefined, freq: 4 }),
    { maxKeys: 4 },
  );
  const nested = keys.filter((key) => isObject(base[key]));
  const nestedKey = nested.length > 0 ? fc.option(fc.constantFrom(...nested)) : fc.constant(null);
  return fc
    .tuple(
      replace,
      nestedKey,
      fc.dictionary(fc.string({ maxLength: 12 }), fc.option(anyValue, { nil: undefined }), { maxKeys: 3 }),
    )
    .map(([top, inner, innerReplace]) => {
      const out: Record<string, unknown> = { ...base };
      if (inner !== null) {
        const innerBase = { ...(base[inner] as Record<string, unknown>) };
        const innerKeys = Object.keys(innerBase);
        for (const [key, value] of Object.entries(innerReplace)) {
          const target = innerKeys.length > 0 ? innerKeys[key.length % innerKeys.length]! : key;
          if (value === undefined) delete innerBase[target];
          else innerBase[target] = value;
        }
        out[inner] = innerBase;
      }
      for (const [key, value] of Object.entries(top)) {
        if (value === undefined) delete out[key];
        else out[key] = value;
      }
      return out;
    });
}

/**
 * A deletion in a sequence names the alarm of an earlier SNS message of it, when there is one: a deletion of an
 * alarm the ledger never saw only costs a query, and would leave the deletion path unexercised.
 */
function deletingEarlierAlarms(events: readonly unknown[]): unknown[] {
  const seen: string[] = [];
  return events.map((event) => {
    if (isObject(event) && Array.isArray(event.Records)) {
      for (const record of event.Records) {
        const arn =
          isObject(record) && isObject(record.Sns) ? parsed(record.Sns.Message)?.AlarmArn : undefined;
        if (typeof arn === 'string' && ALARM_ARN.test(arn)) seen.push(arn);
      }
    }
    const deletes = isObject(event) && isObject(event.detail) && event.detail.operation === 'delete';
    if (!deletes || seen.length === 0) return event;
    const arn = seen[seen.length - 1]!;
    const [, , , region, account, , ...name] = arn.split(':');
    return {
      ...event,
      account,
      region,
      resources: [arn],
      detail: { ...(event.detail as Record<string, unknown>), alarmName: name.join(':') },
    };
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parsed(text: unknown): Record<string, unknown> | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** An SNS message text: a seed's, its JSON mutated, arbitrary JSON, or arbitrary text. */
const messageText = fc.oneof(
  fc.constantFrom(...seeds.sns).chain((sns) => {
    const json = parsed(sns.Message);
    return json
      ? fc.oneof(
          fc.constant(sns.Message),
          mutated(json).map((message) => JSON.stringify(message)),
        )
      : fc.constant(sns.Message);
  }),
  fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
  fc.string({ maxLength: 300 }),
);

/** The `Sns` object of a record: a seed's envelope, its message replaced, then its own fields mutated. */
const snsEnvelope = fc
  .tuple(fc.constantFrom(...seeds.sns), messageText, fc.integer({ min: -86_400_000, max: 86_400_000 }))
  .chain(([sns, Message, offset]) =>
    mutated({ ...sns, Message, Timestamp: new Date(NOW + offset).toISOString() }),
  );

const snsRecord = fc.tuple(snsEnvelope, fc.boolean()).chain(([Sns, plain]) => {
  const record = { EventSource: 'aws:sns', EventVersion: '1.0', EventSubscriptionArn: 'sub', Sns };
  return plain ? fc.constant(record) : mutated(record);
});

const snsEvent = fc.array(snsRecord, { minLength: 1, maxLength: 3 }).map((Records) => ({ Records }));

/** The alarms the SNS seeds name: a deletion of one of them finds its incident when an earlier event opened it. */
const alarmArns = [
  ...new Set(
    seeds.sns.flatMap((sns) => {
      const arn = parsed(sns.Message)?.AlarmArn;
      return typeof arn === 'string' && ALARM_ARN.test(arn) ? [arn] : [];
    }),
  ),
];

const deletion = fc
  .tuple(fc.constantFrom(...alarmArns), fc.integer({ min: -600_000, max: 600_000 }))
  .map(([arn, offset]) => {
    const [, , , region, account, , name] = arn.split(':');
    return {
      version: '0',
      id: 'delete',
      'detail-type': 'CloudWatch Alarm Configuration Change',
      source: 'aws.cloudwatch',
      account,
      time: new Date(NOW + offset).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region,
      resources: [arn],
      detail: { alarmName: name, operation: 'delete', state: { value: 'ALARM' } },
    };
  })
  .chain((event) =>
    fc.oneof({ weight: 3, arbitrary: fc.constant(event) }, { weight: 1, arbitrary: mutated(event) }),
  );

const eventBridgeEvent = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .constantFrom(...seeds.events)
      .chain((event) => fc.oneof(fc.constant(event), mutated(event))),
  },
  { weight: 3, arbitrary: deletion },
);

/** What a retry-queue letter's body may be: each kind the dead-letter reader knows, broken or not. */
const letterBody = fc.oneof(
  snsEvent.map((event) => JSON.stringify(event)),
  snsEnvelope.map((sns) => JSON.stringify(sns)),
  fc.tuple(fc.oneof(snsEvent, eventBridgeEvent), anyValue).map(([requestPayload, responsePayload]) =>
    JSON.stringify({
      version: '1.0',
      requestContext: { requestId: 'r', condition: 'RetriesExhausted', approximateInvokeCount: 3 },
      requestPayload,
      responsePayload,
    }),
  ),
  eventBridgeEvent.map((event) => JSON.stringify(event)),
  fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
  fc.string({ maxLength: 200 }),
);

const sqsEvent = fc
  .array(
    fc
      .tuple(letterBody, fc.uuid(), fc.integer({ min: 0, max: 3 * 86_400_000 }))
      .chain(([body, messageId, age]) =>
        fc.oneof(
          { weight: 4, arbitrary: fc.constant({ messageId, body, age }) },
          { weight: 1, arbitrary: mutated({ messageId, body, age }) },
        ),
      ),
    { minLength: 1, maxLength: 4 },
  )
  .map((letters) => ({
    Records: letters.map(({ messageId, body, age }) => ({
      eventSource: 'aws:sqs',
      messageId,
      receiptHandle: 'handle',
      body,
      attributes: { SentTimestamp: String(NOW - Number(age ?? 0)), ApproximateReceiveCount: '1' },
      messageAttributes: {},
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:retry',
    })),
  }));

const scheduled = fc.constant({
  version: '0',
  id: 'schedule',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: new Date(NOW).toISOString(),
  region: 'us-east-1',
  resources: [],
  detail: {},
});

/** How PagerDuty answers the sends of one run, in order (then it accepts). */
const pagerDutyScript: fc.Arbitrary<SendBehaviour[]> = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: fc.constant<SendBehaviour>({ kind: 'accept' }) },
    { weight: 1, arbitrary: fc.constant<SendBehaviour>({ kind: 'acceptAfterUnanswered' }) },
    {
      weight: 1,
      arbitrary: fc.boolean().map((landsLater): SendBehaviour => ({ kind: 'timeout', landsLater })),
    },
    {
      weight: 1,
      arbitrary: fc
        .boolean()
        .map((afterUnanswered): SendBehaviour => ({ kind: 'throttled', afterUnanswered })),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(400, 403, 500).map((status): SendBehaviour => ({ kind: 'reject', status })),
    },
  ),
  { maxLength: 4 },
);

const anyEvent = fc.oneof(
  { weight: 5, arbitrary: snsEvent },
  { weight: 3, arbitrary: eventBridgeEvent },
  { weight: 3, arbitrary: sqsEvent },
  { weight: 1, arbitrary: scheduled },
  { weight: 1, arbitrary: anyValue },
);

/** CloudWatch with nothing in ALARM and no alarm by any name: the sweep finds every open incident's alarm gone. */
const emptyCloudWatch: AlarmReader = {
  alarmsInAlarm: async () => [],
  alarmsInInsufficientData: async () => [],
  alarmsByName: async () => [],
  contributorsInAlarm: async () => [],
  mutedAlarmNames: async () => new Set(),
  tagsOf: async () => ({}),
};

/** A crash's text, or an error the handler's code did not throw itself, quoted in a text it wrote. */
function crashes(text: string): boolean {
  if (CRASH.test(text)) return true;
  return [...text.matchAll(QUOTED_ERROR)].some(([, name]) => !OWN_ERRORS.has(name!));
}

/** The error and its causes, each one of the pipeline's own. */
function ownErrors(error: unknown): boolean {
  for (let cause = error; cause !== undefined; cause = cause.cause) {
    if (!(cause instanceof Error) || !OWN_ERRORS.has(cause.name)) return false;
  }
  return true;
}

describe('the handler, whatever it is invoked with', () => {
  it(`never crashes, answers batches truthfully and sends only valid events (${RUNS} runs)`, async () => {
    expect(seeds.sns.length).toBeGreaterThan(30);
    expect(seeds.events.length).toBeGreaterThan(5);
    expect(alarmArns.length).toBeGreaterThan(10);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(anyEvent, fc.integer({ min: 0, max: 120_000 })), { minLength: 1, maxLength: 3 }),
        pagerDutyScript,
        async (drawn, script) => {
          const events = deletingEarlierAlarms(drawn.map(([event]) => event)).map(
            (event, i) => [event, drawn[i]![1]] as const,
          );
          const pipeline = inProcessDeps({ MAX_CLOCK_SKEW_SECONDS: '0' }, NOW);
          pipeline.pagerDuty.next(...script);
          const parked: string[] = [];
          const parkingLot: ParkingLot = { park: async (_body, reason) => void parked.push(reason) };
          const handler = createHandler(
            { ...TEST_ENV, PARKED_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/parked' },
            { deps: pipeline.deps, parkingLot, readerFor: () => emptyCloudWatch },
          );
          for (const [event, later] of events) {
            pipeline.clock.now += later;
            const linesBefore = pipeline.logger.lines.length;
            let result: unknown;
            let failed = false;
            try {
              result = await handler(event, {
                awsRequestId: 'property',
                invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:pager',
                getRemainingTimeInMillis: () => 30_000,
              });
            } catch (error) {
              failed = true;
              expect(error).toBeInstanceOf(PipelineError);
              expect(ownErrors(error)).toBe(true);
              expect(crashes(String((error as Error).message))).toBe(false);
            }
            const lines = pipeline.logger.lines.slice(linesBefore);
            for (const line of lines) {
              expect(crashes(`${line.message} ${JSON.stringify(line.extra) ?? ''}`)).toBe(false);
            }

            const records = isObject(event) && Array.isArray(event.Records) ? event.Records : [];
            const sqs =
              records.length > 0 && records.every((r) => isObject(r) && r.eventSource === 'aws:sqs');
            if (sqs) {
              // A batch of letters is always answered, never thrown: each letter answers for itself.
              expect(failed).toBe(false);
              const failures = (result as { batchItemFailures: { itemIdentifier: unknown }[] })
                .batchItemFailures;
              const retried = lines
                .filter((line) => line.message.startsWith('A dead letter is still undeliverable'))
                .map((line) => (line.extra as { letterId?: unknown }).letterId);
              expect(failures.map((failure) => String(failure.itemIdentifier)).sort()).toEqual(
                retried.map(String).sort(),
              );
              const ids = new Set(records.map((r) => (r as { messageId: unknown }).messageId));
              for (const id of retried) expect(ids.has(id)).toBe(true);
            }
          }
          for (const reason of parked) expect(crashes(reason)).toBe(false);
          for (const { event: sent } of pipeline.pagerDuty.landed) {
            expect(enqueueSchemaErrors(sent)).toEqual([]);
            expect(sentBytes(sent)).toBeLessThanOrEqual(PAGERDUTY_MAX_EVENT_BYTES);
          }
        },
      ),
      {
        numRuns: RUNS,
        ...(process.env.PROPERTY_SEED ? { seed: Number(process.env.PROPERTY_SEED) } : {}),
      },
    );
  }, 120_000);
});
