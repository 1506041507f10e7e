// `npm start`: the pipeline running locally with no AWS account. The real handler, dynalite as DynamoDB, a
// loopback Secrets Manager, and the PagerDuty emulator; then an HTTP endpoint that takes your own messages.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { cloudWatchTopicFor, lambdaContext, metricAlarmMessage, snsEvent } from './alarm-fixtures';
import { CloudWatchFake } from './cloudwatch-fake';
import { createHandler } from '../lambda/handler';
import type { SweepSummary } from '../lambda/sweep';
import { CloudWatchAlarmReader } from '../lambda/sweep/cloudwatch';
import { converseAnswers, startBedrockEmulator, type BedrockEmulator } from './bedrock-emulator';
import { startDynalite } from './dynalite';
import { newRoutingKey, startPipeline, localStores } from './harness';
import { PagerDutyEmulator } from './pagerduty-emulator';
import { LocalSecretsStore } from './secrets-store';
import type { RecordOutcome } from '../lambda/handler';
import { parseCommandLine } from '../scripts/command-line';

const PORT = Number(process.env.PORT ?? 3000);
const quiet = process.env.LOCAL_VERBOSE_LOGS !== 'true';

const USAGE = `
The pipeline running locally with no AWS account: the real handler, dynalite as the ledger, a loopback Secrets
Manager and the PagerDuty emulator. Plays an alarm's ALARM → OK → duplicate OK, then an OK that is lost and the
reconciliation sweep that resolves its incident anyway (an in-process CloudWatch), then serves an HTTP endpoint
where you post your own messages (POST /publish) and read the emulator's incidents (GET /incidents).

Usage: npm start [-- --help]

Environment:
  PORT                         the endpoint's port (default 3000)
  PAGERDUTY_EMULATOR_PORT      the emulator's port (default: any free port)
  ENVIRONMENT                  the environment name in the events (default local)
  LOCAL_VERBOSE_LOGS=true      also print the handler's JSON logs and EMF metrics
  LOCAL_EXIT_AFTER_DEMO=true   stop after the demo instead of serving
  TRIAGE=suggest|apply         also run model triage against the local Bedrock Converse emulator (no real model):
                               its severity and note in custom_details (apply: also the severity)

Example:
  PORT=3001 npm start
  curl -s -X POST http://127.0.0.1:3001/publish -H 'x-sns-subject: test' --data-binary @examples/metric-alarm.json
`;

function say(line = ''): void {
  process.stderr.write(`${line}\n`);
}

async function main(): Promise<void> {
  parseCommandLine(USAGE, {});
  // The handler's JSON logs and EMF lines go to stdout; keep them unless asked to be quiet, so the demo reads well.
  if (quiet) silenceHandlerOutput();
  const dynamo = await startDynalite();
  const secrets = await LocalSecretsStore.start({});
  const emulator = await PagerDutyEmulator.start({ port: Number(process.env.PAGERDUTY_EMULATOR_PORT ?? 0) });
  const bedrock = await startTriageEmulator();
  const pipeline = await startPipeline({
    stores: localStores(dynamo.endpoint, secrets),
    pagerDutyUrl: emulator.url,
    routingKeys: { default: newRoutingKey() },
    env: { ENVIRONMENT: process.env.ENVIRONMENT ?? 'local', ...(bedrock?.env ?? {}) },
  });

  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/incidents') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify(emulator.incidents(), null, 2));
    }
    if (req.method !== 'POST' || !req.url?.startsWith('/publish')) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      return res.end('POST /publish with an alarm message (or any text) as the body; GET /incidents\n');
    }
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const subject = req.headers['x-sns-subject'];
      const topic = req.headers['x-sns-topic-arn'];
      const accepted = emulator.accepted.length;
      const shape = {
        subject: typeof subject === 'string' ? subject : undefined,
        topicArn: typeof topic === 'string' ? topic : cloudWatchTopicFor(body),
      };
      pipeline
        .handler(snsEvent([body], shape), lambdaContext())
        .then((outcomes) => ({ status: 200, outcomes, meaning: outcomes.map((o) => meaning(o, body)) }))
        .catch((error: unknown) => ({
          status: 502,
          error: error instanceof Error ? error.message : String(error),
        }))
        .then((result) => {
          const received = emulator.accepted.slice(accepted);
          for (const event of received) say(`  PagerDuty received: ${describeEvent(event)}`);
          res.writeHead(result.status, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ ...result, pagerDutyReceived: received }, null, 2) + '\n');
        })
        // A reply that cannot be written must not become an unhandled rejection, which would stop the server.
        .catch((error: unknown) => {
          say(`  could not answer the request: ${error instanceof Error ? error.message : String(error)}`);
          if (!res.headersSent) res.writeHead(500);
          res.end();
        });
    });
  });
  // Bound before the demo runs, so a taken port stops it at once with what to do instead.
  await listen(server, PORT);

  say('Local pipeline: real handler · dynalite ledger · loopback Secrets Manager · PagerDuty emulator');
  say(`  PagerDuty emulator  ${emulator.url}`);
  say(`  ledger table        ${pipeline.tableName} (dynalite ${dynamo.endpoint})`);
  if (bedrock)
    say(`  Bedrock emulator    ${bedrock.emulator.url} (TRIAGE_SEVERITY=${bedrock.env.TRIAGE_SEVERITY})`);
  say();

  const name = 'example-checkout-5xx';
  const dedupKey = `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`;
  // The alarm went to ALARM three minutes ago and back to OK one minute ago; SNS stamps each message just after
  // the state change it carries, as it does in AWS (a later state change time would be capped as forged).
  const start = Date.now() - 180_000;
  const notification = (state: 'ALARM' | 'OK', offsetMs: number) =>
    snsEvent([metricAlarmMessage({ alarmName: name, state, stateChangeMs: start + offsetMs })], {
      timestamp: new Date(start + offsetMs + 500).toISOString(),
    });
  const ok = notification('OK', 120_000);
  for (const [state, event] of [
    ['ALARM', notification('ALARM', 0)],
    ['OK', ok],
  ] as const) {
    say(`▶ CloudWatch: ${name} → ${state}`);
    const before = emulator.accepted.length;
    await pipeline.handler(event, lambdaContext());
    for (const event of emulator.accepted.slice(before)) {
      say(`  PagerDuty received: ${describeEvent(event)}`);
      const triage = triageOf(event);
      if (triage) say(`  model triage: ${triage}`);
    }
    for (const incident of emulator.incidents({ dedupKey })) {
      say(`  incident ${incident.id}: ${incident.status} (${incident.alertCount} alert(s))`);
    }
    const item = await pipeline.readLedger(dedupKey);
    say(
      `  ledger: ${item?.action} at ${new Date(item?.stateChangeMs ?? 0).toISOString()}, delivered=${item?.delivered}`,
    );
    say();
  }

  say('▶ The same OK delivered again (SNS delivers at least once):');
  const before = emulator.requests.length;
  await pipeline.handler(ok, lambdaContext());
  say(`  PagerDuty requests made: ${emulator.requests.length - before} (a duplicate is a no-op)`);
  say();

  await lostOkDemo(pipeline, emulator);
  const { port } = server.address() as AddressInfo;
  say(`Listening: post your own alarm messages and watch them become PagerDuty events:`);
  say(
    `  curl -s -X POST http://127.0.0.1:${port}/publish -H 'x-sns-subject: test' --data-binary @examples/metric-alarm.json`,
  );
  say(`  curl -s http://127.0.0.1:${port}/incidents`);
  say('Ctrl-C to stop.');

  const stop = async () => {
    server.close();
    await bedrock?.emulator.close();
    await emulator.stop();
    await secrets.stop();
    await dynamo.stop();
    process.exit(0);
  };
  // A signal listener's returned promise is dropped: catch here, or a failed shutdown would go unreported.
  const onSignal = () =>
    void stop().catch((error: unknown) => {
      say(`stopping failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    });
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  if (process.env.LOCAL_EXIT_AFTER_DEMO === 'true') await stop();
}

/** Listens on 127.0.0.1:port; a taken port ends the process with a one-line hint instead of a stack trace. */
async function listen(server: Server, port: number): Promise<void> {
  await new Promise<void>((resolve) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EADDRINUSE') throw error;
      say(
        `npm start: port ${port} is taken (another npm start still running?). Choose another: PORT=3001 npm start`,
      );
      process.exit(1);
    });
    server.listen(port, '127.0.0.1', resolve);
  });
}

/** What one record's outcome means, in words, for the person who posted it. */
function meaning(outcome: RecordOutcome, body: string): string {
  if (outcome.outcome === 'skipped') return `not sent: ${outcome.reason}`;
  const asked = /"NewStateValue"\s*:\s*"(ALARM|OK)"/.exec(body)?.[1];
  const askedAction = asked === 'ALARM' ? 'trigger' : asked === 'OK' ? 'resolve' : undefined;
  if (askedAction !== undefined && askedAction !== outcome.action) {
    return (
      `this ${asked} is older than the alarm's newest state in the ledger (${outcome.action}), so its ${askedAction} ` +
      `was not sent; the newest state's ${outcome.action} was sent again (compensations: ${outcome.compensations}), ` +
      'in case an earlier delivery of this older notification reached PagerDuty after it. PagerDuty ignores a ' +
      `repeated ${outcome.action}, so the incident stays as it was.`
    );
  }
  if (outcome.compensations > 0) {
    return (
      `${outcome.action} sent, then the newest state sent again ${outcome.compensations} time(s): a newer ` +
      'change arrived while this one was being sent.'
    );
  }
  return `${outcome.action} sent to route ${outcome.route} (dedup key ${outcome.dedupKey})`;
}

/** An OK that never reaches the pipeline, and the next sweep, which reads CloudWatch's state and resolves anyway. */
async function lostOkDemo(
  pipeline: Awaited<ReturnType<typeof startPipeline>>,
  emulator: PagerDutyEmulator,
): Promise<void> {
  // The demo has no AWS: CloudWatch is the in-process fake, read through the sweep's real reader.
  const cloudWatch = new CloudWatchFake(Date.now);
  const sweeper = createHandler(
    {
      ...pipeline.env,
      RECONCILE_SOURCES: JSON.stringify([
        { region: cloudWatch.region, accountId: cloudWatch.accountId, topicArns: [] },
      ]),
    },
    { readerFor: () => new CloudWatchAlarmReader(cloudWatch as unknown as CloudWatchClient) },
  );
  const name = 'example-queue-age';
  const dedupKey = cloudWatch.arnOf(name);
  const show = () => {
    for (const incident of emulator.incidents({ dedupKey })) {
      say(`  incident ${incident.id}: ${incident.status} (${incident.alertCount} alert(s))`);
    }
  };
  cloudWatch.putMetricAlarm(name, { state: 'OK' });
  const alarm = cloudWatch.setState(name, 'ALARM')!;
  say(`▶ CloudWatch: ${name} → ALARM`);
  const message = metricAlarmMessage({ alarmName: name, state: 'ALARM', stateChangeMs: alarm.atMs });
  await pipeline.handler(
    snsEvent([message], { timestamp: new Date(alarm.atMs + 40).toISOString() }),
    lambdaContext(),
  );
  show();
  await new Promise((resolve) => setTimeout(resolve, 5));
  cloudWatch.setState(name, 'OK');
  say(`▶ CloudWatch: ${name} → OK, but the notification is lost (say, a deleted SNS subscription)`);
  show();
  say('▶ The next reconciliation sweep (an EventBridge schedule) reads the alarm states from CloudWatch:');
  const before = emulator.accepted.length;
  await new Promise((resolve) => setTimeout(resolve, 5));
  const summary = (await sweeper(
    { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} },
    lambdaContext(),
  )) as SweepSummary;
  say(
    `  sweep: ${summary.openIncidentsChecked} open incident(s) checked, ${summary.resolvedOk} resolved (OK)`,
  );
  for (const event of emulator.accepted.slice(before)) say(`  PagerDuty received: ${describeEvent(event)}`);
  show();
  say();
}

function describeEvent(event: unknown): string {
  const e = event as {
    event_action?: string;
    dedup_key?: string;
    payload?: { summary?: string; severity?: string };
  };
  const summary = e.payload?.summary ? ` "${e.payload.summary}"` : '';
  const severity = e.payload?.severity ? ` [${e.payload.severity}]` : '';
  return `${e.event_action}${severity}${summary} (dedup_key ${e.dedup_key})`;
}

/** With TRIAGE set: the Converse emulator, answering as a model would, and the handler's TRIAGE_* environment. */
async function startTriageEmulator(): Promise<
  { emulator: BedrockEmulator; env: Record<string, string> } | undefined
> {
  const mode = process.env.TRIAGE;
  if (mode === undefined || mode === '') return undefined;
  const emulator = await startBedrockEmulator({
    behaviour: converseAnswers.toolUse({
      severity: 'error',
      confidence: 0.8,
      note: 'Checkout 5xx alone, no other alarm open in this account and Region: look at the latest deploy first.',
    }),
  });
  return {
    emulator,
    env: {
      TRIAGE_MODEL_ID: 'amazon.nova-micro-v1:0',
      TRIAGE_SEVERITY: mode === 'apply' ? 'apply' : 'suggest',
      AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulator.url,
    },
  };
}

function triageOf(event: unknown): string | undefined {
  const triage = (event as { payload?: { custom_details?: { triage?: DemoTriage } } }).payload?.custom_details
    ?.triage;
  if (!triage) return undefined;
  const applied = triage.applied === undefined ? '' : `, applied=${triage.applied}`;
  return `${triage.severity} (confidence ${triage.confidence}${applied}) by ${triage.model}: ${triage.note}`;
}

interface DemoTriage {
  readonly severity: string;
  readonly confidence: number;
  readonly note: string;
  readonly model: string;
  readonly applied?: boolean;
}

function silenceHandlerOutput(): void {
  process.stdout.write = () => true;
}

main().catch((error: unknown) => {
  say(`npm start failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
