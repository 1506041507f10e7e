import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A secret's value under its two staging labels: PutSecretValue moves AWSCURRENT to AWSPREVIOUS. */
interface StagedSecret {
  current: string;
  previous?: string;
}

type Reply = (status: number, payload: object) => void;
type SecretsInput = Partial<Record<'SecretId' | 'Name' | 'VersionStage' | 'SecretString', string>>;

/**
 * A loopback stand-in for Secrets Manager's GetSecretValue (with VersionStage AWSCURRENT or AWSPREVIOUS),
 * CreateSecret and PutSecretValue, so `npm start` and the fast test loop need neither AWS nor Python. CI runs the
 * moto-backed tests on moto_server's real implementation.
 */
export class LocalSecretsStore {
  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly secrets: Map<string, StagedSecret>,
  ) {}

  static async start(secrets: Record<string, string>): Promise<LocalSecretsStore> {
    const values = new Map(Object.entries(secrets).map(([id, current]) => [id, { current }]));
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const store = new LocalSecretsStore(server, `http://127.0.0.1:${port}`, values);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        const reply: Reply = (status, payload) => {
          res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify(payload));
        };
        const target = String(req.headers['x-amz-target'] ?? '');
        store.answer(target, JSON.parse(body || '{}') as SecretsInput, reply);
      });
    });
    return store;
  }

  /** Sets a secret's current value; an earlier current value becomes AWSPREVIOUS, as PutSecretValue does. */
  put(secretId: string, value: string): void {
    const existing = this.secrets.get(secretId);
    this.secrets.set(
      secretId,
      existing ? { current: value, previous: existing.current } : { current: value },
    );
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private answer(target: string, input: SecretsInput, reply: Reply): void {
    const secretId = input.SecretId ?? input.Name ?? '';
    const arn = `arn:aws:secretsmanager:us-east-1:000000000000:secret:${secretId}`;
    const notFound = (message = "Secrets Manager can't find the specified secret.") =>
      reply(400, { __type: 'ResourceNotFoundException', message });
    const secret = this.secrets.get(secretId);
    switch (target) {
      case 'secretsmanager.GetSecretValue': {
        const stage = input.VersionStage ?? 'AWSCURRENT';
        const value =
          stage === 'AWSCURRENT' ? secret?.current : stage === 'AWSPREVIOUS' ? secret?.previous : undefined;
        if (!secret) return notFound();
        if (value === undefined) {
          return notFound(
            `Secrets Manager can't find the specified secret value for staging label: ${stage}`,
          );
        }
        return reply(200, {
          ARN: arn,
          Name: secretId,
          SecretString: value,
          VersionId: `local-${stage}`,
          VersionStages: [stage],
          CreatedDate: Date.now() / 1000,
        });
      }
      case 'secretsmanager.CreateSecret':
        if (secret) {
          return reply(400, { __type: 'ResourceExistsException', message: `${secretId} already exists` });
        }
        this.put(secretId, input.SecretString ?? '');
        return reply(200, { ARN: arn, Name: secretId, VersionId: 'local' });
      case 'secretsmanager.PutSecretValue':
        if (!secret) return notFound();
        this.put(secretId, input.SecretString ?? '');
        return reply(200, { ARN: arn, Name: secretId, VersionId: 'local', VersionStages: ['AWSCURRENT'] });
      default:
        return reply(400, { __type: 'UnsupportedOperation', message: `${target} is not emulated` });
    }
  }
}
