// Every command-line tool explains itself: usage with an example on --help (exit 0), and after a bad option or
// value, what was wrong and the usage (exit 2). The scripts run as `npm run` runs them, through tsx.
import { REPO_ROOT } from '../support/paths';
import { execFile } from 'node:child_process';
import { join } from 'node:path';

const ROOT = REPO_ROOT;
const TSX = join(ROOT, 'node_modules/tsx/dist/cli.mjs');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(script: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      // A script may name a subcommand after its path ('scripts/cli.ts drill').
      [TSX, join(ROOT, script.split(' ')[0]!), ...script.split(' ').slice(1), ...args],
      { cwd: ROOT, env },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
      },
    );
  });
}

const CLIS = [
  {
    script: 'scripts/cli.ts redrive',
    command: 'npx alarm-to-pagerduty redrive',
    options: ['--stack', '--queue', '--function', '--dry-run'],
  },
  {
    script: 'scripts/cli.ts drill',
    command: 'npx alarm-to-pagerduty drill',
    options: ['--stack', '--alarm', '--table', '--timeout-seconds'],
  },
  {
    script: 'scripts/cli.ts',
    command: 'npx alarm-to-pagerduty',
    options: ['drill', 'redrive'],
  },
  { script: 'bench/bench.ts', command: 'npm run bench', options: ['BENCH_SAMPLES'] },
  { script: 'local/start.ts', command: 'npm start', options: ['PORT', 'LOCAL_EXIT_AFTER_DEMO'] },
];

const BAD_VALUES: [string, string[], RegExp][] = [
  [
    'scripts/cli.ts redrive',
    ['--queue', 'https://sqs.example/q', '--dry-run', '--max', '0'],
    /--max must be a whole/,
  ],
  ['scripts/cli.ts redrive', ['--dry-run'], /Missing --queue/],
  [
    'scripts/cli.ts drill',
    ['--alarm', 'a', '--table', 't', '--timeout-seconds', 'soon'],
    /--timeout-seconds must be/,
  ],
  ['scripts/cli.ts', ['undrill'], /Unknown command 'undrill'/],
];

// Each spawn pays tsx's start-up and the script's imports: start them all at once, and let each test await its own.
const runs = new Map<string, Promise<Run>>();
const started = (script: string, args: string[]) => runs.get(JSON.stringify([script, args]))!;
beforeAll(async () => {
  const all: [string, string[]][] = [
    ...CLIS.flatMap(({ script }): [string, string[]][] => [
      [script, ['--help']],
      [script, ['--no-such-option']],
    ]),
    ...BAD_VALUES.map(([script, args]): [string, string[]] => [script, args]),
  ];
  for (const [script, args] of all) runs.set(JSON.stringify([script, args]), run(script, args));
  runs.set(
    'demo',
    run('local/start.ts', [], {
      ...process.env,
      PORT: '0',
      LOCAL_EXIT_AFTER_DEMO: 'true',
      LOCAL_VERBOSE_LOGS: 'false',
    }),
  );
  // About 1 s of CPU each, but minutes of wall time on a machine loaded with other work.
  await Promise.all(runs.values());
}, 300_000);

describe.each(CLIS)('$command', ({ script, command, options }) => {
  test('--help prints the usage, its options and an example on stdout, and exits 0', async () => {
    const { code, stdout, stderr } = await started(script, ['--help']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain(`Usage: ${command}`);
    for (const option of options) expect(stdout).toContain(option);
    expect(stdout).toMatch(new RegExp(`Example:\\n\\s+(\\w+=\\S+ )*${command.replace(/ --$/, '')}`));
  });

  test('a bad option names it, prints the usage on stderr, and exits 2', async () => {
    const { code, stdout, stderr } = await started(script, ['--no-such-option']);
    expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
    expect(stderr).toMatch(/^Unknown (option|command) '--no-such-option'/);
    expect(stderr).toContain(`Usage: ${command}`);
    expect(stderr).toContain('Example:');
  });
});

test.each(BAD_VALUES)(
  '%s %j: says what is wrong, prints the usage, exits 2',
  async (script, args, problem) => {
    const { code, stderr } = await started(script, args);
    expect(code).toBe(2);
    expect(stderr).toMatch(problem);
    expect(stderr).toContain('Usage: ');
  },
);

// What a new user sees first: `npm start` plays ALARM, OK and a duplicate OK. The demo's SNS stamps must be as
// AWS makes them, or the handler caps the times as forged, warns, and pages the duplicate again.
test('npm start: the demo opens and resolves one incident, and the duplicate makes no request', async () => {
  const { code, stdout, stderr } = await runs.get('demo')!;
  expect(code).toBe(0);
  const output = stdout + stderr;
  expect(output).toContain('incident PINC0001: triggered');
  expect(output).toContain('incident PINC0001: resolved');
  expect(output).toContain('PagerDuty requests made: 0 (a duplicate is a no-op)');
  // The lost OK: still open after it, resolved by the sweep.
  const lost = output.slice(output.indexOf('but the notification is lost'));
  expect(lost).toMatch(/^[^▶]*incident PINC0002: triggered/);
  expect(lost).toContain('sweep: 1 open incident(s) checked, 1 resolved (OK)');
  expect(lost).toMatch(/PagerDuty received: resolve \(dedup_key \S+:alarm:example-queue-age\)/);
  expect(lost).toContain('incident PINC0002: resolved');
  expect(output).not.toMatch(/"level":"(WARN|ERROR)"/);
});
