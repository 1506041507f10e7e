// The sweep end to end: the real handler built from a Lambda environment, moto as DynamoDB (the ledger with its
// OpenIncidents index), Secrets Manager, CloudWatch and STS, and the PagerDuty emulator. CloudWatch's notifications
// are delivered (or lost) by the test, since moto publishes nothing when an alarm changes state.
import {
  CloudWatchClient,
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  PutMetricAlarmCommand,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { request } from 'node:http';
import { randomUUID } from 'node:crypto';
import { cloudWatchTime, lambdaContext, metricAlarmMessage, snsEvent } from '../../local/alarm-fixtures';
import { newRoutingKey, startPipeline, motoStores, type LocalPipeline } from '../../local/harness';
import type { PagerDutyEmulator } from '../../local/pagerduty-emulator';
import { createHandler, type PipelineHandler } from '../../lambda/handler';
import type { SweepSummary } from '../../lambda/sweep';
import type { AlarmState } from '../../lambda/messages/notification';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const TOPIC = `arn:aws:sns:${REGION}:${ACCOUNT}:alarm-to-pagerduty`;
export const arnOf = (name: string, account = ACCOUNT) =>
  `arn:aws:cloudwatch:${REGION}:${account}:alarm:${name}`;

/** Credentials moto accepts as the default account (it checks no signature). */
const OWN_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

/** A state change CloudWatch made, with the time it stamped (what its notification would carry). */
export interface AlarmChange {
  readonly name: string;
  readonly state: AlarmState;
  readonly oldState: AlarmState;
  readonly atMs: number;
  readonly accountId: string;
}

export interface MotoSweepRig {
  readonly pipeline: LocalPipeline;
  readonly handler: PipelineHandler;
  readonly env: Readonly<Record<string, string>>;
  /** The handler's clock is real time plus this (to age a state past a grace or a re-page interval). */
  offsetMs: number;
  cloudWatch(accountId?: string): CloudWatchClient;
  putAlarm(
    name: string,
    options?: { actions?: string[]; tags?: Record<string, string>; accountId?: string },
  ): Promise<void>;
  setState(name: string, state: AlarmState, accountId?: string): Promise<AlarmChange>;
  deleteAlarm(name: string, accountId?: string): Promise<void>;
  /** The alarm's state as CloudWatch answers it now, or undefined when it does not exist. */
  describe(name: string, accountId?: string): Promise<AlarmState | undefined>;
  /** Delivers a change as CloudWatch's SNS message, SNS stamping it `publishDelayMs` after the change. */
  deliver(change: AlarmChange, options?: DeliverOptions): Promise<unknown>;
  /** One EventBridge schedule: the handler runs a sweep and answers its summary. */
  sweep(): Promise<SweepSummary>;
  destroy(): void;
}

export interface DeliverOptions {
  /** A forged StateChangeTime in the message. */
  readonly claimedMs?: number;
  readonly publishDelayMs?: number;
  /** The alarm's tags, as CloudWatch adds them with tag propagation on. */
  readonly tags?: Readonly<Record<string, string>>;
  readonly handler?: PipelineHandler;
}

export interface MotoSweepOptions {
  readonly motoEndpoint: string;
  readonly emulator: PagerDutyEmulator;
  /** RECONCILE_SOURCES; default: this account and region, wired by TOPIC. */
  readonly sources?: readonly Record<string, unknown>[];
  /** More of the function's environment (RECONCILE_MISSED_GRACE_SECONDS, AWS_ENDPOINT_URL_CLOUDWATCH, ...). */
  readonly env?: Readonly<Record<string, string>>;
}

/** Forgets everything moto holds (tables, secrets, alarms, assumed roles), so each test starts empty. */
export function resetMoto(endpoint: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(`${endpoint}/moto-api/reset`, { method: 'POST', agent: false }, (res) => {
      res.resume();
      res.on('end', () =>
        res.statusCode === 200 ? resolve() : reject(new Error(`reset: HTTP ${res.statusCode}`)),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

export async function motoSweepRig(options: MotoSweepOptions): Promise<MotoSweepRig> {
  const endpoint = options.motoEndpoint;
  await resetMoto(endpoint);
  const sources = options.sources ?? [{ region: REGION, accountId: ACCOUNT, topicArns: [TOPIC] }];
  const pipeline = await startPipeline({
    stores: motoStores(endpoint),
    pagerDutyUrl: options.emulator.url,
    routingKeys: { default: newRoutingKey() },
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: OWN_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: OWN_CREDENTIALS.secretAccessKey,
      RECONCILE_SOURCES: JSON.stringify(sources),
      ...options.env,
    },
  });
  const clients = new Map<string, CloudWatchClient>();
  const rig: MotoSweepRig = {
    pipeline,
    env: pipeline.env,
    offsetMs: 0,
    // The handler as Lambda builds it from its environment; only its clock may be moved forward.
    handler: createHandler(pipeline.env, { deps: { now: () => Date.now() + rig.offsetMs } }),
    cloudWatch: (accountId = ACCOUNT) => {
      let client = clients.get(accountId);
      if (!client) {
        client = new CloudWatchClient({
          region: REGION,
          endpoint,
          credentials: accountId === ACCOUNT ? OWN_CREDENTIALS : assumedIn(endpoint, accountId),
        });
        clients.set(accountId, client);
      }
      return client;
    },
    putAlarm: async (name, { actions = [TOPIC], tags, accountId } = {}) => {
      await rig.cloudWatch(accountId).send(
        new PutMetricAlarmCommand({
          AlarmName: name,
          AlarmActions: actions,
          OKActions: actions,
          ActionsEnabled: true,
          MetricName: '5XXError',
          Namespace: 'AWS/ApiGateway',
          Statistic: 'Sum',
          Dimensions: [{ Name: 'ApiName', Value: name }],
          Period: 60,
          EvaluationPeriods: 1,
          Threshold: 5,
          ComparisonOperator: 'GreaterThanThreshold',
          Tags: tags && Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
        }),
      );
    },
    setState: async (name, state, accountId = ACCOUNT) => {
      const client = rig.cloudWatch(accountId);
      const before = await describeOne(client, name);
      await client.send(
        new SetAlarmStateCommand({ AlarmName: name, StateValue: state, StateReason: `test set ${state}` }),
      );
      const after = await describeOne(client, name);
      return {
        name,
        state,
        oldState: before.StateValue as AlarmState,
        atMs: after.StateUpdatedTimestamp!.getTime(),
        accountId,
      };
    },
    deleteAlarm: async (name, accountId) => {
      await rig.cloudWatch(accountId).send(new DeleteAlarmsCommand({ AlarmNames: [name] }));
    },
    describe: async (name, accountId) => {
      const answer = await rig.cloudWatch(accountId).send(new DescribeAlarmsCommand({ AlarmNames: [name] }));
      return answer.MetricAlarms?.find((a) => a.AlarmName === name)?.StateValue;
    },
    deliver: (change, { claimedMs, publishDelayMs = 40, tags, handler = rig.handler } = {}) => {
      const message = metricAlarmMessage({
        alarmName: change.name,
        state: change.state,
        oldState: change.oldState,
        stateChangeMs: change.atMs,
        accountId: change.accountId,
        tags,
      });
      if (claimedMs !== undefined) message.StateChangeTime = cloudWatchTime(claimedMs);
      return handler(
        snsEvent([message], {
          timestamp: new Date(change.atMs + publishDelayMs).toISOString(),
          // An intake carries only its own account (decision 15): another account's alarm comes on its own topic.
          topicArn:
            change.accountId === undefined || change.accountId === ACCOUNT
              ? TOPIC
              : `arn:aws:sns:${REGION}:${change.accountId}:alarm-to-pagerduty-intake`,
        }),
        lambdaContext(),
      );
    },
    sweep: () => rig.handler(scheduledEvent(), lambdaContext(60_000)) as Promise<SweepSummary>,
    destroy: () => clients.forEach((client) => client.destroy()),
  };
  return rig;
}

async function describeOne(client: CloudWatchClient, name: string) {
  const answer = await client.send(new DescribeAlarmsCommand({ AlarmNames: [name] }));
  const alarm = answer.MetricAlarms?.find((a) => a.AlarmName === name);
  if (!alarm) throw new Error(`moto has no alarm ${name}`);
  return alarm;
}

/** Credentials of a role assumed in another account: moto files what they create under that account. */
function assumedIn(endpoint: string, accountId: string) {
  return async () => {
    const sts = new STSClient({ region: REGION, endpoint, credentials: OWN_CREDENTIALS });
    try {
      const { Credentials: c } = await sts.send(
        new AssumeRoleCommand({
          RoleArn: `arn:aws:iam::${accountId}:role/alarm-owner`,
          RoleSessionName: 'test',
        }),
      );
      return {
        accessKeyId: c!.AccessKeyId!,
        secretAccessKey: c!.SecretAccessKey!,
        sessionToken: c!.SessionToken,
      };
    } finally {
      sts.destroy();
    }
  };
}

/** The event EventBridge's schedule invokes the function with. */
export function scheduledEvent(): Record<string, unknown> {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: ACCOUNT,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: REGION,
    resources: [`arn:aws:events:${REGION}:${ACCOUNT}:rule/alarm-to-pagerduty-sweep`],
    detail: {},
  };
}
