import { REPO_ROOT } from '../support/paths';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  EXAMPLE_RUNBOOK_URL,
  ExampleStack,
  examplePropsFromContext,
  intakesFromContext,
  type ExampleStackProps,
} from '../../bin/example-stack';

const ROOT = REPO_ROOT;
const CDK_CONTEXT = (
  JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> }
).context;

function newApp(context: Record<string, unknown> = {}): App {
  return new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [], ...context } });
}

function synth(props: ExampleStackProps = {}): { stack: ExampleStack; template: Template } {
  const stack = new ExampleStack(newApp(), 'AlarmToPagerDuty', props);
  return { stack, template: Template.fromStack(stack) };
}

function routingKeySecrets(template: Template): unknown {
  const [fn] = Object.values(template.findResources('AWS::Lambda::Function')) as {
    Properties: { Environment: { Variables: Record<string, unknown> } };
  }[];
  return JSON.parse(fn!.Properties.Environment.Variables.ROUTING_KEY_SECRETS as string);
}

describe('ExampleStack', () => {
  const { stack, template } = synth();

  test('references the routing key secret by name and creates none', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(routingKeySecrets(template)).toEqual({ default: 'pagerduty/routing-key' });
  });

  test('a drill alarm on a metric nobody publishes, attached with a runbook', () => {
    const topicRef = stack.resolve(stack.pipeline.topic.topicArn) as unknown;
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'AlarmToPagerDuty-ExampleHeartbeat',
      Namespace: 'AlarmToPagerDuty/Example',
      MetricName: 'Heartbeat',
      TreatMissingData: 'notBreaching',
      AlarmActions: [topicRef],
      OKActions: [topicRef],
      Tags: Match.arrayWith([{ Key: 'pagerduty:runbook', Value: EXAMPLE_RUNBOOK_URL }]),
    });
  });

  test('outputs what a user needs to drill and operate it', () => {
    for (const name of [
      'TopicArn',
      'ParkedQueueUrl',
      'RetryQueueUrl',
      'ExampleAlarmName',
      'LedgerTableName',
      'FunctionName',
    ]) {
      template.hasOutput(name, { Value: Match.anyValue() });
    }
    template.hasOutput('ExampleAlarmName', { Value: stack.resolve(stack.exampleAlarm.alarmName) });
  });

  test('no cdk-nag findings and no warnings or errors', () => {
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
    expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });

  test('synthesizes with the AwsSolutions plugin registered as in bin/app.ts', () => {
    const app = newApp();
    new ExampleStack(app, 'AlarmToPagerDuty');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const assembly = app.synth();
    const report = JSON.parse(
      fs.readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'),
    ) as { pluginReports: { summary?: { status?: string }; violations?: unknown[] }[] };
    const nagReports = report.pluginReports.filter((r) => JSON.stringify(r).includes('AwsSolutions'));
    expect(nagReports).toEqual([]);
  });

  test('extra routes and settings from props', () => {
    const { template: routed } = synth({
      routingKeySecretName: 'pd/default',
      routes: { database: 'pd/database' },
      environmentName: 'prod',
      opsEmail: 'ops@example.com',
      publisherAccountIds: ['444455556666'],
    });
    expect(routingKeySecrets(routed)).toEqual({ default: 'pd/default', database: 'pd/database' });
    routed.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
    routed.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Condition: { StringEquals: { 'aws:SourceAccount': [{ Ref: 'AWS::AccountId' }, '444455556666'] } },
          }),
        ]),
      },
    });
  });
});

describe('examplePropsFromContext', () => {
  const read = (context: Record<string, unknown>) => examplePropsFromContext(new App({ context }).node);

  test('nothing set: every setting is left to its default', () => {
    expect(read({})).toEqual({});
  });

  test('values as the CLI passes them (-c key=value, all strings)', () => {
    expect(
      read({
        routingKeySecretName: 'pd/default',
        routes: '{"database":"pd/database","payments":"pd/payments"}',
        opsEmail: 'ops@example.com',
        environment: 'prod',
        publisherAccountIds: '111122223333, 444455556666',
        restrictPublishing: 'true',
        reservedConcurrency: '10',
        publisherRoleArns: 'arn:aws:iam::111122223333:role/drill, arn:aws:iam::111122223333:role/console-*',
        propagateAlarmTags: 'true',
      }),
    ).toEqual({
      routingKeySecretName: 'pd/default',
      routes: { database: 'pd/database', payments: 'pd/payments' },
      opsEmail: 'ops@example.com',
      environmentName: 'prod',
      publisherAccountIds: ['111122223333', '444455556666'],
      restrictPublishing: true,
      reservedConcurrency: 10,
      publisherRoleArns: ['arn:aws:iam::111122223333:role/drill', 'arn:aws:iam::111122223333:role/console-*'],
      propagateAlarmTags: true,
    });
  });

  test('values as cdk.json holds them (JSON types)', () => {
    expect(
      read({
        routes: { database: 'pd/database' },
        environmentRoutes: '{"staging":"database"}',
        publisherAccountIds: ['111122223333'],
        propagateAlarmTags: false,
      }),
    ).toMatchObject({
      routes: { database: 'pd/database' },
      environmentRoutes: { staging: 'database' },
      publisherAccountIds: ['111122223333'],
      propagateAlarmTags: false,
    });
  });

  test('malformed values are refused with the key named', () => {
    expect(() => read({ routes: '["pd/database"]' })).toThrow(/Context "routes" must be a JSON object/);
    expect(() => read({ routes: 'pd/database' })).toThrow(/Context "routes"/);
    expect(() => read({ routes: { database: 42 } })).toThrow(/Context "routes"/);
    expect(() => read({ environmentRoutes: '["staging"]' })).toThrow(
      /Context "environmentRoutes" must be a JSON object of environment → route name/,
    );
    expect(() => read({ propagateAlarmTags: 'yes' })).toThrow(/propagateAlarmTags/);
    expect(() => read({ restrictPublishing: 'yes' })).toThrow(
      /Context "restrictPublishing" must be true or false/,
    );
    expect(() => read({ publisherRoleArns: 42 })).toThrow(/Context "publisherRoleArns"/);
    expect(() => read({ reservedConcurrency: 'ten' })).toThrow(
      /Context "reservedConcurrency" must be a number/,
    );
    expect(() => read({ opsEmail: 42 })).toThrow(/Context "opsEmail" must be a string/);
    expect(() => read({ alarmEvents: '["prod-"]' })).toThrow(
      /Context "alarmEvents" must be true or a JSON object/,
    );
  });

  test('the EventBridge intake: true, or the selection as JSON', () => {
    expect(read({ alarmEvents: 'true' }).alarmEvents).toEqual({});
    expect(read({ alarmEvents: '{"alarmNamePrefixes":["prod-"],"routeTagged":false}' }).alarmEvents).toEqual({
      alarmNamePrefixes: ['prod-'],
      routeTagged: false,
    });
    expect(read({}).alarmEvents).toBeUndefined();
  });
});

describe('intakesFromContext', () => {
  // null: no central account known (no credentials).
  const read = (intakes: unknown, central: string | null = '111111111111') =>
    intakesFromContext(new App({ context: { intakes } }).node, central ?? undefined);

  test('regions of the central account and account/region pairs, as the CLI passes them', () => {
    expect(read('["eu-west-1","123456789012/us-west-2"]')).toEqual([
      { account: '111111111111', region: 'eu-west-1' },
      { account: '123456789012', region: 'us-west-2' },
    ]);
    expect(read('eu-west-1, ap-southeast-2')).toEqual([
      { account: '111111111111', region: 'eu-west-1' },
      { account: '111111111111', region: 'ap-southeast-2' },
    ]);
    expect(read(['123456789012/us-west-2'], null)).toEqual([
      { account: '123456789012', region: 'us-west-2' },
    ]);
    expect(read(undefined)).toEqual([]);
  });

  test('malformed entries are refused with what to write', () => {
    expect(() => read('["Ireland"]')).toThrow(/"Ireland" is not a region or account\/region/);
    expect(() => read('["12345/us-west-2"]')).toThrow(/names no account/);
    expect(() => read('["eu-west-1"]', null)).toThrow(/central account is unknown/);
    expect(() => read('["eu-west-1","111111111111/eu-west-1"]')).toThrow(/listed twice/);
    expect(() => read('{"eu-west-1":1}')).toThrow(/must be a list/);
  });
});
