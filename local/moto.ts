import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface MotoServer {
  /** e.g. http://127.0.0.1:PORT; use it as the endpoint of every AWS SDK client. */
  readonly endpoint: string;
  /** Kills the server and waits until it has exited. */
  stop(): Promise<void>;
}

export interface StartMotoOptions {
  /**
   * One request at a time (local/moto-serialized.py): DynamoDB conditional writes are atomic, as in AWS.
   * `false` runs plain `moto_server`, whose threads can let two conditional writes to one item both pass.
   * @default true
   */
  readonly serialized?: boolean;
  /** @default 30000 */
  readonly startTimeoutMs?: number;
}

const SERIALIZED_SCRIPT = join(__dirname, 'moto-serialized.py');
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
let availability: { available: boolean; reason?: string } | undefined;

/** Whether `python3` can import moto (checked once per process). */
export function motoAvailability(): { available: boolean; reason?: string } {
  if (availability) return availability;
  const check = spawnSync('python3', ['-c', 'import moto, werkzeug'], { encoding: 'utf8', timeout: 30_000 });
  if (check.error) {
    availability = { available: false, reason: `python3 could not be run (${check.error.message})` };
  } else if (check.status !== 0) {
    const lastLine = check.stderr.trim().split('\n').pop() ?? `exit status ${check.status}`;
    availability = {
      available: false,
      reason: `python3 cannot import moto (${lastLine}); install it with: pip install 'moto[server]'`,
    };
  } else {
    availability = { available: true };
  }
  return availability;
}

/**
 * `describe` for tests that need moto. Without moto they are skipped with the reason on stderr, except in CI
 * (CI=true), where a skipped integration suite would pass unnoticed: there the suite fails with the reason.
 */
export function describeWithMoto(name: string, fn: () => void): void {
  const { available, reason } = motoAvailability();
  if (available) {
    describe(name, fn);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      it('needs moto', () => {
        throw new Error(`moto is required when CI=true, but ${reason}`);
      });
    });
  } else {
    process.stderr.write(`Skipping "${name}": ${reason}\n`);
    describe.skip(name, fn);
  }
}

/** Environment for AWS SDK clients talking to moto: fake credentials, one region, every service at `endpoint`. */
export function awsEnvFor(endpoint: string): {
  AWS_REGION: string;
  AWS_ACCESS_KEY_ID: string;
  AWS_SECRET_ACCESS_KEY: string;
  AWS_ENDPOINT_URL: string;
} {
  return {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_ENDPOINT_URL: endpoint,
  };
}

/** Starts moto's server on a free loopback port and resolves once it answers HTTP. */
export async function startMoto(options: StartMotoOptions = {}): Promise<MotoServer> {
  const { available, reason } = motoAvailability();
  if (!available) throw new Error(`Cannot start moto: ${reason}`);
  const serialized = options.serialized ?? true;
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  const port = serialized ? 0 : await freePort();
  const [command, args] = serialized
    ? ['python3', [SERIALIZED_SCRIPT, '--host', '127.0.0.1', '--port', '0', '--exit-with-stdin']]
    : ['moto_server', ['-H', '127.0.0.1', '-p', String(port)]];
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' };
  delete env.MOTO_PORT; // moto builds URLs from it; it must be the port this server listens on
  const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  track(child);

  let stderrTail = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderrTail = (stderrTail + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const failure = (what: string) =>
    new Error(`${command} ${what}${stderrTail ? `; its stderr ends with:\n${stderrTail}` : ''}`);
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (error) => reject(failure(`could not be started (${error.message})`))),
  );
  let timer: NodeJS.Timeout | undefined;
  const tooSlow = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(failure('did not start in time')), deadline - Date.now());
  });

  try {
    const endpoint = await Promise.race([
      serialized ? announcedEndpoint(child) : Promise.resolve(`http://127.0.0.1:${port}`),
      spawnError,
      tooSlow,
    ]);
    while (!(await answers(endpoint))) {
      if (child.exitCode !== null || child.signalCode !== null) throw failure(`exited (${child.exitCode})`);
      if (Date.now() > deadline) throw failure(`did not answer at ${endpoint} in time`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return { endpoint, stop: () => kill(child, exited) };
  } catch (error) {
    await kill(child, exited);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** Whether anything answers HTTP at `endpoint` (any status counts). */
export function answers(endpoint: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${endpoint}/moto-api/`, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

function announcedEndpoint(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const match = /listening on (http:\/\/\S+)/.exec(line);
      if (match?.[1]) resolve(match[1]);
    });
    lines.on('close', () => reject(new Error('moto-serialized.py exited before it was listening')));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function track(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  child.stdout?.resume(); // drain: a full pipe would block the server
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => running.forEach((c) => c.kill('SIGKILL')));
  }
}

async function kill(child: ChildProcess, exited: Promise<void>): Promise<void> {
  // Without a pid the spawn failed and there is no process (nor necessarily an 'exit' event) to wait for.
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  child.stdin?.destroy();
  running.delete(child);
}
