// The image endpoint behind a Lambda function URL (auth NONE): answers a stored graph PNG to whoever holds a signed,
// unexpired link (image-token.ts), 403 to any other GET or HEAD, 405 to other methods. The bucket stays private.
import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { objectKeyFor, parseImageRequest, verifyImageRequest, type ImageRefusal } from './graphs/image-token';
import { ImageSigningKeys } from './graphs/image-signing-keys';

export interface ImageEndpointOptions {
  readonly bucket: string;
  readonly keys: Pick<ImageSigningKeys, 'all'>;
  readonly s3: S3Client;
  readonly now?: () => number;
  readonly log?: (message: string, extra: Record<string, unknown>) => void;
  /** At most one line about refused requests per this many milliseconds (the first at once), with their counts. */
  readonly refusalLogIntervalMs?: number;
}

export type ImageEndpoint = (event: LambdaFunctionURLEvent) => Promise<LambdaFunctionURLResult>;

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export function createImageEndpoint(options: ImageEndpointOptions): ImageEndpoint {
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => undefined);
  const refusals = refusalTally(log, options.refusalLogIntervalMs ?? 60_000, now);
  return async (event) => {
    const method = event.requestContext?.http?.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') return text(405, 'method not allowed', { allow: 'GET, HEAD' });
    const path = event.rawPath ?? event.requestContext?.http?.path ?? '';
    const parsed = parseImageRequest(path, event.queryStringParameters ?? {}, now());
    // Path, token form and expiry before any secret is read: junk costs no Secrets Manager call.
    const check = parsed.ok ? verifyImageRequest(await options.keys.all(), parsed.request) : parsed;
    if (!check.ok) {
      refusals.add(check.reason);
      // One answer for every refusal: a caller learns nothing about which objects exist or why.
      return text(403, 'forbidden');
    }
    let body: Uint8Array | undefined;
    try {
      const response = await options.s3.send(
        new GetObjectCommand({ Bucket: options.bucket, Key: objectKeyFor(check.objectId) }),
      );
      body = await response.Body?.transformToByteArray();
    } catch (error) {
      if (error instanceof NoSuchKey) return text(404, 'not found');
      throw error;
    }
    if (!body) return text(404, 'not found');
    const maxAge = Math.max(0, Math.min(86_400, check.expiresEpochSeconds - Math.floor(now() / 1000)));
    return {
      statusCode: 200,
      headers: {
        'content-type': 'image/png',
        'cache-control': `private, max-age=${maxAge}`,
        ...SECURITY_HEADERS,
      },
      body: method === 'HEAD' ? '' : Buffer.from(body).toString('base64'),
      isBase64Encoded: method !== 'HEAD',
    };
  };
}

/** Counts refusals by reason and says so at most once an interval: a flood of junk is one line a minute. */
function refusalTally(
  log: NonNullable<ImageEndpointOptions['log']>,
  intervalMs: number,
  now: () => number,
): { add(reason: ImageRefusal): void } {
  let counts: Partial<Record<ImageRefusal, number>> = {};
  let lastLogMs = -Infinity;
  return {
    add(reason) {
      counts[reason] = (counts[reason] ?? 0) + 1;
      if (now() - lastLogMs < intervalMs) return;
      log('Image requests refused (403) since the last such line, by reason', { refused: counts });
      counts = {};
      lastLogMs = now();
    },
  };
}

function text(
  statusCode: number,
  message: string,
  headers: Record<string, string> = {},
): LambdaFunctionURLResult {
  return {
    statusCode,
    headers: {
      'content-type': 'text/plain; charset=utf-8',
      'cache-control': 'no-store',
      ...SECURITY_HEADERS,
      ...headers,
    },
    body: message,
  };
}

let endpoint: ImageEndpoint | undefined;

/** The Lambda entry point: IMAGE_BUCKET and IMAGE_TOKEN_SECRET_ID from the environment. */
export const handler: ImageEndpoint = (event) => {
  endpoint ??= fromEnvironment(process.env);
  return endpoint(event);
};

function fromEnvironment(env: NodeJS.ProcessEnv): ImageEndpoint {
  const bucket = env.IMAGE_BUCKET;
  const secretId = env.IMAGE_TOKEN_SECRET_ID;
  if (!bucket || !secretId)
    throw new Error('The image endpoint needs IMAGE_BUCKET and IMAGE_TOKEN_SECRET_ID');
  return createImageEndpoint({
    bucket,
    s3: new S3Client({}),
    keys: new ImageSigningKeys({ client: new SecretsManagerClient({}), secretId, cacheMs: 300_000 }),
    log: (message, extra) => console.warn(JSON.stringify({ level: 'WARN', message, ...extra })),
  });
}
