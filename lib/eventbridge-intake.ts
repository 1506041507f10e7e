import { ArnFormat, Duration, Names, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { encryptedQueue, queueNotEmptyAlarm } from './private/dead-letter-queue';
import { TAG_KEYS } from './paging-options';

import {
  ALARM_CONFIGURATION_CHANGE,
  ALARM_CONTRIBUTOR_STATE_CHANGE,
  ALARM_STATE_CHANGE,
} from '../lambda/shared/contract';

// One definition, shared with the handler's intake (lambda/shared/contract.ts); re-exported for this module's users.
export { ALARM_CONFIGURATION_CHANGE, ALARM_CONTRIBUTOR_STATE_CHANGE, ALARM_STATE_CHANGE };
/** Every detail type the intake takes (and the forwarding bus accepts). */
export const ALARM_EVENT_DETAIL_TYPES = [
  ALARM_STATE_CHANGE,
  ALARM_CONTRIBUTOR_STATE_CHANGE,
  ALARM_CONFIGURATION_CHANGE,
] as const;

/** Which alarms the EventBridge intake pages for; an alarm matching either selection is taken. */
export interface AlarmEventsSelection {
  /**
   * Alarms whose state-change events carry the `pagerduty:route` tag. CloudWatch puts an alarm's tags in its
   * EventBridge events (`detail.alarmTags`) only when the alarm has tag propagation enabled
   * (`ActionConfiguration.AlarmTagsPropagation`), which `addAlarm` sets; for other alarms, use name prefixes.
   * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-tags-in-notifications.html
   * @default true
   */
  readonly routeTagged?: boolean;
  /**
   * Alarms whose names start with one of these prefixes, tags or not.
   * @default - none
   */
  readonly alarmNamePrefixes?: readonly string[];
}

/**
 * The event pattern of the EventBridge intake: both CloudWatch alarm state-change detail types, from
 * `aws.cloudwatch` (durable delivery), restricted to the selected alarms; and any alarm's deletion (a configuration
 * change with `detail.operation` "delete"), so its open incidents resolve at once. Deletions are not restricted: an
 * alarm wired by its actions alone resolves too, and a deleted alarm with no open incident costs one ledger query.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html
 */
export function alarmEventPattern(selection: AlarmEventsSelection): events.EventPattern {
  const prefixes = [...(selection.alarmNamePrefixes ?? [])];
  const empty = prefixes.find((prefix) => prefix.trim() === '');
  if (empty !== undefined)
    throw new Error('AlarmToPagerDuty alarmEvents: an alarm name prefix must not be empty');
  const byTag = { alarmTags: { [TAG_KEYS.route]: [{ exists: true }] } };
  const byName = { alarmName: prefixes.map((prefix) => ({ prefix })) };
  const choices = [
    ...((selection.routeTagged ?? true) ? [byTag] : []),
    ...(prefixes.length > 0 ? [byName] : []),
  ];
  const [only] = choices;
  if (only === undefined) {
    throw new Error(
      'AlarmToPagerDuty alarmEvents: select some alarms: routeTagged (the default) or alarmNamePrefixes',
    );
  }
  // A top-level "$or" (EventBridge's event ruler allows it at any level) keeps both in one rule and one forwarder.
  return {
    source: ['aws.cloudwatch'],
    $or: [
      {
        'detail-type': [ALARM_STATE_CHANGE, ALARM_CONTRIBUTOR_STATE_CHANGE],
        detail: choices.length === 1 ? only : { $or: choices },
      },
      { 'detail-type': [ALARM_CONFIGURATION_CHANGE], detail: { operation: ['delete'] } },
    ],
  } as events.EventPattern;
}

/** Properties of {@link AlarmEventsIntake}; `AlarmToPagerDuty` creates it from its `alarmEvents` prop. */
export interface AlarmEventsIntakeProps extends AlarmEventsSelection {
  /** The function the rules invoke. */
  readonly handler: lambda.IFunction;
  /** Encrypts the dead-letter queue; EventBridge is allowed to use it for this intake's rules only. */
  readonly key: kms.Key;
  /** Where the dead-letter alarm notifies. */
  readonly opsTopic: sns.ITopic;
}

/**
 * The EventBridge intake: a rule on this account and region's default bus for the selected alarms' state
 * changes, and (once another environment forwards) a bus that receives theirs; both invoke the handler.
 */
export class AlarmEventsIntake extends Construct {
  /** The event pattern of the selected alarms' state changes; forwarding rules elsewhere use the same. */
  public readonly pattern: events.EventPattern;
  /** This environment's alarms: default bus → handler. */
  public readonly rule: events.Rule;
  /** Events EventBridge could not deliver to the handler. */
  public readonly deadLetterQueue: sqs.Queue;
  /** Notifies the ops topic when `deadLetterQueue` holds a message. */
  public readonly deadLetterAlarm: cloudwatch.Alarm;
  private readonly props: AlarmEventsIntakeProps;
  private forwardedBus?: events.EventBus;
  private readonly allowedAccounts = new Set<string>();

  constructor(scope: Construct, id: string, props: AlarmEventsIntakeProps) {
    super(scope, id);
    this.props = props;
    this.pattern = alarmEventPattern(props);
    this.deadLetterQueue = encryptedQueue(this, 'DeadLetterQueue', {
      key: props.key,
      deadLetterQueueOf: 'the EventBridge intake rules',
    });
    this.rule = this.ruleToHandler('Rule', 'local');
    this.deadLetterAlarm = queueNotEmptyAlarm(this, 'DeadLetterQueueNotEmpty', {
      queue: this.deadLetterQueue,
      opsTopic: props.opsTopic,
      description:
        'EventBridge could not invoke the alarm-to-PagerDuty function with alarm state-change events. ' +
        "Check the function's resource policy and concurrency; the events wait in the queue.",
    });
  }

  /**
   * The bus other environments forward to, created on first use, with its rule to the handler. It has a literal
   * name, so its ARN can be named by rules in other regions and accounts.
   */
  public get bus(): events.EventBus {
    if (this.forwardedBus === undefined) {
      const eventBusName = `${Names.uniqueResourceName(this, { maxLength: 240, separator: '-' })}-forwarded`;
      this.forwardedBus = new events.EventBus(this, 'ForwardedBus', {
        eventBusName,
        description: 'CloudWatch alarm state changes and deletions forwarded from other regions and accounts',
      });
      this.ruleToHandler('ForwardedRule', 'forwarded', { bus: this.forwardedBus, name: eventBusName });
    }
    return this.forwardedBus;
  }

  /**
   * Lets an account put alarm state-change events on the forwarding bus. Receiver's side of cross-account
   * (and, for a custom bus, same-account) delivery: a resource-based policy on the bus.
   * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-bus-perms.html
   * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-bus-example-policy-cross-account.html
   */
  public allowSourceAccount(account: string): void {
    if (this.allowedAccounts.has(account)) return;
    this.allowedAccounts.add(account);
    const bus = this.bus;
    bus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `AllowAlarmEventsFrom${account}`,
        principals: [new iam.AccountPrincipal(account)],
        actions: ['events:PutEvents'],
        resources: [bus.eventBusArn],
        conditions: {
          'ForAllValues:StringEquals': {
            'events:source': ['aws.cloudwatch'],
            'events:detail-type': [...ALARM_EVENT_DETAIL_TYPES],
          },
        },
      }),
    );
  }

  private ruleToHandler(
    id: string,
    suffix: string,
    eventBus?: { readonly bus: events.IEventBus; readonly name: string },
  ): events.Rule {
    const stack = Stack.of(this);
    // A literal rule name gives a literal ARN for the key policy: the rule refers to the queue, which refers to
    // the key, so naming the rule by reference there would be a cycle.
    const ruleName = `${Names.uniqueResourceName(this, { maxLength: 50, separator: '-' })}-${suffix}`;
    const ruleArn = stack.formatArn({
      service: 'events',
      resource: 'rule',
      resourceName: eventBus === undefined ? ruleName : `${eventBus.name}/${ruleName}`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    allowEventBridgeDeadLetters(this.props.key, suffix, ruleArn);
    return new events.Rule(this, id, {
      ruleName,
      eventBus: eventBus?.bus,
      description: 'CloudWatch alarm state changes of the selected alarms to the alarm-to-PagerDuty function',
      eventPattern: this.pattern,
      targets: [
        new targets.LambdaFunction(this.props.handler, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });
  }
}

/** Properties of {@link AlarmEventsForwarder}; `RegionalIntake` creates one when the pipeline has `alarmEvents`. */
export interface AlarmEventsForwarderProps {
  /** The central EventBridge intake. */
  readonly intake: AlarmEventsIntake;
  /** Encrypts this forwarder's dead-letter queue. */
  readonly key: kms.Key;
}

/**
 * Sender's side in another region or account: a rule on the default bus with the intake's pattern, targeting the
 * central forwarding bus with a role allowed to put events there, and a dead-letter queue in this region.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-bus-perms.html
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/events/CloudWatchEvents-CrossAccountEventDelivery.html
 */
export class AlarmEventsForwarder extends Construct {
  /** The rule on this environment's default bus that forwards the selected alarms' state changes. */
  public readonly rule: events.Rule;
  /** The role EventBridge assumes to put the events on the central bus. */
  public readonly role: iam.Role;
  /** What EventBridge could not put on the central bus, kept in this region. */
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: AlarmEventsForwarderProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { intake } = props;
    intake.allowSourceAccount(stack.account);
    const bus = intake.bus;

    this.deadLetterQueue = encryptedQueue(this, 'DeadLetterQueue', {
      key: props.key,
      deadLetterQueueOf: 'the forwarding rule',
    });
    const ruleName = `${Names.uniqueResourceName(this, { maxLength: 56, separator: '-' })}-forward`;
    const ruleArn = stack.formatArn({
      service: 'events',
      resource: 'rule',
      resourceName: ruleName,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    allowEventBridgeDeadLetters(props.key, 'Forward', ruleArn);
    // Sender's side: EventBridge assumes this role to put the events on the central bus, for this rule only (for a
    // rule target, aws:SourceArn is the rule: https://docs.aws.amazon.com/eventbridge/latest/userguide/cross-service-confused-deputy-prevention.html).
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnEquals: { 'aws:SourceArn': ruleArn },
        },
      }),
      description: 'Forwards CloudWatch alarm state changes to the alarm-to-PagerDuty bus',
    });
    this.rule = new events.Rule(this, 'Rule', {
      ruleName,
      description: 'CloudWatch alarm state changes of the selected alarms to the alarm-to-PagerDuty bus',
      eventPattern: intake.pattern,
      targets: [new targets.EventBus(bus, { role: this.role, deadLetterQueue: this.deadLetterQueue })],
    });
  }
}

/**
 * EventBridge encrypts what it puts in a KMS-encrypted dead-letter queue with the queue's key: allowed for one rule.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html
 */
export function allowEventBridgeDeadLetters(key: kms.IKey, sidSuffix: string, ruleArn: string): void {
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: `AllowEventBridgeDeadLetters${sidSuffix}`,
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: ['*'],
      conditions: { ArnEquals: { 'aws:SourceArn': ruleArn } },
    }),
  );
}
