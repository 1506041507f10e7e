// Table-driven: every file in test/corpus is a real-shaped SNS record and the key fields of what it must become.
import { TEST_ROOT } from '../../support/paths';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseNotification } from '../../../lambda/messages/parse-notification';
import { parseTimestamp } from '../../../lambda/shared/timestamp';
import { parseDeclaredSettings } from '../../../lambda/pipeline/alarm-settings';
import type { Severity, SnsEnvelope } from '../../../lambda/messages/notification';
import { MAX_SUMMARY_LENGTH } from '../../../lambda/pagerduty/limits';
import { planRecord } from '../../../lambda/pipeline/plan';
import { enqueueSchemaErrors, PAGERDUTY_MAX_EVENT_BYTES, sentBytes } from '../../support/enqueue-schema';

interface CorpusCase {
  description: string;
  settings?: { environment?: string; defaultSeverity?: Severity; declared?: Record<string, unknown> };
  Sns: { MessageId: string; TopicArn: string; Subject?: string; Message: string; Timestamp: string };
  expect: {
    type: 'alarm' | 'unrecognised';
    notification?: Record<string, unknown>;
    whyContains?: string;
    decision: { send: boolean; action?: string; reasonContains?: string };
    event?: Record<string, unknown>;
    eventEquals?: Record<string, unknown>;
    dedupKeyPattern?: string;
    dedupKeyHashed?: boolean;
    noLinks?: boolean;
  };
}

const KNOWN_ROUTES = ['default', 'platform', 'payments'];
const directory = join(TEST_ROOT, 'corpus');
const cases = readdirSync(directory)
  .filter((file) => file.endsWith('.json'))
  .sort()
  .map((file) => [file, JSON.parse(readFileSync(join(directory, file), 'utf8')) as CorpusCase] as const);

/** In the corpus, `null` stands for "absent". */
function absentAsUndefined(value: unknown): unknown {
  if (value === null) return undefined;
  if (Array.isArray(value)) return value.map(absentAsUndefined);
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, absentAsUndefined(v)]));
  }
  return value;
}

function run(c: CorpusCase) {
  const envelope: SnsEnvelope = {
    messageId: c.Sns.MessageId,
    topicArn: c.Sns.TopicArn,
    subject: c.Sns.Subject,
    timestamp: c.Sns.Timestamp,
    message: c.Sns.Message,
  };
  const notification = parseNotification(envelope);
  const published = parseTimestamp(envelope.timestamp);
  const plan = planRecord(
    { notification, vouchedMs: published },
    {
      config: {
        defaultSeverity: c.settings?.defaultSeverity ?? 'critical',
        insufficientDataPolicy: 'ignore',
        environment: c.settings?.environment,
        unrecognisedMessages: 'trigger',
        clientName: 'CloudWatch alarm pipeline',
        maxClockSkewMs: 60_000,
      },
      declared: parseDeclaredSettings(c.settings?.declared ? JSON.stringify(c.settings.declared) : undefined),
      knownRoutes: KNOWN_ROUTES,
      // As if handled a minute after SNS published it.
      nowMs: (published ?? 0) + 60_000,
    },
  );
  const decision =
    plan.kind === 'send'
      ? { send: true as const, action: plan.action }
      : { send: false as const, reason: plan.reason };
  const event = plan.kind === 'send' ? plan.event : undefined;
  return { notification, decision, dedupKey: plan.dedupKey, event };
}

describe('corpus of SNS messages', () => {
  it('holds every kind of message', () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });

  describe.each(cases)('%s', (_file, c) => {
    const { notification, decision, dedupKey, event } = run(c);

    it('parses to the expected notification', () => {
      expect(notification.type).toBe(c.expect.type);
      if (c.expect.notification)
        expect(notification).toMatchObject(absentAsUndefined(c.expect.notification) as object);
      if (c.expect.whyContains) {
        expect(notification.type === 'unrecognised' && notification.why).toContain(c.expect.whyContains);
      }
    });

    it('decides as expected', () => {
      expect(decision.send).toBe(c.expect.decision.send);
      if (decision.send) expect(decision.action).toBe(c.expect.decision.action);
      else expect(decision.reason).toContain(c.expect.decision.reasonContains);
    });

    it('builds the expected event, valid against the Events API and within its limits', () => {
      if (!c.expect.decision.send) {
        expect(event).toBeUndefined();
        return;
      }
      if (event === undefined) throw new Error('expected an event');
      if (c.expect.eventEquals) expect(event).toEqual(c.expect.eventEquals);
      if (c.expect.event) expect(event).toMatchObject(c.expect.event);
      if (c.expect.dedupKeyPattern) expect(event.dedup_key).toMatch(new RegExp(c.expect.dedupKeyPattern));
      if (c.expect.dedupKeyHashed)
        expect(event.dedup_key).toMatch(/^arn:aws:cloudwatch:.{100,}:sha256:[0-9a-f]{64}$/);
      if (c.expect.noLinks) {
        expect(event.links).toBeUndefined();
        expect(event.client_url).toBeUndefined();
      }
      expect(event.dedup_key).toBe(dedupKey);
      expect(enqueueSchemaErrors(event)).toEqual([]);
      expect(event.dedup_key.length).toBeLessThanOrEqual(255);
      expect(event.payload?.summary.length ?? 0).toBeLessThanOrEqual(MAX_SUMMARY_LENGTH);
      expect(sentBytes(event)).toBeLessThanOrEqual(PAGERDUTY_MAX_EVENT_BYTES);
    });
  });
});
