// `npx tsx bench/warm-parts.ts`: the warm path's own steps, one at a time, in µs per notification (median of 7
// runs of 2,000 after a warm-up): parse, plan (with the event), the log line, the metrics and their EMF lines, and
// the ledger items' marshalling. What the pipeline does on top of the protocol floor, apart from its I/O.
import { marshall } from '@aws-sdk/util-dynamodb';
import { metricAlarmMessage, snsEvent } from '../local/alarm-fixtures';
import { parseNotification } from '../lambda/messages/parse-notification';
import { planRecord } from '../lambda/pipeline/plan';
import { loadConfig } from '../lambda/pipeline/config';
import { logger, metrics, powertoolsTelemetry, publishMetrics, RecordLog } from '../lambda/shared/telemetry';

const RUNS = 7;
const N = 2000;
process.stdout.write = () => true;

function time(what: string, step: (i: number) => unknown): void {
  for (let i = 0; i < N; i++) step(i);
  const runs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const started = process.cpuUsage();
    for (let i = 0; i < N; i++) step(i);
    const used = process.cpuUsage(started);
    runs.push((used.user + used.system) / N);
  }
  runs.sort((a, b) => a - b);
  process.stderr.write(`${runs[RUNS >> 1]!.toFixed(1).padStart(7)} µs  ${what}\n`);
}

const config = loadConfig({
  LEDGER_TABLE_NAME: 'ledger',
  ROUTING_KEY_SECRETS: '{"default":"pd/default"}',
  PAGERDUTY_EVENTS_URL: 'https://events.pagerduty.com',
});
const base = Date.parse('2026-11-23T06:00:00.000Z');
const sns = Array.from({ length: N }, (_, n) => {
  const record = snsEvent([
    metricAlarmMessage({ alarmName: `warm-${n}`, state: 'ALARM', stateChangeMs: base + n }),
  ]).Records[0]!.Sns;
  return {
    messageId: record.MessageId,
    topicArn: record.TopicArn,
    subject: record.Subject,
    timestamp: record.Timestamp,
    message: record.Message,
  };
});
const notifications = sns.map((envelope) => parseNotification(envelope));
const context = { config, declared: {}, knownRoutes: ['default'], nowMs: base + 60_000 };
const plans = notifications.map((notification) => planRecord({ notification }, context));
const telemetry = powertoolsTelemetry();

time('parse the SNS message (JSON.parse, the fields, the condition, bounds)', (i) =>
  parseNotification(sns[i]!),
);
time('plan: settings, decision, dedup key, the event (summary, details, links, limits)', (i) =>
  planRecord({ notification: notifications[i]! }, context),
);
time('the log line (Powertools Logger, one "Delivered" line with the record keys)', (i) => {
  const log = new RecordLog(logger);
  const plan = plans[i]!;
  log.appendKeys({ messageId: 'm', intake: 'sns', ...plan.logKeys });
  log.info('Delivered to PagerDuty', { outcome: 'sent', sendRoute: 'default', compensations: 0 });
});
time('metrics: EventsSent (two dimension sets), DeliveryLatency, and the EMF lines', () => {
  telemetry.sent('trigger');
  telemetry.latency(120);
  publishMetrics();
});
time('the claim item marshalled (the trigger event as stored)', (i) => {
  const plan = plans[i]!;
  if (plan.kind === 'send') marshall({ ...plan.claim }, { removeUndefinedValues: true });
});
void metrics;
