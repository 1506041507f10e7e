import { REPO_ROOT } from '../support/paths';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AlarmToPagerDuty, type AlarmToPagerDutyProps } from '../../lib/alarm-to-pagerduty';
import {
  ALARM_CONFIGURATION_CHANGE,
  ALARM_CONTRIBUTOR_STATE_CHANGE,
  ALARM_STATE_CHANGE,
} from '../../lib/eventbridge-intake';
import { RegionalIntakeStack, intakesOf } from '../../lib/regional-intake';

const ROOT = REPO_ROOT;
const CDK_CONTEXT = (
  JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> }
).context;

const CENTRAL = { account: '111111111111', region: 'us-east-1' };
const EU = { account: CENTRAL.account, region: 'eu-west-1' };
const SYDNEY = { account: CENTRAL.account, region: 'ap-southeast-2' };
const OTHER = { account: '222222222222', region: 'us-west-2' };

function newApp(outdir?: string): App {
  return new App({ outdir, context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
}

function centralStack(app: App, props: Partial<AlarmToPagerDutyProps> = {}, env: object = CENTRAL) {
  const stack = new Stack(app, 'Central', { env });
  const pipeline = new AlarmToPagerDuty(stack, 'Pipeline', {
    routes: { default: secretsmanager.Secret.fromSecretNameV2(stack, 'Key', 'pagerduty/routing-key') },
    ...props,
  });
  return { stack, pipeline };
}

function metricAlarm(scope: Stack, id: string, props: Partial<cloudwatch.AlarmProps> = {}): cloudwatch.Alarm {
  return new cloudwatch.Alarm(scope, id, {
    metric: new cloudwatch.Metric({ namespace: 'Test', metricName: id }),
    threshold: 1,
    evaluationPeriods: 1,
    ...props,
  });
}

/** The app of the issue: the central stack, intakes in two other regions and one other account, alarms in each. */
function estate(outdir?: string, props: Partial<AlarmToPagerDutyProps> = {}) {
  const app = newApp(outdir);
  const { stack: central, pipeline } = centralStack(app, {
    alarmEvents: { alarmNamePrefixes: ['prod-'] },
    ...props,
  });
  const eu = new RegionalIntakeStack(app, 'IntakeEU', { env: EU, pipeline, opsEmail: 'ops@example.com' });
  const sydney = new RegionalIntakeStack(app, 'IntakeSydney', { env: SYDNEY, pipeline });
  const other = new RegionalIntakeStack(app, 'IntakeOther', { env: OTHER, pipeline });
  const euAlarms = new Stack(app, 'AlarmsEU', { env: EU });
  const euAlarm = metricAlarm(euAlarms, 'Latency', { alarmName: 'eu-latency' });
  pipeline.addAlarm(euAlarm, { severity: 'warning' });
  const otherAlarms = new Stack(app, 'AlarmsOther', { env: OTHER });
  const otherAlarm = metricAlarm(otherAlarms, 'Errors');
  pipeline.addAlarm(otherAlarm);
  return { app, central, pipeline, eu, sydney, other, euAlarms, euAlarm, otherAlarms, otherAlarm };
}

const arn = (service: string, env: { account: string; region: string }, resource: string) =>
  `arn:aws:${service}:${env.region}:${env.account}:${resource}`;

function functionArn(central: Stack, pipeline: AlarmToPagerDuty): string {
  const name = central.resolve(
    (pipeline.handler.node.defaultChild as { functionName?: string }).functionName,
  );
  expect(typeof name).toBe('string');
  return arn('lambda', CENTRAL, `function:${String(name)}`);
}

function topicName(intake: RegionalIntakeStack): string {
  const name: unknown = intake.resolve(
    (intake.intake.topic.node.defaultChild as { topicName?: string }).topicName,
  );
  expect(typeof name).toBe('string');
  return String(name);
}

function statementsOf(
  template: Template,
  type: string,
  property = 'PolicyDocument',
): Record<string, unknown>[] {
  return Object.values(template.findResources(type)).flatMap((resource) => {
    const document = (resource as { Properties: Record<string, { Statement: unknown }> }).Properties[
      property
    ];
    return document === undefined ? [] : (document.Statement as Record<string, unknown>[]);
  });
}

describe('an estate: central stack, intakes in two other regions and in another account', () => {
  const e = estate();
  e.app.synth();
  const central = Template.fromStack(e.central);
  const fnArn = functionArn(e.central, e.pipeline);
  const euTopicArn = arn('sns', EU, topicName(e.eu));
  const sydneyTopicArn = arn('sns', SYDNEY, topicName(e.sydney));
  const otherTopicArn = arn('sns', OTHER, topicName(e.other));
  const subscriberStack = e.app.node.findChild('Central-Subscriptions-us-west-2') as Stack;

  test('function owner side: SNS may invoke the function for each intake topic, without SourceAccount', () => {
    for (const topicArn of [euTopicArn, sydneyTopicArn, otherTopicArn]) {
      central.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        Principal: 'sns.amazonaws.com',
        SourceArn: topicArn,
        SourceAccount: Match.absent(),
        FunctionName: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] },
      });
    }
  });

  test('same account, other region: the intake subscribes the function, with its own encrypted DLQ', () => {
    for (const intake of [e.eu, e.sydney]) {
      const template = Template.fromStack(intake);
      const env = { account: intake.account, region: intake.region };
      const topicArn = arn('sns', env, topicName(intake));
      template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'lambda',
        Endpoint: fnArn,
        TopicArn: { Ref: Match.anyValue() },
        Region: Match.absent(),
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] } },
      });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: 'sqs:SendMessage',
              Principal: { Service: 'sns.amazonaws.com' },
              Condition: { ArnEquals: { 'aws:SourceArn': { Ref: Match.anyValue() } } },
            }),
          ]),
        },
      });
      template.hasResourceProperties('AWS::KMS::Key', {
        EnableKeyRotation: true,
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            }),
            Match.objectLike({
              Principal: { Service: 'sns.amazonaws.com' },
              Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
              Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
            }),
          ]),
        },
      });
      template.hasResourceProperties('AWS::SQS::Queue', {
        KmsMasterKeyId: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] },
        MessageRetentionPeriod: 14 * 24 * 3600,
      });
      expect(intake.dependencies).toContain(e.central);
    }
  });

  test('every intake topic: encrypted with its key, CloudWatch of its account may publish, TLS only', () => {
    for (const intake of [e.eu, e.sydney, e.other]) {
      const template = Template.fromStack(intake);
      template.hasResourceProperties('AWS::SNS::Topic', {
        TopicName: topicName(intake),
        KmsMasterKeyId: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] },
      });
      const statements = statementsOf(template, 'AWS::SNS::TopicPolicy');
      expect(statements).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          expect.objectContaining({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: arn('sns', { account: intake.account, region: intake.region }, topicName(intake)),
            Condition: { StringEquals: { 'aws:SourceAccount': intake.account } },
          }),
        ]),
      );
    }
  });

  test('topic owner side (other account): the central account may subscribe only its function, over Lambda', () => {
    const statements = statementsOf(Template.fromStack(e.other), 'AWS::SNS::TopicPolicy');
    expect(statements).toEqual(
      expect.arrayContaining([
        {
          Sid: 'AllowCentralAccountToSubscribeItsFunction',
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${CENTRAL.account}:root` },
          Action: 'sns:Subscribe',
          Resource: otherTopicArn,
          Condition: { StringEquals: { 'sns:Protocol': 'lambda', 'sns:Endpoint': fnArn } },
        },
        {
          Sid: 'AllowCentralAccountToListSubscriptions',
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${CENTRAL.account}:root` },
          Action: 'sns:ListSubscriptionsByTopic',
          Resource: otherTopicArn,
        },
      ]),
    );
    // The other account makes no subscription itself: that would wait for the endpoint owner's confirmation.
    Template.fromStack(e.other).resourceCountIs('AWS::SNS::Subscription', 0);
  });

  test("the central account subscribes in the other account's region, with a DLQ of its own there", () => {
    expect({ account: subscriberStack.account, region: subscriberStack.region }).toEqual({
      account: CENTRAL.account,
      region: OTHER.region,
    });
    const template = Template.fromStack(subscriberStack);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      Endpoint: fnArn,
      TopicArn: otherTopicArn,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] } },
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'sqs:SendMessage',
            Principal: { Service: 'sns.amazonaws.com' },
            Condition: { ArnEquals: { 'aws:SourceArn': otherTopicArn } },
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'sns.amazonaws.com' },
            Condition: { ArnEquals: { 'aws:SourceArn': otherTopicArn } },
          }),
        ]),
      },
    });
    expect(subscriberStack.dependencies).toEqual(expect.arrayContaining([e.other, e.central]));
  });

  test('each regional DLQ has an alarm on a topic of its own region, with the email given', () => {
    for (const stack of [e.eu, e.sydney, subscriberStack]) {
      const template = Template.fromStack(stack);
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Namespace: 'AWS/SQS',
        AlarmActions: [{ Ref: Match.anyValue() }],
      });
    }
    Template.fromStack(e.eu).hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });

  test('addAlarm: an alarm in an intake environment notifies that intake topic', () => {
    // The literal ARN of the user's intake in that environment, not an export: the stacks stay decoupled.
    Template.fromStack(e.euAlarms).hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'eu-latency',
      AlarmActions: [euTopicArn],
      OKActions: [euTopicArn],
    });
    expect(e.euAlarms.dependencies).toContain(e.eu);
    Template.fromStack(e.otherAlarms).hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [otherTopicArn],
      OKActions: [otherTopicArn],
    });
    expect(e.otherAlarms.dependencies).toContain(e.other);
    // The options of the EU alarm are recorded centrally under its literal ARN.
    const fn = Object.values(central.findResources('AWS::Lambda::Function'))[0] as {
      Properties: { Environment: { Variables: { ALARM_SETTINGS: string } } };
    };
    expect(JSON.parse(fn.Properties.Environment.Variables.ALARM_SETTINGS)).toEqual({
      [arn('cloudwatch', EU, 'alarm:eu-latency')]: { severity: 'warning' },
    });
  });

  test('EventBridge: local rule to the function with a DLQ; a forwarding bus open to each source account', () => {
    // The selected alarms' state changes, and any alarm's deletion (so its incidents resolve at once).
    const pattern = {
      source: ['aws.cloudwatch'],
      $or: [
        {
          'detail-type': [ALARM_STATE_CHANGE, ALARM_CONTRIBUTOR_STATE_CHANGE],
          detail: {
            $or: [
              { alarmTags: { 'pagerduty:route': [{ exists: true }] } },
              { alarmName: [{ prefix: 'prod-' }] },
            ],
          },
        },
        { 'detail-type': [ALARM_CONFIGURATION_CHANGE], detail: { operation: ['delete'] } },
      ],
    };
    central.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: Match.absent(),
      EventPattern: pattern,
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] } },
        }),
      ],
    });
    central.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: Match.anyValue() },
      EventPattern: pattern,
    });
    // The local rule and the forwarded rule invoke the handler; the third is the sweep's schedule.
    central.resourcePropertiesCountIs('AWS::Lambda::Permission', { Principal: 'events.amazonaws.com' }, 3);
    for (const account of [CENTRAL.account, OTHER.account]) {
      central.hasResourceProperties('AWS::Events::EventBusPolicy', {
        Statement: {
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${account}:root` },
          Action: 'events:PutEvents',
          Condition: {
            'ForAllValues:StringEquals': {
              'events:source': ['aws.cloudwatch'],
              'events:detail-type': [
                ALARM_STATE_CHANGE,
                ALARM_CONTRIBUTOR_STATE_CHANGE,
                ALARM_CONFIGURATION_CHANGE,
              ],
            },
          },
        },
      });
    }
    central.resourceCountIs('AWS::Events::EventBusPolicy', 2);
  });

  test('EventBridge: every intake forwards to the central bus with a role allowed to put events there', () => {
    const bus = Object.values(central.findResources('AWS::Events::EventBus'))[0] as {
      Properties: { Name: string };
    };
    const busArn = arn('events', CENTRAL, `event-bus/${bus.Properties.Name}`);
    for (const intake of [e.eu, e.sydney, e.other]) {
      const template = Template.fromStack(intake);
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: Match.objectLike({ source: ['aws.cloudwatch'] }),
        Targets: [
          Match.objectLike({
            Arn: busArn,
            RoleArn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] },
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] } },
          }),
        ],
      });
      template.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: {
          Statement: [Match.objectLike({ Principal: { Service: 'events.amazonaws.com' } })],
        },
      });
      // The forwarder's role puts events on the bus, nothing else (the sweep's read role is the other policy).
      const forwarding = statementsOf(template, 'AWS::IAM::Policy').filter(
        (statement) => ![statement.Action].flat().some((action) => String(action).startsWith('cloudwatch:')),
      );
      expect(forwarding).toEqual([{ Effect: 'Allow', Action: 'events:PutEvents', Resource: busArn }]);
    }
  });

  test('every template is cdk-nag clean, with no errors or warnings', () => {
    const stacks = e.app.node.children.filter((c): c is Stack => c instanceof Stack);
    expect(stacks.map((s) => s.stackName).sort()).toEqual([
      'AlarmsEU',
      'AlarmsOther',
      'Central',
      'Central-Subscriptions-us-west-2',
      'IntakeEU',
      'IntakeOther',
      'IntakeSydney',
    ]);
    for (const stack of stacks) {
      expect({
        stack: stack.stackName,
        violations: new AwsSolutionsChecks().validateScope(stack).violations,
      }).toEqual({
        stack: stack.stackName,
        violations: [],
      });
      expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
      expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
    }
  });
});

/** Every option that adds resources or policies: the issue 19 review's template. */
const EVERY_OPTION: Partial<AlarmToPagerDutyProps> = {
  alarmEvents: { alarmNamePrefixes: ['prod-'] },
  restrictPublishing: true,
  publisherRoleArns: [`arn:aws:iam::${CENTRAL.account}:role/drill`],
  publisherAccountIds: ['333333333333'],
  metricGraphs: true,
  tracing: lambda.Tracing.ACTIVE,
  linkHosts: ['*.example.com'],
  reservedConcurrency: 20,
  opsEmail: 'ops@example.com',
};

describe('trust boundaries (issue 19), every option on', () => {
  const e = estate(undefined, EVERY_OPTION);
  const intakes = [e.eu, e.sydney, e.other];
  const central = Template.fromStack(e.central);
  const roleArnOf = (construct: { node: { defaultChild?: unknown } }) =>
    e.central.resolve((construct.node.defaultChild as { attrArn: string }).attrArn);

  test('the handler knows the central topic and the accounts it carries, and the link hosts', () => {
    const [fn] = Object.values(central.findResources('AWS::Lambda::Function')).filter(
      (r) =>
        (r as { Properties: { Handler?: string; Environment?: { Variables?: object } } }).Properties
          .Environment?.Variables && JSON.stringify(r).includes('LEDGER_TABLE_NAME'),
    ) as { Properties: { Environment: { Variables: Record<string, unknown> } } }[];
    expect(fn!.Properties.Environment.Variables).toMatchObject({
      CENTRAL_TOPIC_ARN: e.central.resolve(e.pipeline.topic.topicArn),
      PUBLISHER_ACCOUNT_IDS: '["333333333333"]',
      LINK_HOSTS: '["*.example.com"]',
    });
  });

  test('restrictPublishing: every intake topic denies publishers other than AWS services and the named roles', () => {
    for (const intake of intakes) {
      const statements = statementsOf(Template.fromStack(intake), 'AWS::SNS::TopicPolicy');
      expect({
        stack: intake.stackName,
        deny: statements.filter(
          (st) =>
            st.Effect === 'Deny' &&
            st.Action === 'sns:Publish' &&
            JSON.stringify(st).includes('PrincipalIsAWSService'),
        ),
      }).toEqual({
        stack: intake.stackName,
        deny: [
          expect.objectContaining({
            Principal: { AWS: '*' },
            Condition: {
              Bool: { 'aws:PrincipalIsAWSService': 'false' },
              ArnNotLike: { 'aws:PrincipalArn': [`arn:aws:iam::${CENTRAL.account}:role/drill`] },
            },
          }),
        ],
      });
    }
    // Without the option, no intake has the statement.
    const plain = estate();
    for (const intake of [plain.eu, plain.other]) {
      expect(JSON.stringify(statementsOf(Template.fromStack(intake), 'AWS::SNS::TopicPolicy'))).not.toContain(
        'PrincipalIsAWSService',
      );
    }
  });

  test('the retry and parked queues take SendMessage only from AWS services and the handler role', () => {
    const handlerRole = roleArnOf(e.pipeline.handler.role as never);
    const denies = statementsOf(central, 'AWS::SQS::QueuePolicy').filter(
      (st) => st.Effect === 'Deny' && st.Action === 'sqs:SendMessage',
    );
    expect(denies).toHaveLength(2);
    expect(denies).toEqual(
      [e.pipeline.retryQueue, e.pipeline.parkedQueue]
        .map((queue) =>
          expect.objectContaining({
            Principal: { AWS: '*' },
            Resource: e.central.resolve(queue.queueArn),
            Condition: {
              Bool: { 'aws:PrincipalIsAWSService': 'false' },
              ArnNotEquals: { 'aws:PrincipalArn': [handlerRole] },
            },
          }),
        )
        .reverse(),
    );
  });

  test('CloudWatch may use an intake or subscriber key only for alarms of that account', () => {
    const stacks = e.app.node.children.filter((c): c is Stack => c instanceof Stack);
    let checked = 0;
    for (const stack of stacks) {
      for (const st of statementsOf(Template.fromStack(stack), 'AWS::KMS::Key', 'KeyPolicy')) {
        if (!JSON.stringify(st.Principal).includes('cloudwatch.amazonaws.com')) continue;
        checked += 1;
        expect({ stack: stack.stackName, condition: st.Condition }).toEqual({
          stack: stack.stackName,
          condition: {
            StringEquals: { 'aws:SourceAccount': expect.arrayContaining([stack.account]) as unknown },
          },
        });
      }
    }
    expect(checked).toBeGreaterThanOrEqual(5);
  });

  test('the forwarder role is assumable by EventBridge for its own rule only', () => {
    const template = Template.fromStack(e.other);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'events.amazonaws.com' },
            Condition: {
              StringEquals: { 'aws:SourceAccount': OTHER.account },
              ArnEquals: {
                'aws:SourceArn': Match.stringLikeRegexp(
                  `^arn:aws:events:${OTHER.region}:${OTHER.account}:rule/.+-forward$`,
                ),
              },
            },
          }),
        ],
      },
    });
  });

  test('no role anywhere may DescribeSecret; the image endpoint has a reserved concurrency of 2', () => {
    const stacks = e.app.node.children.filter((c): c is Stack => c instanceof Stack);
    for (const stack of stacks) {
      expect(JSON.stringify(Template.fromStack(stack).toJSON())).not.toContain(
        'secretsmanager:DescribeSecret',
      );
    }
    central.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Answers metric graph PNGs'),
      ReservedConcurrentExecutions: 2,
    });
    central.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ForeignAlarmsRefused',
      AlarmActions: [Match.anyValue()],
    });
  });

  test('every template is cdk-nag clean', () => {
    for (const stack of e.app.node.children.filter((c): c is Stack => c instanceof Stack)) {
      expect({
        stack: stack.stackName,
        violations: new AwsSolutionsChecks().validateScope(stack).violations,
      }).toEqual({
        stack: stack.stackName,
        violations: [],
      });
    }
  });
});

describe('the reconciliation sweep across the estate', () => {
  const e = estate();
  e.app.synth();
  const central = Template.fromStack(e.central);
  const sweepRoleName = String(
    e.central.resolve((e.pipeline.reconcileSweep!.role.node.defaultChild as { roleName?: string }).roleName),
  );
  const sweepRoleArn = arn('iam', { account: CENTRAL.account, region: '' }, `role/${sweepRoleName}`);
  const readRole = e.other.intake.sweepReadRole!;
  const readRoleName = String(
    e.other.resolve((readRole.role.node.defaultChild as { roleName?: string }).roleName),
  );
  const readRoleArn = `arn:aws:iam::${OTHER.account}:role/${readRoleName}`;
  const sweepVariables = () => {
    const [fn] = Object.values(
      central.findResources('AWS::Lambda::Function', {
        Properties: { Description: Match.stringLikeRegexp('Reconciliation sweep') },
      }),
    ) as { Properties: { Environment: { Variables: Record<string, unknown> } } }[];
    return fn!.Properties.Environment.Variables;
  };

  test('both roles have literal names, derived from their stacks (cross-account references need them)', () => {
    expect(sweepRoleName).toMatch(/^central/);
    expect(readRoleName).toMatch(/^intakeother/);
    expect(sweepRoleName.length).toBeLessThanOrEqual(64);
    expect(readRoleName.length).toBeLessThanOrEqual(64);
  });

  test("another account's intake: a read-only role only the central sweep's role may assume", () => {
    const template = Template.fromStack(e.other);
    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: readRoleName,
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: 'sts:AssumeRole',
            Principal: {
              AWS: `arn:aws:iam::${CENTRAL.account}:root`,
            },
            Condition: {
              ArnEquals: {
                'aws:PrincipalArn': `arn:aws:iam::${CENTRAL.account}:role/${sweepRoleName}`,
              },
            },
          },
        ],
      },
      ManagedPolicyArns: Match.absent(),
    });
    const reads = statementsOf(template, 'AWS::IAM::Policy').filter((statement) =>
      [statement.Action].flat().some((action) => String(action).startsWith('cloudwatch:')),
    );
    const region = { StringEquals: { 'aws:RequestedRegion': OTHER.region } };
    const own = (type: string) => `arn:aws:cloudwatch:${OTHER.region}:${OTHER.account}:${type}:*`;
    expect(reads).toEqual([
      {
        Sid: 'DescribeAlarms',
        Effect: 'Allow',
        Action: 'cloudwatch:DescribeAlarms',
        Resource: '*',
        Condition: region,
      },
      {
        Sid: 'DescribeAlarmContributors',
        Effect: 'Allow',
        Action: 'cloudwatch:DescribeAlarmContributors',
        Resource: own('alarm'),
        Condition: region,
      },
      {
        Sid: 'ReadAlarmMuteRules',
        Effect: 'Allow',
        Action: ['cloudwatch:GetAlarmMuteRule', 'cloudwatch:ListAlarmMuteRules'],
        Resource: own('alarm-mute-rule'),
        Condition: region,
      },
    ]);
    // Nothing else in any statement of that account's intake writes or reads beyond it.
    expect(
      reads
        .flatMap((statement) => [statement.Action].flat())
        .every((a) => /^cloudwatch:(Describe|List|Get)/.test(String(a))),
    ).toBe(true);
  });

  test('same-account intakes get no read role: the sweep reads them with its own role', () => {
    expect(e.eu.intake.sweepReadRole).toBeUndefined();
    expect(e.sydney.intake.sweepReadRole).toBeUndefined();
    Template.fromStack(e.eu).resourcePropertiesCountIs('AWS::IAM::Role', { RoleName: Match.anyValue() }, 0);
  });

  test('the sweep may assume exactly the read roles, and RECONCILE_SOURCES names every source', () => {
    const assume = statementsOf(central, 'AWS::IAM::Policy').filter(
      (statement) => statement.Action === 'sts:AssumeRole',
    );
    expect(assume).toEqual([
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Resource: `arn:aws:iam::${OTHER.account}:role/${readRoleName}`,
      },
    ]);
    const sources = sweepVariables().RECONCILE_SOURCES as { 'Fn::Join': [string, unknown[]] };
    const text = sources['Fn::Join'][1]
      .map((part) => (typeof part === 'string' ? part : JSON.stringify(part)))
      .join('');
    const parsed = JSON.parse(text.replace(/\{"Ref":"([^"]+)"\}/g, '<$1>')) as Record<string, unknown>[];
    const selection = { alarmNamePrefixes: ['prod-'], routeTagged: true };
    expect(parsed).toEqual([
      {
        region: CENTRAL.region,
        accountId: CENTRAL.account,
        topicArns: [expect.stringMatching(/^<PipelineTopic[0-9A-F]{8}>$/)],
        ...selection,
      },
      {
        region: EU.region,
        accountId: EU.account,
        topicArns: [arn('sns', EU, topicName(e.eu))],
        ...selection,
      },
      {
        region: SYDNEY.region,
        accountId: SYDNEY.account,
        topicArns: [arn('sns', SYDNEY, topicName(e.sydney))],
        ...selection,
      },
      {
        region: OTHER.region,
        accountId: OTHER.account,
        topicArns: [arn('sns', OTHER, topicName(e.other))],
        roleArn: readRoleArn,
        ...selection,
      },
    ]);
    expect(sweepRoleArn).toContain(sweepRoleName);
  });
});

describe('cfn-lint', () => {
  const found = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
  const available = found.status === 0;
  if (!available) {
    if (process.env.CI === 'true') throw new Error('cfn-lint is not on PATH (required under CI=true)');
    console.log('skipping cfn-lint of the estate: cfn-lint is not on PATH');
  }

  const runEach = available ? test.each : test.skip.each;
  runEach([
    ['', {}],
    [', with every option on', EVERY_OPTION],
  ] as [string, Partial<AlarmToPagerDutyProps>][])(
    'every template of the estate is cfn-lint clean%s',
    (_name, props) => {
      const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'intakes-'));
      try {
        estate(outdir, props).app.synth();
        const templates = fs.readdirSync(outdir).filter((f) => f.endsWith('.template.json'));
        expect(templates).toHaveLength(7);
        const lint = spawnSync(
          'cfn-lint',
          templates.map((f) => path.join(outdir, f)),
          { encoding: 'utf8' },
        );
        // Exit status bits: 2 errors, 4 warnings, 8 informational. The one warning is the central functions' own
        // (W3005 on the DependsOn that CDK writes from a function to its role), also in the single-region app.
        const findings = (lint.stdout + lint.stderr)
          .split('\n')
          .filter((line) => /^[EWI]\d{4} /.test(line))
          .filter(
            (line) =>
              !/^W3005 'Pipeline(Handler|DeployMarker|Reconcile|MetricGraphsEndpoint)Role[0-9A-F]{8}' dependency already enforced/.test(
                line,
              ),
          );
        expect(findings).toEqual([]);
        expect(lint.status === 0 || lint.status === 4).toBe(true);
      } finally {
        fs.rmSync(outdir, { recursive: true, force: true });
      }
    },
    120_000,
  );
});

describe('addAlarm across environments', () => {
  test('an alarm in a new environment gets an intake stack of its own, created once', () => {
    const app = newApp();
    const { pipeline } = centralStack(app);
    const alarms = new Stack(app, 'Alarms', { env: { account: CENTRAL.account, region: 'eu-central-1' } });
    pipeline.addAlarm(metricAlarm(alarms, 'One'));
    pipeline.addAlarm(metricAlarm(alarms, 'Two'));
    const created = app.node.tryFindChild(`Central-Intake-${CENTRAL.account}-eu-central-1`);
    expect(created).toBeInstanceOf(RegionalIntakeStack);
    expect(intakesOf(pipeline)).toHaveLength(1);
    const topicArn = (created as RegionalIntakeStack).intake.topicArn;
    expect(topicArn).toMatch(/^arn:aws:sns:eu-central-1:111111111111:CentralIntake111111111111eucentral1-/);
    Template.fromStack(alarms).resourcePropertiesCountIs(
      'AWS::CloudWatch::Alarm',
      { AlarmActions: [topicArn] },
      2,
    );
    expect(alarms.dependencies).toEqual([created]);
  });

  test("an alarm in the intake's own stack uses its topic directly", () => {
    const app = newApp();
    const { pipeline } = centralStack(app);
    const intake = new RegionalIntakeStack(app, 'IntakeEU', { env: EU, pipeline });
    pipeline.addAlarm(metricAlarm(intake, 'Local'));
    Template.fromStack(intake).hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [{ Ref: intake.getLogicalId(intake.intake.topic.node.defaultChild as never) }],
    });
  });

  test('an alarm in the central environment but another stack uses the central topic', () => {
    const app = newApp();
    const { stack, pipeline } = centralStack(app);
    const alarms = new Stack(app, 'Alarms', { env: CENTRAL });
    pipeline.addAlarm(metricAlarm(alarms, 'One'));
    expect(intakesOf(pipeline)).toHaveLength(0);
    Template.fromStack(alarms).hasResourceProperties('AWS::CloudWatch::Alarm', {
      // A weak cross-stack reference (the recommended feature flag): the central stack's output, read at deploy time.
      AlarmActions: [{ 'Fn::GetStackOutput': Match.objectLike({ StackName: stack.stackName }) }],
    });
    expect(alarms.dependencies).toEqual([stack]);
  });

  test('an environment-agnostic alarm stack fails with what to do', () => {
    const app = newApp();
    const { pipeline } = centralStack(app);
    const alarms = new Stack(app, 'Alarms');
    expect(() => pipeline.addAlarm(metricAlarm(alarms, 'One'))).toThrow(
      /addAlarm\(Alarms\/One\): stack Alarms is environment-agnostic .* Give the stack env: \{ account, region \}/,
    );
  });

  test('an environment-agnostic central stack cannot serve another environment', () => {
    const app = newApp();
    const { pipeline } = centralStack(app, {}, {});
    const alarms = new Stack(app, 'Alarms', { env: EU });
    expect(() => pipeline.addAlarm(metricAlarm(alarms, 'One'))).toThrow(
      /needs the central stack Central to have a literal account and region/,
    );
  });

  test('one intake per environment; none in the central environment; none across opt-in regions', () => {
    const app = newApp();
    const { pipeline } = centralStack(app);
    new RegionalIntakeStack(app, 'A', { env: EU, pipeline });
    expect(() => new RegionalIntakeStack(app, 'B', { env: EU, pipeline })).toThrow(
      /already serves 111111111111\/eu-west-1/,
    );
    expect(() => new RegionalIntakeStack(app, 'C', { env: CENTRAL, pipeline })).toThrow(
      /no intake is needed/,
    );

    const optIn = newApp();
    const { pipeline: hongKong } = centralStack(optIn, {}, { account: CENTRAL.account, region: 'ap-east-1' });
    expect(() => new RegionalIntakeStack(optIn, 'D', { env: EU, pipeline: hongKong })).toThrow(
      /opt-in region/,
    );
  });

  test('a topic in an opt-in region is allowed with the regional SNS principal', () => {
    const app = newApp();
    const { stack, pipeline } = centralStack(app);
    const intake = new RegionalIntakeStack(app, 'HongKong', {
      env: { ...CENTRAL, region: 'ap-east-1' },
      pipeline,
    });
    app.synth();
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Permission', {
      Principal: 'sns.ap-east-1.amazonaws.com',
      SourceArn: arn('sns', { ...CENTRAL, region: 'ap-east-1' }, topicName(intake)),
    });
  });

  test('other account in the central region: the central stack subscribes, into the central DLQ', () => {
    const app = newApp();
    const { stack, pipeline } = centralStack(app);
    const intake = new RegionalIntakeStack(app, 'Neighbour', {
      env: { ...OTHER, region: CENTRAL.region },
      pipeline,
    });
    app.synth();
    const topicArn = arn('sns', { ...OTHER, region: CENTRAL.region }, topicName(intake));
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      TopicArn: topicArn,
      Protocol: 'lambda',
      Endpoint: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] },
      RedrivePolicy: { deadLetterTargetArn: stack.resolve(pipeline.retryQueue.queueArn) as object },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'sns.amazonaws.com' },
            Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
          }),
        ]),
      },
    });
    expect(stack.dependencies).toContain(intake);
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
  });
});

describe('multi-time-series Metrics Insights alarms', () => {
  const query =
    'SELECT AVG(ConsumedWriteCapacityUnits) FROM "AWS/DynamoDB" GROUP BY TableName ORDER BY MAX() DESC';

  test('get no insufficient-data action, with a warning saying why; other alarms keep theirs', () => {
    const app = newApp();
    const { stack, pipeline } = centralStack(app, { insufficientDataPolicy: 'trigger' });
    const grouped = metricAlarm(stack, 'PerTable', {
      metric: new cloudwatch.MathExpression({ expression: query, period: Duration.minutes(1) }),
    });
    const single = new cloudwatch.MathExpression({
      expression: 'SELECT AVG(ConsumedWriteCapacityUnits) FROM "AWS/DynamoDB"',
      period: Duration.minutes(1),
    });
    const aggregate = metricAlarm(stack, 'Aggregate', { metric: single });
    pipeline.addAlarm(grouped);
    pipeline.addAlarm(aggregate);
    const template = Template.fromStack(stack);
    const groupedCfn = template.toJSON().Resources[
      stack.getLogicalId(grouped.node.defaultChild as never)
    ] as {
      Properties: Record<string, unknown>;
    };
    expect(groupedCfn.Properties.InsufficientDataActions).toBeUndefined();
    expect(groupedCfn.Properties.AlarmActions).toHaveLength(1);
    const aggregateCfn = template.toJSON().Resources[
      stack.getLogicalId(aggregate.node.defaultChild as never)
    ] as {
      Properties: Record<string, unknown>;
    };
    expect(aggregateCfn.Properties.InsufficientDataActions).toHaveLength(1);
    expect(
      Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('never INSUFFICIENT_DATA')),
    ).toHaveLength(1);
  });
});
