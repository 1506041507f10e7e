// Table-driven over test/corpus-services: real notifications of other AWS services, and what each must page as.
import { TEST_ROOT } from '../../support/paths';
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseNotification } from '../../../lambda/messages/parse-notification';
import { dedupKeyFor } from '../../../lambda/pipeline/dedup-key';
import type { Severity, SnsEnvelope } from '../../../lambda/messages/notification';
import { buildAlertEvent } from '../../../lambda/pagerduty/event';
import { MAX_SUMMARY_LENGTH } from '../../../lambda/pagerduty/limits';
import {
  recogniseServiceNotification,
  unrecognisedHeadline,
} from '../../../lambda/messages/service-notification';
import { guardDutyLevel } from '../../../lambda/messages/services/guardduty';
import { parseServiceSeverities, serviceSeverity } from '../../../lambda/messages/services/severities';
import { SERVICES, type ServiceNotification } from '../../../lambda/messages/services/types';
import { enqueueSchemaErrors } from '../../support/enqueue-schema';
import { settings } from '../../support/notifications';

interface ServiceCase {
  description: string;
  sources: string[];
  Sns: { MessageId: string; TopicArn: string; Subject?: string; Message: string; Timestamp: string };
  expect: {
    service: string | null;
    kind?: string;
    summary: string;
    severity: Severity;
    source?: string;
    class?: string;
    component?: string;
    links?: { href: string; text: string }[];
  };
}

const directory = join(TEST_ROOT, 'corpus-services');
const cases = readdirSync(directory)
  .filter((file) => file.endsWith('.json'))
  .sort()
  .map((file) => [file, JSON.parse(readFileSync(join(directory, file), 'utf8')) as ServiceCase] as const);

function envelopeOf(c: ServiceCase): SnsEnvelope {
  return {
    messageId: c.Sns.MessageId,
    topicArn: c.Sns.TopicArn,
    subject: c.Sns.Subject,
    timestamp: c.Sns.Timestamp,
    message: c.Sns.Message,
  };
}

function page(c: ServiceCase, serviceSeverities = {}) {
  const notification = parseNotification(envelopeOf(c));
  const event = buildAlertEvent(notification, settings(), 'trigger', dedupKeyFor(notification), {
    clientName: 'CloudWatch alarm pipeline',
    serviceSeverities,
  });
  return { notification, event };
}

describe('corpus of AWS service notifications', () => {
  it('holds every service, each from a named source', () => {
    const services = new Set(cases.map(([, c]) => c.expect.service));
    for (const service of SERVICES) expect(services).toContain(service);
    for (const [, c] of cases) expect(c.sources.length).toBeGreaterThan(0);
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });

  describe.each(cases)('%s', (_file, c) => {
    const { notification, event } = page(c);
    const service = notification.type === 'unrecognised' ? notification.service : undefined;

    it('is recognised as the service it comes from, or as nothing', () => {
      expect(notification.type).toBe('unrecognised');
      expect(service?.service ?? null).toBe(c.expect.service);
      if (service) {
        expect(service.kind).toBe(c.expect.kind);
        expect(service.links).toEqual(c.expect.links);
      }
    });

    it('pages with the exact summary and severity', () => {
      expect(event.payload?.summary).toBe(c.expect.summary);
      expect(event.payload?.severity).toBe(c.expect.severity);
      expect(event.payload?.class).toBe(c.expect.class);
      if (c.expect.source) expect(event.payload?.source).toBe(c.expect.source);
      expect(event.payload?.component).toBe(c.expect.component);
    });

    it('is a valid Events API request within its limits', () => {
      expect(enqueueSchemaErrors(event)).toEqual([]);
      expect(event.payload?.summary.length ?? 0).toBeLessThanOrEqual(MAX_SUMMARY_LENGTH);
      expect(event.payload?.custom_details).toMatchObject({ body: c.Sns.Message });
      if (service) {
        expect(event.payload?.custom_details).toMatchObject({ service: service.service, kind: service.kind });
        expect(event.links?.slice(0, service.links?.length ?? 0)).toEqual(service.links ?? []);
      }
    });
  });
});

describe('severity', () => {
  const find = (name: string) => {
    const found = cases.find(([file]) => file === `${name}.json`);
    if (!found) throw new Error(`no corpus file ${name}.json`);
    return found[1];
  };

  it('is info for a success or a test, error for a failure', () => {
    expect(page(find('backup-job-completed')).event.payload?.severity).toBe('info');
    expect(page(find('s3-test-event')).event.payload?.severity).toBe('info');
    expect(page(find('autoscaling-test-notification')).event.payload?.severity).toBe('info');
    expect(page(find('backup-job-failed')).event.payload?.severity).toBe('error');
    expect(page(find('codedeploy-trigger-failed-ecs')).event.payload?.severity).toBe('error');
  });

  it("follows a GuardDuty finding's own severity: ≥7 critical, 4–6.9 warning, below 4 info", () => {
    expect([9, 8.9, 7, 6.9, 4, 3.9, 1].map((score) => guardDutyLevel(score))).toEqual([
      { level: 'critical', severity: 'critical' },
      { level: 'high', severity: 'critical' },
      { level: 'high', severity: 'critical' },
      { level: 'medium', severity: 'warning' },
      { level: 'medium', severity: 'warning' },
      { level: 'low', severity: 'info' },
      { level: 'low', severity: 'info' },
    ]);
  });

  it('is set by SERVICE_SEVERITIES: service:kind, then service:outcome, then service', () => {
    const gd = find('guardduty-finding-severity-5-pascalcase');
    expect(page(gd, parseServiceSeverities('{"guardduty":"error"}')).event.payload?.severity).toBe('error');
    expect(
      page(gd, parseServiceSeverities('{"guardduty":"error","guardduty:medium":"critical"}')).event.payload
        ?.severity,
    ).toBe('critical');
    const rds = find('rds-instance-shutdown');
    expect(
      page(rds, parseServiceSeverities('{"rds:RDS-EVENT-0004":"critical"}')).event.payload?.severity,
    ).toBe('critical');
    expect(page(rds, parseServiceSeverities('{"rds:warning":"info"}')).event.payload?.severity).toBe('info');
    expect(page(rds, parseServiceSeverities('{"budgets":"critical"}')).event.payload?.severity).toBe(
      'warning',
    );
  });

  it('leaves what nothing recognises at the configured default severity', () => {
    expect(page(find('console-test-disk-full'), { eventbridge: 'info' }).event.payload?.severity).toBe(
      'critical',
    );
  });
});

describe('parseServiceSeverities', () => {
  it('reads a JSON map, keys case-insensitive; unset or blank is empty', () => {
    expect(parseServiceSeverities(undefined)).toEqual({});
    expect(parseServiceSeverities('  ')).toEqual({});
    expect(parseServiceSeverities('{"RDS:RDS-EVENT-0004":"critical","budgets":"info"}')).toEqual({
      'rds:rds-event-0004': 'critical',
      budgets: 'info',
    });
  });

  it('names the entry that is wrong', () => {
    expect(() => parseServiceSeverities('{"rdss":"info"}')).toThrow(/"rdss": "rdss" is not a service/);
    expect(() => parseServiceSeverities('{"rds":"high"}')).toThrow(/"rds": "high" is not a severity/);
    expect(() => parseServiceSeverities('[1]')).toThrow(/must be a JSON object/);
    expect(() => parseServiceSeverities('{rds}')).toThrow(/is not JSON/);
  });

  it('applies only to a recognised notification', () => {
    const n: ServiceNotification = {
      service: 'backup',
      kind: 'backup:failure',
      outcome: 'failure',
      summary: 's',
      severity: 'error',
      source: 'x',
      details: {},
    };
    expect(serviceSeverity(n)).toBe('error');
    expect(serviceSeverity(n, { 'backup:backup:failure': 'critical', backup: 'info' })).toBe('critical');
    expect(serviceSeverity(n, { 'backup:failure': 'warning', backup: 'info' })).toBe('warning');
  });
});

describe('text that nothing recognises', () => {
  it("drops a parser error's nested aside whole, as Node 24 writes it", () => {
    const why =
      'the SNS message body starts like JSON but does not parse: it is truncated or malformed (Unterminated string in JSON at position 150 (line 1 column 151))';
    expect(unrecognisedHeadline({ subject: 'S', body: '{"a":"', why })).toBe(
      'SNS message: S — the SNS message body starts like JSON but does not parse: it is truncated or malformed',
    );
  });

  it('says the subject and the beginning of the body', () => {
    const why = 'the SNS message body is plain text, not JSON';
    expect(unrecognisedHeadline({ subject: 'Test', body: 'disk full on db-7', why })).toBe(
      'SNS message: Test — disk full on db-7',
    );
    expect(unrecognisedHeadline({ body: '  disk\n full ', why })).toBe('SNS message: disk full');
    expect(unrecognisedHeadline({ subject: 'Test', body: '', why })).toBe('SNS message: Test');
    expect(unrecognisedHeadline({ body: '', why })).toBe(`SNS message: ${why}`);
    expect(
      unrecognisedHeadline({ subject: 'x', body: '{"a":1}', why: 'JSON without AlarmName (its keys: a)' }),
    ).toBe('SNS message: x — JSON without AlarmName');
  });

  it('is not mistaken for a service notification', () => {
    for (const body of ['disk full on db-7', 'An AWS outage is possible', 'Budget Name: x']) {
      expect(recogniseServiceNotification({ subject: 'Test', body })).toBeUndefined();
    }
    expect(recogniseServiceNotification({ body: '{"a":1}', json: { a: 1 } })).toBeUndefined();
    expect(recogniseServiceNotification({ body: '[1]', json: [1] })).toBeUndefined();
  });
});

describe('recogniseServiceNotification on hostile input', () => {
  it('never throws, and its summary stays short', () => {
    fc.assert(
      fc.property(fc.option(fc.string()), fc.jsonValue(), (subject, json) => {
        const body = JSON.stringify(json) ?? '';
        const n = recogniseServiceNotification({ subject: subject ?? undefined, body, json });
        if (n) expect(n.summary.length).toBeLessThanOrEqual(MAX_SUMMARY_LENGTH);
      }),
      { numRuns: 300 },
    );
  });

  it('reads megabyte-sized bodies in linear time', () => {
    const bodies = [
      `AWS Budget Notification\n${'Budget Name: '.repeat(100_000)}`,
      `An AWS Backup job failed. ${'Resource ARN : '.repeat(100_000)}`,
      `An AWS Backup job ${'job '.repeat(200_000)}`,
      `This is a message to notify that RDS will attempt to send you event notifications of type ${'a'.repeat(1_000_000)}`,
    ];
    for (const body of bodies) {
      const started = performance.now();
      recogniseServiceNotification({ subject: 'Notification from AWS Backup', body });
      expect(performance.now() - started).toBeLessThan(500);
    }
    const started = performance.now();
    const message = 'failover '.repeat(200_000);
    recogniseServiceNotification({
      body: '{}',
      json: { 'Event Source': 'db-instance', 'Event Message': message },
    });
    expect(performance.now() - started).toBeLessThan(500);
  });
});
