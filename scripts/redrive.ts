// Replays the parked queue (or any queue of dead letters) through the handler: `npx alarm-to-pagerduty redrive --help`
// says how.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import type { SNSEvent, SNSEventRecord } from 'aws-lambda';
import { parseCommandLine, usageError } from './command-line';
import { requireOutput, stackOutputs } from './stack-outputs';

export type Replay = (event: SNSEvent) => Promise<void>;

export interface RedriveOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly replay: Replay;
  readonly dryRun?: boolean;
  /** Stop after this many messages. */
  readonly max?: number;
  readonly log?: (line: string) => void;
}

export interface RedriveSummary {
  readonly received: number;
  readonly replayed: number;
  readonly deleted: number;
  readonly failed: number;
  readonly unreadable: number;
  /** Why each failed or unreadable message stayed in the queue. */
  readonly kept: readonly { readonly messageId: string; readonly reason: string }[];
}

/** The SNS event inside a dead-letter message, whichever way it got there; undefined when there is none. */
export function snsEventFromDeadLetter(body: string): SNSEvent | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!isObject(parsed)) return undefined;
  // A Lambda on-failure destination record: the original event is the request payload.
  if (isObject(parsed.requestPayload) && Array.isArray(parsed.requestPayload.Records)) {
    return parsed.requestPayload as unknown as SNSEvent;
  }
  // The raw event (a function DLQ keeps the event itself).
  if (Array.isArray(parsed.Records)) return parsed as unknown as SNSEvent;
  // An SNS subscription DLQ keeps the notification as SNS would have delivered it.
  if (parsed.Type === 'Notification' && typeof parsed.Message === 'string') {
    const record: SNSEventRecord = {
      EventSource: 'aws:sns',
      EventVersion: '1.0',
      EventSubscriptionArn: text(parsed.TopicArn),
      Sns: {
        Type: 'Notification',
        MessageId: text(parsed.MessageId),
        TopicArn: text(parsed.TopicArn),
        Subject: typeof parsed.Subject === 'string' ? parsed.Subject : undefined,
        Message: parsed.Message,
        Timestamp: text(parsed.Timestamp, new Date().toISOString()),
        SignatureVersion: text(parsed.SignatureVersion, '1'),
        Signature: text(parsed.Signature),
        SigningCertUrl: text(parsed.SigningCertURL ?? parsed.SigningCertUrl),
        UnsubscribeUrl: text(parsed.UnsubscribeURL ?? parsed.UnsubscribeUrl),
        MessageAttributes: {},
      },
    };
    return { Records: [record] };
  }
  return undefined;
}

export async function redrive(options: RedriveOptions): Promise<RedriveSummary> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const max = options.max ?? Number.POSITIVE_INFINITY;
  const kept: { messageId: string; reason: string }[] = [];
  let received = 0;
  let replayed = 0;
  let deleted = 0;
  let failed = 0;
  let unreadable = 0;
  const seen = new Set<string>();
  let idleReceives = 0;
  // Messages left in the queue are made visible again at the end, so the next run (or a person) sees them.
  const release: string[] = [];

  while (received < max) {
    const batch = await options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: options.queueUrl,
        MaxNumberOfMessages: Math.min(10, max - received),
        WaitTimeSeconds: 1,
        // Long enough to replay; a message we keep becomes visible again for the next run.
        VisibilityTimeout: 120,
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = (batch.Messages ?? []).filter((m) => !seen.has(m.MessageId ?? ''));
    // SQS may answer a receive with nothing, or with messages already handled, while others remain: stop only
    // after several receives in a row bring nothing new.
    if (messages.length === 0) {
      if (++idleReceives >= 3) break;
      continue;
    }
    idleReceives = 0;
    for (const message of messages) {
      seen.add(message.MessageId ?? '');
      received++;
      const id = message.MessageId ?? '?';
      const event = snsEventFromDeadLetter(message.Body ?? '');
      if (!event) {
        unreadable++;
        kept.push({ messageId: id, reason: 'no SNS event inside (left in the queue for a person to read)' });
        log(`✗ ${id}: unreadable, kept`);
        release.push(message.ReceiptHandle ?? '');
        continue;
      }
      const what = describe(event, message);
      if (options.dryRun) {
        log(`· ${id}: would replay ${what}`);
        release.push(message.ReceiptHandle ?? '');
        continue;
      }
      try {
        await options.replay(event);
        replayed++;
        await options.sqs.send(
          new DeleteMessageCommand({ QueueUrl: options.queueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
        deleted++;
        log(`✓ ${id}: replayed ${what}, deleted`);
      } catch (error) {
        failed++;
        const reason = error instanceof Error ? error.message : String(error);
        kept.push({ messageId: id, reason });
        log(`✗ ${id}: ${what} failed again, kept: ${reason}`);
        release.push(message.ReceiptHandle ?? '');
      }
    }
  }
  for (const receiptHandle of release) {
    // A receipt older than the visibility timeout is no longer valid; that message is visible again anyway.
    await options.sqs
      .send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: options.queueUrl,
          ReceiptHandle: receiptHandle,
          VisibilityTimeout: 0,
        }),
      )
      .catch(() => undefined);
  }
  return { received, replayed, deleted, failed, unreadable, kept };
}

function describe(event: SNSEvent, message: Message): string {
  const names = event.Records.map((record) => {
    try {
      const alarm = JSON.parse(record.Sns.Message) as { AlarmName?: string; NewStateValue?: string };
      return alarm.AlarmName ? `${alarm.AlarmName} → ${alarm.NewStateValue}` : 'a non-alarm message';
    } catch {
      return 'a non-alarm message';
    }
  });
  const reason = message.MessageAttributes?.ErrorMessage?.StringValue;
  return `${names.join(', ')}${reason ? ` (first failure: ${reason})` : ''}`;
}

/** A field SNS always writes as a string; anything else (a hand-edited or foreign message) reads as the fallback. */
function text(value: unknown, fallback = ''): string {
  return typeof value === 'string' ? value : fallback;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Re-invokes the deployed function synchronously; a function error means the replay failed. */
export function lambdaReplay(functionName: string, client = new LambdaClient({})): Replay {
  return async (event) => {
    const response = await client.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'RequestResponse',
        Payload: Buffer.from(JSON.stringify(event)),
      }),
    );
    if (response.FunctionError) {
      const payload = response.Payload ? Buffer.from(response.Payload).toString('utf8') : '';
      throw new Error(`${response.FunctionError}: ${payload.slice(0, 500)}`);
    }
  };
}

export const REDRIVE_USAGE = `
Replays the parked queue (or any queue of dead letters) through the handler. A message is deleted only when its
replay succeeded; replays are idempotent (the ledger turns an already-delivered notification into a no-op).

Usage: npx alarm-to-pagerduty redrive (--stack <stack> | --queue <url> (--function <name> | --in-process))
                                      [--dry-run] [--max N]

  --stack <name>      read the queue (output ParkedQueueUrl, or a regional intake's DeadLetterQueueUrl) and,
                      without --function, the function (output FunctionName) from this stack's outputs, in the
                      environment's region
  --queue <url>       the queue to replay
  --function <name>   re-invoke the deployed function (name or ARN) with each original SNS event; each client
                      takes the region of its queue or function ARN
  --in-process        run the handler here, with this shell's environment (LEDGER_TABLE_NAME, ROUTING_KEY_SECRETS…)
  --dry-run           list what would be replayed, change nothing
  --max <N>           stop after N messages
  -h, --help          print this help

AWS credentials (and the region, unless the URL or ARN says it) come from the environment. In a clone of the
repository, \`npm run redrive -- <options>\` runs the same.

Example:
  npx alarm-to-pagerduty redrive --stack AlarmToPagerDuty --dry-run
`;

function positiveInteger(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    usageError(REDRIVE_USAGE, `--max must be a whole number of messages, at least 1 (got "${text}")`);
  }
  return value;
}

/** The handler for --in-process: the prebuilt bundle beside the packaged CLI, else the source (this repository). */
async function inProcessHandler(): Promise<(event: SNSEvent) => Promise<unknown>> {
  const bundled = path.join(__dirname, '..', 'handler', 'index.mjs');
  // A computed specifier, so the CLI's bundle does not take in the handler it can load from beside itself.
  const specifier = fs.existsSync(bundled) ? pathToFileURL(bundled).href : '../lambda/handler';
  const { createHandler } = (await import(specifier)) as typeof import('../lambda/handler');
  return createHandler(process.env);
}

/** `redrive <args>`: parses, finds the stack's outputs if asked, replays; resolves with the exit code. */
export async function redriveCommand(args: string[]): Promise<number> {
  const values = parseCommandLine(
    REDRIVE_USAGE,
    {
      stack: { type: 'string' },
      queue: { type: 'string' },
      function: { type: 'string' },
      'in-process': { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      max: { type: 'string' },
    },
    args,
  );
  if (!values.stack && !values.queue)
    usageError(REDRIVE_USAGE, 'Missing --queue <url> (or --stack <stack>).');
  if (!values.stack && !values.function && !values['in-process'] && !values['dry-run']) {
    usageError(
      REDRIVE_USAGE,
      'Say how to replay: --function <name>, --in-process, or --dry-run to only look.',
    );
  }
  const max = values.max === undefined ? undefined : positiveInteger(values.max);
  let { queue, function: functionName } = values;
  if (values.stack) {
    const outputs = await stackOutputs(new CloudFormationClient({}), values.stack);
    queue ??= requireOutput(outputs, values.stack, ['ParkedQueueUrl', 'DeadLetterQueueUrl']);
    if (!values['in-process'] && !values['dry-run']) {
      functionName ??= requireOutput(outputs, values.stack, ['FunctionName']);
    }
  }
  let replay: Replay = () => Promise.resolve();
  // A regional intake's DLQ is in another region than the function: each client takes its resource's region.
  const functionRegion = /^arn:[^:]+:lambda:([^:]+):/.exec(functionName ?? '')?.[1];
  const queueRegion = /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com/.exec(queue!)?.[1];
  if (functionName) {
    replay = lambdaReplay(functionName, new LambdaClient(functionRegion ? { region: functionRegion } : {}));
  } else if (values['in-process']) {
    const handler = await inProcessHandler();
    replay = async (event) => void (await handler(event));
  }
  const summary = await redrive({
    sqs: new SQSClient(queueRegion ? { region: queueRegion } : {}),
    queueUrl: queue!,
    replay,
    dryRun: values['dry-run'],
    max,
  });
  process.stdout.write(
    `${summary.received} received, ${summary.replayed} replayed, ${summary.deleted} deleted, ` +
      `${summary.failed} failed, ${summary.unreadable} unreadable${values['dry-run'] ? ' (dry run)' : ''}\n`,
  );
  return summary.failed + summary.unreadable > 0 ? 1 : 0;
}
