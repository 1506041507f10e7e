// The image endpoint behind a Lambda function URL (auth NONE): answers a stored graph PNG to whoever holds a signed,
// unexpired link (image-token.ts), and 403 to anyone else. The bucket itself stays private.
import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { checkImageRequest, objectKeyFor } from './graphs/image-token';
import { ImageSigningKeys } from './graphs/image-signing-keys';

export interface ImageEndpointOptions {
  readonly bucket: string;
  readonly keys: Pick<ImageSigningKeys, 'all'>;
  readonly s3: S3Client;
  readonly now?: () => number;
  readonly log?: (message: string, extra: Record<string, unknown>) => void;
}

export type ImageEndpoint = (event: LambdaFunctionURLEvent) => Promise<LambdaFunctionURLResult>;

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export function createImageEndpoint(options: ImageEndpointOptions): ImageEndpoint {
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => undefined);
  return async (event) => {
    const method = event.requestContext?.http?.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') return text(405, 'method not allowed', { allow: 'GET, HEAD' });
    const path = event.rawPath ?? event.requestContext?.http?.path ?? '';
    const query = event.queryStringParameters ?? {};
    const check = checkImageRequest(await options.keys.all(), path, query, now());
    if (!check.ok) {
      log('Image request refused', { reason: check.reason, path: path.slice(0, 64) });
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
