/**
 * How a user meets the package: `npm pack` (which builds at prepack), the tarball installed into a fresh CDK
 * app outside this repository, and that app synthesized under cdk-nag with AlarmToPagerDuty and addAlarm.
 * aws-cdk-lib, constructs, cdk-nag, typescript and @types/node are linked from this repository's node_modules
 * (the tested versions, no download); the package's own dependencies come from the npm cache.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AlarmToPagerDuty } from '../lib/alarm-to-pagerduty';

const ROOT = path.join(__dirname, '..');
const PACKAGE = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
};
// Pack, build, install, type-check and synthesize: about a minute of CPU, several on a loaded machine.
const TIMEOUT_MS = 8 * 60_000;

/** File name → SHA-256 of its bytes, for every file in a directory. */
function digests(dir: string): Record<string, string> {
  return Object.fromEntries(
    fs.readdirSync(dir).map((name) => [
      name,
      createHash('sha256')
        .update(fs.readFileSync(path.join(dir, name)))
        .digest('hex'),
    ]),
  );
}

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string; size: number }[];
}

function run(command: string, args: string[], cwd: string): string {
  try {
    return execFileSync(command, args, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}\n${stderr ?? ''}`, {
      cause: error,
    });
  }
}

/** The consumer's app: the README's usage, plus a second pipeline on the runtime's AWS SDK. */
const CONSUMER_APP = `
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AlarmToPagerDuty, type AlarmPagingOptions } from '${PACKAGE.name}';

const app = new App({ outdir: 'cdk.out' });
const stack = new Stack(app, 'ConsumerStack');
const pager = new AlarmToPagerDuty(stack, 'Pager', {
  routes: { default: secretsmanager.Secret.fromSecretNameV2(stack, 'Key', 'pagerduty/routing-key') },
  environment: 'prod',
});
const errors = new cloudwatch.Alarm(stack, 'Errors', {
  metric: new cloudwatch.Metric({ namespace: 'Consumer', metricName: 'Errors' }),
  threshold: 1,
  evaluationPeriods: 1,
});
const options: AlarmPagingOptions = { severity: 'error', runbookUrl: 'https://runbooks.example.com/errors' };
pager.addAlarm(errors, options);

const runtimeSdk = new Stack(app, 'RuntimeSdkStack');
new AlarmToPagerDuty(runtimeSdk, 'Pager', {
  routes: { default: secretsmanager.Secret.fromSecretNameV2(runtimeSdk, 'Key', 'pagerduty/routing-key') },
  bundleAwsSdk: false,
});

Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth(); // throws, and the app exits non-zero, on any cdk-nag error

// The same wiring on a queue cdk-nag must flag, so a clean synth above means something.
const canary = new App({ outdir: 'cdk.out.canary' });
new sqs.Queue(new Stack(canary, 'NagCanary'), 'Unencrypted', { encryption: sqs.QueueEncryption.UNENCRYPTED });
Validations.of(canary).addPlugins(new AwsSolutionsChecks(canary));
try {
  canary.synth();
} catch {
  // expected: the report in cdk.out.canary says why
}
`;

describe('the npm package, installed into a fresh CDK app', () => {
  let tmp: string;
  let consumer: string;
  let pack: PackResult;

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'alarm-to-pagerduty-package-'));
    consumer = path.join(tmp, 'consumer-app');
    const stdout = run('npm', ['pack', '--json', '--pack-destination', tmp], ROOT);
    // prepack's own output comes first on stdout; the JSON array starts on a line of its own.
    const jsonStart = stdout.search(/^\[$/m);
    [pack] = JSON.parse(stdout.slice(jsonStart)) as [PackResult];
    console.log(
      `${pack.filename}: ${(pack.size / 1024).toFixed(0)} KiB packed, ` +
        `${(pack.unpackedSize / 1024).toFixed(0)} KiB unpacked, ${pack.files.length} files`,
    );

    fs.mkdirSync(consumer);
    const link = (name: string) => `file:${path.join(ROOT, 'node_modules', name)}`;
    fs.writeFileSync(
      path.join(consumer, 'package.json'),
      JSON.stringify({
        name: 'consumer-app',
        private: true,
        dependencies: {
          [PACKAGE.name]: `file:${path.join(tmp, pack.filename)}`,
          'aws-cdk-lib': link('aws-cdk-lib'),
          constructs: link('constructs'),
          'cdk-nag': link('cdk-nag'),
        },
        devDependencies: { typescript: link('typescript'), '@types/node': link('@types/node') },
      }),
    );
    fs.writeFileSync(
      path.join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'nodenext',
          strict: true,
          skipLibCheck: true,
          types: ['node'],
        },
        files: ['app.ts'],
      }),
    );
    fs.writeFileSync(path.join(consumer, 'app.ts'), CONSUMER_APP);
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], consumer);
    run(path.join(consumer, 'node_modules', '.bin', 'tsc'), ['-p', '.'], consumer);
    run(process.execPath, ['app.js'], consumer);
  }, TIMEOUT_MS);

  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const installed = (...parts: string[]) => path.join(consumer, 'node_modules', PACKAGE.name, ...parts);
  const template = (stackName: string) =>
    Template.fromJSON(
      JSON.parse(
        fs.readFileSync(path.join(consumer, 'cdk.out', `${stackName}.template.json`), 'utf8'),
      ) as Record<string, unknown>,
    );

  /** The staged code asset of the stack's PagerDuty function: its S3 key and the digests of its files. */
  function handlerAsset(stackName: string): { objectKey: string; files: Record<string, string> } {
    const out = path.join(consumer, 'cdk.out');
    const manifest = JSON.parse(fs.readFileSync(path.join(out, `${stackName}.assets.json`), 'utf8')) as {
      files: Record<
        string,
        {
          displayName?: string;
          source: { path: string };
          destinations: Record<string, { objectKey: string }>;
        }
      >;
    };
    const asset = Object.values(manifest.files).find((file) => file.displayName === 'Pager/Handler/Code');
    if (!asset) throw new Error(`${stackName} has no Pager/Handler/Code asset`);
    return {
      objectKey: Object.values(asset.destinations)[0]!.objectKey,
      files: digests(path.join(out, asset.source.path)),
    };
  }

  test('the tarball holds the compiled construct, its types and the two prebuilt handlers, nothing else', () => {
    const paths = pack.files.map((file) => file.path);
    expect(paths.filter((p) => /^(test|bench|local|scripts|spec|examples|bin|lambda|lib)\//.test(p))).toEqual(
      [],
    );
    expect(paths.filter((p) => p.endsWith('.ts') && !p.endsWith('.d.ts'))).toEqual([]);
    expect(paths.filter((p) => !p.startsWith('dist/')).sort()).toEqual([
      'CHANGELOG.md',
      'README.md',
      'package.json',
    ]);
    expect(paths).toEqual(
      expect.arrayContaining([
        'dist/lib/index.js',
        'dist/lib/index.d.ts',
        'dist/handler/index.mjs',
        'dist/handler/index.mjs.map',
        'dist/handler-runtime-sdk/index.mjs',
        'dist/handler-runtime-sdk/index.mjs.map',
      ]),
    );
  });

  test('the shipped types import only the package’s dependencies and peer dependencies', () => {
    const allowed = new Set([
      ...Object.keys(PACKAGE.dependencies ?? {}),
      ...Object.keys(PACKAGE.peerDependencies ?? {}),
    ]);
    const imported = pack.files
      .filter((file) => file.path.endsWith('.d.ts'))
      .flatMap((file) => [
        ...fs
          .readFileSync(installed(file.path), 'utf8')
          .matchAll(/(?:from |import\(|reference types=)['"]([^.'"][^'"]*)['"]/g),
      ])
      .map((match) => match[1]!.replace(/^(@[^/]+\/[^/]+|[^/@]+).*$/, '$1'));
    expect(imported.length).toBeGreaterThan(0);
    expect([...new Set(imported)].filter((name) => !allowed.has(name) && !name.startsWith('node:'))).toEqual(
      [],
    );
  });

  test('the function deploys the prebuilt bundle: no esbuild, no TypeScript sources at synth', () => {
    for (const [stackName, dir] of [
      ['ConsumerStack', 'handler'],
      ['RuntimeSdkStack', 'handler-runtime-sdk'],
    ] as const) {
      const asset = handlerAsset(stackName);
      // The source map's paths are relative to where esbuild wrote it: equal only for the shipped copy.
      expect(asset.files).toEqual(digests(installed('dist', dir)));
      template(stackName).hasResourceProperties('AWS::Lambda::Function', {
        Handler: 'index.handler',
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Code: { S3Key: asset.objectKey },
      });
    }
  });

  test('the installed bundle loads with its chunks and answers an SNS alarm (one it skips: no AWS call needed)', () => {
    const alarm = {
      ...(JSON.parse(fs.readFileSync(path.join(ROOT, 'examples/metric-alarm.json'), 'utf8')) as object),
      NewStateValue: 'INSUFFICIENT_DATA',
    };
    const event = {
      Records: [
        {
          EventSource: 'aws:sns',
          Sns: {
            Type: 'Notification',
            MessageId: 'package-check',
            TopicArn: 'arn:aws:sns:us-east-1:123456789012:alarms',
            Subject: 'INSUFFICIENT_DATA',
            Message: JSON.stringify(alarm),
            Timestamp: new Date().toISOString(),
          },
        },
      ],
    };
    // dist/handler-runtime-sdk needs the runtime's @aws-sdk, which only Lambda provides.
    for (const dir of ['handler']) {
      const script =
        `const { handler } = await import(${JSON.stringify(pathToFileURL(installed('dist', dir, 'index.mjs')).href)});` +
        `const outcomes = await handler(${JSON.stringify(event)}, { awsRequestId: 'package', getRemainingTimeInMillis: () => 30000 });` +
        `process.stderr.write('\\noutcomes ' + JSON.stringify(outcomes) + '\\n');`;
      // Every endpoint is a closed port: the skip needs none, and a call would fail the invocation.
      const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        cwd: consumer,
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH ?? '',
          LEDGER_TABLE_NAME: 'package-ledger',
          ROUTING_KEY_SECRETS: '{"default":"package/pagerduty"}',
          PAGERDUTY_EVENTS_URL: 'http://127.0.0.1:9',
          AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'package',
          AWS_SECRET_ACCESS_KEY: 'package',
        },
      });
      expect(result.status).toBe(0);
      expect(JSON.parse(/^outcomes (.*)$/m.exec(result.stderr)?.[1] ?? 'null')).toEqual([
        expect.objectContaining({ outcome: 'skipped' }),
      ]);
    }
  });

  test('addAlarm attaches the alarm and records its options', () => {
    const consumerTemplate = template('ConsumerStack');
    const [topicId] = Object.keys(
      consumerTemplate.findResources('AWS::SNS::Topic', {
        Properties: { DisplayName: 'CloudWatch alarms to PagerDuty' },
      }),
    );
    consumerTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      AlarmActions: [{ Ref: topicId }],
      OKActions: [{ Ref: topicId }],
      Tags: Match.arrayWith([{ Key: 'pagerduty:severity', Value: 'error' }]),
    });
    consumerTemplate.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ ENVIRONMENT: 'prod' }) },
    });
    // ALARM_SETTINGS is an Fn::Join around the alarm's ARN; the options are literal text in it.
    const [fn] = Object.values(consumerTemplate.findResources('AWS::Lambda::Function')) as {
      Properties: { Environment: { Variables: { ALARM_SETTINGS: unknown } } };
    }[];
    expect(JSON.stringify(fn!.Properties.Environment.Variables.ALARM_SETTINGS)).toContain(
      'https://runbooks.example.com/errors',
    );
  });

  test('cdk-nag: the app synthesized with no errors, and the same wiring flags a non-compliant queue', () => {
    const report = (dir: string) =>
      JSON.parse(fs.readFileSync(path.join(consumer, dir, 'validation-report.json'), 'utf8')) as {
        pluginReports: {
          pluginName: string;
          violations: { violatingConstructs: { constructPath: string }[] }[];
        }[];
      };
    const violations = (dir: string) =>
      report(dir).pluginReports.flatMap((r) =>
        r.violations.flatMap((v) => v.violatingConstructs.map((c) => c.constructPath)),
      );
    expect(violations('cdk.out')).toEqual([]);
    expect(violations('cdk.out.canary')).toContain('NagCanary/Unencrypted/Resource');
  });

  test(
    'the prebuilt bundle is the one NodejsFunction bundles from source in this repository',
    () => {
      const app = new App({ outdir: path.join(tmp, 'from-source.out') });
      for (const bundleAwsSdk of [true, false]) {
        const stack = new Stack(app, bundleAwsSdk ? 'WithSdk' : 'RuntimeSdk');
        new AlarmToPagerDuty(stack, 'Pager', {
          routes: { default: secretsmanager.Secret.fromSecretNameV2(stack, 'Key', 'pagerduty/routing-key') },
          bundleAwsSdk,
        });
      }
      const assembly = app.synth();
      for (const [stackName, dir] of [
        ['WithSdk', 'handler'],
        ['RuntimeSdk', 'handler-runtime-sdk'],
      ] as const) {
        const functions = Template.fromJSON(
          assembly.getStackByName(stackName).template as Record<string, unknown>,
        ).findResources('AWS::Lambda::Function', { Properties: { Runtime: 'nodejs24.x' } });
        const [fn] = Object.values(functions) as { Properties: { Code: { S3Key: string } } }[];
        const staged = path.join(
          assembly.directory,
          `asset.${fn!.Properties.Code.S3Key.replace(/\.zip$/, '')}`,
        );
        // index.mjs and every chunk, byte for byte (both are built in a directory beside dist/, see handler-bundle.ts).
        const code = (files: Record<string, string>) =>
          Object.fromEntries(Object.entries(files).filter(([name]) => name.endsWith('.mjs')));
        expect(Object.keys(code(digests(staged))).length).toBeGreaterThan(1);
        expect(code(digests(staged))).toEqual(code(digests(installed('dist', dir))));
      }
    },
    TIMEOUT_MS,
  );
});
