import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback stand-in for Secrets Manager's GetSecretValue (the only call the handler makes), so `npm start`
 * needs neither AWS nor Python. Tests use moto_server's real implementation instead.
 */
export class LocalSecretsStore {
  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly secrets: Map<string, string>,
  ) {}

  static async start(secrets: Record<string, string>): Promise<LocalSecretsStore> {
    const values = new Map(Object.entries(secrets));
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        const target = String(req.headers['x-amz-target'] ?? '');
        const reply = (status: number, payload: object) => {
          res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify(payload));
        };
        if (target !== 'secretsmanager.GetSecretValue') {
          return reply(400, { __type: 'UnsupportedOperation', message: `${target} is not emulated` });
        }
        const secretId = String((JSON.parse(body || '{}') as { SecretId?: string }).SecretId ?? '');
        const value = values.get(secretId);
        if (value === undefined) {
          return reply(400, {
            __type: 'ResourceNotFoundException',
            message: "Secrets Manager can't find the specified secret.",
          });
        }
        reply(200, {
          ARN: `arn:aws:secretsmanager:us-east-1:000000000000:secret:${secretId}`,
          Name: secretId,
          SecretString: value,
          VersionId: 'local',
          CreatedDate: Date.now() / 1000,
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new LocalSecretsStore(server, `http://127.0.0.1:${port}`, values);
  }

  put(secretId: string, value: string): void {
    this.secrets.set(secretId, value);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
