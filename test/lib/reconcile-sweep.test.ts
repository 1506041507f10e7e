import { REPO_ROOT } from '../support/paths';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { AlarmToPagerDuty, type AlarmToPagerDutyProps } from '../../lib/alarm-to-pagerduty';
import { RegionalIntakeStack } from '../../lib/regional-intake';

const CDK_CONTEXT = (
  JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  }
).context;

function build(props: Partial<AlarmToPagerDutyProps> = {}, env?: { account: string; region: string }) {
  const app = new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test', { env });
  const pipeline = new AlarmToPagerDuty(stack, 'Pipeline', {
    routes: { default: secretsmanager.Secret.fromSecretNameV2(stack, 'Key', 'pagerduty/routing-key') },
    ...props,
  });
  return { app, stack, pipeline };
}

function logicalId(stack: Stack, construct: IConstruct): string {
  return stack.getLogicalId(construct.node.defaultChild as never);
}

interface FunctionResource {
  readonly Properties: {
    readonly Handler: string;
    readonly Runtime: string;
    readonly Timeout: number;
    readonly Environment: { readonly Variables: Record<string, unknown> };
    readonly Role: unknown;
  };
}

interface Statement {
  readonly Sid?: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

function resource<T>(template: Template, stack: Stack, construct: IConstruct): T {
  return template.toJSON().Resources[logicalId(stack, construct)] as T;
}

function roleStatements(template: Template, roleLogicalId: string): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .map((p) => p as { Properties: { Roles: { Ref: string }[]; PolicyDocument: { Statement: Statement[] } } })
    .filter((p) => p.Properties.Roles.some((r) => r.Ref === roleLogicalId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

describe('the reconciliation sweep (defaults)', () => {
  const { stack, pipeline } = build();
  const template = Template.fromStack(stack);
  const sweep = pipeline.reconcileSweep!;
  const sweepFn = resource<FunctionResource>(template, stack, sweep.function);
  const handlerFn = resource<FunctionResource>(template, stack, pipeline.handler);

  test('its own function from the same entry and export, with the handler environment plus RECONCILE_SOURCES', () => {
    expect(sweepFn.Properties.Handler).toBe(handlerFn.Properties.Handler);
    expect(sweepFn.Properties.Runtime).toBe('nodejs24.x');
    expect(sweepFn.Properties.Timeout).toBe(300);
    expect(sweepFn.Properties.Role).not.toEqual(handlerFn.Properties.Role);
    const { RECONCILE_SOURCES, ...rest } = sweepFn.Properties.Environment.Variables;
    expect(rest).toEqual(handlerFn.Properties.Environment.Variables);
    expect(handlerFn.Properties.Environment.Variables.RECONCILE_SOURCES).toBeUndefined();
    // The central source only: no intakes, no EventBridge selection.
    expect(stack.resolve(RECONCILE_SOURCES)).toEqual({
      'Fn::Join': [
        '',
        [
          '[{"region":"',
          { Ref: 'AWS::Region' },
          '","accountId":"',
          { Ref: 'AWS::AccountId' },
          '","topicArns":["',
          { Ref: logicalId(stack, pipeline.topic) },
          '"]}]',
        ],
      ],
    });
  });

  test('the sweep role: CloudWatch reads, the ledger and its index, the routing keys; nothing else', () => {
    const statements = roleStatements(template, logicalId(stack, sweep.role));
    const actions = statements.flatMap((s) => [s.Action].flat()).sort();
    expect(actions).toEqual(
      [
        'cloudwatch:DescribeAlarms',
        'cloudwatch:DescribeAlarmContributors',
        'cloudwatch:GetAlarmMuteRule',
        'cloudwatch:ListAlarmMuteRules',
        'dynamodb:GetItem',
        'dynamodb:UpdateItem',
        'dynamodb:Query',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'secretsmanager:GetSecretValue',
      ].sort(),
    );
    expect(statements.find((s) => s.Sid === 'LedgerOpenIncidents')?.Resource).toEqual({
      'Fn::Join': [
        '',
        [{ 'Fn::GetAtt': [logicalId(stack, pipeline.ledger), 'Arn'] }, '/index/OpenIncidents'],
      ],
    });
    // DescribeAlarms is the only action on "*" (composite alarms need it).
    expect(statements.filter((s) => s.Resource === '*').map((s) => s.Action)).toEqual([
      'cloudwatch:DescribeAlarms',
    ]);
    // Its own account's alarms, any region; no sts:AssumeRole without an intake in another account.
    expect(statements.find((s) => s.Sid === 'DescribeAlarmContributors')?.Resource).toEqual({
      'Fn::Join': [
        '',
        ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:*:', { Ref: 'AWS::AccountId' }, ':alarm:*'],
      ],
    });
  });

  test('the paging function gets no CloudWatch read and no AssumeRole', () => {
    const actions = roleStatements(template, logicalId(stack, pipeline.handler.role!)).flatMap((s) =>
      [s.Action].flat(),
    );
    expect(actions.filter((a) => a.startsWith('cloudwatch:') || a.startsWith('sts:'))).toEqual([]);
  });

  test('every 5 minutes, with retries and a dead-letter queue alarmed to the ops topic', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [logicalId(stack, sweep.function), 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(stack, sweep.deadLetterQueue), 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 300 },
        }),
      ],
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: { 'Fn::GetAtt': [logicalId(stack, pipeline.key), 'Arn'] },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalId(stack, sweep.deadLetterQueue), 'QueueName'] },
        },
      ],
      AlarmActions: [{ Ref: Match.anyValue() }],
    });
    // A late or failed sweep is not retried by Lambda: the next one reads the state afresh.
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: logicalId(stack, sweep.function) },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 300,
    });
  });

  test('health: MissedNotifications, SweepErrors and the sweep function errors alarm to the ops topic', () => {
    const ops = { Ref: logicalId(stack, pipeline.opsTopic) };
    for (const metricName of ['MissedNotifications', 'SweepErrors']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AlarmToPagerDuty',
        MetricName: metricName,
        Dimensions: [{ Name: 'service', Value: 'alarm-to-pagerduty' }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [ops],
        OKActions: [ops],
      });
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(stack, sweep.function) } }],
      AlarmActions: [ops],
    });
    expect(pipeline.healthAlarms.map((a) => a.node.id)).toEqual(
      expect.arrayContaining(['MissedNotifications', 'SweepErrors', 'SweepFunctionErrors']),
    );
  });

  test('the dashboard graphs corrections by kind, missed notifications, errors and the duration', () => {
    const body = JSON.stringify(
      stack.resolve(
        template.toJSON().Resources[logicalId(stack, pipeline.dashboard)].Properties.DashboardBody,
      ),
    );
    for (const name of [
      'SweepResolvedOk',
      'SweepResolvedDeleted',
      'SweepResolvedInsufficientData',
      'MissedNotifications',
      'Repages',
      'SweepErrors',
      'SweepIncomplete',
      'SweepDuration',
      'Sweep: corrections by kind',
    ]) {
      expect(body).toContain(name);
    }
  });

  test('no cdk-nag AwsSolutions findings', () => {
    expect(new AwsSolutionsChecks().validateScope(pipeline).violations).toEqual([]);
  });
});

describe('reconcile and reconcileInterval', () => {
  test('reconcileInterval: 1 minute runs every minute with a one-minute timeout', () => {
    const { stack, pipeline } = build({ reconcileInterval: Duration.minutes(1) });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)' });
    expect(
      resource<FunctionResource>(template, stack, pipeline.reconcileSweep!.function).Properties.Timeout,
    ).toBe(60);
  });

  test.each([Duration.seconds(30), Duration.seconds(90), Duration.days(2)])(
    'reconcileInterval %s is refused with what is allowed',
    (interval) => {
      expect(() => build({ reconcileInterval: interval })).toThrow(
        /reconcileInterval must be whole minutes, 1 minute to 1 day/,
      );
    },
  );

  test('reconcile: false deploys no sweep, no schedule, no sweep alarms; repageInterval then says why it cannot work', () => {
    const { stack, pipeline } = build({ reconcile: false });
    const template = Template.fromStack(stack);
    expect(pipeline.reconcileSweep).toBeUndefined();
    template.resourceCountIs('AWS::Events::Rule', 0);
    template.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { MetricName: 'MissedNotifications' }, 0);
    expect(Object.keys(template.findResources('AWS::Lambda::Function'))).toHaveLength(2); // handler, deploy marker
    const alarm = new cloudwatch.Alarm(stack, 'A', {
      metric: new cloudwatch.Metric({ namespace: 'T', metricName: 'M' }),
      threshold: 1,
      evaluationPeriods: 1,
    });
    expect(() => pipeline.addAlarm(alarm, { repageInterval: Duration.minutes(30) })).toThrow(
      /repageInterval needs the reconciliation sweep/,
    );
    expect(() => build({ reconcile: false, reconcileInterval: Duration.minutes(10) })).toThrow(/no effect/);
  });
});

describe('addAlarm repageInterval', () => {
  const alarm = (stack: Stack, id: string) =>
    new cloudwatch.Alarm(stack, id, {
      metric: new cloudwatch.Metric({ namespace: 'T', metricName: id }),
      threshold: 1,
      evaluationPeriods: 1,
      alarmName: id,
    });

  test('becomes the pagerduty:repage-minutes tag and repageMinutes in ALARM_SETTINGS, in whole minutes', () => {
    const { stack, pipeline } = build({}, { account: '111111111111', region: 'us-east-1' });
    pipeline.addAlarm(alarm(stack, 'Slow'), { repageInterval: Duration.hours(1) });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'Slow',
      Tags: Match.arrayWith([{ Key: 'pagerduty:repage-minutes', Value: '60' }]),
    });
    const variables = resource<FunctionResource>(template, stack, pipeline.handler).Properties.Environment
      .Variables;
    const settings = JSON.stringify(stack.resolve(variables.ALARM_SETTINGS));
    expect(settings).toContain('\\"repageMinutes\\":\\"60\\"');
  });

  test.each([Duration.minutes(4), Duration.seconds(330), Duration.days(8)])('%s is refused', (interval) => {
    const { stack, pipeline } = build();
    expect(() => pipeline.addAlarm(alarm(stack, 'X'), { repageInterval: interval })).toThrow(
      /repageInterval must be whole minutes from 5 minutes to 7 days/,
    );
  });
});

describe("the sweep's 4 KB environment", () => {
  test('21 sources (20 in other accounts) deploy as two sweep functions; the first keeps its ids', () => {
    const { app, stack, pipeline } = build({}, { account: '111111111111', region: 'us-east-1' });
    const regions = ['us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-2', 'ap-northeast-1'];
    for (let i = 0; i < 20; i += 1) {
      const env = { account: String(222222222200 + i), region: regions[i % regions.length]! };
      new RegionalIntakeStack(app, `Intake${i}`, { env, pipeline });
    }
    const template = Template.fromStack(stack);
    const shards = pipeline.reconcileSweep!.shards;
    expect(shards).toHaveLength(2);
    expect(shards[0]!.function).toBe(pipeline.reconcileSweep!.function);
    expect(logicalId(stack, shards[1]!.function)).toMatch(/^PipelineReconcileShard2Function[0-9A-F]{8}$/);
    const count = (fn: FunctionResource) =>
      JSON.stringify(stack.resolve(fn.Properties.Environment.Variables.RECONCILE_SOURCES)).split('accountId')
        .length - 1;
    const counts = shards.map((s) => count(resource<FunctionResource>(template, stack, s.function)));
    expect(counts[0]! + counts[1]!).toBe(21);
  });

  test('a source that fits no function beside ALARM_SETTINGS fails synth with what to do', () => {
    const { app, stack, pipeline } = build({}, { account: '111111111111', region: 'us-east-1' });
    for (let i = 0; i < 10; i++) {
      const alarm = new cloudwatch.Alarm(stack, `Alarm${i}`, {
        metric: new cloudwatch.Metric({ namespace: 'T', metricName: `M${i}` }),
        threshold: 1,
        evaluationPeriods: 1,
      });
      pipeline.addAlarm(alarm, { runbookUrl: `https://runbooks.example.com/${'r'.repeat(150)}/${i}` });
    }
    new RegionalIntakeStack(app, 'Other', {
      env: { account: '222222222222', region: 'eu-west-1' },
      pipeline,
    });
    expect(() => app.synth()).toThrow(
      /sweep's environment would be about \d+ bytes with the one source \d{12}:[a-z0-9-]+ in Test, over Lambda's 4 KB: pass fewer options to addAlarm/,
    );
  });
});
