// The functions' runtime (issue 21.3), the metric graph settings through AlarmToPagerDuty (21.5), and who hears
// the dead-letter alarm of an intake that addAlarm creates (21.2).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AlarmToPagerDuty, type AlarmToPagerDutyProps } from '../../lib/alarm-to-pagerduty';
import { REPO_ROOT } from '../support/paths';

function newApp(): App {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] } });
}

const CENTRAL = { account: '111111111111', region: 'us-east-1' };

function pipelineIn(stack: Stack, props: Partial<AlarmToPagerDutyProps> = {}): AlarmToPagerDuty {
  return new AlarmToPagerDuty(stack, 'Pager', {
    routes: { default: secretsmanager.Secret.fromSecretNameV2(stack, 'Key', 'pagerduty/routing-key') },
    ...props,
  });
}

/** The app synthesized under cdk-nag: the error it throws on a finding, or undefined when clean. */
function nagError(app: App): string | undefined {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  try {
    app.synth();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** The runtimes of the construct's functions (handler, sweep, image endpoint, deploy marker), as a set. */
function runtimes(template: Template): Set<string | undefined> {
  const all = Object.values(template.findResources('AWS::Lambda::Function')).map(
    (fn) => (fn as { Properties: { Runtime?: string } }).Properties.Runtime,
  );
  expect(all).toHaveLength(4);
  return new Set(all);
}

describe('runtime', () => {
  test('Node.js 24 by default for every function; an older runtime is refused with what to use', () => {
    const stack = new Stack(newApp(), 'Default');
    pipelineIn(stack, { metricGraphs: true });
    expect(runtimes(Template.fromStack(stack))).toEqual(new Set(['nodejs24.x']));
    // A consumer's app without this repository's feature flags, where NodejsFunction's own default is older.
    const bare = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Bare');
    pipelineIn(bare, { metricGraphs: true });
    expect(runtimes(Template.fromStack(bare))).toEqual(new Set(['nodejs24.x']));
    expect(() => pipelineIn(new Stack(newApp(), 'Old'), { runtime: lambda.Runtime.NODEJS_22_X })).toThrow(
      /runtime nodejs22\.x cannot run the functions: they are bundled for Node\.js 24/,
    );
    expect(() => pipelineIn(new Stack(newApp(), 'Py'), { runtime: lambda.Runtime.PYTHON_3_13 })).toThrow(
      /cannot run the functions/,
    );
  });

  // What aws-cdk-lib 2.278 did by adding NODEJS_26_X: a newer Node.js in Runtime.ALL, which AwsSolutions-L1 reads.
  test('with a newer Node.js known: L1 acknowledged on Node.js 24 with its reason, or the newer one chosen', () => {
    const newer = new lambda.Runtime('nodejs98.x', lambda.RuntimeFamily.NODEJS);
    try {
      const defaultApp = newApp();
      const stack = new Stack(defaultApp, 'Acknowledged');
      pipelineIn(stack, { metricGraphs: true });
      expect(nagError(defaultApp)).toBeUndefined();
      const report = fs.readFileSync(path.join(defaultApp.outdir, 'validation-report.json'), 'utf8');
      expect(report).not.toContain('AwsSolutions-L1');

      const chosenApp = newApp();
      const chosen = new Stack(chosenApp, 'Chosen');
      pipelineIn(chosen, { metricGraphs: true, runtime: newer });
      expect(nagError(chosenApp)).toBeUndefined();
      expect(runtimes(Template.fromStack(chosen))).toEqual(new Set(['nodejs98.x']));
    } finally {
      lambda.Runtime.ALL.splice(lambda.Runtime.ALL.indexOf(newer), 1);
    }
  });

  test('without the acknowledgement the same app fails AwsSolutions-L1: the check is real', () => {
    const newer = new lambda.Runtime('nodejs97.x', lambda.RuntimeFamily.NODEJS);
    try {
      const app = newApp();
      const stack = new Stack(app, 'Plain');
      new lambda.Function(stack, 'Plain', {
        runtime: lambda.Runtime.NODEJS_24_X,
        handler: 'index.handler',
        code: lambda.Code.fromInline('exports.handler = async () => 1;'),
      });
      expect(nagError(app)).toMatch(/AwsSolutions-L1/);
    } finally {
      lambda.Runtime.ALL.splice(lambda.Runtime.ALL.indexOf(newer), 1);
    }
  });
});

test('metricGraphs settings reach the handler: link lifetime, image timeout, other accounts', () => {
  const stack = new Stack(newApp(), 'Graphs');
  pipelineIn(stack, {
    metricGraphs: {
      linkTtl: Duration.days(30),
      timeout: Duration.millis(800),
      crossAccount: 'observability',
    },
  });
  Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
    Environment: {
      Variables: Match.objectLike({
        METRIC_GRAPHS: 'on',
        IMAGE_LINK_TTL_DAYS: '30',
        IMAGE_TIMEOUT_MS: '800',
        METRIC_GRAPHS_CROSS_ACCOUNT: 'observability',
      }),
    },
  });
});

test('environmentRoutes reach the handler and the sweep, and a route not in routes or a name twice is refused', () => {
  const stack = new Stack(newApp(), 'EnvironmentRoutes');
  const staging = secretsmanager.Secret.fromSecretNameV2(stack, 'StagingKey', 'pagerduty/staging');
  new AlarmToPagerDuty(stack, 'Pager', {
    routes: { default: secretsmanager.Secret.fromSecretNameV2(stack, 'Key', 'pagerduty/key'), staging },
    environmentRoutes: { staging: 'staging', QA: 'staging' },
  });
  const withRoutes = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')).filter(
    (fn) =>
      JSON.stringify(fn).includes(
        '"ENVIRONMENT_ROUTES":"{\\"staging\\":\\"staging\\",\\"QA\\":\\"staging\\"}"',
      ),
  );
  // The handler and the reconciliation sweep (which pages missed alarms on the same routes).
  expect(withRoutes).toHaveLength(2);

  const refused = (environmentRoutes: Record<string, string>) => () =>
    pipelineIn(new Stack(newApp(), 'Refused'), { environmentRoutes });
  expect(refused({ staging: 'staging' })).toThrow(
    'AlarmToPagerDuty: environmentRoutes.staging is "staging", which is not one of routes (default)',
  );
  expect(refused({ prod: 'default', PROD: 'default' })).toThrow(/names "PROD" twice/);
  expect(refused({ 'prod env': 'default' })).toThrow(/environmentRoutes name "prod env"/);
});

describe('an intake addAlarm creates', () => {
  const alarmIn = (stack: Stack) =>
    new cloudwatch.Alarm(stack, 'QueueAge', {
      metric: new cloudwatch.Metric({ namespace: 'Orders', metricName: 'QueueAgeSeconds' }),
      threshold: 300,
      evaluationPeriods: 3,
    });

  test("subscribes the pipeline's opsEmail to its region's ops topic", () => {
    const app = newApp();
    const pager = pipelineIn(new Stack(app, 'Pager', { env: CENTRAL }), { opsEmail: 'oncall@example.com' });
    pager.addAlarm(alarmIn(new Stack(app, 'Tokyo', { env: { ...CENTRAL, region: 'ap-northeast-1' } })));
    const intake = app.node.findChild('Pager-Intake-111111111111-ap-northeast-1') as Stack;
    const template = Template.fromStack(intake);
    const [topicId] = Object.keys(
      template.findResources('AWS::SNS::Topic', {
        Properties: { DisplayName: 'Alarm-to-PagerDuty intake health' },
      }),
    );
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
      TopicArn: { Ref: topicId },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: [{ Ref: topicId }] });
    Annotations.fromStack(intake).hasNoWarning('*', Match.stringLikeRegexp('notifies no one'));
  });

  test('with its own opsTopic and no opsEmail: a synth warning that its alarm notifies no one, and what to do', () => {
    const app = newApp();
    const central = new Stack(app, 'Pager', { env: CENTRAL });
    const pager = pipelineIn(central, { opsTopic: new sns.Topic(central, 'MyOps') });
    pager.addAlarm(alarmIn(new Stack(app, 'Tokyo', { env: { ...CENTRAL, region: 'ap-northeast-1' } })));
    const intake = app.node.findChild('Pager-Intake-111111111111-ap-northeast-1') as Stack;
    Annotations.fromStack(intake).hasWarning(
      '*',
      Match.stringLikeRegexp('notifies no one.*create that RegionalIntakeStack yourself'),
    );
    expect(
      Template.fromStack(intake).findResources('AWS::SNS::Subscription', {
        Properties: { Protocol: 'email' },
      }),
    ).toEqual({});
  });
});
