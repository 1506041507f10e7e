// Decision 15 (issue 19): an intake carries only its own account and region; the central topic also the accounts
// it lets publish. A forged claim is refused, logged and counted, and changes nothing: checked through the handler
// on SNS, on EventBridge and on letters from the retry queue, against what PagerDuty and the ledger hold after.
import type { SQSRecord } from 'aws-lambda';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { metricAlarmMessage, snsEvent } from '../../../local/alarm-fixtures';
import { createHandler, type ParkingLot, type RecordOutcome } from '../../../lambda/handler';
import { loadConfig } from '../../../lambda/pipeline/config';
import { inProcessDeps, TEST_ENV } from '../../support/in-process';
import { TEST_ROOT } from '../../support/paths';

const NOW = Date.UTC(2026, 10, 29, 12);
const MINUTE = 60_000;
const CENTRAL = '111111111111';
const PUBLISHER = '222222222222';
const INTAKE = '333333333333';
const CENTRAL_TOPIC = `arn:aws:sns:us-east-1:${CENTRAL}:Pager-Alarms`;
const INTAKE_TOPIC = `arn:aws:sns:us-east-1:${INTAKE}:Pager-Intake`;
const TRUST_ENV = { CENTRAL_TOPIC_ARN: CENTRAL_TOPIC, PUBLISHER_ACCOUNT_IDS: JSON.stringify([PUBLISHER]) };

function setup(env: Record<string, string> = TRUST_ENV) {
  const pipeline = inProcessDeps(env, NOW);
  const parked: string[] = [];
  const parkingLot: ParkingLot = { park: async (_body, reason) => void parked.push(reason) };
  const handler = createHandler({ ...TEST_ENV, ...env }, { deps: pipeline.deps, parkingLot });
  return { ...pipeline, handler, parked };
}

interface Claim {
  state: 'ALARM' | 'OK';
  account?: string;
  region?: string;
  /** Overrides of the message's fields, e.g. a forged `AWSAccountId` alone. */
  message?: Record<string, unknown>;
}

function viaSns(topicArn: string, claim: Claim, atMs = NOW - 2 * MINUTE) {
  const message = {
    ...metricAlarmMessage({
      state: claim.state,
      stateChangeMs: atMs,
      accountId: claim.account ?? CENTRAL,
      regionCode: claim.region ?? 'us-east-1',
    }),
    ...claim.message,
  };
  return snsEvent([message], { topicArn, timestamp: new Date(atMs + 500).toISOString() });
}

const ebTemplate = (
  JSON.parse(readFileSync(join(TEST_ROOT, 'corpus-eventbridge', 'single-metric-alarm.json'), 'utf8')) as {
    event: Record<string, unknown> & { detail: Record<string, unknown> };
  }
).event;

/** An EventBridge state change of `alarmArn`, from the bus of `account` in `region`. */
function viaEventBridge(account: string, region: string, alarmArn: string, state: 'ALARM' | 'OK') {
  const detail = ebTemplate.detail;
  return {
    ...ebTemplate,
    id: `eb-${account}-${region}-${state}`,
    account,
    region,
    time: new Date(NOW - MINUTE).toISOString(),
    resources: [alarmArn],
    detail: {
      ...detail,
      state: { ...(detail.state as object), value: state, timestamp: new Date(NOW - 90_000).toISOString() },
    },
  };
}

function letter(body: unknown, id: string): SQSRecord {
  return {
    messageId: id,
    receiptHandle: `rh-${id}`,
    body: JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(NOW - MINUTE),
      SenderId: 'AIDA',
      ApproximateFirstReceiveTimestamp: String(NOW - MINUTE),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:us-east-1:${CENTRAL}:retry`,
    awsRegion: 'us-east-1',
  };
}

const centralArn = (name = 'checkout-api-5xx') => `arn:aws:cloudwatch:us-east-1:${CENTRAL}:alarm:${name}`;

describe('SNS: a topic carries its own account and region; the central topic also its publishers', () => {
  it('an intake account cannot resolve the central incident: refused, counted, logged, nothing changes', async () => {
    const { handler, pagerDuty, ledger, telemetry, logger } = setup();
    await handler(viaSns(CENTRAL_TOPIC, { state: 'ALARM' }, NOW - 3 * MINUTE));
    const before = await ledger.read(centralArn());
    const outcomes = await handler(viaSns(INTAKE_TOPIC, { state: 'OK' }));
    expect(outcomes).toEqual([{ outcome: 'skipped', reason: expect.stringMatching(/^refused: /) as string }]);
    expect(pagerDuty.actions()).toEqual(['trigger']);
    expect(pagerDuty.isOpen(centralArn())).toBe(true);
    expect(await ledger.read(centralArn())).toEqual(before);
    expect(telemetry.get('ForeignAlarmsRefused')).toBe(1);
    expect(telemetry.get('EventsSent')).toBe(1);
    const line = logger.lines.find((l) => l.message.startsWith('Refused'));
    expect(line?.level).toBe('error');
    expect(line?.extra).toMatchObject({
      outcome: 'refused',
      carrier: INTAKE_TOPIC,
      alarmArn: centralArn(),
      why: expect.stringContaining(`account ${CENTRAL}`) as string,
    });
  });

  const cases: [string, string, Claim, 'sent' | 'refused'][] = [
    ['central topic, own alarm', CENTRAL_TOPIC, { state: 'ALARM' }, 'sent'],
    ['central topic, a publisher account', CENTRAL_TOPIC, { state: 'ALARM', account: PUBLISHER }, 'sent'],
    [
      'central topic, an account it does not let publish',
      CENTRAL_TOPIC,
      { state: 'ALARM', account: INTAKE },
      'refused',
    ],
    ['central topic, another region', CENTRAL_TOPIC, { state: 'ALARM', region: 'eu-west-1' }, 'refused'],
    ['intake topic, own alarm', INTAKE_TOPIC, { state: 'ALARM', account: INTAKE }, 'sent'],
    [
      'intake topic, a publisher of the central topic',
      INTAKE_TOPIC,
      { state: 'ALARM', account: PUBLISHER },
      'refused',
    ],
    [
      'intake topic, own ARN but a forged AWSAccountId',
      INTAKE_TOPIC,
      { state: 'ALARM', account: INTAKE, message: { AWSAccountId: CENTRAL } },
      'refused',
    ],
    [
      'intake topic, a forged ARN and its own AWSAccountId',
      INTAKE_TOPIC,
      { state: 'ALARM', account: INTAKE, message: { AlarmArn: centralArn() } },
      'refused',
    ],
    [
      'intake topic, own ARN but another region name',
      INTAKE_TOPIC,
      { state: 'ALARM', account: INTAKE, message: { Region: 'EU (Ireland)' } },
      'refused',
    ],
    [
      'intake topic, no ARN, own account in another region',
      INTAKE_TOPIC,
      { state: 'ALARM', account: INTAKE, region: 'eu-west-1', message: { AlarmArn: undefined } },
      'refused',
    ],
    [
      'intake topic, no ARN, own account and region',
      INTAKE_TOPIC,
      { state: 'ALARM', account: INTAKE, message: { AlarmArn: undefined } },
      'sent',
    ],
    [
      'intake topic, an AlarmArn that is no ARN',
      INTAKE_TOPIC,
      { state: 'ALARM', account: INTAKE, message: { AlarmArn: 'checkout' } },
      'refused',
    ],
    ['a record naming no topic', 'unknown', { state: 'ALARM' }, 'refused'],
  ];
  it.each(cases)('%s: %s', async (_name, topic, claim, expected) => {
    const { handler, pagerDuty, telemetry } = setup();
    const [outcome] = await handler(viaSns(topic, claim));
    expect(outcome?.outcome).toBe(expected === 'sent' ? 'sent' : 'skipped');
    expect(pagerDuty.landed).toHaveLength(expected === 'sent' ? 1 : 0);
    expect(telemetry.get('ForeignAlarmsRefused')).toBe(expected === 'sent' ? 0 : 1);
  });

  it('without CENTRAL_TOPIC_ARN every topic carries only its own account: the demo and the tests keep working', async () => {
    const { handler, pagerDuty, telemetry } = setup({});
    const own = { state: 'ALARM' as const, account: '123456789012' };
    await handler(snsEvent([metricAlarmMessage({ ...own, stateChangeMs: NOW - MINUTE })]));
    await handler(
      viaSns('arn:aws:sns:us-east-1:123456789012:alarm-to-pagerduty', { state: 'ALARM', account: PUBLISHER }),
    );
    expect(pagerDuty.landed).toHaveLength(1);
    expect(telemetry.get('ForeignAlarmsRefused')).toBe(1);
  });

  it('messages that name no account page from any intake; a service notification naming another is refused', async () => {
    const { handler, pagerDuty, telemetry } = setup();
    await handler(snsEvent(['disk almost full on build-7'], { topicArn: INTAKE_TOPIC }));
    const rds = (account: string) => ({
      'Event Source': 'db-instance',
      'Event Time': '2026-11-29 11:58:00.000',
      'Identifier Link': 'https://console.aws.amazon.com/rds/home?region=us-east-1#dbinstance:id=orders',
      'Source ID': 'orders',
      'Source ARN': `arn:aws:rds:us-east-1:${account}:db:orders`,
      'Event ID':
        'http://docs.amazonwebservices.com/AmazonRDS/latest/UserGuide/USER_Events.html#RDS-EVENT-0031',
      'Event Message': 'DB instance failed',
    });
    const guardDuty = (account: string) => ({
      version: '0',
      id: `gd-${account}`,
      'detail-type': 'GuardDuty Finding',
      source: 'aws.guardduty',
      account,
      region: 'us-east-1',
      time: '2026-11-29T11:58:00Z',
      resources: [],
      detail: {
        accountId: account,
        severity: 8,
        type: 'Recon:EC2/PortProbeUnprotectedPort',
        title: 'Port probe',
      },
    });
    await handler(snsEvent([rds(INTAKE)], { topicArn: INTAKE_TOPIC, subject: 'RDS Notification Message' }));
    await handler(snsEvent([guardDuty(INTAKE)], { topicArn: INTAKE_TOPIC }));
    expect(pagerDuty.landed).toHaveLength(3);
    await handler(snsEvent([guardDuty(CENTRAL)], { topicArn: INTAKE_TOPIC }));
    expect(pagerDuty.landed).toHaveLength(3);
    expect(telemetry.get('ForeignAlarmsRefused')).toBe(1);
  });
});

describe("EventBridge: the event comes from the alarm's own account and region", () => {
  const cases: [string, string, string, string, 'sent' | 'refused'][] = [
    ['own alarm', CENTRAL, 'us-east-1', centralArn(), 'sent'],
    ['an intake account forwarding the central alarm', INTAKE, 'us-east-1', centralArn(), 'refused'],
    ['another region', CENTRAL, 'eu-west-1', centralArn(), 'refused'],
    ['no account', '', 'us-east-1', centralArn(), 'refused'],
  ];
  it.each(cases)('%s', async (_name, account, region, arn, expected) => {
    const { handler, pagerDuty, ledger, telemetry } = setup();
    const [outcome] = (await handler(viaEventBridge(account, region, arn, 'ALARM'))) as RecordOutcome[];
    expect(outcome?.outcome).toBe(expected === 'sent' ? 'sent' : 'skipped');
    expect(pagerDuty.landed).toHaveLength(expected === 'sent' ? 1 : 0);
    expect((await ledger.read(arn)) === undefined).toBe(expected === 'refused');
    expect(telemetry.get('ForeignAlarmsRefused')).toBe(expected === 'sent' ? 0 : 1);
  });
});

describe("EventBridge: an alarm deletion comes from the alarm's own account and region", () => {
  const deletion = (account: string, region: string, alarmArn: string) => ({
    version: '0',
    id: 'delete-1',
    'detail-type': 'CloudWatch Alarm Configuration Change',
    source: 'aws.cloudwatch',
    account,
    region,
    time: new Date(NOW - MINUTE).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    resources: [alarmArn],
    detail: { alarmName: 'checkout-api-5xx', operation: 'delete' },
  });

  it.each([
    ['its own account resolves the incident', CENTRAL, 'us-east-1', false],
    ['an intake account naming the central alarm is refused', INTAKE, 'us-east-1', true],
    ['another region is refused', CENTRAL, 'eu-west-1', true],
  ] as const)('%s', async (_name, account, region, refused) => {
    const { handler, pagerDuty, telemetry } = setup();
    await handler(viaEventBridge(CENTRAL, 'us-east-1', centralArn(), 'ALARM'));
    expect(pagerDuty.isOpen(centralArn())).toBe(true);
    await handler(deletion(account, region, centralArn()));
    expect(pagerDuty.isOpen(centralArn())).toBe(refused);
    expect(telemetry.get('ForeignAlarmsRefused')).toBe(refused ? 1 : 0);
  });
});

describe('letters from the retry queue are held to the same rule', () => {
  it('a forged failure record, SNS envelope and raw EventBridge event: answered, not parked, nothing sent', async () => {
    const { handler, pagerDuty, ledger, telemetry, parked } = setup();
    await handler(viaSns(CENTRAL_TOPIC, { state: 'ALARM' }, NOW - 3 * MINUTE));
    const forged = viaSns(INTAKE_TOPIC, { state: 'OK' });
    const sns = forged.Records[0]!.Sns;
    const failureRecord = {
      version: '1.0',
      requestContext: { requestId: 'r', condition: 'RetriesExhausted', approximateInvokeCount: 3 },
      requestPayload: forged,
      responsePayload: { errorType: 'RecordsFailedError' },
    };
    const envelope = { ...sns, Type: 'Notification' };
    const event = viaEventBridge(INTAKE, 'us-east-1', centralArn(), 'OK');
    const result = await handler({
      Records: [letter(failureRecord, 'a'), letter(envelope, 'b'), letter(event, 'c')],
    });
    expect(result).toEqual({ batchItemFailures: [] });
    expect(parked).toEqual([]);
    expect(pagerDuty.actions()).toEqual(['trigger']);
    expect((await ledger.read(centralArn()))?.action).toBe('trigger');
    expect(telemetry.get('ForeignAlarmsRefused')).toBe(3);
  });
});

describe('configuration', () => {
  it('reads CENTRAL_TOPIC_ARN and PUBLISHER_ACCOUNT_IDS, and names a bad one', () => {
    expect(loadConfig({ ...TEST_ENV, ...TRUST_ENV }).intakeTrust).toEqual({
      centralTopicArn: CENTRAL_TOPIC,
      publisherAccountIds: [PUBLISHER],
    });
    expect(loadConfig(TEST_ENV).intakeTrust).toEqual({ publisherAccountIds: [] });
    expect(() => loadConfig({ ...TEST_ENV, PUBLISHER_ACCOUNT_IDS: '["12"]' })).toThrow(
      /PUBLISHER_ACCOUNT_IDS/,
    );
    expect(() => loadConfig({ ...TEST_ENV, CENTRAL_TOPIC_ARN: 'alarms' })).toThrow(/CENTRAL_TOPIC_ARN/);
  });
});
