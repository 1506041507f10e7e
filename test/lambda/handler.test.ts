// The handler's runtime contract, in process: every event shape it can be invoked with, dead letters from the
// retry queue, and timestamps from the future. The in-memory ledger and a scripted PagerDuty stand behind it.
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { metricAlarmMessage, snsEvent } from '../../local/alarm-fixtures';
import { createHandler, type ParkingLot } from '../../lambda/handler';
import { inProcessDeps, TEST_ENV } from '../support/in-process';
import { useLocalCredentials } from '../../local/harness';
import { SqsStandIn } from '../support/sqs-stand-in';

const NOW = Date.UTC(2026, 10, 29, 12);
const MINUTE = 60_000;
const ARN = 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-api-5xx';

function setup(env: Record<string, string> = {}) {
  const pipeline = inProcessDeps(env, NOW);
  const parked: { body: string; reason: string }[] = [];
  const parkingLot: ParkingLot = {
    park: async (body, reason) => {
      parked.push({ body, reason });
    },
  };
  const handler = createHandler({ ...TEST_ENV, ...env }, { deps: pipeline.deps, parkingLot });
  return { ...pipeline, handler, parked };
}

/** An alarm notification as SNS delivers it: stamped by SNS half a second after the state change. */
function notification(state: 'ALARM' | 'OK', stateChangeMs: number, snsMs = stateChangeMs + 500) {
  return snsEvent([metricAlarmMessage({ state, stateChangeMs })], {
    timestamp: new Date(snsMs).toISOString(),
  });
}

function sqsRecord(body: string, id: string, sentMs = NOW - MINUTE): SQSRecord {
  return {
    messageId: id,
    receiptHandle: `rh-${id}`,
    body,
    attributes: {
      ApproximateReceiveCount: '2',
      SentTimestamp: String(sentMs),
      SenderId: 'AIDA',
      ApproximateFirstReceiveTimestamp: String(sentMs),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:alarm-to-pagerduty-retry',
    awsRegion: 'us-east-1',
  };
}

function failureRecord(requestPayload: unknown): string {
  return JSON.stringify({
    version: '1.0',
    timestamp: new Date(NOW - 5 * MINUTE).toISOString(),
    requestContext: {
      requestId: 'e3b0c442',
      functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:alarm-to-pagerduty:$LATEST',
      condition: 'RetriesExhausted',
      approximateInvokeCount: 3,
    },
    requestPayload,
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: { errorType: 'RecordsFailedError', errorMessage: '1 of 1 record(s) not delivered' },
  });
}

describe('events of the wrong shape fail loudly, name the shape, and are counted', () => {
  const shapes: [string, unknown, RegExp][] = [
    ['an empty object', {}, /object with no keys/],
    ['Records: null', { Records: null }, /"Records" is null, not a list/],
    ['Records: a string', { Records: 'abc' }, /"Records" is the string "abc", not a list/],
    ['Records: an object', { Records: { Sns: {} } }, /"Records" is an object, not a list/],
    ['Records: empty', { Records: [] }, /"Records" list is empty/],
    ['S3 records', { Records: [{ eventSource: 'aws:s3', s3: {} }] }, /records come from aws:s3/],
    ['null', null, /the event is null/],
    ['a string', 'hello', /the event is the string "hello"/],
    ['a list', [1, 2], /the event is a list/],
    [
      'another EventBridge event',
      { 'detail-type': 'EC2 Instance State-change Notification', source: 'aws.ec2', detail: {} },
      /detail-type "EC2 Instance State-change Notification" from source "aws.ec2"/,
    ],
    [
      'an SNS record without Sns',
      { Records: [{ EventSource: 'aws:sns' }] },
      /SNS record 0 has no "Sns" object/,
    ],
    [
      'an SNS record without Message',
      {
        Records: [{ EventSource: 'aws:sns', Sns: { MessageId: 'm', Timestamp: '2026-11-29T12:00:00.000Z' } }],
      },
      /SNS record 0 has no "Sns.Message"/,
    ],
  ];

  it.each(shapes)('%s', async (_name, event, message) => {
    const { handler, telemetry, pagerDuty, logger } = setup();
    await expect(handler(event)).rejects.toThrow(message);
    expect(telemetry.get('MalformedEvents')).toBe(1);
    expect(pagerDuty.landed).toHaveLength(0);
    expect(logger.lines.some((line) => line.level === 'error')).toBe(true);
  });

  it('a message given as an object (a hand-made test event) is read as its JSON', async () => {
    const { handler, pagerDuty } = setup();
    const event = notification('ALARM', NOW - MINUTE);
    const record = event.Records[0]!;
    (record.Sns as { Message: unknown }).Message = JSON.parse(record.Sns.Message);
    await handler(event);
    expect(pagerDuty.actions()).toEqual(['trigger']);
    expect(pagerDuty.isOpen(ARN)).toBe(true);
  });

  it('says a failure is not retryable when no record can ever be delivered', async () => {
    const { handler } = setup();
    await expect(handler({ Records: [{ EventSource: 'aws:sns' }] })).rejects.toMatchObject({
      retryable: false,
    });
  });
});

describe('a timestamp from the future cannot take over its alarm', () => {
  it('a future OK is ordered at what SNS vouches for: the next real ALARM still pages', async () => {
    const { handler, pagerDuty, telemetry, logger } = setup();
    await handler(notification('ALARM', NOW - 10 * MINUTE));
    // A hand-written test publish with a mistyped year: SNS stamps it now.
    await handler(notification('OK', Date.UTC(2099, 0, 1), NOW - 5 * MINUTE));
    expect(telemetry.get('FutureTimestamps')).toBe(1);
    expect(logger.lines.some((line) => line.message.includes('later than SNS vouches for'))).toBe(true);
    expect(pagerDuty.isOpen(ARN)).toBe(false);
    await handler(notification('ALARM', NOW - MINUTE));
    expect(pagerDuty.actions()).toEqual(['trigger', 'resolve', 'trigger']);
    expect(pagerDuty.isOpen(ARN)).toBe(true);
  });

  it('a future ALARM does not keep the incident open: the next real OK resolves it', async () => {
    const { handler, pagerDuty } = setup();
    await handler(notification('ALARM', Date.UTC(2099, 0, 1), NOW - 5 * MINUTE));
    await handler(notification('OK', NOW - MINUTE));
    expect(pagerDuty.actions()).toEqual(['trigger', 'resolve']);
    expect(pagerDuty.isOpen(ARN)).toBe(false);
  });

  it('a real OK published 75 ms after a forged ALARM resolves on arrival, not a minute later', async () => {
    const { handler, pagerDuty } = setup();
    await handler(notification('ALARM', Date.UTC(2099, 0, 1), NOW - 100));
    await handler(notification('OK', NOW - 30, NOW - 25));
    expect(pagerDuty.actions()).toEqual(['trigger', 'resolve']);
    expect(pagerDuty.isOpen(ARN)).toBe(false);
  });

  it('an item already wedged by a future time heals on the next real change', async () => {
    const { handler, pagerDuty, ledger } = setup();
    await ledger.claim(
      {
        dedupKey: ARN,
        stateChangeMs: Date.UTC(2099, 0, 1),
        stateChangeTime: '2099-01-01T00:00:00.000+0000',
        action: 'resolve',
        route: 'default',
        alarmName: 'checkout-api-5xx',
        futureLimitMs: Number.MAX_SAFE_INTEGER,
      },
      NOW - 60 * MINUTE,
      NOW - 60 * MINUTE,
    );
    await ledger.settle(ARN, { stateChangeMs: Date.UTC(2099, 0, 1), action: 'resolve' }, NOW);
    await handler(notification('ALARM', NOW - MINUTE));
    expect(pagerDuty.actions()).toEqual(['trigger']);
    expect(pagerDuty.isOpen(ARN)).toBe(true);
    expect((await ledger.read(ARN))?.stateChangeMs).toBe(NOW - MINUTE);
  });

  it('a forged SNS timestamp (a hand-made invocation) is capped at the receive time, too', async () => {
    const { handler, pagerDuty, clock, ledger } = setup();
    await handler(notification('OK', Date.UTC(2099, 0, 1), Date.UTC(2099, 0, 1)));
    // MAX_CLOCK_SKEW_SECONDS defaults to 0: the cap is the receive time itself.
    expect((await ledger.read(ARN))?.stateChangeMs).toBe(NOW);
    clock.now = NOW + 5 * MINUTE;
    await handler(notification('ALARM', NOW + 4 * MINUTE));
    expect(pagerDuty.isOpen(ARN)).toBe(true);
  });
});

describe('dead letters from the retry queue', () => {
  it('delivers a Lambda on-failure record and an SNS subscription envelope, answering no failures', async () => {
    const { handler, pagerDuty, telemetry } = setup();
    const alarmEvent = notification('ALARM', NOW - 10 * MINUTE);
    const sns = notification('OK', NOW - 5 * MINUTE).Records[0]!.Sns;
    const envelope = JSON.stringify({
      Type: 'Notification',
      MessageId: sns.MessageId,
      TopicArn: sns.TopicArn,
      Subject: sns.Subject,
      Message: sns.Message,
      Timestamp: sns.Timestamp,
      SignatureVersion: '1',
    });
    const event: SQSEvent = { Records: [sqsRecord(failureRecord(alarmEvent), 'a')] };
    expect(await handler(event)).toEqual({ batchItemFailures: [] });
    expect(await handler({ Records: [sqsRecord(envelope, 'b')] })).toEqual({
      batchItemFailures: [],
    });
    expect(pagerDuty.actions()).toEqual(['trigger', 'resolve']);
    expect(telemetry.get('DeadLettersDelivered')).toBe(2);
  });

  it('a redriven older notification is a no-op after a newer one', async () => {
    const { handler, pagerDuty } = setup();
    await handler(notification('OK', NOW - 5 * MINUTE));
    const old = notification('OK', NOW - 10 * MINUTE);
    expect(await handler({ Records: [sqsRecord(failureRecord(old), 'a')] })).toEqual({
      batchItemFailures: [],
    });
    expect(pagerDuty.actions()).toEqual(['resolve']);
  });

  it('answers only the letters still failing, and never fails the whole batch for one', async () => {
    const { handler, pagerDuty, telemetry } = setup();
    pagerDuty.next({ kind: 'timeout', landsLater: false });
    const first = notification('ALARM', NOW - 10 * MINUTE);
    const other = snsEvent(
      [metricAlarmMessage({ state: 'ALARM', stateChangeMs: NOW - MINUTE, alarmName: 'db-cpu' })],
      {
        timestamp: new Date(NOW - MINUTE).toISOString(),
      },
    );
    const result = await handler({
      Records: [sqsRecord(failureRecord(first), 'fails'), sqsRecord(failureRecord(other), 'works')],
    });
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'fails' }] });
    expect(telemetry.get('DeadLettersRetried')).toBe(1);
    const single = await handler({ Records: [sqsRecord(failureRecord(first), 'again')] });
    expect(single).toEqual({ batchItemFailures: [] });
    expect(pagerDuty.isOpen(ARN)).toBe(true);
  });

  it('parks what retrying cannot fix, with its reason: a rejected event and an unreadable letter', async () => {
    const { handler, pagerDuty, parked, telemetry } = setup();
    pagerDuty.next({ kind: 'reject', status: 400 });
    const body = failureRecord(notification('ALARM', NOW - MINUTE));
    const result = await handler({
      Records: [sqsRecord(body, 'rejected'), sqsRecord('not json at all', 'unreadable')],
    });
    expect(result).toEqual({ batchItemFailures: [] });
    expect(parked).toHaveLength(2);
    const byBody = new Map(parked.map((p) => [p.body, p.reason]));
    expect(byBody.get(body)).toMatch(
      /Retrying cannot fix it: .*PagerDutyRejectedError: PagerDuty rejected the event with HTTP 400/,
    );
    expect(byBody.get('not json at all')).toMatch(/Unreadable letter: .*not JSON/);
    expect(telemetry.get('DeadLettersParked')).toBe(2);
  });

  it('parks a letter that is still failing after the retry window', async () => {
    const { handler, pagerDuty, parked } = setup({ RETRY_WINDOW_HOURS: '24' });
    pagerDuty.next({ kind: 'timeout', landsLater: false }, { kind: 'timeout', landsLater: false });
    const body = failureRecord(notification('ALARM', NOW - MINUTE));
    const young = await handler({ Records: [sqsRecord(body, 'young', NOW - 23 * 60 * MINUTE)] });
    expect(young).toEqual({ batchItemFailures: [{ itemIdentifier: 'young' }] });
    const old = await handler({ Records: [sqsRecord(body, 'old', NOW - 25 * 60 * MINUTE)] });
    expect(old).toEqual({ batchItemFailures: [] });
    expect(parked).toEqual([
      { body, reason: expect.stringMatching(/after the retry window \(RETRY_WINDOW_HOURS=24\)/) },
    ]);
  });

  it('without PARKED_QUEUE_URL, a letter that cannot be delivered stays in the retry queue', async () => {
    const pipeline = inProcessDeps({}, NOW);
    const handler = createHandler(TEST_ENV, { deps: pipeline.deps });
    const result = await handler({
      Records: [sqsRecord('{"neither": "event nor letter"}', 'x')],
    });
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'x' }] });
  });

  it('a letter holding another batch of letters is parked, not looped', async () => {
    const { handler, parked } = setup();
    const nested = JSON.stringify({ Records: [sqsRecord('{}', 'inner')] });
    expect(await handler({ Records: [sqsRecord(nested, 'outer')] })).toEqual({
      batchItemFailures: [],
    });
    expect(parked[0]?.reason).toMatch(/another batch of dead letters/);
  });
});

describe('events and letters with nothing to deliver', () => {
  const configurationChange = (operation: string, extra: Record<string, unknown> = {}) => ({
    version: '0',
    id: 'c-1',
    'detail-type': 'CloudWatch Alarm Configuration Change',
    source: 'aws.cloudwatch',
    account: '123456789012',
    time: new Date(NOW).toISOString(),
    region: 'us-east-1',
    resources: [ARN],
    detail: { alarmName: 'checkout-api-5xx', operation },
    ...extra,
  });

  it('an alarm created or updated, or a deletion without its ARN, pages nothing and says why', async () => {
    const { handler, pagerDuty, logger, telemetry } = setup();
    expect(await handler(configurationChange('create'))).toEqual([]);
    expect(await handler(configurationChange('update'))).toEqual([]);
    expect(await handler(configurationChange('delete', { resources: [] }))).toEqual([]);
    expect(pagerDuty.landed).toEqual([]);
    expect(telemetry.get('MalformedEvents')).toBe(0);
    expect(
      logger.lines.filter((l) => l.message === 'Nothing to do for this event').map((l) => l.extra),
    ).toEqual([
      { why: 'an alarm configuration change (create)' },
      { why: 'an alarm configuration change (update)' },
      { why: 'an alarm deletion without an alarm ARN or a time: the sweep resolves it' },
    ]);
  });

  it('a parked schedule is stale: the letter is done without a sweep', async () => {
    const { handler, pagerDuty, telemetry } = setup();
    const schedule = { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} };
    expect(await handler({ Records: [sqsRecord(failureRecord(schedule), 's')] })).toEqual({
      batchItemFailures: [],
    });
    expect(pagerDuty.landed).toEqual([]);
    expect(telemetry.get('DeadLettersDelivered')).toBe(1);
  });

  it('a failure record inside a failure record is parked as a nested batch, not run again', async () => {
    const { handler, parked, pagerDuty } = setup();
    const inner = failureRecord(notification('ALARM', NOW - MINUTE));
    const body = failureRecord(JSON.parse(inner) as unknown);
    expect(await handler({ Records: [sqsRecord(body, 'n')] })).toEqual({ batchItemFailures: [] });
    expect(parked).toEqual([
      {
        body,
        reason: expect.stringMatching(/^Retrying cannot fix it: .*another batch of dead letters/) as string,
      },
    ]);
    expect(pagerDuty.landed).toEqual([]);
  });
});

describe('PARKED_QUEUE_URL: letters retrying cannot fix go to the parked SQS queue, with their reason', () => {
  let sqs: SqsStandIn;
  beforeAll(async () => {
    useLocalCredentials();
    sqs = await SqsStandIn.start();
  });
  afterAll(() => sqs.stop());

  it('sends each unfixable letter, body as received, to the queue through the SQS API', async () => {
    const queueUrl = `${sqs.url}/123456789012/alarm-to-pagerduty-parked`;
    const env = { PARKED_QUEUE_URL: queueUrl, AWS_ENDPOINT_URL_SQS: sqs.url };
    const pipeline = inProcessDeps(env, NOW);
    const handler = createHandler({ ...TEST_ENV, ...env }, { deps: pipeline.deps });
    const result = await handler({
      Records: [sqsRecord('', 'empty'), sqsRecord('[1, 2]', 'array'), sqsRecord('not json', 'text')],
    });
    expect(result).toEqual({ batchItemFailures: [] });
    const reason = (m: { attributes: Record<string, { StringValue?: string }> }) =>
      m.attributes.reason?.StringValue;
    // The batch's letters run side by side: compare in body order.
    const sent = sqs.sent
      .map((m) => [m.queueUrl, m.body, reason(m)])
      .sort((x, y) => (x[1]! < y[1]! ? -1 : 1));
    expect(sent).toEqual([
      [queueUrl, '', 'Unreadable letter: the SQS message has no body'],
      [queueUrl, '[1, 2]', 'Unreadable letter: the SQS message body is JSON but not an object'],
      [
        queueUrl,
        'not json',
        'Unreadable letter: the SQS message body is not JSON, so it is no dead letter of this pipeline',
      ],
    ]);
    expect(pipeline.telemetry.get('DeadLettersParked')).toBe(3);
  });
});

describe('a route removed while an incident is open on it', () => {
  it("sends the resolve to the default route and says, as an error, that the old route's incident may stay open", async () => {
    const { ledger, pagerDuty, logger, deps } = setup();
    const onPayments = (state: 'ALARM' | 'OK', at: number) =>
      snsEvent([metricAlarmMessage({ state, stateChangeMs: at, tags: { 'pagerduty:route': 'payments' } })], {
        timestamp: new Date(at + 500).toISOString(),
      });
    await createHandler(TEST_ENV, { deps })(onPayments('ALARM', NOW - MINUTE));
    expect(pagerDuty.landed.map((l) => l.routingKey)).toEqual(['p'.repeat(32)]);
    expect((await ledger.read(ARN))?.openRoute).toBe('payments');

    // Redeployed without the payments route: its key is gone.
    const withoutPayments = {
      ...deps,
      routingKeys: {
        routes: ['default'],
        has: (route: string) => route === 'default',
        keyFor: async () => 'k'.repeat(32),
      },
    };
    await createHandler(TEST_ENV, { deps: withoutPayments })(onPayments('OK', NOW));
    expect(pagerDuty.landed.map((l) => [l.event.event_action, l.routingKey])).toEqual([
      ['trigger', 'p'.repeat(32)],
      ['resolve', 'k'.repeat(32)],
    ]);
    const said = logger.lines.find((line) =>
      line.message.startsWith('Route "payments" is no longer configured'),
    );
    expect(said).toMatchObject({ level: 'error' });
    expect(said!.message).toContain("may stay open in that route's PagerDuty service");
  });
});
