// The README's "Try it" commands, run as written against `npm start` (only the port differs: a free one), and
// what a taken port does.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/paths';

const TSX = join(REPO_ROOT, 'node_modules/tsx/dist/cli.mjs');
const README = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
// tsx's start-up, dynalite and the demo: seconds alone, more on a loaded machine.
const TIMEOUT_MS = 180_000;

/** The curl lines of the README's block that posts to the local endpoint. */
const CURLS = [...README.matchAll(/```sh\n((?:curl[^\n]*\n)+)```/g)]
  .flatMap((block) => block[1]!.trim().split('\n'))
  .filter((line) => line.includes('127.0.0.1:3000'));

function start(port: string): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  let output = '';
  const child = spawn(process.execPath, [TSX, join(REPO_ROOT, 'local/start.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: port, LOCAL_VERBOSE_LOGS: 'false' },
  });
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

function sh(command: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('sh', ['-c', command], { cwd: REPO_ROOT }, (error, stdout, stderr) =>
      error ? reject(new Error(`${command}: ${stderr}`, { cause: error })) : resolve(stdout),
    ),
  );
}

describe('npm start, then the README’s curl commands', () => {
  let server: ReturnType<typeof start>;
  let port: string;

  beforeAll(async () => {
    server = start('0');
    const deadline = Date.now() + TIMEOUT_MS - 10_000;
    while (!/Listening[^\n]*\n[^\n]*127\.0\.0\.1:(\d+)/.test(server.output())) {
      if (Date.now() > deadline || server.child.exitCode !== null) throw new Error(server.output());
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    port = /Listening[^\n]*\n[^\n]*127\.0\.0\.1:(\d+)/.exec(server.output())![1]!;
  }, TIMEOUT_MS);
  afterAll(async () => {
    server?.child.kill('SIGTERM');
    await server?.exited;
  });

  test('the README has the four commands; each answers as the README says', async () => {
    expect(CURLS).toHaveLength(4);
    const answers: string[] = [];
    for (const line of CURLS) answers.push(await sh(line.replace('127.0.0.1:3000', `127.0.0.1:${port}`)));
    const [alarm, ok, text, incidents] = answers.map(
      (answer) => JSON.parse(answer) as Record<string, unknown>,
    );
    expect(alarm).toMatchObject({ status: 200, outcomes: [{ outcome: 'sent', action: 'trigger' }] });
    expect(ok).toMatchObject({ status: 200, outcomes: [{ outcome: 'sent', action: 'resolve' }] });
    expect(text).toMatchObject({ status: 200, outcomes: [{ outcome: 'sent', action: 'trigger' }] });
    expect(JSON.stringify(text)).toContain('hello');
    expect(Array.isArray(incidents)).toBe(true);
  });

  test('the ALARM posted again after the OK: the answer says in words why the resolve was sent again', async () => {
    const again = JSON.parse(await sh(CURLS[0]!.replace('127.0.0.1:3000', `127.0.0.1:${port}`))) as {
      outcomes: { action: string; compensations: number }[];
      meaning: string[];
    };
    expect(again.outcomes).toMatchObject([{ action: 'resolve', compensations: 1 }]);
    expect(again.meaning[0]).toMatch(/older than the alarm's newest state.*trigger was not sent/);
  });

  test(
    'a taken port: one line naming PORT, exit 1, no stack trace',
    async () => {
      const second = start(port);
      const code = await second.exited;
      expect(code).toBe(1);
      expect(second.output()).toContain(`port ${port} is taken`);
      expect(second.output()).toContain('PORT=3001 npm start');
      expect(second.output()).not.toMatch(/\n\s+at /);
    },
    TIMEOUT_MS,
  );
});
