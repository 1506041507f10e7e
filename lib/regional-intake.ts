import { Annotations, CfnOutput, Names, Stack, Stage, Token, type StackProps } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { Construct } from 'constructs';
import type { IntakePipeline, PublishingPolicy } from './intake-pipeline';
import { allowCloudWatchToPublish, allowCloudWatchToUseKey } from './private/cloudwatch-publishing';
import { denyOtherPublishers } from './private/topic-policies';
import { encryptedQueue, queueNotEmptyAlarm } from './private/dead-letter-queue';
import { AlarmEventsForwarder } from './eventbridge-intake';
import { SweepReadRole } from './private/alarm-read';

/** An AWS account and region, both literal. */
export interface IntakeEnvironment {
  /** The 12-digit account ID. */
  readonly account: string;
  /** The region, e.g. `eu-west-1`. */
  readonly region: string;
}

/** Properties of {@link RegionalIntake}. */
export interface RegionalIntakeProps {
  /**
   * The central pipeline this intake feeds. It must be in the same CDK app, in a stack with a literal account and
   * region: CloudFormation cannot reference across regions and accounts, so both ends are wired with literal ARNs.
   */
  readonly pipeline: IntakePipeline;
  /**
   * Email subscribed to this region's ops topic, which the dead-letter alarm of this region's subscription
   * notifies (a CloudWatch alarm can only notify a topic in its own region, so the central ops topic cannot).
   * @default - no subscription
   */
  readonly opsEmail?: string;
  /**
   * Forward this environment's alarm state-change events to the central event bus of the pipeline's EventBridge
   * intake. Requires the pipeline's `alarmEvents` prop.
   * @default - true when the pipeline has its EventBridge intake
   */
  readonly forwardAlarmEvents?: boolean;
}

/**
 * The alarm topic of one region and account other than the central pipeline's: CloudWatch only notifies a topic
 * in the alarm's own region. It delivers to the central function across regions and accounts, with the permissions
 * both sides need, and keeps what SNS cannot deliver in a dead-letter queue of the topic's region.
 *
 * In the central account the subscription lives here, next to its dead-letter queue. For another account, AWS
 * documents the function owner's side creating the subscription, so it lives in the central account, in this
 * topic's region (the central stack when the regions match, else an `IntakeSubscriberStack`).
 */
export class RegionalIntake extends Construct {
  /** Alarms in this environment notify this topic (alarm, OK and insufficient-data actions). */
  public readonly topic: sns.Topic;
  /** The topic's ARN as a literal, usable from any stack without an export. */
  public readonly topicArn: string;
  /** Encrypts the topic (and, in the central account, the dead-letter queue and ops topic). */
  public readonly key: kms.Key;
  /** The subscription of the central function to `topic`; in another stack for another account. */
  public readonly subscription: sns.Subscription;
  /** What SNS could not deliver to the central function from this topic. */
  public readonly deadLetterQueue: sqs.IQueue;
  /** This environment's account and region. */
  public readonly environment: IntakeEnvironment;
  /** Forwards alarm state-change events to the central bus, when the EventBridge intake is on. */
  public readonly alarmEventsForwarder?: AlarmEventsForwarder;
  /**
   * In another account, with the pipeline's reconciliation sweep on: the read-only role the sweep assumes to read
   * this account's alarms in this region. A same-account intake needs none: the sweep reads with its own role.
   */
  public readonly sweepReadRole?: SweepReadRole;

  constructor(scope: Construct, id: string, props: RegionalIntakeProps) {
    super(scope, id);
    const { pipeline } = props;
    const central = Stack.of(pipeline);
    const centralEnv = literalEnvironment(central, () =>
      centralEnvironmentError(central, 'a regional intake'),
    );
    this.environment = literalEnvironment(
      Stack.of(this),
      () =>
        `RegionalIntake (${this.node.path}): stack ${Stack.of(this).stackName} has no literal account and region. ` +
        'Give it env: { account, region }: the intake must know where its topic is.',
    );
    checkDeliverable(this.environment, centralEnv, this.node.path);
    this.register(pipeline);

    this.key = new kms.Key(this, 'Key', {
      description: `Encrypts the alarm-to-PagerDuty intake topic in ${this.environment.region}`,
      enableKeyRotation: true,
    });
    allowCloudWatchToUseKey(this.key, [this.environment.account]);
    // A literal name makes the ARN literal: the central stack's permission and the key policy below can name the
    // topic without a cross-region reference or a dependency cycle through the key.
    const topicName = Names.uniqueResourceName(this, { maxLength: 256, separator: '-' });
    this.topic = this.createTopic(topicName);
    this.topicArn = Stack.of(this).formatArn({ service: 'sns', resource: topicName });
    this.allowPublishing(pipeline.publishing);
    this.allowTopicToInvoke(pipeline.handler);

    if (this.environment.account === centralEnv.account) {
      const site = this.subscribeInCentralAccount(pipeline, props.opsEmail);
      this.subscription = site.subscription;
      this.deadLetterQueue = site.queue;
    } else {
      const site = this.subscribeFromCentralAccount(pipeline, centralEnv.account, props.opsEmail);
      this.subscription = site.subscription;
      this.deadLetterQueue = site.queue;
      this.sweepReadRole = this.createSweepReadRole(pipeline, centralEnv.account);
    }
    this.alarmEventsForwarder = this.forwardAlarmEvents(pipeline, props.forwardAlarmEvents);
  }

  /** Claims this environment in the pipeline's registry: one intake per account and region. */
  private register(pipeline: IntakePipeline): void {
    const registry = registryOf(pipeline);
    const key = environmentKey(this.environment);
    const existing = registry.intakes.get(key);
    if (existing !== undefined) {
      throw new Error(
        `RegionalIntake (${this.node.path}): ${existing.node.path} already serves ${key} for ${pipeline.node.path}. ` +
          'Create at most one intake per account and region, before any addAlarm that needs it.',
      );
    }
    registry.intakes.set(key, this);
  }

  private createTopic(topicName: string): sns.Topic {
    return new sns.Topic(this, 'Topic', {
      topicName,
      displayName: 'CloudWatch alarms to PagerDuty (regional intake)',
      masterKey: this.key,
      enforceSSL: true,
    });
  }

  /** CloudWatch of this account may publish; with restrictPublishing, only it and the pipeline's publishers. */
  private allowPublishing(publishing: PublishingPolicy): void {
    allowCloudWatchToPublish(this.topic, this.environment.account, this.topicArn);
    // The central topic's restrictPublishing holds for every intake: one open door would do for all.
    if (publishing.restricted) denyOtherPublishers(this.topic, publishing.roleArns, this.topicArn);
  }

  /**
   * Function owner's side: a resource-based policy statement letting SNS invoke the function for this topic
   * only, without SourceAccount (not supported for SNS; it would deny), and with the regional SNS principal
   * when the topic is in an opt-in region.
   * https://docs.aws.amazon.com/lambda/latest/dg/with-sns-example.html
   * https://docs.aws.amazon.com/sns/latest/dg/lambda-prereq.html
   */
  private allowTopicToInvoke(handler: lambda.IFunction): void {
    handler.addPermission(`AllowInvokeFromIntake-${this.environment.account}-${this.environment.region}`, {
      principal: new iam.ServicePrincipal(snsPrincipalFor(this.environment.region)),
      sourceArn: this.topicArn,
      action: 'lambda:InvokeFunction',
    });
  }

  /** In the central account the subscription lives here, next to this region's dead-letter queue. */
  private subscribeInCentralAccount(
    pipeline: IntakePipeline,
    opsEmail: string | undefined,
  ): { subscription: sns.Subscription; queue: sqs.IQueue } {
    const site = new SubscriptionDeadLetters(this, 'DeadLetters', { key: this.key, opsEmail });
    registryOf(pipeline).sites.set(this.environment.region, site);
    const subscription = site.subscribe(
      'Subscription',
      this.topic,
      this.topicArn,
      pipeline.handler.functionArn,
    );
    // The function (and its permission) first, then the subscription to it.
    Stack.of(this).addStackDependency(Stack.of(pipeline), 'the intake subscribes the central function');
    return { subscription, queue: site.queue };
  }

  /**
   * Topic owner's side: the central account may subscribe its function, over Lambda, and list the topic's
   * subscriptions (the tutorial grants both); the subscription is then made from the central account.
   * https://docs.aws.amazon.com/lambda/latest/dg/with-sns-example.html
   * A subscription made from the topic owner's side would wait for the endpoint owner to confirm it:
   * https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html
   */
  private subscribeFromCentralAccount(
    pipeline: IntakePipeline,
    centralAccount: string,
    opsEmail: string | undefined,
  ): { subscription: sns.Subscription; queue: sqs.IQueue } {
    const functionArn = pipeline.handler.functionArn;
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCentralAccountToSubscribeItsFunction',
        principals: [new iam.AccountPrincipal(centralAccount)],
        actions: ['sns:Subscribe'],
        resources: [this.topicArn],
        conditions: { StringEquals: { 'sns:Protocol': 'lambda', 'sns:Endpoint': functionArn } },
      }),
    );
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCentralAccountToListSubscriptions',
        principals: [new iam.AccountPrincipal(centralAccount)],
        actions: ['sns:ListSubscriptionsByTopic'],
        resources: [this.topicArn],
      }),
    );
    const site = subscriptionSiteFor(pipeline, this.environment.region, opsEmail);
    const subscription = site.subscribe(
      `Subscription-${this.environment.account}`,
      this.topic,
      this.topicArn,
      functionArn,
    );
    // The topic and its policy first, then the subscription made from the central account.
    Stack.of(site).addStackDependency(Stack.of(this), 'the central account subscribes to this topic');
    return { subscription, queue: site.queue };
  }

  /** The role the pipeline's sweep assumes to read this other account's alarms, when the sweep is on. */
  private createSweepReadRole(pipeline: IntakePipeline, centralAccount: string): SweepReadRole | undefined {
    const sweep = pipeline.reconcileSweep;
    if (sweep === undefined) return undefined;
    const role = new SweepReadRole(this, 'SweepReadRole', { sweepRole: sweep.role, centralAccount });
    sweep.allowAssume(role.role.roleArn);
    return role;
  }

  /** Forwards this environment's alarm events to the pipeline's bus: by default when it has one. */
  private forwardAlarmEvents(
    pipeline: IntakePipeline,
    forward: boolean | undefined,
  ): AlarmEventsForwarder | undefined {
    const alarmEvents = pipeline.alarmEvents;
    if (forward === true && alarmEvents === undefined) {
      throw new Error(
        `RegionalIntake (${this.node.path}): forwardAlarmEvents needs the pipeline's EventBridge intake; ` +
          `set alarmEvents on ${pipeline.node.path}.`,
      );
    }
    if (alarmEvents === undefined || forward === false) return undefined;
    return new AlarmEventsForwarder(this, 'AlarmEvents', { intake: alarmEvents, key: this.key });
  }
}

/** Properties of {@link RegionalIntakeStack}: a stack's (`env` must be literal) and the intake's. */
export interface RegionalIntakeStackProps extends StackProps, RegionalIntakeProps {}

/** A stack holding one `RegionalIntake`: deploy one per account and region whose alarms should page. */
export class RegionalIntakeStack extends Stack {
  /** The intake this stack holds. */
  public readonly intake: RegionalIntake;

  constructor(scope: Construct, id: string, props: RegionalIntakeStackProps) {
    super(scope, id, props);
    this.intake = new RegionalIntake(this, 'Intake', props);
    new CfnOutput(this, 'TopicArn', {
      description: 'Alarm and OK action of any CloudWatch alarm in this account and region that should page',
      value: this.intake.topicArn,
    });
    if (Stack.of(this.intake.deadLetterQueue) === this) {
      new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.intake.deadLetterQueue.queueUrl });
    }
  }
}

/** Properties of {@link IntakeSubscriberStack}. */
export interface IntakeSubscriberStackProps extends StackProps {
  /**
   * Email subscribed to this stack's ops topic (the dead-letter alarm's).
   * @default - no subscription
   */
  readonly opsEmail?: string;
}

/**
 * The central account's stack in a region where only other accounts have intakes: their subscriptions to the
 * central function, and the dead-letter queue SNS requires in the subscription's account and region.
 * `RegionalIntake` creates it when needed.
 */
export class IntakeSubscriberStack extends Stack {
  /** The region's subscription dead-letter queue, its alarm and ops topic. */
  public readonly deadLetters: SubscriptionDeadLetters;

  constructor(scope: Construct, id: string, props: IntakeSubscriberStackProps = {}) {
    super(scope, id, props);
    const key = new kms.Key(this, 'Key', {
      description: 'Encrypts the alarm-to-PagerDuty subscription dead-letter queue of this region',
      enableKeyRotation: true,
    });
    allowCloudWatchToUseKey(key, [this.account]);
    this.deadLetters = new SubscriptionDeadLetters(this, 'DeadLetters', { key, opsEmail: props.opsEmail });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.deadLetters.queue.queueUrl });
  }
}

/** Properties of {@link SubscriptionDeadLetters}. */
export interface SubscriptionDeadLettersProps {
  /** Encrypts the queue and the ops topic; CloudWatch must already be allowed to use it. */
  readonly key: kms.Key;
  /**
   * Email subscribed to the ops topic.
   * @default - no subscription
   */
  readonly opsEmail?: string;
}

/** Where subscriptions in one region (central account) subscribe, with their dead-letter queue. */
interface SubscriptionSite extends Construct {
  readonly queue: sqs.IQueue;
  subscribe(id: string, topic: sns.ITopic, topicArn: string, functionArn: string): sns.Subscription;
}

/**
 * The dead-letter queue of the subscriptions made in one region, its alarm and the ops topic it notifies.
 * SNS requires the queue in the subscription's account and region:
 * https://docs.aws.amazon.com/sns/latest/dg/sns-dead-letter-queues.html
 */
export class SubscriptionDeadLetters extends Construct {
  /** What SNS could not deliver from this region's intake topics to the central function. */
  public readonly queue: sqs.Queue;
  /** This region's ops topic: a CloudWatch alarm can only notify a topic in its own region. */
  public readonly opsTopic: sns.Topic;
  /** Notifies `opsTopic` when `queue` holds a message. */
  public readonly alarm: cloudwatch.Alarm;
  private readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: SubscriptionDeadLettersProps) {
    super(scope, id);
    this.key = props.key;
    this.queue = encryptedQueue(this, 'Queue', { key: props.key, deadLetterQueueOf: 'SNS subscriptions' });
    this.opsTopic = new sns.Topic(this, 'OpsTopic', {
      displayName: 'Alarm-to-PagerDuty intake health',
      masterKey: props.key,
      enforceSSL: true,
    });
    allowCloudWatchToPublish(this.opsTopic, Stack.of(this).account);
    if (props.opsEmail !== undefined) {
      this.opsTopic.addSubscription(new subscriptions.EmailSubscription(props.opsEmail));
    }
    this.alarm = queueNotEmptyAlarm(this, 'NotEmpty', {
      queue: this.queue,
      opsTopic: this.opsTopic,
      description:
        'SNS could not deliver alarm notifications of this region to the central alarm-to-PagerDuty function. ' +
        'Check the function and its resource policy, then replay the messages with `npm run redrive`.',
    });
  }

  /**
   * Subscribes the central function to an intake topic, with this queue as its dead-letter queue.
   * @internal
   */
  public subscribe(id: string, topic: sns.ITopic, topicArn: string, functionArn: string): sns.Subscription {
    allowSnsToUseKey(this.key, topicArn, id);
    return new sns.Subscription(this, id, {
      topic,
      protocol: sns.SubscriptionProtocol.LAMBDA,
      endpoint: functionArn,
      deadLetterQueue: this.queue,
    });
  }
}

/** The central stack as the site for topics of other accounts in the central region: the pipeline's retry queue. */
class CentralSubscriptionSite extends Construct implements SubscriptionSite {
  public readonly queue: sqs.IQueue;

  constructor(
    scope: Construct,
    id: string,
    private readonly pipeline: IntakePipeline,
  ) {
    super(scope, id);
    this.queue = pipeline.retryQueue;
  }

  public subscribe(id: string, topic: sns.ITopic, topicArn: string, functionArn: string): sns.Subscription {
    allowSnsToUseKey(this.pipeline.key, topicArn, id);
    return new sns.Subscription(this, id, {
      topic,
      protocol: sns.SubscriptionProtocol.LAMBDA,
      endpoint: functionArn,
      deadLetterQueue: this.queue,
    });
  }
}

/** SNS encrypts what it puts in an encrypted DLQ with the queue's key: allowed for this one topic. */
function allowSnsToUseKey(key: kms.Key, topicArn: string, id: string): void {
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: `AllowSnsDeadLetters${id.replace(/[^A-Za-z0-9]/g, '')}`,
      principals: [new iam.ServicePrincipal('sns.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: { ArnEquals: { 'aws:SourceArn': topicArn } },
    }),
  );
}

interface Registry {
  /** Environment key → the intake serving it. */
  readonly intakes: Map<string, RegionalIntake>;
  /** Region → where the central account subscribes topics of that region. */
  readonly sites: Map<string, SubscriptionSite>;
}

const registries = new WeakMap<IntakePipeline, Registry>();

function registryOf(pipeline: IntakePipeline): Registry {
  let registry = registries.get(pipeline);
  if (registry === undefined) {
    registry = { intakes: new Map(), sites: new Map() };
    registries.set(pipeline, registry);
  }
  return registry;
}

/** The central account's site in a region: the central stack, a same-account intake there, or a new stack. */
function subscriptionSiteFor(pipeline: IntakePipeline, region: string, opsEmail?: string): SubscriptionSite {
  const registry = registryOf(pipeline);
  const known = registry.sites.get(region);
  if (known !== undefined) return known;
  const central = Stack.of(pipeline);
  let site: SubscriptionSite;
  if (region === central.region) {
    site = new CentralSubscriptionSite(pipeline, 'IntakeSubscriptions', pipeline);
  } else {
    const stack = new IntakeSubscriberStack(
      Stage.of(central) ?? central.node.root,
      `${central.node.id}-Subscriptions-${region}`,
      {
        env: { account: central.account, region },
        opsEmail,
      },
    );
    stack.addStackDependency(central, 'the subscriptions are to the central function');
    site = stack.deadLetters;
  }
  registry.sites.set(region, site);
  return site;
}

/**
 * The topic an alarm's actions must name: the central topic in the central stack's environment, else that
 * environment's intake, created (in a stack of its own) on first use.
 */
export function topicForAlarm(pipeline: IntakePipeline, alarm: Construct): sns.ITopic {
  const central = Stack.of(pipeline);
  const home = Stack.of(alarm);
  if (home.environment === central.environment) return pipeline.topic;
  const where = `addAlarm(${alarm.node.path})`;
  const env = literalEnvironment(
    home,
    () =>
      `${where}: stack ${home.stackName} is environment-agnostic (its account or region is not set), so CDK cannot ` +
      `tell whether its alarms are in the region of ${central.stackName}, and CloudWatch only notifies a topic in ` +
      "the alarm's own region. Give the stack env: { account, region } (and the central stack too), or attach " +
      "the topic of that region yourself: AlarmToPagerDuty.topic in the pipeline's region, elsewhere the topic " +
      'of a RegionalIntakeStack you create for that account and region (its `intake.topic`, or its TopicArn output).',
  );
  literalEnvironment(central, () =>
    centralEnvironmentError(central, `${where} for an alarm in ${environmentKey(env)}`),
  );
  const intake = intakeFor(pipeline, env);
  if (Stack.of(intake) === home) return intake.topic;
  // The literal ARN rather than an export: alarm stacks stay independent of the intake stack's outputs.
  home.addStackDependency(Stack.of(intake), 'its alarms notify the intake topic');
  const id = `AlarmToPagerDutyIntakeTopic-${env.account}-${env.region}`;
  const known = home.node.tryFindChild(id) as sns.ITopic | undefined;
  return known ?? sns.Topic.fromTopicArn(home, id, intake.topicArn);
}

/** The intake serving `env`: the one registered (made by the user or an earlier addAlarm), or a new stack. */
export function intakeFor(pipeline: IntakePipeline, env: IntakeEnvironment): RegionalIntake {
  const known = registryOf(pipeline).intakes.get(environmentKey(env));
  if (known !== undefined) return known;
  const central = Stack.of(pipeline);
  // Its dead-letter alarm can only notify a topic of its own region: subscribe the pipeline's ops email there.
  const stack = new RegionalIntakeStack(
    Stage.of(central) ?? central.node.root,
    `${central.node.id}-Intake-${env.account}-${env.region}`,
    { env, pipeline, opsEmail: pipeline.opsEmail },
  );
  if (pipeline.opsEmail === undefined) {
    Annotations.of(stack).addWarningV2(
      'alarm-to-pagerduty:intakeOpsUnsubscribed',
      `${stack.stackName} was created by addAlarm for ${environmentKey(env)}; its dead-letter alarm notifies a ` +
        `topic of that region, and ${pipeline.node.path} has no opsEmail to subscribe to it, so it notifies no one. ` +
        'Give the pipeline opsEmail, or create that RegionalIntakeStack yourself (with opsEmail) before addAlarm.',
    );
  }
  return stack.intake;
}

/** The intakes registered for a pipeline so far (user-made and created by addAlarm). */
export function intakesOf(pipeline: IntakePipeline): readonly RegionalIntake[] {
  return [...registryOf(pipeline).intakes.values()];
}

export function environmentKey(env: IntakeEnvironment): string {
  return `${env.account}/${env.region}`;
}

function literalEnvironment(stack: Stack, error: () => string): IntakeEnvironment {
  if (Token.isUnresolved(stack.account) || Token.isUnresolved(stack.region)) throw new Error(error());
  return { account: stack.account, region: stack.region };
}

function centralEnvironmentError(central: Stack, what: string): string {
  return (
    `${what} needs the central stack ${central.stackName} to have a literal account and region (env: ` +
    '{ account, region }): the intake and the central function refer to each other by ARN across regions or ' +
    'accounts, which an environment-agnostic stack cannot give.'
  );
}

/**
 * SNS delivers to a Lambda function in another region, except from a region enabled by default into an opt-in
 * region, and between two opt-in regions; from an opt-in region it signs as sns.<region>.amazonaws.com.
 * https://docs.aws.amazon.com/sns/latest/dg/lambda-prereq.html
 */
function checkDeliverable(topic: IntakeEnvironment, fn: IntakeEnvironment, where: string): void {
  if (topic.account === fn.account && topic.region === fn.region) {
    throw new Error(
      `RegionalIntake (${where}): ${environmentKey(topic)} is the central pipeline's own environment; ` +
        'its alarms notify the central topic, no intake is needed there.',
    );
  }
  const topicInfo = RegionInfo.get(topic.region);
  const fnInfo = RegionInfo.get(fn.region);
  if (
    topicInfo.partition !== undefined &&
    fnInfo.partition !== undefined &&
    topicInfo.partition !== fnInfo.partition
  ) {
    throw new Error(
      `RegionalIntake (${where}): ${topic.region} and ${fn.region} are in different partitions ` +
        `(${topicInfo.partition}, ${fnInfo.partition}); SNS cannot deliver between them. Deploy a pipeline there.`,
    );
  }
  if (topic.region !== fn.region && fnInfo.isOptInRegion) {
    throw new Error(
      `RegionalIntake (${where}): SNS does not deliver from ${topic.region} to a function in ${fn.region}, an ` +
        'opt-in region (https://docs.aws.amazon.com/sns/latest/dg/lambda-prereq.html). Put the central pipeline ' +
        'in a region enabled by default, or deploy a pipeline in this one.',
    );
  }
}

/** The service principal SNS invokes Lambda with for topics in this region. */
export function snsPrincipalFor(region: string): string {
  return RegionInfo.get(region).isOptInRegion ? `sns.${region}.amazonaws.com` : 'sns.amazonaws.com';
}
