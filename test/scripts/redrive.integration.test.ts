import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { lambdaContext, metricAlarmMessage, snsEvent } from '../../local/alarm-fixtures';
import { newRoutingKey, startPipeline, type LocalPipeline, motoStores } from '../../local/harness';
import { describeWithMoto, startMoto } from '../../local/moto';
import { PagerDutyEmulator } from '../../local/pagerduty-emulator';
import { redrive, snsEventFromDeadLetter } from '../../scripts/redrive';
import { captureStdout } from '../support/output';

const T0 = Date.parse('2026-11-23T03:00:00.000Z');

/** What Lambda's on-failure destination writes: the original event as requestPayload, plus the error. */
function onFailureRecord(event: unknown, errorMessage: string): string {
  return JSON.stringify({
    version: '1.0',
    timestamp: new Date().toISOString(),
    requestContext: {
      requestId: 'c1b2',
      functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:alarm-to-pagerduty:$LATEST',
      condition: 'RetriesExhausted',
      approximateInvokeCount: 3,
    },
    requestPayload: event,
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: { errorType: 'RecordsFailedError', errorMessage },
  });
}

/** What an SNS subscription DLQ keeps: the notification as SNS would have delivered it. */
function snsDeadLetter(message: Record<string, unknown>): string {
  return JSON.stringify({
    Type: 'Notification',
    MessageId: 'b6f5a6a4-0000-4000-8000-000000000001',
    TopicArn: 'arn:aws:sns:us-east-1:123456789012:alarm-to-pagerduty',
    Subject: 'ALARM: "orders-queue-age" in US East (N. Virginia)',
    Message: JSON.stringify(message),
    Timestamp: new Date().toISOString(),
    SignatureVersion: '1',
  });
}

describe('snsEventFromDeadLetter', () => {
  it('finds the event in an on-failure record, an SNS dead letter and a raw event; nothing in junk', () => {
    const event = snsEvent([metricAlarmMessage({ state: 'ALARM', stateChangeMs: T0 })]);
    expect(snsEventFromDeadLetter(onFailureRecord(event, 'x'))).toEqual(event);
    expect(snsEventFromDeadLetter(JSON.stringify(event))).toEqual(event);
    const fromSns = snsEventFromDeadLetter(snsDeadLetter({ AlarmName: 'a' }));
    expect(fromSns?.Records[0]?.Sns.Message).toBe('{"AlarmName":"a"}');
    expect(fromSns?.Records[0]?.Sns.Subject).toMatch(/^ALARM/);
    expect(snsEventFromDeadLetter('not json')).toBeUndefined();
    expect(snsEventFromDeadLetter('{"hello":1}')).toBeUndefined();
  });
});

describeWithMoto('redrive against moto_server SQS', () => {
  let moto: { endpoint: string; stop(): Promise<void> };
  let emulator: PagerDutyEmulator;
  let pipeline: LocalPipeline;
  let sqs: SQSClient;
  let queueUrl: string;
  let output: ReturnType<typeof captureStdout>;

  beforeAll(async () => {
    moto = await startMoto();
    emulator = await PagerDutyEmulator.start();
    sqs = new SQSClient({
      region: 'us-east-1',
      endpoint: moto.endpoint,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
  });
  afterAll(async () => {
    sqs?.destroy();
    await emulator?.stop();
    await moto?.stop();
  });
  beforeEach(async () => {
    emulator.reset();
    pipeline = await startPipeline({
      stores: motoStores(moto.endpoint),
      pagerDutyUrl: emulator.url,
      routingKeys: { default: newRoutingKey() },
    });
    const created = await sqs.send(
      new CreateQueueCommand({ QueueName: `dlq-${Date.now()}-${(Math.random() * 1e6) | 0}` }),
    );
    queueUrl = created.QueueUrl!;
    output = captureStdout();
  });
  afterEach(() => output.restore());

  const depth = async () => {
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return (
      Number(attributes.Attributes?.ApproximateNumberOfMessages) +
      Number(attributes.Attributes?.ApproximateNumberOfMessagesNotVisible)
    );
  };
  const replay = async (event: Parameters<LocalPipeline['handler']>[0]) => {
    await pipeline.handler(event, lambdaContext());
  };

  it('replays both kinds of dead letter, deletes what was delivered, and pages nothing twice', async () => {
    const failed = snsEvent([
      metricAlarmMessage({ alarmName: 'checkout-api-5xx', state: 'ALARM', stateChangeMs: T0 }),
    ]);
    await sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: onFailureRecord(failed, 'HTTP 503') }),
    );
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: snsDeadLetter(
          metricAlarmMessage({ alarmName: 'orders-queue-age', state: 'ALARM', stateChangeMs: T0 }),
        ),
      }),
    );
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'garbage that is no event' }));

    const dry = await redrive({ sqs, queueUrl, replay, dryRun: true, log: () => undefined });
    expect(dry).toMatchObject({ received: 3, replayed: 0, deleted: 0 });
    expect(emulator.requests).toHaveLength(0);

    expect(await depth()).toBe(3);

    const summary = await redrive({ sqs, queueUrl, replay, log: () => undefined });
    expect(summary).toMatchObject({ received: 3, replayed: 2, deleted: 2, failed: 0, unreadable: 1 });
    expect(
      emulator
        .openIncidents()
        .map((i) => i.dedupKey)
        .sort(),
    ).toEqual([
      'arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-api-5xx',
      'arn:aws:cloudwatch:us-east-1:123456789012:alarm:orders-queue-age',
    ]);
    // Only the unreadable message is left, visible again for a person to read.
    expect(await depth()).toBe(1);

    // Replaying a notification that was already delivered does not page again.
    const requestsBefore = emulator.requests.length;
    await sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: onFailureRecord(failed, 'again') }),
    );
    const again = await redrive({ sqs, queueUrl, replay, log: () => undefined });
    expect(again).toMatchObject({ replayed: 1, deleted: 1 });
    expect(emulator.requests.length).toBe(requestsBefore);
  });

  it('keeps a message whose replay fails again, with the reason, and honours --max', async () => {
    for (let i = 0; i < 3; i++) {
      const event = snsEvent([metricAlarmMessage({ alarmName: `a${i}`, state: 'ALARM', stateChangeMs: T0 })]);
      await sqs.send(
        new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: onFailureRecord(event, 'x') }),
      );
    }
    emulator.failAlways({ status: 400 });
    const summary = await redrive({ sqs, queueUrl, replay, max: 2, log: () => undefined });
    expect(summary).toMatchObject({ received: 2, replayed: 0, deleted: 0, failed: 2 });
    expect(summary.kept[0]?.reason).toMatch(/HTTP 400/);
    expect(await depth()).toBe(3);

    emulator.clearFaults();
    const retry = await redrive({ sqs, queueUrl, replay, log: () => undefined });
    expect(retry).toMatchObject({ received: 3, deleted: 3, failed: 0 });
    expect(emulator.openIncidents()).toHaveLength(3);
    expect(await depth()).toBe(0);
  });
});
