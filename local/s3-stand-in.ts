// A loopback stand-in for the few S3 calls the metric graphs and the image endpoint make (PutObject, GetObject),
// plus what a test needs around them (CreateBucket, ListObjectsV2), speaking S3's REST/XML protocol path-style, so
// the fast loop runs the graph tests with the real SDK clients and no Python. CI runs the same tests on moto.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoopbackServer } from './loopback-server';

interface StoredObject {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
  readonly lastModified: Date;
}

/** An S3 error answered for the next requests of one operation, as S3 words it. */
export interface S3Failure {
  readonly status: number;
  readonly code: string;
}

export class S3StandIn {
  readonly buckets = new Map<string, Map<string, StoredObject>>();
  /** Operation name (`GetObject`, `PutObject`) → the error it answers until cleared. */
  readonly failures = new Map<string, S3Failure>();
  private loopback!: LoopbackServer;

  private constructor() {}

  static async start(): Promise<S3StandIn> {
    const standIn = new S3StandIn();
    standIn.loopback = await LoopbackServer.start((req, res) => void standIn.serve(req, res));
    return standIn;
  }

  get url(): string {
    return this.loopback.url;
  }

  stop(): Promise<void> {
    return this.loopback.stop();
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', this.url);
    const [bucketName = '', ...keyParts] = url.pathname.slice(1).split('/');
    const bucket = decodeURIComponent(bucketName);
    const key = keyParts.map(decodeURIComponent).join('/');
    const method = req.method ?? 'GET';
    const operation =
      key === ''
        ? method === 'PUT'
          ? 'CreateBucket'
          : 'ListObjectsV2'
        : method === 'PUT'
          ? 'PutObject'
          : 'GetObject';
    const failure = this.failures.get(operation);
    if (failure) return error(res, failure.status, failure.code, `stand-in says ${failure.code}`);
    if (operation === 'CreateBucket') {
      if (!this.buckets.has(bucket)) this.buckets.set(bucket, new Map());
      res.writeHead(200, { location: `/${bucket}` });
      return void res.end();
    }
    const objects = this.buckets.get(bucket);
    if (!objects) return error(res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
    if (operation === 'ListObjectsV2') return list(res, bucket, objects);
    if (operation === 'PutObject') {
      const body = isAwsChunked(req) ? decodeAwsChunked(raw) : raw;
      const stored: StoredObject = {
        body,
        contentType: String(req.headers['content-type'] ?? 'binary/octet-stream'),
        etag: `"${createHash('md5').update(body).digest('hex')}"`,
        lastModified: new Date(),
      };
      objects.set(key, stored);
      res.writeHead(200, { etag: stored.etag });
      return void res.end();
    }
    const stored = objects.get(key);
    if (!stored) return error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
    res.writeHead(200, {
      'content-type': stored.contentType,
      'content-length': stored.body.length,
      etag: stored.etag,
      'last-modified': stored.lastModified.toUTCString(),
    });
    res.end(method === 'HEAD' ? undefined : stored.body);
  }
}

function error(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xml(message)}</Message>` +
      '<RequestId>stand-in</RequestId></Error>',
  );
}

function list(res: ServerResponse, bucket: string, objects: Map<string, StoredObject>): void {
  const contents = [...objects.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(
      ([key, o]) =>
        `<Contents><Key>${xml(key)}</Key><LastModified>${o.lastModified.toISOString()}</LastModified>` +
        `<ETag>${xml(o.etag)}</ETag><Size>${o.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
    )
    .join('');
  res.writeHead(200, { 'content-type': 'application/xml' });
  res.end(
    '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      `<Name>${xml(bucket)}</Name><Prefix></Prefix><KeyCount>${objects.size}</KeyCount><MaxKeys>1000</MaxKeys>` +
      `<IsTruncated>false</IsTruncated>${contents}</ListBucketResult>`,
  );
}

function isAwsChunked(req: IncomingMessage): boolean {
  return String(req.headers['content-encoding'] ?? '').includes('aws-chunked');
}

/** The payload of an `aws-chunked` body: `<hex size>[;ext]\r\n<data>\r\n` repeated, ending with a 0-size chunk. */
function decodeAwsChunked(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', at);
    const size = parseInt(raw.subarray(at, lineEnd).toString('latin1').split(';')[0]!, 16);
    if (!(size > 0)) return Buffer.concat(parts);
    parts.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
