import { REPO_ROOT } from '../support/paths';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks, NagPack } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { AlarmToPagerDuty, type AlarmToPagerDutyProps } from '../../lib/alarm-to-pagerduty';

const ROOT = REPO_ROOT;
const DATABASE_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:pagerduty/database-AbCdEf';

/** The app's feature flags from cdk.json, without bundling so that tests stay fast. */
function newApp(): App {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] } });
}

interface Fixture {
  readonly stack: Stack;
  readonly pipeline: AlarmToPagerDuty;
  readonly generatedSecret: secretsmanager.Secret;
}

function build(props: Partial<AlarmToPagerDutyProps> = {}, app = newApp(), stackId = 'Test'): Fixture {
  const stack = new Stack(app, stackId);
  const generatedSecret = new secretsmanager.Secret(stack, 'PaymentsKey');
  const pipeline = new AlarmToPagerDuty(stack, 'Pipeline', {
    routes: {
      default: secretsmanager.Secret.fromSecretNameV2(stack, 'DefaultKey', 'pagerduty/routing-key'),
      database: secretsmanager.Secret.fromSecretCompleteArn(stack, 'DatabaseKey', DATABASE_SECRET_ARN),
      payments: generatedSecret,
    },
    ...props,
  });
  return { stack, pipeline, generatedSecret };
}

function metricAlarm(scope: Stack, id: string, props: Partial<cloudwatch.AlarmProps> = {}): cloudwatch.Alarm {
  return new cloudwatch.Alarm(scope, id, {
    metric: new cloudwatch.Metric({ namespace: 'Test', metricName: id }),
    threshold: 1,
    evaluationPeriods: 1,
    ...props,
  });
}

function logicalId(stack: Stack, construct: IConstruct): string {
  const child = construct.node.defaultChild;
  if (!child) throw new Error(`${construct.node.path} has no default child`);
  return stack.getLogicalId(child as never);
}

/** The handler's environment variables, as CloudFormation values. */
function handlerEnv(template: Template): Record<string, unknown> {
  const functions = template.findResources('AWS::Lambda::Function');
  const [fn] = Object.values(functions) as {
    Properties: { Environment: { Variables: Record<string, unknown> } };
  }[];
  if (!fn) throw new Error('no function');
  return fn.Properties.Environment.Variables;
}

/** Renders a CloudFormation string value as text, with references shown as <LogicalId> / <LogicalId.Attr>. */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if ('Ref' in v) return `<${String(v.Ref)}>`;
  if ('Fn::GetAtt' in v) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
  if ('Fn::Join' in v) {
    const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(flatten).join(separator);
  }
  throw new Error(`cannot flatten ${JSON.stringify(value)}`);
}

function alarmSettings(template: Template): Record<string, Record<string, string>> {
  return JSON.parse(flatten(handlerEnv(template).ALARM_SETTINGS)) as Record<string, Record<string, string>>;
}

interface Statement {
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Effect: string;
  readonly Condition?: unknown;
}

/** The statements of every IAM policy in the template (only the handler's role has one). */
function handlerStatements(template: Template): Statement[] {
  const policies = Object.entries(template.findResources('AWS::IAM::Policy')) as [
    string,
    { Properties: { PolicyDocument: { Statement: Statement[] } } },
  ][];
  // The handler's role only: the deploy marker's custom resource and the sweep have roles of their own.
  return policies
    .filter(([id]) => !id.includes('DeployMarker') && !id.includes('Reconcile'))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
}

/** The statements of the policy of the alarm topic (not the ops topic). */
function topicStatements(fixture: Fixture): (Statement & { Principal?: unknown; Sid?: string })[] {
  const topicRef = fixture.stack.resolve(fixture.pipeline.topic.topicArn) as unknown;
  const policies = Object.values(
    Template.fromStack(fixture.stack).findResources('AWS::SNS::TopicPolicy', {
      Properties: { Topics: [topicRef] },
    }),
  ) as { Properties: { PolicyDocument: { Statement: (Statement & { Principal?: unknown })[] } } }[];
  expect(policies).toHaveLength(1);
  return policies[0]!.Properties.PolicyDocument.Statement;
}

describe('AlarmToPagerDuty resources', () => {
  const { stack, pipeline, generatedSecret } = build({ publisherAccountIds: ['444455556666'] });
  const template = Template.fromStack(stack);
  const keyArn = stack.resolve(pipeline.key.keyArn) as unknown;
  const topicRef = stack.resolve(pipeline.topic.topicArn) as unknown;
  const retryArn = stack.resolve(pipeline.retryQueue.queueArn) as unknown;
  const parkedArn = stack.resolve(pipeline.parkedQueue.queueArn) as unknown;
  const publishers = [{ Ref: 'AWS::AccountId' }, '444455556666'];

  test('a customer-managed key with rotation that CloudWatch of the publisher accounts and SNS may use', () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Condition: { StringEquals: { 'aws:SourceAccount': publishers } },
          }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'sns.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Condition: { ArnLike: { 'aws:SourceArn': Match.anyValue() } },
          }),
        ]),
      },
    });
  });

  test('the topic is encrypted with that key, never alias/aws/sns', () => {
    template.hasResourceProperties('AWS::SNS::Topic', {
      DisplayName: 'CloudWatch alarms to PagerDuty',
      KmsMasterKeyId: keyArn,
    });
    expect(JSON.stringify(template.toJSON())).not.toContain('alias/aws/sns');
  });

  test('topic policy: CloudWatch of this and the listed accounts may publish, only over TLS', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [topicRef],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: topicRef,
            Condition: { StringEquals: { 'aws:SourceAccount': publishers } },
          }),
        ]),
      },
    });
  });

  test('by default the topic policy denies no publisher (only the TLS rule denies)', () => {
    const [policy] = Object.values(
      template.findResources('AWS::SNS::TopicPolicy', { Properties: { Topics: [topicRef] } }),
    ) as {
      Properties: { PolicyDocument: { Statement: { Effect: string; Condition?: unknown }[] } };
    }[];
    const denies = policy!.Properties.PolicyDocument.Statement.filter(
      (statement) => statement.Effect === 'Deny',
    );
    expect(denies).toEqual([
      expect.objectContaining({ Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    ]);
  });

  test('the handler: Node.js 24 on arm64, no reserved concurrency, its own log group with retention', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      ReservedConcurrentExecutions: Match.absent(),
      MemorySize: 256,
      Timeout: 60,
      Handler: 'index.handler',
      LoggingConfig: { LogGroup: Match.anyValue() },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });

  test('the handler environment: secret references, never a key', () => {
    const env = handlerEnv(template);
    expect(Object.keys(env).sort()).toEqual([
      'ALARM_SETTINGS',
      'CENTRAL_TOPIC_ARN',
      'DEFAULT_SEVERITY',
      'INSUFFICIENT_DATA_POLICY',
      'LEDGER_TABLE_NAME',
      'LEDGER_TTL_DAYS',
      'NODE_OPTIONS',
      'PARKED_QUEUE_URL',
      'POWERTOOLS_METRICS_NAMESPACE',
      'POWERTOOLS_SERVICE_NAME',
      'PUBLISHER_ACCOUNT_IDS',
      'RETRY_WINDOW_HOURS',
      'ROUTING_KEY_SECRETS',
      'UNRECOGNISED_MESSAGES',
    ]);
    expect(JSON.parse(flatten(env.ROUTING_KEY_SECRETS))).toEqual({
      default: 'pagerduty/routing-key',
      database: DATABASE_SECRET_ARN,
      payments: `<${logicalId(stack, generatedSecret)}>`,
    });
    expect(env).toMatchObject({
      LEDGER_TABLE_NAME: stack.resolve(pipeline.ledger.tableName),
      DEFAULT_SEVERITY: 'critical',
      INSUFFICIENT_DATA_POLICY: 'ignore',
      UNRECOGNISED_MESSAGES: 'trigger',
      LEDGER_TTL_DAYS: '90',
      POWERTOOLS_SERVICE_NAME: 'alarm-to-pagerduty',
      POWERTOOLS_METRICS_NAMESPACE: 'AlarmToPagerDuty',
      NODE_OPTIONS: '--enable-source-maps',
      ALARM_SETTINGS: '{}',
      PARKED_QUEUE_URL: stack.resolve(pipeline.parkedQueue.queueUrl),
      RETRY_WINDOW_HOURS: '24',
      CENTRAL_TOPIC_ARN: stack.resolve(pipeline.topic.topicArn),
      PUBLISHER_ACCOUNT_IDS: '["444455556666"]',
    });
  });

  test('no 32-hex-character string (an integration key) anywhere in the template', () => {
    const text = JSON.stringify(template.toJSON());
    expect(text).not.toMatch(/(?<![0-9a-fA-F])[0-9a-fA-F]{32}(?![0-9a-fA-F])/);
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.anyValue(),
      SecretString: Match.absent(),
    });
  });

  test('async invoke: no Lambda retries (the retry queue paces them), 6 hours, failures to the retry queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 21600,
      DestinationConfig: { OnFailure: { Destination: retryArn } },
    });
  });

  test('the subscription keeps what SNS cannot deliver in the same retry queue', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      TopicArn: topicRef,
      RedrivePolicy: { deadLetterTargetArn: retryArn },
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [stack.resolve(pipeline.retryQueue.queueUrl)],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'sns.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Condition: { ArnEquals: { 'aws:SourceArn': topicRef } },
          }),
        ]),
      },
    });
  });

  test('the retry queue: KMS, TLS only, a letter back every 4 minutes, parked by SQS only after 30 hours', () => {
    const retryId = logicalId(stack, pipeline.retryQueue);
    const queue = template.toJSON().Resources[retryId] as { Properties: Record<string, unknown> };
    expect(queue.Properties).toMatchObject({
      KmsMasterKeyId: keyArn,
      VisibilityTimeout: 240,
      MessageRetentionPeriod: 1209600,
      RedrivePolicy: { deadLetterTargetArn: parkedArn, maxReceiveCount: 450 },
    });
    // The redrive policy must not park before the handler's 24-hour window is over: receives × visibility ≥ 24 h.
    const { VisibilityTimeout, RedrivePolicy } = queue.Properties as {
      VisibilityTimeout: number;
      RedrivePolicy: { maxReceiveCount: number };
    };
    expect(VisibilityTimeout * RedrivePolicy.maxReceiveCount).toBeGreaterThanOrEqual(24 * 3600);
    expect(RedrivePolicy.maxReceiveCount).toBeLessThanOrEqual(1000);
  });

  test('the parked queue: KMS, 14 days, no redrive of its own', () => {
    const parked = template.toJSON().Resources[logicalId(stack, pipeline.parkedQueue)] as {
      Properties: Record<string, unknown>;
    };
    expect(parked.Properties).toEqual({ KmsMasterKeyId: keyArn, MessageRetentionPeriod: 1209600 });
  });

  test.each([
    ['retry', () => pipeline.retryQueue],
    ['parked', () => pipeline.parkedQueue],
  ])('the %s queue is TLS only', (_, queue) => {
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [stack.resolve(queue().queueUrl)],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sqs:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  test('the handler drains the retry queue: partial batch responses, 2 at once, 10 letters a batch', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: retryArn,
      FunctionName: stack.resolve(pipeline.handler.functionName),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
      BatchSize: 10,
    });
    // Lambda refuses the mapping when the function may run longer than the queue hides a letter.
    template.hasResourceProperties('AWS::Lambda::Function', { Timeout: Match.anyValue() });
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function')) as {
      Properties: { Timeout: number };
    }[];
    expect(fn!.Properties.Timeout).toBeLessThanOrEqual(300);
  });

  test('the ledger: dedupKey, on demand, TTL on expiresAt, PITR, SSE, retained, the sparse OpenIncidents index', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: {
        KeySchema: [{ AttributeName: 'dedupKey', KeyType: 'HASH' }],
        AttributeDefinitions: [
          { AttributeName: 'dedupKey', AttributeType: 'S' },
          { AttributeName: 'openSource', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        // Other tools read the index from the template: its name, keys and what it projects.
        GlobalSecondaryIndexes: [
          {
            IndexName: 'OpenIncidents',
            KeySchema: [
              { AttributeName: 'openSource', KeyType: 'HASH' },
              { AttributeName: 'dedupKey', KeyType: 'RANGE' },
            ],
            Projection: {
              ProjectionType: 'INCLUDE',
              NonKeyAttributes: [
                'alarmArn',
                'sourceAlarmName',
                'contributorId',
                'action',
                'stateChangeMs',
                'delivered',
                'insufficientData',
                'repageMs',
                'updatedAt',
              ],
            },
          },
        ],
      },
    });
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
  });

  test('least privilege: exactly what the code and Lambda call, on named resources', () => {
    const roles = template.findResources('AWS::IAM::Role');
    for (const role of Object.values(roles)) {
      expect((role as { Properties: Record<string, unknown> }).Properties.ManagedPolicyArns).toBeUndefined();
    }
    const statements = handlerStatements(template);
    const grants = statements.map((s) => ({
      actions: [s.Action].flat().sort(),
      resources: [s.Resource].flat().map(flatten).sort(),
      condition: s.Condition,
    }));
    expect(grants).toEqual(
      expect.arrayContaining([
        {
          actions: ['secretsmanager:GetSecretValue'],
          resources: [
            '<' + logicalId(stack, generatedSecret) + '>',
            DATABASE_SECRET_ARN,
            'arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:pagerduty/routing-key-??????',
          ].sort(),
          condition: undefined,
        },
        {
          actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
          resources: [`<${logicalId(stack, pipeline.ledger)}.Arn>`],
          condition: undefined,
        },
        // An alarm's deletion (EventBridge) finds its contributors' open incidents through the index.
        {
          actions: ['dynamodb:Query'],
          resources: [`<${logicalId(stack, pipeline.ledger)}.Arn>/index/OpenIncidents`],
          condition: undefined,
        },
        {
          actions: ['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage', 'sqs:SendMessage'],
          resources: [`<${logicalId(stack, pipeline.retryQueue)}.Arn>`],
          condition: undefined,
        },
        {
          actions: ['sqs:SendMessage'],
          resources: [`<${logicalId(stack, pipeline.parkedQueue)}.Arn>`],
          condition: undefined,
        },
        {
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [`<${logicalId(stack, pipeline.key)}.Arn>`],
          condition: {
            StringEquals: {
              'kms:ViaService': { 'Fn::Join': ['', ['sqs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
            },
          },
        },
        {
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [expect.stringMatching(/^<HandlerLogs|^<PipelineHandlerLogs/) as unknown as string],
          condition: undefined,
        },
      ]),
    );
    expect(grants).toHaveLength(7);
    const actions = grants.flatMap((g) => g.actions);
    for (const absent of [
      'secretsmanager:DescribeSecret',
      'kms:Encrypt',
      'kms:ReEncrypt*',
      'kms:GenerateDataKey*',
    ]) {
      expect(actions).not.toContain(absent);
    }
    for (const statement of statements) {
      expect([statement.Resource].flat()).not.toContain('*');
      expect([statement.Action].flat().every((action) => !action.includes('*'))).toBe(true);
    }
  });

  test('health alarms notify the ops topic, never the PagerDuty topic', () => {
    const opsRef = stack.resolve(pipeline.opsTopic.topicArn) as unknown;
    expect(pipeline.healthAlarms.length).toBeGreaterThanOrEqual(5);
    const alarms = template.findResources('AWS::CloudWatch::Alarm');
    for (const alarm of pipeline.healthAlarms) {
      const props = (alarms[logicalId(stack, alarm)] as { Properties: Record<string, unknown> }).Properties;
      expect(props.AlarmActions).toEqual([opsRef]);
      expect(props.OKActions).toEqual([opsRef]);
      expect(JSON.stringify(props)).not.toContain(JSON.stringify(topicRef));
      expect(props.TreatMissingData).toBe('notBreaching');
      expect(props.ComparisonOperator).toBe('GreaterThanOrEqualToThreshold');
    }
    const watched = pipeline.healthAlarms.map((alarm) => {
      const props = (alarms[logicalId(stack, alarm)] as { Properties: Record<string, string> }).Properties;
      return `${props.Namespace}/${props.MetricName}`;
    });
    expect(watched).toEqual(
      expect.arrayContaining([
        'AWS/SQS/ApproximateNumberOfMessagesVisible',
        'AWS/SQS/ApproximateAgeOfOldestMessage',
        'AWS/Lambda/Errors',
        'AWS/Lambda/Throttles',
        'AWS/Lambda/DestinationDeliveryFailures',
        'AWS/SNS/NumberOfNotificationsFailed',
        'AWS/SNS/NumberOfNotificationsFailedToRedriveToDlq',
      ]),
    );
  });

  /** The health alarm (Properties) that watches this metric. */
  function healthAlarm(metricName: string): Record<string, unknown> {
    const alarms = template.findResources('AWS::CloudWatch::Alarm');
    const found = pipeline.healthAlarms
      .map((alarm) => (alarms[logicalId(stack, alarm)] as { Properties: Record<string, unknown> }).Properties)
      .filter((props) => props.MetricName === metricName);
    expect(found).toHaveLength(1);
    return found[0]!;
  }

  test('a letter in the parked queue alarms at once, and the alarm says where to look and how to replay', () => {
    const props = healthAlarm('ApproximateNumberOfMessagesVisible');
    expect(props).toMatchObject({
      Namespace: 'AWS/SQS',
      Dimensions: [{ Name: 'QueueName', Value: stack.resolve(pipeline.parkedQueue.queueName) }],
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 1,
      EvaluationPeriods: 1,
    });
    expect(props.AlarmDescription).toMatch(
      /parked queue.*reason.*npm run redrive -- --queue <ParkedQueueUrl>/s,
    );
  });

  test('letters aging in the retry queue alarm the ops topic: an outage in progress', () => {
    const props = healthAlarm('ApproximateAgeOfOldestMessage');
    expect(props).toMatchObject({
      Namespace: 'AWS/SQS',
      Dimensions: [{ Name: 'QueueName', Value: stack.resolve(pipeline.retryQueue.queueName) }],
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 300,
      // Held for 15 minutes: SQS leaves letters received 3 times out of this metric.
      EvaluationPeriods: 15,
      DatapointsToAlarm: 1,
      AlarmActions: [stack.resolve(pipeline.opsTopic.topicArn)],
    });
  });

  test('the AsyncEventsDropped alarm says what AWS counts: events sent to the destination too', () => {
    const props = healthAlarm('AsyncEventsDropped');
    expect(props.AlarmDescription).toMatch(/counts the ones it sent to the on-failure destination too/);
    expect(props.AlarmDescription).not.toMatch(/without .* reaching/);
  });

  test('no health alarm or output still speaks of a dead-letter queue or reserved concurrency as a given', () => {
    const descriptions = pipeline.healthAlarms.map(
      (alarm) =>
        (stack.resolve((alarm.node.defaultChild as cloudwatch.CfnAlarm).alarmDescription) as string) ?? '',
    );
    for (const text of descriptions) {
      expect(text).not.toMatch(/\bthe dead-letter queue\b/i);
      expect(text).not.toMatch(/hit its reserved concurrency/);
    }
  });

  test('the ops topic is encrypted, TLS only, and CloudWatch of this account may publish', () => {
    const opsRef = stack.resolve(pipeline.opsTopic.topicArn) as unknown;
    template.hasResourceProperties('AWS::SNS::Topic', {
      DisplayName: 'Alarm-to-PagerDuty pipeline health',
      KmsMasterKeyId: keyArn,
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [opsRef],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': [{ Ref: 'AWS::AccountId' }] } },
          }),
        ]),
      },
    });
  });

  test('a dashboard of SNS, Lambda, the queues and the pipeline metrics', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard')) as {
      Properties: { DashboardBody: unknown };
    }[];
    const body = flatten(dashboard!.Properties.DashboardBody);
    for (const name of [
      'NumberOfMessagesPublished',
      'NumberOfNotificationsFailed',
      'Invocations',
      'Errors',
      'Throttles',
      'ConcurrentExecutions',
      'ApproximateNumberOfMessagesVisible',
      'ApproximateNumberOfMessagesNotVisible',
      'ApproximateAgeOfOldestMessage',
      'EventsSent',
      'DeliveryFailures',
      'DeliveryRetries',
      'DeliveryLatency',
      'DuplicatesSkipped',
      'StaleSkipped',
      'PolicySkipped',
      'UnrecognisedMessages',
      'LedgerUnavailable',
    ]) {
      expect(body).toContain(`"${name}"`);
    }
    expect(body).toContain('"AlarmToPagerDuty","DeliveryLatency","service","alarm-to-pagerduty"');
    expect(body).toContain('"stat":"p99"');
  });

  test('no cdk-nag AwsSolutions findings in the construct', () => {
    const report = new AwsSolutionsChecks().validateScope(pipeline);
    expect(report.violations.map((v) => `${v.ruleName} ${v.violatingResources[0]?.constructPath}`)).toEqual(
      [],
    );
  });
});

describe('cdk-nag acknowledgements', () => {
  /** Every acknowledgement recorded in the tree: rule ID → the construct path it is attached to. */
  function acknowledgements(scope: IConstruct): { id: string; path: string; reason: string }[] {
    return scope.node.findAll().flatMap((construct) =>
      construct.node.metadata
        .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((entry) =>
          Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
            id: id.replace(/^annotation::/i, ''),
            path: construct.node.path,
            reason,
          })),
        ),
    );
  }

  function rawFindings(scope: IConstruct): { id: string; paths: string[] }[] {
    const spy = jest
      .spyOn(NagPack.prototype as never, 'isAcknowledged' as never)
      .mockReturnValue(false as never);
    try {
      return new AwsSolutionsChecks().validateScope(scope).violations.map((v) => ({
        id: v.ruleName,
        paths: v.violatingResources.map((r) => r.constructPath ?? ''),
      }));
    } finally {
      spy.mockRestore();
    }
  }

  test('without the sweep, defaults need no acknowledgement at all: no finding to suppress', () => {
    const { pipeline } = build({ reconcile: false });
    expect(acknowledgements(pipeline)).toEqual([]);
    expect(rawFindings(pipeline)).toEqual([]);
  });

  test('defaults: only the sweep role and its schedule queue carry acknowledgements', () => {
    const { pipeline } = build();
    expect([...new Set(acknowledgements(pipeline).map((a) => a.path))].sort()).toEqual([
      'Test/Pipeline/Reconcile/DeadLetterQueue',
      'Test/Pipeline/Reconcile/Role/DefaultPolicy',
    ]);
  });

  test.each([
    ['defaults', {}],
    ['with X-Ray tracing', { tracing: lambda.Tracing.ACTIVE }],
  ])(
    '%s: every acknowledgement covers a real finding on or under its construct, and says why it is needed',
    (_, props) => {
      const { pipeline } = build(props);
      const acks = acknowledgements(pipeline);
      const findings = rawFindings(pipeline);
      expect(acks.length).toBeGreaterThan(0);
      for (const ack of acks) {
        // A reason names what needs the permission, not what added it.
        expect(ack.reason).toMatch(/needs|sends|accept|dead-letter queue of/);
        expect(ack.reason).not.toMatch(/Added by|grant[A-Z]/);
        const finding = findings.find((f) => f.id === ack.id);
        expect({ ack: ack.id, covered: finding?.paths.some((p) => p.startsWith(`${ack.path}/`)) }).toEqual({
          ack: ack.id,
          covered: true,
        });
      }
      // Without the acknowledgements the same tree has findings: removing one would fail the nag test above.
      expect(findings.map((f) => f.id).sort()).toEqual([...new Set(acks.map((a) => a.id))].sort());
      expect(new AwsSolutionsChecks().validateScope(pipeline).violations).toEqual([]);
    },
  );
});

describe('addAlarm', () => {
  test('adds the topic as alarm and OK action; insufficient data only when the policy acts on it', () => {
    const { stack, pipeline } = build();
    const quiet = metricAlarm(stack, 'Quiet');
    const triggering = metricAlarm(stack, 'Triggering');
    pipeline.addAlarm(quiet);
    pipeline.addAlarm(triggering, { insufficientData: 'trigger' });
    const template = Template.fromStack(stack);
    const topicRef = stack.resolve(pipeline.topic.topicArn) as unknown;

    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Quiet',
      AlarmActions: [topicRef],
      OKActions: [topicRef],
      InsufficientDataActions: Match.absent(),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Triggering',
      AlarmActions: [topicRef],
      OKActions: [topicRef],
      InsufficientDataActions: [topicRef],
    });
  });

  test('the construct default insufficientDataPolicy applies to alarms that do not set one', () => {
    const { stack, pipeline } = build({ insufficientDataPolicy: 'resolve' });
    pipeline.addAlarm(metricAlarm(stack, 'Inherits'));
    pipeline.addAlarm(metricAlarm(stack, 'OptsOut'), { insufficientData: 'ignore' });
    const template = Template.fromStack(stack);
    const topicRef = stack.resolve(pipeline.topic.topicArn) as unknown;
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Inherits',
      InsufficientDataActions: [topicRef],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'OptsOut',
      InsufficientDataActions: Match.absent(),
    });
    expect(handlerEnv(template).INSUFFICIENT_DATA_POLICY).toBe('resolve');
  });

  test('options become pagerduty:* tags and ALARM_SETTINGS entries keyed by alarm ARN', () => {
    const { stack, pipeline } = build();
    const database = metricAlarm(stack, 'DatabaseCpu');
    const plain = metricAlarm(stack, 'Plain');
    pipeline.addAlarm(database, {
      route: 'database',
      severity: 'error',
      insufficientData: 'resolve',
      runbookUrl: 'https://runbooks.example.com/database/cpu',
      dashboardUrl: 'https://dashboards.example.com/database',
      environment: 'prod',
    });
    pipeline.addAlarm(plain);
    const template = Template.fromStack(stack);

    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'DatabaseCpu',
      // CDK renders tags sorted by key.
      Tags: [
        { Key: 'pagerduty:dashboard', Value: 'https://dashboards.example.com/database' },
        { Key: 'pagerduty:environment', Value: 'prod' },
        { Key: 'pagerduty:insufficient-data', Value: 'resolve' },
        { Key: 'pagerduty:route', Value: 'database' },
        { Key: 'pagerduty:runbook', Value: 'https://runbooks.example.com/database/cpu' },
        { Key: 'pagerduty:severity', Value: 'error' },
      ],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Plain', Tags: Match.absent() });
    expect(alarmSettings(template)).toEqual({
      [`<${logicalId(stack, database)}.Arn>`]: {
        route: 'database',
        severity: 'error',
        insufficientData: 'resolve',
        runbookUrl: 'https://runbooks.example.com/database/cpu',
        dashboardUrl: 'https://dashboards.example.com/database',
        environment: 'prod',
      },
    });
  });

  test('a URL that is not a valid tag value stays out of the tags but is in ALARM_SETTINGS', () => {
    const { stack, pipeline } = build();
    const alarm = metricAlarm(stack, 'Query');
    const runbookUrl = 'https://wiki.example.com/page?id=42#steps';
    pipeline.addAlarm(alarm, { runbookUrl, severity: 'info' });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Query',
      Tags: [{ Key: 'pagerduty:severity', Value: 'info' }],
    });
    expect(alarmSettings(template)[`<${logicalId(stack, alarm)}.Arn>`]).toEqual({
      runbookUrl,
      severity: 'info',
    });
    Annotations.fromStack(stack).hasWarning(
      `/${alarm.node.path}`,
      Match.stringLikeRegexp('pagerduty:runbook is not set as a tag'),
    );
  });

  test('composite alarms are accepted', () => {
    const { stack, pipeline } = build();
    const child = metricAlarm(stack, 'Child');
    const composite = new cloudwatch.CompositeAlarm(stack, 'Composite', {
      alarmRule: cloudwatch.AlarmRule.fromAlarm(child, cloudwatch.AlarmState.ALARM),
    });
    pipeline.addAlarm(composite, { severity: 'warning' });
    const template = Template.fromStack(stack);
    const topicRef = stack.resolve(pipeline.topic.topicArn) as unknown;
    template.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', {
      AlarmActions: [topicRef],
      OKActions: [topicRef],
      Tags: [{ Key: 'pagerduty:severity', Value: 'warning' }],
    });
    expect(Object.values(alarmSettings(template))).toEqual([{ severity: 'warning' }]);
  });

  test('tag propagation is on by default, limited to pagerduty:* keys, and can be turned off', () => {
    const off = build({ propagateAlarmTags: false });
    off.pipeline.addAlarm(metricAlarm(off.stack, 'Off'), { severity: 'info' });
    Template.fromStack(off.stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Off',
      ActionConfiguration: Match.absent(),
    });

    const on = build();
    const child = metricAlarm(on.stack, 'On');
    on.pipeline.addAlarm(child);
    on.pipeline.addAlarm(
      new cloudwatch.CompositeAlarm(on.stack, 'Composite', {
        alarmRule: cloudwatch.AlarmRule.fromAlarm(child, cloudwatch.AlarmState.ALARM),
      }),
    );
    const propagation = {
      ActionConfiguration: {
        AlarmTagsPropagation: {
          Enabled: true,
          IncludedTagKeys: [
            'pagerduty:route',
            'pagerduty:severity',
            'pagerduty:insufficient-data',
            'pagerduty:runbook',
            'pagerduty:dashboard',
            'pagerduty:environment',
            'pagerduty:repage-minutes',
          ],
        },
      },
    };
    const template = Template.fromStack(on.stack);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'On', ...propagation });
    template.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', propagation);
    // Only the alarms with the property carry the cfn-lint exception for it.
    template.hasResource('AWS::CloudWatch::Alarm', {
      Properties: Match.objectLike({ MetricName: 'On' }),
      Metadata: Match.objectLike({ 'cfn-lint': { config: { ignore_checks: ['E3002'] } } }),
    });
  });

  test('an alarm in another stack is keyed by its literal ARN, without a reference back to it', () => {
    const app = newApp();
    const { stack, pipeline } = build({}, app);
    const other = new Stack(app, 'Other');
    pipeline.addAlarm(metricAlarm(other, 'Remote', { alarmName: 'remote-alarm' }), { route: 'database' });
    const template = Template.fromStack(stack);
    expect(alarmSettings(template)).toEqual({
      'arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:remote-alarm': {
        route: 'database',
      },
    });
    expect(JSON.stringify(template.toJSON())).not.toContain('Fn::ImportValue');
    Template.fromStack(other).hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'remote-alarm',
      AlarmActions: [Match.anyValue()],
    });
  });

  test('an unnamed alarm in another stack cannot carry options', () => {
    const app = newApp();
    const { pipeline } = build({}, app);
    const other = new Stack(app, 'Other');
    expect(() => pipeline.addAlarm(metricAlarm(other, 'Unnamed'), { severity: 'info' })).toThrow(
      /needs an explicit alarmName/,
    );
  });

  test('invalid options fail at addAlarm with a clear message', () => {
    const { stack, pipeline } = build();
    const alarm = metricAlarm(stack, 'Bad');
    expect(() => pipeline.addAlarm(alarm, { route: 'nope' })).toThrow(
      /addAlarm\(Test\/Bad\): route "nope" is not one of the routes given to AlarmToPagerDuty \(default, database, payments\)/,
    );
    expect(() => pipeline.addAlarm(alarm, { severity: 'high' as never })).toThrow(
      /severity "high" must be one of critical, error, warning, info/,
    );
    expect(() => pipeline.addAlarm(alarm, { insufficientData: 'page' as never })).toThrow(
      /insufficientData "page" must be one of ignore, trigger, resolve/,
    );
    expect(() => pipeline.addAlarm(alarm, { runbookUrl: 'wiki/page' })).toThrow(
      /runbookUrl "wiki\/page" must be/,
    );
    expect(() => pipeline.addAlarm(alarm, { environment: 'prod env' })).toThrow(/environment "prod env"/);
    // Nothing was attached by the failed calls.
    pipeline.addAlarm(alarm);
    expect(() => pipeline.addAlarm(alarm)).toThrow(/already attached/);
  });

  test('an imported alarm is refused with what to do instead', () => {
    const { stack, pipeline } = build();
    const imported = cloudwatch.Alarm.fromAlarmArn(
      stack,
      'Imported',
      'arn:aws:cloudwatch:eu-west-1:111122223333:alarm:someone-elses',
    );
    expect(() => pipeline.addAlarm(imported)).toThrow(/imported .* add the topic ARN/);
  });

  test('ALARM_SETTINGS that would not fit in the Lambda environment fails synth', () => {
    const { stack, pipeline } = build();
    for (let i = 0; i < 20; i++) {
      pipeline.addAlarm(metricAlarm(stack, `Alarm${i}`), {
        runbookUrl: `https://runbooks.example.com/a/rather/long/path/to/the/runbook/for/alarm/${i}`,
        route: 'database',
      });
    }
    expect(() => Template.fromStack(stack)).toThrow(
      /ALARM_SETTINGS would be about \d+ bytes .* tags instead/,
    );
  });

  test('a handful of alarms with options fits', () => {
    const { stack, pipeline } = build();
    for (let i = 0; i < 5; i++) {
      pipeline.addAlarm(metricAlarm(stack, `Alarm${i}`), { runbookUrl: `https://runbooks.example.com/${i}` });
    }
    expect(Object.keys(alarmSettings(Template.fromStack(stack)))).toHaveLength(5);
  });
});

describe('props', () => {
  test('routes must contain default', () => {
    const stack = new Stack(newApp(), 'Test');
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'Key', 'pagerduty/x');
    expect(() => new AlarmToPagerDuty(stack, 'Pipeline', { routes: { database: secret } })).toThrow(
      /routes must contain "default" \(got: database\)/,
    );
  });

  test('bad values are refused at construct time', () => {
    const attempt = (props: Partial<AlarmToPagerDutyProps>) => () => build(props);
    expect(attempt({ defaultSeverity: 'sev1' as never })).toThrow(/defaultSeverity "sev1"/);
    expect(attempt({ reservedConcurrency: 0 })).toThrow(/reservedConcurrency/);
    expect(attempt({ reservedConcurrency: 2 })).toThrow(/reservedConcurrency must be a whole number ≥ 3/);
    expect(attempt({ retryWindow: Duration.minutes(90) })).toThrow(
      /retryWindow must be a whole number of hours/,
    );
    expect(attempt({ retryWindow: Duration.hours(49) })).toThrow(/retryWindow/);
    expect(attempt({ timeout: Duration.minutes(6) })).toThrow(/timeout must be at most 4 minutes/);
    expect(attempt({ publisherRoleArns: ['arn:aws:iam::111122223333:role/drill'] })).toThrow(
      /publisherRoleArns only has an effect with restrictPublishing/,
    );
    expect(
      attempt({ restrictPublishing: true, publisherRoleArns: ['arn:aws:iam::111122223333:user/me'] }),
    ).toThrow(/not an IAM role ARN/);
    expect(attempt({ ledgerTtl: Duration.hours(36) })).toThrow(/ledgerTtl/);
    expect(attempt({ ledgerTtl: Duration.days(14) })).toThrow(/at least 15/);
    expect(attempt({ maxEventAge: Duration.hours(7) })).toThrow(/maxEventAge/);
    expect(attempt({ pagerDutyEventsUrl: 'http://events.pagerduty.com' })).toThrow(/https/);
    expect(attempt({ publisherAccountIds: ['1234'] })).toThrow(/12-digit/);
    expect(attempt({ linkHosts: ['https://wiki.example.com'] })).toThrow(/linkHosts entry/);
    expect(attempt({ metricGraphs: true, imageEndpointConcurrency: 0 })).toThrow(/endpointConcurrency/);
    expect(attempt({ environment: 'way too long and with spaces' })).toThrow(/environment/);
  });

  test('settings reach the environment; the events URL only when given', () => {
    const { stack } = build({
      defaultSeverity: 'warning',
      unrecognisedMessages: 'drop',
      environment: 'staging',
      ledgerTtl: Duration.days(30),
      pagerDutyEventsUrl: 'https://events.eu.pagerduty.com',
      reservedConcurrency: 3,
      maxEventAge: Duration.hours(1),
      timeout: Duration.seconds(30),
      memorySize: 512,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const template = Template.fromStack(stack);
    expect(handlerEnv(template)).toMatchObject({
      DEFAULT_SEVERITY: 'warning',
      UNRECOGNISED_MESSAGES: 'drop',
      ENVIRONMENT: 'staging',
      LEDGER_TTL_DAYS: '30',
      PAGERDUTY_EVENTS_URL: 'https://events.eu.pagerduty.com',
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 3,
      Timeout: 30,
      MemorySize: 512,
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumEventAgeInSeconds: 3600 });
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });

    const defaults = Template.fromStack(build().stack);
    expect(handlerEnv(defaults).PAGERDUTY_EVENTS_URL).toBeUndefined();
    expect(handlerEnv(defaults).ENVIRONMENT).toBeUndefined();
  });

  test('reserved concurrency is opt-in and reaches the function', () => {
    Template.fromStack(build({ reservedConcurrency: 10 }).stack).hasResourceProperties(
      'AWS::Lambda::Function',
      {
        ReservedConcurrentExecutions: 10,
      },
    );
  });

  test('retryWindow sets RETRY_WINDOW_HOURS and scales the redrive backstop with it', () => {
    const { stack, pipeline } = build({ retryWindow: Duration.hours(12) });
    const template = Template.fromStack(stack);
    expect(handlerEnv(template).RETRY_WINDOW_HOURS).toBe('12');
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: {
        deadLetterTargetArn: stack.resolve(pipeline.parkedQueue.queueArn),
        maxReceiveCount: 225,
      },
    });
    const longest = Template.fromStack(build({ retryWindow: Duration.hours(48) }).stack);
    longest.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 900 }),
    });
  });

  test('restrictPublishing: everyone but AWS services and the named roles is denied sns:Publish', () => {
    const roles = [
      'arn:aws:iam::111122223333:role/pagerduty-drill',
      'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_Admin_*',
    ];
    const fixture = build({ restrictPublishing: true, publisherRoleArns: roles });
    const topicRef = fixture.stack.resolve(fixture.pipeline.topic.topicArn) as unknown;
    expect(topicStatements(fixture)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 'sns:Publish',
          Resource: topicRef,
          Condition: {
            Bool: { 'aws:PrincipalIsAWSService': 'false' },
            ArnNotLike: { 'aws:PrincipalArn': roles },
          },
        }),
        // CloudWatch keeps its grant: the deny never applies to a service principal.
        expect.objectContaining({ Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' } }),
      ]),
    );
    // The ops topic is not restricted: only CloudWatch publishes there and the pipeline's own alarms must reach it.
    const opsRef = fixture.stack.resolve(fixture.pipeline.opsTopic.topicArn) as unknown;
    const opsPolicy = Template.fromStack(fixture.stack).findResources('AWS::SNS::TopicPolicy', {
      Properties: { Topics: [opsRef] },
    });
    expect(JSON.stringify(opsPolicy)).not.toContain('aws:PrincipalIsAWSService');
  });

  test('restrictPublishing without roles: only CloudWatch may publish', () => {
    const deny = topicStatements(build({ restrictPublishing: true })).find(
      (statement) =>
        statement.Effect === 'Deny' &&
        statement.Action === 'sns:Publish' &&
        statement.Condition !== undefined &&
        JSON.stringify(statement.Condition).includes('PrincipalIsAWSService'),
    );
    expect(deny?.Condition).toEqual({ Bool: { 'aws:PrincipalIsAWSService': 'false' } });
  });

  test('a routing key secret under its own KMS key: Decrypt on that key, through Secrets Manager only', () => {
    const stack = new Stack(newApp(), 'Test');
    const secretKey = new kms.Key(stack, 'SecretKey');
    const secret = new secretsmanager.Secret(stack, 'Encrypted', { encryptionKey: secretKey });
    new AlarmToPagerDuty(stack, 'Pipeline', { routes: { default: secret } });
    const statements = handlerStatements(Template.fromStack(stack));
    expect(statements).toContainEqual({
      Sid: 'RoutingKeySecretsKeyThroughSecretsManager',
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: stack.resolve(secretKey.keyArn),
      Condition: {
        StringEquals: {
          'kms:ViaService': {
            'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']],
          },
        },
      },
    });
    // The secret's key is granted nothing else, and the secret nothing but GetSecretValue.
    const onSecretKey = statements.filter((statement) =>
      JSON.stringify(statement.Resource).includes(stack.getLogicalId(secretKey.node.defaultChild as never)),
    );
    expect(onSecretKey).toHaveLength(1);
  });

  test('a given ops topic receives the health alarms; no ops topic is created', () => {
    const app = newApp();
    const shared = new Stack(app, 'Shared');
    const opsTopic = new sns.Topic(shared, 'Ops');
    const { stack, pipeline } = build({ opsTopic }, app);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SNS::Topic', 1);
    expect(pipeline.opsTopic).toBe(opsTopic);
    const alarms = template.findResources('AWS::CloudWatch::Alarm');
    for (const alarm of Object.values(alarms) as { Properties: { AlarmActions: unknown[] } }[]) {
      // cdk.json sets CDK's recommended weak cross-stack references: the output is read, not imported.
      expect(alarm.Properties.AlarmActions).toEqual([
        { 'Fn::GetStackOutput': expect.objectContaining({ StackName: 'Shared' }) as unknown },
      ]);
    }
    expect(() => build({ opsTopic, opsEmail: 'ops@example.com' }, app, 'Second')).toThrow(/opsEmail/);
  });

  test('opsEmail subscribes to the created ops topic', () => {
    const { stack, pipeline } = build({ opsEmail: 'ops@example.com' });
    Template.fromStack(stack).hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: stack.resolve(pipeline.opsTopic.topicArn),
    });
  });
});
