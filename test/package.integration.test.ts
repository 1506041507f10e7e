/**
 * How a user meets the package: `npm pack` (which builds at prepack), the tarball installed into a fresh CDK app
 * outside this repository, on the newest aws-cdk-lib the peer range allows (from the npm registry, with cdk-nag
 * from the registry too, so its rule AwsSolutions-L1 sees that aws-cdk-lib's runtimes) and on the oldest (this
 * repository's copy when it is that version). Every TypeScript example of the README is compiled there, in one
 * tsc run, against the tarball's types; the README's stack and multi-region app are synthesized under cdk-nag on
 * both versions; the tarball's command answers --help. One pack, one install per version, one tsc.
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
  devDependencies: Record<string, string>;
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

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    return execFileSync(command, args, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
      // npm, npx, tsc and the apps run on the Node that runs this test (.ci/run's Node 24 pass runs it).
      env: {
        ...process.env,
        PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}`,
        ...env,
      },
    });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}\n${stderr ?? ''}`, {
      cause: error,
    });
  }
}

/** A fresh app's package.json and tsconfig.json (every .ts file of the directory, compiled beside itself). */
function writeApp(
  dir: string,
  dependencies: Record<string, string>,
  devDependencies: Record<string, string>,
): void {
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: `consumer-${path.basename(dir)}`, private: true, dependencies, devDependencies }),
  );
  fs.writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'nodenext',
        strict: true,
        skipLibCheck: true,
        types: ['node'],
      },
      include: ['*.ts'],
    }),
  );
}

function installedVersion(dir: string, name: string): string {
  const manifest = path.join(dir, 'node_modules', name, 'package.json');
  return (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version: string }).version;
}

/** Negative, zero or positive as a is older, the same as or newer than b (x.y.z). */
function compareVersions(a: string, b: string): number {
  const [pa, pb] = [a, b].map((v) => v.split('.').map(Number));
  for (let i = 0; i < 3; i++) if (pa![i] !== pb![i]) return pa![i]! - pb![i]!;
  return 0;
}

/** The README's TypeScript examples, in order. */
function readmeSnippets(readme: string): string[] {
  return [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);
}

/** Whether a snippet is a program of its own (it makes the App), rather than a module or a fragment. */
const isProgram = (code: string) => /^const app = new App\(/m.test(code);

/**
 * A README snippet as a file of the fresh app. A module (it has imports) stays as written; a program also gets
 * cdk-nag and synth at its end. A fragment (code from inside a stack's constructor) is wrapped in a stack class,
 * with the names it assumes declared: it is compiled, not run.
 */
function snippetModule(code: string): string {
  if (/^import /m.test(code)) {
    if (!isProgram(code)) return code;
    return (
      "import { Validations as HarnessValidations } from 'aws-cdk-lib';\n" +
      "import { AwsSolutionsChecks as HarnessNagChecks } from 'cdk-nag';\n" +
      code +
      '\nHarnessValidations.of(app).addPlugins(new HarnessNagChecks(app));\napp.synth();\n'
    );
  }
  const body = code.replace(/^(?=.)/gm, '    ');
  return `import { Duration, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { AlarmToPagerDuty } from '${PACKAGE.name}';
import type { Construct } from 'constructs';

// The names the README's fragments assume.
declare const errorsAlarm: cloudwatch.Alarm;
declare const compositeAlarm: cloudwatch.CompositeAlarm;
declare const queueBacklogAlarm: cloudwatch.Alarm;

export class Fragment extends Stack {
  constructor(scope: Construct) {
    super(scope, 'Fragment');
${body}  }
}
void [Duration, Secret, AlarmToPagerDuty];
`;
}

const SNIPPETS = readmeSnippets(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
const snippetFile = (index: number) => `readme-${index + 1}`;
/** README modules that export stacks (PagingStack): the consumer app instantiates each. */
const STACK_MODULES = SNIPPETS.flatMap((code, index) =>
  /^import /m.test(code) && !isProgram(code) && /^export class \w+ extends Stack/m.test(code)
    ? [snippetFile(index)]
    : [],
);
const PROGRAMS = SNIPPETS.flatMap((code, index) => (isProgram(code) ? [snippetFile(index)] : []));

/** The consumer's app: the README's stacks, plus a pipeline on the runtime's AWS SDK, under cdk-nag. */
const CONSUMER_APP = `
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AlarmToPagerDuty, RegionalIntakeStack, type AlarmPagingOptions } from '${PACKAGE.name}';
${STACK_MODULES.map((file, i) => `import * as readme${i} from './${file}';`).join('\n')}

const app = new App({ outdir: process.env.CONSUMER_OUTDIR ?? 'cdk.out' });
for (const module of [${STACK_MODULES.map((_, i) => `readme${i}`).join(', ')}] as Record<string, unknown>[]) {
  for (const [name, value] of Object.entries(module)) {
    if (typeof value === 'function' && value.prototype instanceof Stack) {
      new (value as new (scope: App, id: string) => Stack)(app, name);
    }
  }
}
const runtimeSdk = new Stack(app, 'RuntimeSdkStack');
new AlarmToPagerDuty(runtimeSdk, 'Pager', {
  routes: { default: secretsmanager.Secret.fromSecretNameV2(runtimeSdk, 'Key', 'pagerduty/routing-key') },
  bundleAwsSdk: false,
});
// Every public type can be named from the package (a compile-time check).
const options: AlarmPagingOptions = { severity: 'error' };
void [options, RegionalIntakeStack];

Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth(); // throws, and the app exits non-zero, on any cdk-nag error

// The same wiring on a queue cdk-nag must flag, so a clean synth above means something.
const canary = new App({ outdir: (process.env.CONSUMER_OUTDIR ?? 'cdk.out') + '.canary' });
new sqs.Queue(new Stack(canary, 'NagCanary'), 'Unencrypted', { encryption: sqs.QueueEncryption.UNENCRYPTED });
Validations.of(canary).addPlugins(new AwsSolutionsChecks(canary));
try {
  canary.synth();
} catch {
  // expected: the report in the canary's outdir says why
}
`;

const PEER_CDK = PACKAGE.peerDependencies!['aws-cdk-lib']!;
/** The lower bound of the peer range, the oldest aws-cdk-lib a user may have. */
const OLDEST_CDK = /^\^(\d+\.\d+\.\d+)$/.exec(PEER_CDK)![1]!;
const repoVersion = (name: string) =>
  (
    JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;

/** Runs the consumer app and every README program in `dir`, each writing to its own directory. */
function synthAll(dir: string): void {
  run(process.execPath, ['app.js'], dir, { CONSUMER_OUTDIR: 'cdk.out' });
  for (const program of PROGRAMS) {
    run(process.execPath, [`${program}.js`], dir, { CDK_OUTDIR: `cdk.out.${program}` });
  }
}

describe('the npm package, installed into a fresh CDK app', () => {
  let tmp: string;
  /** The app on the newest aws-cdk-lib in the peer range, and the one on the oldest. */
  let newest: string;
  let oldest: string;
  let pack: PackResult;
  const versions: Record<string, string> = {};

  beforeAll(() => {
    const started = Date.now();
    const phase = (what: string) => console.log(`${what}: ${((Date.now() - started) / 1000).toFixed(0)} s`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'alarm-to-pagerduty-package-'));
    newest = path.join(tmp, 'newest');
    oldest = path.join(tmp, 'oldest');
    const stdout = run('npm', ['pack', '--json', '--pack-destination', tmp], ROOT);
    // prepack's own output comes first on stdout; the JSON array starts on a line of its own.
    const jsonStart = stdout.search(/^\[$/m);
    [pack] = JSON.parse(stdout.slice(jsonStart)) as [PackResult];
    console.log(
      `${pack.filename}: ${(pack.size / 1024).toFixed(0)} KiB packed, ` +
        `${(pack.unpackedSize / 1024).toFixed(0)} KiB unpacked, ${pack.files.length} files`,
    );
    phase('packed');
    const tarball = `file:${path.join(tmp, pack.filename)}`;
    const link = (name: string) => `file:${path.join(ROOT, 'node_modules', name)}`;
    const devDependencies = { typescript: link('typescript'), '@types/node': link('@types/node') };
    const devRange = (name: string) => PACKAGE.devDependencies[name]!;

    // Newest: what `npm install` gives a user today, from the registry.
    fs.mkdirSync(newest);
    writeApp(
      newest,
      {
        [PACKAGE.name]: tarball,
        'aws-cdk-lib': PEER_CDK,
        constructs: PACKAGE.peerDependencies!.constructs!,
        'cdk-nag': devRange('cdk-nag'),
      },
      devDependencies,
    );
    fs.writeFileSync(path.join(newest, 'app.ts'), CONSUMER_APP);
    SNIPPETS.forEach((code, index) =>
      fs.writeFileSync(path.join(newest, `${snippetFile(index)}.ts`), snippetModule(code)),
    );
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], newest);
    phase('newest installed');
    // One tsc over the app and every README example, against the tarball's types.
    run(path.join(newest, 'node_modules', '.bin', 'tsc'), ['-p', '.'], newest);
    phase('compiled');

    // Oldest: this repository's copies when they are that version (no download), else the registry's.
    fs.mkdirSync(oldest);
    const linkOldest = repoVersion('aws-cdk-lib') === OLDEST_CDK;
    writeApp(
      oldest,
      {
        [PACKAGE.name]: tarball,
        'aws-cdk-lib': linkOldest ? link('aws-cdk-lib') : OLDEST_CDK,
        constructs: linkOldest ? link('constructs') : PACKAGE.peerDependencies!.constructs!,
        'cdk-nag': linkOldest ? link('cdk-nag') : devRange('cdk-nag'),
      },
      {},
    );
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], oldest);
    for (const file of fs.readdirSync(newest).filter((name) => name.endsWith('.js'))) {
      fs.copyFileSync(path.join(newest, file), path.join(oldest, file));
    }
    for (const [name, dir] of [
      ['newest', newest],
      ['oldest', oldest],
    ] as const) {
      versions[name] = installedVersion(dir, 'aws-cdk-lib');
      console.log(`${name}: aws-cdk-lib ${versions[name]}, cdk-nag ${installedVersion(dir, 'cdk-nag')}`);
      synthAll(dir);
      phase(`${name} synthesized`);
    }
  }, TIMEOUT_MS);

  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('the apps ran on the oldest and the newest aws-cdk-lib of the peer range', () => {
    expect(versions.oldest).toBe(OLDEST_CDK);
    // 2.278.0 added NODEJS_26_X, which cdk-nag's AwsSolutions-L1 compares the functions' runtime against.
    expect(compareVersions(versions.newest!, '2.278.0')).toBeGreaterThanOrEqual(0);
  });

  const installed = (...parts: string[]) => path.join(newest, 'node_modules', PACKAGE.name, ...parts);
  const template = (dir: string, stackName: string, out = 'cdk.out') =>
    Template.fromJSON(
      JSON.parse(fs.readFileSync(path.join(dir, out, `${stackName}.template.json`), 'utf8')) as Record<
        string,
        unknown
      >,
    );

  /** The staged code asset of the stack's PagerDuty function: its S3 key and the digests of its files. */
  function handlerAsset(
    dir: string,
    stackName: string,
  ): { objectKey: string; files: Record<string, string> } {
    const out = path.join(dir, 'cdk.out');
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
    expect(paths).toContain('dist/cli/index.cjs');
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
    for (const app of [newest, oldest]) {
      for (const [stackName, dir] of [
        ['PagingStack', 'handler'],
        ['RuntimeSdkStack', 'handler-runtime-sdk'],
      ] as const) {
        const asset = handlerAsset(app, stackName);
        // The source map's paths are relative to where esbuild wrote it: equal only for the shipped copy.
        expect(asset.files).toEqual(digests(installed('dist', dir)));
        template(app, stackName).hasResourceProperties('AWS::Lambda::Function', {
          Handler: 'index.handler',
          Runtime: 'nodejs24.x',
          Architectures: ['arm64'],
          Code: { S3Key: asset.objectKey },
        });
      }
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
        cwd: newest,
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

  test('the README’s PagingStack: addAlarm attaches the alarm and records its options; the outputs the tools read', () => {
    const consumerTemplate = template(newest, 'PagingStack');
    expect(Object.keys(consumerTemplate.toJSON().Outputs as object)).toEqual(
      expect.arrayContaining(['TopicArn', 'LedgerTableName', 'ParkedQueueUrl', 'FunctionName']),
    );
    const [topicId] = Object.keys(
      consumerTemplate.findResources('AWS::SNS::Topic', {
        Properties: { DisplayName: 'CloudWatch alarms to PagerDuty' },
      }),
    );
    consumerTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'Checkout',
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
      'https://runbooks.example.com/checkout-5xx',
    );
  });

  test('cdk-nag: the apps and the README’s programs synthesized with no findings on both versions; the same wiring flags a non-compliant queue', () => {
    const report = (dir: string) =>
      JSON.parse(fs.readFileSync(path.join(dir, 'validation-report.json'), 'utf8')) as {
        pluginReports: {
          pluginName: string;
          violations: { violatingConstructs: { constructPath: string }[] }[];
        }[];
      };
    const violations = (dir: string) =>
      report(dir).pluginReports.flatMap((r) =>
        r.violations.flatMap((v) => v.violatingConstructs.map((c) => c.constructPath)),
      );
    for (const app of [newest, oldest]) {
      expect(violations(path.join(app, 'cdk.out'))).toEqual([]);
      for (const program of PROGRAMS) expect(violations(path.join(app, `cdk.out.${program}`))).toEqual([]);
      expect(violations(path.join(app, 'cdk.out.canary'))).toContain('NagCanary/Unencrypted/Resource');
    }
    expect(PROGRAMS.length).toBeGreaterThan(0);
  });

  test('the README’s multi-region program: the central stack, the intake it names and the one addAlarm made', () => {
    const [program] = PROGRAMS;
    const out = `cdk.out.${program}`;
    const stacks = fs.readdirSync(path.join(newest, out)).filter((f) => f.endsWith('.template.json'));
    expect(stacks.sort()).toEqual(
      expect.arrayContaining([
        'Pager.template.json',
        'Pager-Intake-eu-west-1.template.json',
        'Pager-Intake-111111111111-ap-northeast-1.template.json',
        'Orders-Tokyo.template.json',
      ]),
    );
    // The auto-created intake's dead-letter alarm notifies a topic someone is subscribed to (the pipeline's opsEmail).
    template(newest, 'Pager-Intake-111111111111-ap-northeast-1', out).hasResourceProperties(
      'AWS::SNS::Subscription',
      { Protocol: 'email', Endpoint: 'oncall-infra@example.com' },
    );
  });

  test('every README TypeScript example compiled against the tarball (one tsc run)', () => {
    expect(SNIPPETS.length).toBeGreaterThanOrEqual(3);
    for (let i = 0; i < SNIPPETS.length; i++) {
      expect(fs.existsSync(path.join(newest, `${snippetFile(i)}.js`))).toBe(true);
    }
  });

  test('npx alarm-to-pagerduty: the tools run from the installed package and answer --help', () => {
    // npx as the README writes it once; the subcommands through the bin link npx runs (npx costs seconds each).
    expect(run('npx', ['--no-install', 'alarm-to-pagerduty', '--help'], newest)).toContain(
      'Usage: npx alarm-to-pagerduty <command>',
    );
    const bin = path.join(newest, 'node_modules', '.bin', 'alarm-to-pagerduty');
    expect(run(bin, ['drill', '--help'], newest)).toMatch(
      /Usage: npx alarm-to-pagerduty drill[\s\S]*--stack/,
    );
    expect(run(bin, ['redrive', '--help'], newest)).toMatch(
      /Usage: npx alarm-to-pagerduty redrive[\s\S]*--stack/,
    );
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
