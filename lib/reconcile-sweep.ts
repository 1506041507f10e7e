import { ArnFormat, AspectPriority, Aspects, Duration, Lazy, Names, PhysicalName, Stack } from 'aws-cdk-lib';
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
import {
  LAMBDA_ENVIRONMENT_MAX_BYTES,
  MAX_SWEEP_SHARDS,
  shardSources,
  sourcesBytes,
} from './private/sweep-shards';
import { intakesOf } from './regional-intake';

export type { ReconcileSource };

/** How often the sweep runs unless `reconcileInterval` says otherwise. */
export const DEFAULT_RECONCILE_INTERVAL = Duration.minutes(5);
/** A sweep's longest run: it stops at its time budget and resumes where it stopped at the next one. */
export const MAX_SWEEP_TIMEOUT = Duration.minutes(5);

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

/** One sweep function of the estate: its own sources (a shard of them), log group and schedule. */
export interface SweepShard {
  /** The sweep function of these sources (the handler's bundle, its RECONCILE_SOURCES their list). */
  readonly function: NodejsFunction;
  /** Its schedule: one sweep every `interval`. */
  readonly rule: events.Rule;
}

/**
 * The reconciliation sweep: every `interval`, one run of the handler's bundle reads the alarms of every source and
 * corrects PagerDuty to CloudWatch's state through the ledger. When the sources' RECONCILE_SOURCES would not fit
 * Lambda's 4 KB environment in one function, they are cut into shards, one sweep function each (same bundle, same
 * role, own log group, schedule and ledger cursor); the shards are cut at synthesis, once every intake is known.
 */
export class ReconcileSweep extends Construct implements SweepAccess {
  // Its own function: the paging function keeps no CloudWatch read or AssumeRole rights, a sweep never takes the
  // paging function's concurrency, and its timeout can differ.
  /** The first sweep function (the only one unless the sources need shards; see `shards`). */
  public readonly function: NodejsFunction;
  /** The role of every sweep function; intakes in other accounts let it (and only it) assume their read roles. */
  public readonly role: iam.Role;
  /** The first function's schedule: one sweep every `interval`. */
  public readonly rule: events.Rule;
  /** Scheduled events EventBridge could not deliver to a sweep function (every shard's). */
  public readonly deadLetterQueue: sqs.Queue;
  /** Notifies the ops topic when `deadLetterQueue` holds a message. */
  public readonly deadLetterAlarm: cloudwatch.Alarm;
  /** How often a sweep runs. */
  public readonly interval: Duration;
  private readonly props: ReconcileSweepProps;
  private readonly assumable = new Set<string>();
  private readonly created: SweepShard[] = [];
  private readonly onShards: ((functions: readonly lambda.IFunction[]) => void)[] = [];
  private sourceShards?: ReconcileSource[][];

  constructor(scope: Construct, id: string, props: ReconcileSweepProps) {
    super(scope, id);
    this.props = props;
    this.interval = checkInterval(props.interval ?? DEFAULT_RECONCILE_INTERVAL);
    this.function = this.createFunction(0);
    this.role = this.function.role as iam.Role;
    this.grant(props);
    this.deadLetterQueue = encryptedQueue(this, 'DeadLetterQueue', {
      key: props.key,
      deadLetterQueueOf: 'the sweep schedule',
    });
    this.rule = this.schedule(this.function, 0);
    this.created.push({ function: this.function, rule: this.rule });
    this.deadLetterAlarm = queueNotEmptyAlarm(this, 'DeadLetterQueueNotEmpty', {
      queue: this.deadLetterQueue,
      opsTopic: props.opsTopic,
      description:
        "EventBridge could not invoke the reconciliation sweep on its schedule: check the function's resource " +
        'policy and concurrency. Nothing to replay: the next sweep reads the state afresh; purge the queue.',
    });
    this.acknowledgeNagFindings(props.tracing ?? lambda.Tracing.DISABLED);
    // Intakes register after this construct: the shards are cut once the tree is complete, before anything resolves.
    Aspects.of(this).add(
      { visit: (node) => (node === this ? this.completeShards() : undefined) },
      { priority: AspectPriority.MUTATING },
    );
    this.node.addValidation({ validate: () => this.checkShards() });
  }

  /** Every sweep function with its schedule, one per shard of the sources; complete once synthesis has begun. */
  public get shards(): readonly SweepShard[] {
    return [...this.created];
  }

  /** Calls `callback` with every sweep function once the shards are cut (at synthesis), e.g. to alarm on them all. */
  public whenShardsComplete(callback: (functions: readonly lambda.IFunction[]) => void): void {
    this.onShards.push(callback);
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

  /** The sources cut into shards that fit the environment, once (the intakes are all known by then). */
  private sourcesByShard(): ReconcileSource[][] {
    this.sourceShards ??= shardSources(this.props.sources(), this.sourcesMaxBytes());
    return this.sourceShards;
  }

  private sourcesMaxBytes(): number {
    return LAMBDA_ENVIRONMENT_MAX_BYTES - this.props.otherEnvironmentBytes();
  }

  private completeShards(): void {
    const count = Math.min(this.sourcesByShard().length, MAX_SWEEP_SHARDS);
    for (let index = this.created.length; index < count; index++) {
      const fn = this.createFunction(index);
      this.created.push({ function: fn, rule: this.schedule(fn, index) });
    }
    const functions = this.created.map((shard) => shard.function);
    for (const callback of this.onShards.splice(0)) callback(functions);
  }

  /** Shard `index`'s function (the first creates the role); the first keeps the ids it always had. */
  private createFunction(index: number): NodejsFunction {
    const stack = Stack.of(this);
    const n = index === 0 ? '' : `Shard${index + 1}`;
    const sources = Lazy.string({ produce: () => stack.toJsonString(this.sourcesByShard()[index] ?? []) });
    const props = this.props;
    // The handler's entry and bundle: `handler` answers a Scheduled Event with one sweep.
    const parts = bundledFunction(this, {
      fn: 'handler',
      ids: { logs: `${n}Logs`, role: 'Role', function: `${n}Function` },
      role: index === 0 ? undefined : this.role,
      roleDescription: 'alarm-to-PagerDuty reconciliation sweep',
      // Named (from the stack and path) only when a read role in another account names it in its trust policy.
      roleName: PhysicalName.GENERATE_IF_NEEDED,
      description:
        'Reconciliation sweep: PagerDuty follows the CloudWatch alarm state' +
        (index === 0 ? '' : ` (sources shard ${index + 1})`),
      bundleAwsSdk: props.bundleAwsSdk,
      logRetention: props.logRetention,
      runtime: props.runtime,
      memorySize: props.memorySize ?? 256,
      timeout: Duration.seconds(Math.min(this.interval.toSeconds(), MAX_SWEEP_TIMEOUT.toSeconds())),
      // A failed or late sweep is not retried: the next one, one interval later, reads the state afresh.
      retryAttempts: 0,
      maxEventAge: this.interval,
      tracing: props.tracing ?? lambda.Tracing.DISABLED,
      environment: { ...props.environment, RECONCILE_SOURCES: sources },
    });
    return parts.function;
  }

  /** A schedule for one sweep function, its failures to the shared dead-letter queue. */
  private schedule(target: lambda.IFunction, index: number): events.Rule {
    const suffix = index === 0 ? '' : String(index + 1);
    // A literal rule name gives a literal ARN for the key policy (the rule → queue → key → rule ARN would be a cycle).
    const base = Names.uniqueResourceName(this, { maxLength: 58 - suffix.length, separator: '-' });
    const ruleName = `${base}-sweep${suffix}`;
    const stack = Stack.of(this);
    allowEventBridgeDeadLetters(
      this.props.key,
      `Sweep${suffix}`,
      stack.formatArn({
        service: 'events',
        resource: 'rule',
        resourceName: ruleName,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      }),
    );
    return new events.Rule(this, index === 0 ? 'Schedule' : `Shard${index + 1}Schedule`, {
      ruleName,
      description:
        'Runs the alarm-to-PagerDuty reconciliation sweep' + (index === 0 ? '' : ` (shard ${suffix})`),
      schedule: events.Schedule.rate(this.interval),
      targets: [
        new targets.LambdaFunction(target, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 2,
          maxEventAge: this.interval,
        }),
      ],
    });
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

  private checkShards(): string[] {
    const shards = this.sourcesByShard();
    const maxBytes = this.sourcesMaxBytes();
    const where = `in ${Stack.of(this).stackName}`;
    const advice =
      'pass fewer options to addAlarm (set pagerduty:* tags instead), or split the accounts and regions across ' +
      'several pipelines.';
    const tooBig = shards.flat().find((source) => sourcesBytes([source]) > maxBytes);
    if (tooBig !== undefined) {
      const total = sourcesBytes([tooBig]) + this.props.otherEnvironmentBytes();
      return [
        `The reconciliation sweep's environment would be about ${total} bytes with the one source ` +
          `${tooBig.accountId}:${tooBig.region} ${where}, over Lambda's 4 KB: ${advice}`,
      ];
    }
    if (shards.length > MAX_SWEEP_SHARDS) {
      return [
        `The reconciliation sweep would need ${shards.length} functions for ${shards.flat().length} sources ${where} ` +
          `(about ${maxBytes} bytes of RECONCILE_SOURCES each beside the rest of the environment); at most ` +
          `${MAX_SWEEP_SHARDS} are deployed (the errors alarm sums at most 10 metrics): ${advice}`,
      ];
    }
    return [];
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
