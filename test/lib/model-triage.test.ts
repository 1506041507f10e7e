import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AlarmToPagerDuty, type AlarmToPagerDutyProps } from '../../lib/alarm-to-pagerduty';
import { REPO_ROOT } from '../support/paths';

function build(
  props: Partial<AlarmToPagerDutyProps> = {},
  env: { account: string; region: string } | undefined = { account: '111122223333', region: 'eu-west-1' },
) {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  const app = new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test', { env });
  const pipeline = new AlarmToPagerDuty(stack, 'Pipeline', {
    routes: { default: secretsmanager.Secret.fromSecretNameV2(stack, 'Key', 'pagerduty/routing-key') },
    deployChangeEvents: false,
    ...props,
  });
  return { stack, pipeline, template: Template.fromStack(stack) };
}

/** Every statement of the handler role's policies that names a Bedrock action. */
function bedrockStatements(template: Template): unknown[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy) =>
    (
      policy as { Properties: { PolicyDocument: { Statement: { Action: string | string[] }[] } } }
    ).Properties.PolicyDocument.Statement.filter((statement) =>
      [statement.Action].flat().some((action) => action.startsWith('bedrock:')),
    ),
  );
}

function handlerEnv(template: Template): Record<string, unknown> {
  const functions = Object.values(template.findResources('AWS::Lambda::Function')) as {
    Properties: { Handler?: string; Environment?: { Variables: Record<string, unknown> } };
  }[];
  const handler = functions.find((fn) => fn.Properties.Environment?.Variables.LEDGER_TABLE_NAME);
  return handler!.Properties.Environment!.Variables;
}

function dashboardBody(template: Template): string {
  return JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'));
}

describe('AlarmToPagerDuty triage', () => {
  test('off by default: no TRIAGE_ variable, no Bedrock permission, no triage widget', () => {
    const { template } = build();
    expect(Object.keys(handlerEnv(template)).filter((name) => name.startsWith('TRIAGE_'))).toEqual([]);
    expect(bedrockStatements(template)).toEqual([]);
    expect(dashboardBody(template)).not.toContain('Triage');
  });

  test('a foundation model: the environment, InvokeModel on that model only, and the dashboard row', () => {
    const { template } = build({
      triage: { modelId: 'amazon.nova-micro-v1:0', severity: 'apply', timeout: Duration.millis(1200) },
    });
    expect(handlerEnv(template)).toMatchObject({
      TRIAGE_MODEL_ID: 'amazon.nova-micro-v1:0',
      TRIAGE_SEVERITY: 'apply',
      TRIAGE_TIMEOUT_MS: '1200',
    });
    expect(bedrockStatements(template)).toEqual([
      {
        Effect: 'Allow',
        Action: 'bedrock:InvokeModel',
        Resource: 'arn:aws:bedrock:eu-west-1::foundation-model/amazon.nova-micro-v1:0',
      },
    ]);
    const dashboard = dashboardBody(template);
    for (const metric of ['TriageCalls', 'TriageTimeouts', 'TriageFailures', 'TriageTokens']) {
      expect(dashboard).toContain(metric);
    }
  });

  test('an inference profile: the profile, and its model in any Region only through that profile', () => {
    const { template } = build({ triage: { modelId: 'eu.anthropic.claude-3-5-haiku-20241022-v1:0' } });
    const profile =
      'arn:aws:bedrock:eu-west-1:111122223333:inference-profile/eu.anthropic.claude-3-5-haiku-20241022-v1:0';
    expect(handlerEnv(template)).toMatchObject({ TRIAGE_SEVERITY: 'suggest', TRIAGE_TIMEOUT_MS: '1500' });
    expect(bedrockStatements(template)).toEqual([
      { Effect: 'Allow', Action: 'bedrock:InvokeModel', Resource: profile },
      {
        Effect: 'Allow',
        Action: 'bedrock:InvokeModel',
        Resource: 'arn:aws:bedrock:*::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0',
        Condition: { StringEquals: { 'bedrock:InferenceProfileArn': profile } },
      },
    ]);
  });

  test('an application inference profile ARN: the profile, and models only through it', () => {
    const arn = 'arn:aws:bedrock:eu-west-1:111122223333:application-inference-profile/a1b2c3';
    const { template } = build({ triage: { modelId: arn } });
    expect(bedrockStatements(template)).toEqual([
      { Effect: 'Allow', Action: 'bedrock:InvokeModel', Resource: arn },
      expect.objectContaining({
        Resource: 'arn:aws:bedrock:*::foundation-model/*',
        Condition: { StringEquals: { 'bedrock:InferenceProfileArn': arn } },
      }),
    ]);
  });

  test('bad options fail at synthesis', () => {
    expect(() => build({ triage: { modelId: 'm', timeout: Duration.seconds(30) } })).toThrow(/timeout/);
    expect(() => build({ triage: { modelId: ' ' } })).toThrow(/modelId/);
    expect(() => build({ triage: { modelId: 'm', severity: 'always' as never } })).toThrow(/severity/);
  });

  test.each(['amazon.nova-micro-v1:0', 'us.amazon.nova-lite-v1:0'])(
    'no cdk-nag AwsSolutions findings with triage on (%s), in a known and an unknown Region',
    (modelId) => {
      for (const env of [{ account: '111122223333', region: 'eu-west-1' }, undefined]) {
        const { pipeline } = build({ triage: { modelId } }, env);
        const report = new AwsSolutionsChecks().validateScope(pipeline);
        expect(
          report.violations.map(
            (v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath).join()}`,
          ),
        ).toEqual([]);
      }
    },
  );

  test('the handler role still has no wildcard Bedrock action', () => {
    const { template } = build({ triage: { modelId: 'amazon.nova-micro-v1:0' } });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.not(
          Match.arrayWith([Match.objectLike({ Action: Match.stringLikeRegexp('bedrock:\\*') })]),
        ),
      },
    });
  });
});
