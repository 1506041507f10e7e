// Issue 18's estate, 20 accounts × 3 regions (60 sources, 57 of them through a read role in another account), from
// one construct: RECONCILE_SOURCES would be about 12 KB, so the sweep is cut into shards, each a function whose
// environment fits Lambda's 4 KB. Measured on the synthesized templates, not on the construct's own estimate.
import { REPO_ROOT } from '../support/paths';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AlarmToPagerDuty } from '../../lib/alarm-to-pagerduty';
import { RegionalIntakeStack } from '../../lib/regional-intake';
import { loadConfig } from '../../lambda/pipeline/config';
import { TEST_ENV } from '../support/in-process';

const CDK_CONTEXT = (
  JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  }
).context;
const CENTRAL = { account: '100000000000', region: 'us-east-1' };
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-northeast-1'];
const ACCOUNTS = Array.from({ length: 20 }, (_, i) => String(100000000000 + i));
/** What a token in the template (a Ref, a GetAtt) stands for when Lambda reads it, at the construct's bound of 128 bytes. */
const TOKEN = `arn:aws:sns:us-east-1:${CENTRAL.account}:`.padEnd(128, 't');

type Json = Record<string, unknown>;

/** The estate: the central pipeline in the first account, an intake stack in every other account and region. */
function estate(outdir?: string, alarmSettings = 0) {
  const app = new App({ outdir, context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  const central = new Stack(app, 'Central', { env: CENTRAL });
  const pipeline = new AlarmToPagerDuty(central, 'Pipeline', {
    routes: { default: secretsmanager.Secret.fromSecretNameV2(central, 'Key', 'pagerduty/routing-key') },
  });
  for (let i = 0; i < alarmSettings; i++) {
    const alarm = new cloudwatch.Alarm(central, `Alarm${i}`, {
      metric: new cloudwatch.Metric({ namespace: 'Test', metricName: `M${i}` }),
      threshold: 1,
      evaluationPeriods: 1,
    });
    pipeline.addAlarm(alarm, { runbookUrl: `https://runbooks.example.com/${'r'.repeat(150)}/${i}` });
  }
  const intakes: RegionalIntakeStack[] = [];
  for (const account of ACCOUNTS) {
    for (const region of REGIONS) {
      if (account === CENTRAL.account && region === CENTRAL.region) continue;
      intakes.push(
        new RegionalIntakeStack(app, `Intake-${account}-${region}`, { env: { account, region }, pipeline }),
      );
    }
  }
  return { app, central, pipeline, intakes };
}

/** A template value as Lambda would read it, every token at its bound. */
function text(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as Json)['Fn::Join'] as [string, unknown[]] | undefined;
  if (join) return join[1].map(text).join(join[0]);
  return TOKEN;
}

// One synthesis of the 61 stacks (the slow part) for every test here, cfn-lint's included.
const OUTDIR = fs.mkdtempSync(path.join(os.tmpdir(), 'shards-'));
afterAll(() => fs.rmSync(OUTDIR, { recursive: true, force: true }));

describe('the reconciliation sweep of 20 accounts × 3 regions from one construct', () => {
  const { central, pipeline, intakes } = estate(OUTDIR);
  const template = Template.fromStack(central).toJSON() as { Resources: Record<string, Json> };
  const resources = Object.entries(template.Resources).map(([id, r]) => ({
    id,
    type: r.Type as string,
    props: (r.Properties ?? {}) as Json,
  }));
  const sweepFunctions = resources.filter(
    (r) => r.type === 'AWS::Lambda::Function' && /^PipelineReconcile/.test(r.id),
  );
  const variables = (fn: { props: Json }) => (fn.props.Environment as { Variables: Json }).Variables;
  const sourcesOf = (fn: { props: Json }) =>
    JSON.parse(text(variables(fn).RECONCILE_SOURCES)) as {
      accountId: string;
      region: string;
      roleArn?: string;
    }[];
  const sweep = pipeline.reconcileSweep!;

  test('six sweep functions, the first with the ids it always had, holding every source once, in order', () => {
    expect(sweepFunctions).toHaveLength(6);
    expect(sweep.shards).toHaveLength(6);
    expect(central.getLogicalId(sweep.function.node.defaultChild as never)).toBe(sweepFunctions[0]!.id);
    expect(sweepFunctions[0]!.id).toMatch(/^PipelineReconcileFunction[0-9A-F]{8}$/);
    const all = sweepFunctions.flatMap(sourcesOf).map((s) => `${s.accountId}:${s.region}`);
    expect(all).toEqual([
      `${CENTRAL.account}:${CENTRAL.region}`,
      ...intakes.map((i) => `${i.intake.environment.account}:${i.intake.environment.region}`),
    ]);
    expect(sweepFunctions.flatMap(sourcesOf).filter((s) => s.roleArn !== undefined)).toHaveLength(57);
  });

  test('each environment is under 4 KB, every token counted at 128 bytes', () => {
    const sizes = sweepFunctions.map((fn) =>
      Object.entries(variables(fn)).reduce(
        (sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(text(value)),
        0,
      ),
    );
    for (const size of sizes) expect(size).toBeLessThan(4096);
    // One function could not hold them: the sources alone are three times the limit.
    const sources = sweepFunctions.reduce((sum, fn) => sum + text(variables(fn).RECONCILE_SOURCES).length, 0);
    expect(sources).toBeGreaterThan(3 * 4096);
    console.log(
      `sweep shards' environments: ${sizes.join(', ')} bytes; RECONCILE_SOURCES ${sources} bytes in all`,
    );
  });

  test('each shard is a valid RECONCILE_SOURCES for the handler (a Scheduled Event sweeps exactly those)', () => {
    for (const fn of sweepFunctions) {
      const config = loadConfig({ ...TEST_ENV, RECONCILE_SOURCES: text(variables(fn).RECONCILE_SOURCES) });
      expect(config.reconcileSources).toHaveLength(sourcesOf(fn).length);
    }
  });

  test('one role for every shard, the one the read roles in other accounts trust and it may assume', () => {
    const roles = new Set(sweepFunctions.map((fn) => JSON.stringify(fn.props.Role)));
    expect(roles.size).toBe(1);
    const roleId = central.getLogicalId(sweep.role.node.defaultChild as never);
    expect([...roles]).toEqual([JSON.stringify({ 'Fn::GetAtt': [roleId, 'Arn'] })]);
    expect(
      resources.filter((r) => r.type === 'AWS::IAM::Role' && /^PipelineReconcile/.test(r.id)),
    ).toHaveLength(1);
    const roleName = central.resolve(
      (sweep.role.node.defaultChild as { roleName?: string }).roleName,
    ) as string;
    const readRoles = intakes.filter((i) => i.intake.sweepReadRole !== undefined);
    expect(readRoles).toHaveLength(57);
    for (const intake of readRoles) {
      const id = intake.getLogicalId(intake.intake.sweepReadRole!.role.node.defaultChild as never);
      const trust = Template.fromStack(intake).toJSON().Resources[id].Properties.AssumeRolePolicyDocument;
      expect(JSON.stringify(trust)).toContain(
        `"aws:PrincipalArn":"arn:aws:iam::${CENTRAL.account}:role/${roleName}"`,
      );
    }
    // CDK moves what does not fit the role's inline policy into an overflow policy attached to the same role.
    const policies = resources.filter(
      (r) =>
        ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'].includes(r.type) && /^PipelineReconcile/.test(r.id),
    );
    for (const policy of policies) expect(policy.props.Roles).toEqual([{ Ref: roleId }]);
    const assumable = policies
      .flatMap((r) => (r.props.PolicyDocument as { Statement: Json[] }).Statement)
      .filter((s) => s.Action === 'sts:AssumeRole')
      .flatMap((s) => [s.Resource].flat());
    expect(assumable.sort()).toEqual(
      readRoles.map((i) => central.resolve(i.intake.sweepReadRole!.role.roleArn) as string).sort(),
    );
  });

  test('each shard has its own log group and schedule rule, and the rule targets its function', () => {
    const logGroups = sweepFunctions.map((fn) => JSON.stringify((fn.props.LoggingConfig as Json).LogGroup));
    expect(new Set(logGroups).size).toBe(6);
    const rules = resources.filter((r) => r.type === 'AWS::Events::Rule' && r.props.ScheduleExpression);
    expect(rules).toHaveLength(6);
    const targets = rules.map((r) => (r.props.Targets as Json[])[0]!);
    expect(targets.map((t) => (t.Arn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0])).toEqual(
      sweepFunctions.map((fn) => fn.id),
    );
    // One dead-letter queue for every schedule, and each rule named so the key policy can name it.
    expect(new Set(targets.map((t) => JSON.stringify(t.DeadLetterConfig))).size).toBe(1);
    expect(new Set(rules.map((r) => r.props.Name)).size).toBe(6);
    for (const rule of rules) expect(String(rule.props.Name).length).toBeLessThanOrEqual(64);
  });

  test('the sweep function errors alarm sums every shard; the dashboard graphs each', () => {
    const alarm = resources.find((r) => r.id.startsWith('PipelineHealthSweepFunctionErrors'))!;
    expect(alarm.props.MetricName).toBeUndefined();
    const metrics = alarm.props.Metrics as Json[];
    expect(metrics[0]).toMatchObject({
      Expression: 'SUM([shard1,shard2,shard3,shard4,shard5,shard6])',
      ReturnData: true,
    });
    expect(
      metrics.slice(1).map((m) => (m.MetricStat as { Metric: { Dimensions: Json[] } }).Metric.Dimensions[0]),
    ).toEqual(sweepFunctions.map((fn) => ({ Name: 'FunctionName', Value: { Ref: fn.id } })));
    expect(metrics.slice(1).every((m) => (m.MetricStat as Json).Stat === 'Sum')).toBe(true);
    const body = JSON.stringify(
      central.resolve(resources.find((r) => r.type === 'AWS::CloudWatch::Dashboard')!.props.DashboardBody),
    );
    for (const fn of sweepFunctions) expect(body).toContain(fn.id);
    expect(body).toContain('Errors (shard 6)');
  });

  test('no cdk-nag AwsSolutions findings in the pipeline or an intake', () => {
    expect(new AwsSolutionsChecks().validateScope(pipeline).violations).toEqual([]);
    expect(new AwsSolutionsChecks().validateScope(intakes[4]!).violations).toEqual([]);
  });
});

describe('sweep shards: limits', () => {
  test('more than 10 shards (ALARM_SETTINGS leaves little room) fail synth with what to do', () => {
    const { app } = estate(undefined, 8);
    expect(() => app.synth()).toThrow(
      /sweep would need \d+ functions for 60 sources .*at most 10 are deployed/,
    );
  });
});

describe('cfn-lint of the sharded estate', () => {
  const available = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' }).status === 0;
  if (!available && process.env.CI === 'true')
    throw new Error('cfn-lint is not on PATH (required under CI=true)');
  (available ? test : test.skip)(
    'the central template and an intake in another account are cfn-lint clean',
    () => {
      {
        // Written by the synthesis of the first describe block.
        const files = ['Central', 'Intake-100000000001-eu-west-1'].map((s) =>
          path.join(OUTDIR, `${s}.template.json`),
        );
        const lint = spawnSync('cfn-lint', files, { encoding: 'utf8' });
        // W3005 on the DependsOn CDK writes from a function to its role is the single-region app's too.
        const findings = (lint.stdout + lint.stderr)
          .split('\n')
          .filter((line) => /^[EWI]\d{4} /.test(line))
          .filter(
            (line) =>
              !/^W3005 'Pipeline(Handler|DeployMarker|Reconcile)Role[0-9A-F]{8}' dependency/.test(line),
          );
        expect(findings).toEqual([]);
      }
    },
    180_000,
  );
});
