import { ArnFormat, Duration, Lazy, Names, PhysicalName, Stack, Token } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ReconcileSource } from '../lambda/shared/contract';
import type { IntakePipeline, SweepAccess } from './intake-pipeline';
import { allowEventBridgeDeadLetters, type AlarmEventsSelection } from './eventbridge-intake';
import { acknowledgeAlarmRead, alarmReadStatements } from './private/alarm-read';
import { encryptedQueue, queueNotEmptyAlarm } from './private/dead-letter-queue';
import { bundledFunction } from './private/bundled-function';
import { openIncidentsIndexArn } from './private/ledger-table';
import { routingKeySecretStatements } from './private/handler-grants';
import { intakesOf } from './regional-intake';

export type { ReconcileSource };

/** How often the sweep runs unless `reconcileInterval` says otherwise. */
export const DEFAULT_RECONCILE_INTERVAL = Duration.minutes(5);
/** A sweep's longest run: it stops at its time budget and resumes where it stopped at the next one. */
export const MAX_SWEEP_TIMEOUT = Duration.minutes(5);
/** Lambda allows 4 KB of environment in total. */
const LAMBDA_ENVIRONMENT_MAX_BYTES = 4096;

/** Properties of {@link ReconcileSweep}; `AlarmToPagerDuty` creates it unless `reconcile` is false. */
export interface ReconcileSweepProps {
  /** @default true (see AlarmToPagerDutyProps.bundleAwsSdk) */
  readonly bundleAwsSdk?: boolean;
  /** The handler's environment; the sweep adds RECONCILE_SOURCES. */
  readonly environment: Readonly<Record<string, string>>;
  /** Where to read alarms, asked at synthesis (intakes are added after the construct). */
  readonly sources: () => readonly ReconcileSource[];
  /** The bytes of the rest of the environment at most, for the 4 KB check (ALARM_SETTINGS is most of it). */
  readonly otherEnvironmentBytes: () => number;
  /** The pipeline's ledger: the sweep reads its open incidents and claims its corrections there. */
  readonly ledger: dynamodb.ITable;
  /** The route secrets: the sweep pages through the same integration keys. */
  readonly secrets: readonly secretsmanager.ISecret[];
  /** Encrypts the schedule's dead-letter queue. */
  readonly key: kms.Key;
  /** Where the dead-letter alarm notifies. */
  readonly opsTopic: sns.ITopic;
  /** @default DEFAULT_RECONCILE_INTERVAL */
  readonly interval?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /** @default lambda.Tracing.DISABLED */
  readonly tracing?: lambda.Tracing;
  /** @default lambda.Runtime.NODEJS_24_X (see AlarmToPagerDutyProps.runtime) */
  readonly runtime?: lambda.Runtime;
}

/**
 * The reconciliation sweep: every `interval`, one run of the handler's bundle reads the alarms of every source and
 * corrects PagerDuty to CloudWatch's state through the ledger.
 */
export class ReconcileSweep extends Construct implements SweepAccess {
  // Its own function: the paging function keeps no CloudWatch read or AssumeRole rights, a sweep never takes the
  // paging function's concurrency, and its timeout can differ.
  /** The sweep's function (the handler's bundle, answering a Scheduled Event with one sweep). */
  public readonly function: NodejsFunction;
  /** The function's role; intakes in other accounts let it (and only it) assume their read roles. */
  public readonly role: iam.Role;
  /** The schedule: one sweep every `interval`. */
  public readonly rule: events.Rule;
  /** Scheduled events EventBridge could not deliver to the sweep. */
  public readonly deadLetterQueue: sqs.Queue;
  /** Notifies the ops topic when `deadLetterQueue` holds a message. */
  public readonly deadLetterAlarm: cloudwatch.Alarm;
  /** How often a sweep runs. */
  public readonly interval: Duration;
  private readonly assumable = new Set<string>();

  constructor(scope: Construct, id: string, props: ReconcileSweepProps) {
    super(scope, id);
    this.interval = checkInterval(props.interval ?? DEFAULT_RECONCILE_INTERVAL);
    const stack = Stack.of(this);
    const sources = Lazy.string({ produce: () => stack.toJsonString(props.sources()) });
    const timeout = Duration.seconds(Math.min(this.interval.toSeconds(), MAX_SWEEP_TIMEOUT.toSeconds()));
    // The handler's entry and bundle: `handler` answers a Scheduled Event with one sweep.
    const parts = bundledFunction(this, {
      fn: 'handler',
      ids: { logs: 'Logs', role: 'Role', function: 'Function' },
      roleDescription: 'alarm-to-PagerDuty reconciliation sweep',
      // Named (from the stack and path) only when a read role in another account names it in its trust policy.
      roleName: PhysicalName.GENERATE_IF_NEEDED,
      description: 'Reconciliation sweep: PagerDuty follows the CloudWatch alarm state',
      bundleAwsSdk: props.bundleAwsSdk,
      logRetention: props.logRetention,
      runtime: props.runtime,
      memorySize: props.memorySize ?? 256,
      timeout,
      // A failed or late sweep is not retried: the next one, one interval later, reads the state afresh.
      retryAttempts: 0,
      maxEventAge: this.interval,
      tracing: props.tracing ?? lambda.Tracing.DISABLED,
      environment: { ...props.environment, RECONCILE_SOURCES: sources },
    });
    this.function = parts.function;
    this.role = parts.role;
    this.grant(props);

    this.deadLetterQueue = encryptedQueue(this, 'DeadLetterQueue', {
      key: props.key,
      deadLetterQueueOf: 'the sweep schedule',
    });
    // A literal rule name gives a literal ARN for the key policy (the rule → queue → key → rule ARN would be a cycle).
    const ruleName = `${Names.uniqueResourceName(this, { maxLength: 58, separator: '-' })}-sweep`;
    allowEventBridgeDeadLetters(
      props.key,
      'Sweep',
      stack.formatArn({
        service: 'events',
        resource: 'rule',
        resourceName: ruleName,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      }),
    );
    this.rule = new events.Rule(this, 'Schedule', {
      ruleName,
      description: 'Runs the alarm-to-PagerDuty reconciliation sweep',
      schedule: events.Schedule.rate(this.interval),
      targets: [
        new targets.LambdaFunction(this.function, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 2,
          maxEventAge: this.interval,
        }),
      ],
    });
    this.deadLetterAlarm = queueNotEmptyAlarm(this, 'DeadLetterQueueNotEmpty', {
      queue: this.deadLetterQueue,
      opsTopic: props.opsTopic,
      description:
        "EventBridge could not invoke the reconciliation sweep on its schedule: check the function's resource " +
        'policy and concurrency. Nothing to replay: the next sweep reads the state afresh; purge the queue.',
    });
    this.acknowledgeNagFindings(props.tracing ?? lambda.Tracing.DISABLED);
    this.node.addValidation({ validate: () => this.checkEnvironmentSize(props) });
  }

  /** Lets the sweep assume a read role in another account (that role's trust policy names the sweep's role). */
  public allowAssume(roleArn: string): void {
    const key = Stack.of(this).resolve(roleArn) as unknown;
    const text = JSON.stringify(key);
    if (this.assumable.has(text)) return;
    this.assumable.add(text);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [roleArn] }),
    );
  }

  /**
   * Its own account's alarms in every region (the central one and the same-account intakes'), the ledger with its
   * open-incidents index, the routing keys. No queue: a send that fails is tried again by the next sweep.
   */
  private grant(props: ReconcileSweepProps): void {
    const region = Stack.of(this).region;
    const statements = [
      ...alarmReadStatements(this, '*'),
      new iam.PolicyStatement({
        sid: 'LedgerReadWrite',
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        resources: [props.ledger.tableArn],
      }),
      new iam.PolicyStatement({
        sid: 'LedgerOpenIncidents',
        actions: ['dynamodb:Query'],
        resources: [openIncidentsIndexArn(props.ledger)],
      }),
      ...routingKeySecretStatements(props.secrets, region),
    ];
    for (const statement of statements) this.role.addToPrincipalPolicy(statement);
  }

  private acknowledgeNagFindings(tracing: lambda.Tracing): void {
    const xray = ' X-Ray PutTraceSegments and PutTelemetryRecords accept only "*".';
    acknowledgeAlarmRead(this.role, '*', tracing === lambda.Tracing.DISABLED ? '' : xray);
  }

  private checkEnvironmentSize(props: ReconcileSweepProps): string[] {
    const stack = Stack.of(this);
    // Unresolved parts (the central topic, a generated role name) at a generous length.
    const estimate = JSON.stringify(props.sources(), (_key, value: unknown) =>
      typeof value === 'string' && Token.isUnresolved(value) ? 'x'.repeat(128) : value,
    );
    const sourcesBytes = Buffer.byteLength(estimate, 'utf8') + 'RECONCILE_SOURCES'.length;
    const total = sourcesBytes + props.otherEnvironmentBytes();
    if (total <= LAMBDA_ENVIRONMENT_MAX_BYTES) return [];
    return [
      `The reconciliation sweep's environment would be about ${total} bytes (RECONCILE_SOURCES about ${sourcesBytes} ` +
        `for ${props.sources().length} sources in ${stack.stackName}), over Lambda's 4 KB: pass fewer options to ` +
        'addAlarm (set pagerduty:* tags instead), or split the accounts and regions across several pipelines.',
    ];
  }
}

function checkInterval(interval: Duration): Duration {
  const minutes = interval.toMinutes({ integral: false });
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > 24 * 60) {
    throw new Error(
      `AlarmToPagerDuty: reconcileInterval must be whole minutes, 1 minute to 1 day (got ${interval.toHumanString()}): ` +
        'an EventBridge schedule runs at most once a minute.',
    );
  }
  return interval;
}

/**
 * RECONCILE_SOURCES: the central account and region with the central topic, then one per regional intake with its
 * topic and, in another account, its read role. Where the EventBridge intake takes an environment's events, its
 * selection marks alarms there as wired too.
 */
export function reconcileSources(
  pipeline: IntakePipeline,
  alarmEvents: AlarmEventsSelection | undefined,
): ReconcileSource[] {
  const central = Stack.of(pipeline);
  const selection = alarmEvents === undefined ? {} : selectionOf(alarmEvents);
  return [
    {
      region: central.region,
      accountId: central.account,
      topicArns: [pipeline.topic.topicArn],
      ...selection,
    },
    ...intakesOf(pipeline).map((intake) => ({
      region: intake.environment.region,
      accountId: intake.environment.account,
      topicArns: [intake.topicArn],
      ...(intake.sweepReadRole === undefined ? {} : { roleArn: intake.sweepReadRole.role.roleArn }),
      ...(intake.alarmEventsForwarder === undefined ? {} : selection),
    })),
  ];
}

function selectionOf(
  alarmEvents: AlarmEventsSelection,
): Pick<ReconcileSource, 'alarmNamePrefixes' | 'routeTagged'> {
  const prefixes = alarmEvents.alarmNamePrefixes ?? [];
  return {
    ...(prefixes.length > 0 ? { alarmNamePrefixes: [...prefixes] } : {}),
    routeTagged: alarmEvents.routeTagged ?? true,
  };
}
