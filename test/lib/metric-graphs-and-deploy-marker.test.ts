import { REPO_ROOT } from '../support/paths';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { AlarmToPagerDuty, type AlarmToPagerDutyProps } from '../../lib/alarm-to-pagerduty';
import { ExampleStack, examplePropsFromContext } from '../../bin/example-stack';
import { MetricGraphImages } from '../../lib/metric-graph-images';

const ROOT = REPO_ROOT;

function newApp(context: Record<string, unknown> = {}): App {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], ...context } });
}

function build(
  props: Partial<AlarmToPagerDutyProps> = {},
  app = newApp(),
  env?: { account: string; region: string },
) {
  const stack = new Stack(app, 'Test', env ? { env } : {});
  const pipeline = new AlarmToPagerDuty(stack, 'Pipeline', {
    routes: { default: secretsmanager.Secret.fromSecretNameV2(stack, 'DefaultKey', 'pagerduty/routing-key') },
    ...props,
  });
  return { stack, pipeline, template: Template.fromStack(stack) };
}

function logicalId(stack: Stack, construct: IConstruct): string {
  return stack.getLogicalId(construct.node.defaultChild as never);
}

function handlerEnv(stack: Stack, pipeline: AlarmToPagerDuty, template: Template): Record<string, unknown> {
  const fn = template.findResources('AWS::Lambda::Function')[logicalId(stack, pipeline.handler)] as {
    Properties: { Environment: { Variables: Record<string, unknown> } };
  };
  return fn.Properties.Environment.Variables;
}

type Statement = { Action: string | string[]; Resource: unknown; Effect: string; Condition?: unknown };

function statementsOfRole(template: Template, stack: Stack, role: IConstruct): Statement[] {
  const roleRef = { Ref: logicalId(stack, role) };
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .map(
      (p) =>
        (p as { Properties: { Roles: unknown[]; PolicyDocument: { Statement: Statement[] } } }).Properties,
    )
    .filter((p) => JSON.stringify(p.Roles) === JSON.stringify([roleRef]))
    .flatMap((p) => p.PolicyDocument.Statement);
}

describe('metric graph images (metricGraphs)', () => {
  test('off by default: no bucket, no public endpoint, and the handler is told nothing', () => {
    const { stack, pipeline, template } = build();
    template.resourceCountIs('AWS::S3::Bucket', 0);
    template.resourceCountIs('AWS::Lambda::Url', 0);
    expect(pipeline.metricGraphImages).toBeUndefined();
    expect(Object.keys(handlerEnv(stack, pipeline, template)).filter((k) => /IMAGE|GRAPH/.test(k))).toEqual(
      [],
    );
  });

  describe('on', () => {
    const { stack, pipeline, template } = build({ metricGraphs: true });
    const images = pipeline.metricGraphImages!;
    const bucketRef = { Ref: logicalId(stack, images.bucket) };
    const bucketArn = { 'Fn::GetAtt': [logicalId(stack, images.bucket), 'Arn'] };

    test('a private, encrypted bucket whose graphs expire a day after their links', () => {
      template.hasResourceProperties('AWS::S3::Bucket', {
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LifecycleConfiguration: {
          Rules: Match.arrayWith([
            Match.objectLike({ Prefix: 'graphs/', ExpirationInDays: 15, Status: 'Enabled' }),
            Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
          ]),
        },
      });
    });

    test('the bucket policy only denies: no TLS, or TLS older than 1.2; nothing is granted to anyone', () => {
      const policy = Object.values(template.findResources('AWS::S3::BucketPolicy'))[0] as {
        Properties: { PolicyDocument: { Statement: Statement[] } };
      };
      const statements = policy.Properties.PolicyDocument.Statement;
      expect(statements.map((s) => s.Effect)).toEqual(['Deny', 'Deny']);
      expect(JSON.stringify(statements)).toContain('"aws:SecureTransport":"false"');
      expect(JSON.stringify(statements)).toContain('"s3:TlsVersion":1.2');
    });

    test('a generated 64-character signing key, never in the template', () => {
      template.hasResourceProperties('AWS::SecretsManager::Secret', {
        GenerateSecretString: Match.objectLike({ PasswordLength: 64, ExcludePunctuation: true }),
      });
    });

    test('the image endpoint: a function URL without IAM auth (the link token is the auth), reading graphs only', () => {
      template.hasResourceProperties('AWS::Lambda::Url', {
        AuthType: 'NONE',
        TargetFunctionArn: { 'Fn::GetAtt': [logicalId(stack, images.endpoint), 'Arn'] },
      });
      const statements = statementsOfRole(template, stack, images.endpoint.role!);
      const s3Statements = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('s3:')));
      expect(s3Statements).toEqual([
        expect.objectContaining({
          Action: 's3:GetObject',
          Resource: { 'Fn::Join': ['', [bucketArn, '/graphs/*']] },
        }),
        // A valid link to a deleted object answers 404 (NoSuchKey), not AccessDenied.
        expect.objectContaining({ Action: 's3:ListBucket', Resource: bucketArn }),
      ]);
      expect(JSON.stringify(statements)).toContain(
        JSON.stringify({ Ref: logicalId(stack, images.signingKey) }),
      );
    });

    test('the handler may render anywhere, write graphs only, read children alarms, and knows where everything is', () => {
      const statements = statementsOfRole(template, stack, pipeline.handler.role!);
      expect(statements).toContainEqual(
        expect.objectContaining({ Action: 'cloudwatch:GetMetricWidgetImage', Resource: '*' }),
      );
      expect(statements).toContainEqual(
        expect.objectContaining({
          Action: 's3:PutObject',
          Resource: { 'Fn::Join': ['', [bucketArn, '/graphs/*']] },
        }),
      );
      expect(statements).toContainEqual(expect.objectContaining({ Action: 'cloudwatch:DescribeAlarms' }));
      expect(statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('s3:')))).toHaveLength(1);
      expect(handlerEnv(stack, pipeline, template)).toMatchObject({
        METRIC_GRAPHS: 'on',
        IMAGE_BUCKET: bucketRef,
        IMAGE_URL_BASE: { 'Fn::GetAtt': [logicalId(stack, images.endpointUrl), 'FunctionUrl'] },
        IMAGE_TOKEN_SECRET_ID: { Ref: logicalId(stack, images.signingKey) },
        IMAGE_LINK_TTL_DAYS: '14',
        IMAGE_TIMEOUT_MS: '1000',
        IMAGE_HOME_ACCOUNT_ID: { Ref: 'AWS::AccountId' },
        METRIC_GRAPHS_CROSS_ACCOUNT: 'skip',
      });
    });

    test('no cdk-nag AwsSolutions findings', () => {
      expect(new AwsSolutionsChecks().validateScope(pipeline).violations).toEqual([]);
    });
  });

  test('no cdk-nag findings in a stack with a concrete account and region either', () => {
    const { pipeline } = build({ metricGraphs: true }, newApp(), {
      account: '111122223333',
      region: 'eu-west-1',
    });
    expect(new AwsSolutionsChecks().validateScope(pipeline).violations).toEqual([]);
  });

  test('links must live at least 7 days', () => {
    const stack = new Stack(newApp(), 'Short');
    const pipeline = new AlarmToPagerDuty(stack, 'Pipeline', {
      routes: { default: secretsmanager.Secret.fromSecretNameV2(stack, 'K', 'pagerduty/routing-key') },
    });
    expect(
      () => new MetricGraphImages(stack, 'Images', { handler: pipeline.handler, linkTtl: Duration.days(3) }),
    ).toThrow(/from 7 to 365/);
  });
});

describe('deploy change events (deployChangeEvents)', () => {
  test('on by default: a custom resource that names the version, run by its own function reading the default key', () => {
    const { stack, pipeline, template } = build({ deployVersion: '3f2a9c1', environment: 'prod' });
    const marker = pipeline.deployMarker!;
    template.hasResourceProperties('Custom::PagerDutyChangeEvent', {
      ServiceToken: { 'Fn::GetAtt': [logicalId(stack, marker.function), 'Arn'] },
      Version: '3f2a9c1',
      Pipeline: 'Test/Pipeline',
      Environment: 'prod',
    });
    const fn = template.findResources('AWS::Lambda::Function')[logicalId(stack, marker.function)] as {
      Properties: { Environment: { Variables: Record<string, unknown> }; Timeout: number };
    };
    expect(fn.Properties.Environment.Variables).toMatchObject({
      ROUTING_KEY_SECRET_ID: 'pagerduty/routing-key',
      POWERTOOLS_METRICS_NAMESPACE: 'AlarmToPagerDuty',
      POWERTOOLS_SERVICE_NAME: 'alarm-to-pagerduty',
    });
    const statements = statementsOfRole(template, stack, marker.function.role!);
    expect(statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('secretsmanager:')))).toEqual([
      expect.objectContaining({
        Resource: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':secretsmanager:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':secret:pagerduty/routing-key-??????',
            ],
          ],
        },
      }),
    ]);
  });

  test('a failed change event is alarmed to the ops topic, and that alarm exists before the first deploy event', () => {
    const { stack, pipeline, template } = build();
    const marker = pipeline.deployMarker!;
    const opsRef = stack.resolve(pipeline.opsTopic.topicArn) as unknown;
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AlarmToPagerDuty',
      MetricName: 'ChangeEventFailures',
      Dimensions: [{ Name: 'service', Value: 'alarm-to-pagerduty' }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [opsRef],
      OKActions: [opsRef],
    });
    const resource = template.findResources('Custom::PagerDutyChangeEvent')[
      logicalId(stack, marker.resource)
    ] as {
      DependsOn?: string[];
    };
    expect(resource.DependsOn).toContain(logicalId(stack, marker.failureAlarm));
  });

  test('the version comes from -c version=<commit> when no prop gives it, else from the synthesis time', () => {
    const fromContext = build({}, newApp({ version: 'a1b2c3d' }));
    fromContext.template.hasResourceProperties('Custom::PagerDutyChangeEvent', { Version: 'a1b2c3d' });
    const fromClock = build();
    fromClock.template.hasResourceProperties('Custom::PagerDutyChangeEvent', {
      Version: Match.stringLikeRegexp('^synthesized \\d{4}-\\d{2}-\\d{2}T'),
    });
  });

  test('deployChangeEvents: false leaves it out', () => {
    const { pipeline, template } = build({ deployChangeEvents: false });
    expect(pipeline.deployMarker).toBeUndefined();
    template.resourceCountIs('Custom::PagerDutyChangeEvent', 0);
    expect(JSON.stringify(template.toJSON())).not.toContain('ChangeEventFailures');
  });

  test('no cdk-nag AwsSolutions findings', () => {
    const { pipeline } = build({ metricGraphs: true });
    expect(new AwsSolutionsChecks().validateScope(pipeline.deployMarker!).violations).toEqual([]);
  });
});

describe('the example stack', () => {
  const read = (context: Record<string, unknown>) => examplePropsFromContext(new App({ context }).node);

  test('-c metricGraphs=true turns the images on; anything but true/false is refused', () => {
    expect(read({ metricGraphs: 'true' })).toMatchObject({ metricGraphs: true });
    expect(read({ metricGraphs: false })).toMatchObject({ metricGraphs: false });
    expect(() => read({ metricGraphs: 'yes' })).toThrow(/Context "metricGraphs" must be true or false/);
    const stack = new ExampleStack(newApp(), 'Example', { metricGraphs: true });
    expect(stack.pipeline.metricGraphImages).toBeDefined();
  });
});
