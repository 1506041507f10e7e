// Issue 19: a link in an incident is https, from a tag only to LINK_HOSTS when set, and from an AWS service's
// notification only into the AWS console: whoever can publish chooses what the message carries.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseNotification } from '../../../lambda/messages/parse-notification';
import { loadConfig } from '../../../lambda/pipeline/config';
import { planRecord, type PlanContext } from '../../../lambda/pipeline/plan';
import { alarmMessage, envelope } from '../../support/notifications';
import { TEST_ENV } from '../../support/in-process';
import { TEST_ROOT } from '../../support/paths';

const config: PlanContext['config'] = {
  defaultSeverity: 'critical',
  insufficientDataPolicy: 'ignore',
  unrecognisedMessages: 'trigger',
  clientName: 'CloudWatch alarm pipeline',
  maxClockSkewMs: 60_000,
};

function linksOf(message: unknown, extra: Partial<PlanContext['config']> = {}, declared = '{}') {
  const notification = parseNotification(envelope(message));
  const plan = planRecord(
    { notification },
    {
      config: { ...config, ...extra },
      declared: JSON.parse(declared) as PlanContext['declared'],
      knownRoutes: ['default'],
      nowMs: Date.UTC(2026, 0, 1),
    },
  );
  if (plan.kind !== 'send') throw new Error(`expected a send, got ${plan.reason}`);
  return { links: (plan.event.links ?? []).map((link) => link.href), problems: plan.logKeys, plan };
}

const tagged = (tags: Record<string, string>) =>
  alarmMessage({ AlarmTags: tags, AlarmTagsStatus: 'SUCCESS' });

describe('links from alarm tags', () => {
  it('http is refused; https is kept', () => {
    const { links } = linksOf(
      tagged({
        'pagerduty:runbook': 'http://wiki.example.com/run',
        'pagerduty:dashboard': 'https://grafana.example.com/d/1',
      }),
    );
    expect(links).toContain('https://grafana.example.com/d/1');
    expect(links).not.toContain('http://wiki.example.com/run');
  });

  it('with LINK_HOSTS, only those hosts (and a *. domain) are kept', () => {
    const tags = {
      'pagerduty:runbook': 'https://wiki.example.com/run',
      'pagerduty:dashboard': 'https://attacker.example.net/looks-like-grafana',
    };
    const { links } = linksOf(tagged(tags), { linkHosts: ['*.example.com'] });
    expect(links).toContain('https://wiki.example.com/run');
    expect(links).not.toContain('https://attacker.example.net/looks-like-grafana');
    const exact = linksOf(tagged(tags), { linkHosts: ['grafana.example.com'] }).links;
    expect(exact.filter((href) => href.includes('example'))).toEqual([]);
  });

  it('LINK_HOSTS is read from the environment and checked', () => {
    expect(
      loadConfig({ ...TEST_ENV, LINK_HOSTS: '["wiki.example.com","*.corp.example"]' }).linkHosts,
    ).toEqual(['wiki.example.com', '*.corp.example']);
    expect(loadConfig(TEST_ENV).linkHosts).toBeUndefined();
    expect(() => loadConfig({ ...TEST_ENV, LINK_HOSTS: '["https://wiki.example.com"]' })).toThrow(
      /LINK_HOSTS/,
    );
  });
});

describe('links from AWS service notifications', () => {
  const codePipeline = (
    JSON.parse(
      readFileSync(join(TEST_ROOT, 'corpus-services', 'codepipeline-action-failed-codestar.json'), 'utf8'),
    ) as { Sns: { Message: string } }
  ).Sns.Message;

  it('a console link is kept; any other host is dropped (CodePipeline external-execution-url, RDS Identifier Link)', () => {
    expect(linksOf(codePipeline).links).toContain(
      'https://console.aws.amazon.com/codedeploy/home?region=ap-southeast-2#/deployments/d-C3XYEM1QF',
    );
    const forged = codePipeline.replace(
      'https://console.aws.amazon.com/codedeploy/home?region=ap-southeast-2#/deployments/d-C3XYEM1QF',
      'https://console.aws.amazon.com.attacker.example/deployments',
    );
    expect(linksOf(forged).links.filter((href) => href.includes('attacker'))).toEqual([]);
    const rds = (link: string) => ({
      'Event Source': 'db-instance',
      'Event Time': '2024-03-05 04:12:33.512',
      'Identifier Link': link,
      'Source ID': 'orders-db',
      'Event ID':
        'http://docs.amazonwebservices.com/AmazonRDS/latest/UserGuide/USER_Events.html#RDS-EVENT-0031',
      'Event Message': 'The DB instance has failed.',
    });
    expect(linksOf(rds('https://attacker.example/rds')).links.filter((h) => h.includes('attacker'))).toEqual(
      [],
    );
    expect(linksOf(rds('https://us-east-1.console.aws.amazon.com/rds/home')).links).toContain(
      'https://us-east-1.console.aws.amazon.com/rds/home',
    );
  });
});
