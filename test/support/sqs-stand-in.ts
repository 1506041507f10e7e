// A loopback stand-in for SQS SendMessage (AWS JSON 1.0, as the SDK's SQSClient speaks it): the parked-letters
// queue a test reads back. Other operations answer 400.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SentMessage {
  readonly queueUrl: string;
  readonly body: string;
  readonly attributes: Record<string, { DataType: string; StringValue?: string }>;
}

export class SqsStandIn {
  readonly sent: SentMessage[] = [];

  private constructor(
    private readonly server: ReturnType<typeof createServer>,
    readonly url: string,
  ) {}

  static async start(): Promise<SqsStandIn> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const standIn = new SqsStandIn(server, `http://127.0.0.1:${port}`);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void standIn.serve(req, res));
    return standIn;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    const reply = (status: number, payload: object) => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify(payload));
    };
    if (req.headers['x-amz-target'] !== 'AmazonSQS.SendMessage') {
      return reply(400, { __type: 'com.amazonaws.sqs#UnsupportedOperation', message: 'not emulated' });
    }
    const input = JSON.parse(text) as {
      QueueUrl: string;
      MessageBody: string;
      MessageAttributes?: SentMessage['attributes'];
    };
    this.sent.push({
      queueUrl: input.QueueUrl,
      body: input.MessageBody,
      attributes: input.MessageAttributes ?? {},
    });
    reply(200, {
      MessageId: `m-${this.sent.length}`,
      MD5OfMessageBody: createHash('md5').update(input.MessageBody).digest('hex'),
    });
  }
}
