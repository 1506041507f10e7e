// Issue 19: the public image endpoint checks path and query before it reads a key, refuses every spelling of a
// token but the one it signs, answers 405 to other methods, and says how many it refused, not one line each.
import { CreateBucketCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { createImageEndpoint, handler } from '../../lambda/image-endpoint';
import { newObjectId, signedImageUrl } from '../../lambda/graphs/image-token';
import { useLocalCredentials } from '../../local/harness';
import { S3StandIn } from '../../local/s3-stand-in';
import { LocalSecretsStore } from '../../local/secrets-store';

const KEY = 'k'.repeat(64);
const NOW = Date.UTC(2026, 10, 29, 12);
const BASE = 'https://abc.lambda-url.us-east-1.on.aws';
const PNG = Buffer.from('89504e470d0a1a0a', 'hex');
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function setup(objects: Record<string, Buffer> = {}) {
  let keyReads = 0;
  const lines: Record<string, unknown>[] = [];
  const s3 = {
    send: async (command: { input: { Key: string } }) => {
      const body = objects[command.input.Key];
      if (!body) throw new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} });
      return { Body: { transformToByteArray: async () => new Uint8Array(body) } };
    },
  } as unknown as S3Client;
  let clock = NOW;
  const endpoint = createImageEndpoint({
    bucket: 'images',
    s3,
    now: () => clock,
    keys: {
      all: async () => {
        keyReads += 1;
        return [KEY];
      },
    },
    log: (message, extra) => lines.push({ message, ...extra }),
  });
  const get = (url: string, method = 'GET') => {
    const parsed = new URL(url);
    return endpoint({
      rawPath: parsed.pathname,
      queryStringParameters: Object.fromEntries(parsed.searchParams),
      requestContext: { http: { method, path: parsed.pathname } },
    } as unknown as LambdaFunctionURLEvent);
  };
  return {
    get,
    lines,
    keyReads: () => keyReads,
    advance: (ms: number) => void (clock += ms),
  };
}

function link(objectId = newObjectId(), exp = Math.floor(NOW / 1000) + 86_400) {
  return signedImageUrl(BASE, KEY, objectId, exp);
}

describe('tokens have one spelling', () => {
  it("the three other spellings of the signature's last character are refused", async () => {
    const id = newObjectId();
    const { get } = setup({ [`graphs/${id}.png`]: PNG });
    const url = link(id);
    expect(await get(url)).toMatchObject({ statusCode: 200 });
    const sig = new URL(url).searchParams.get('sig')!;
    const last = ALPHABET.indexOf(sig.at(-1)!);
    for (const other of [1, 2, 3].map((d) => ALPHABET[last - (last % 4) + ((last + d) % 4)]!)) {
      const forged = new URL(url);
      forged.searchParams.set('sig', sig.slice(0, -1) + other);
      expect(await get(forged.toString())).toMatchObject({ statusCode: 403 });
    }
  });

  it('an expiry with a leading zero is refused', async () => {
    const id = newObjectId();
    const { get } = setup({ [`graphs/${id}.png`]: PNG });
    const url = new URL(link(id));
    url.searchParams.set('exp', `0${url.searchParams.get('exp')!}`);
    expect(await get(url.toString())).toMatchObject({ statusCode: 403 });
  });
});

describe('junk costs no key read and no log line each', () => {
  it('1000 requests with a bad path, no token or an expired one read no key and log one line', async () => {
    const { get, keyReads, lines } = setup();
    const expired = link(newObjectId(), Math.floor(NOW / 1000) - 1);
    for (let i = 0; i < 1000; i += 1) {
      const url = [`${BASE}/wp-login.php?i=${i}`, `${BASE}/v1/${newObjectId()}.png`, expired][i % 3]!;
      expect(await get(url)).toMatchObject({ statusCode: 403 });
    }
    expect(keyReads()).toBe(0);
    expect(lines).toHaveLength(1);
  });

  it('says the counts by reason at most once a minute', async () => {
    const { get, lines, advance } = setup();
    for (let i = 0; i < 5; i += 1) await get(`${BASE}/x`);
    advance(61_000);
    await get(`${BASE}/v1/${newObjectId()}.png`);
    expect(lines).toEqual([
      expect.objectContaining({ refused: { 'no such path': 1 } }),
      expect.objectContaining({ refused: { 'no such path': 4, 'no token': 1 } }),
    ]);
  });

  it('a forged signature needs the key, and is refused', async () => {
    const { get, keyReads } = setup();
    const url = new URL(link());
    url.searchParams.set('sig', 'A'.repeat(43));
    expect(await get(url.toString())).toMatchObject({ statusCode: 403 });
    expect(keyReads()).toBe(1);
  });
});

describe('answers', () => {
  it('405 to other methods, 404 for a valid link to a deleted object', async () => {
    const { get } = setup();
    expect(await get(link(), 'POST')).toMatchObject({ statusCode: 405, headers: { allow: 'GET, HEAD' } });
    expect(await get(link())).toMatchObject({ statusCode: 404 });
  });
});

describe('the deployed entry: IMAGE_BUCKET and IMAGE_TOKEN_SECRET_ID from the environment, real SDK clients', () => {
  // The loopback S3 and Secrets Manager stand-ins, reached the way Lambda's SDK clients find an endpoint.
  const settings = [
    'IMAGE_BUCKET',
    'IMAGE_TOKEN_SECRET_ID',
    'AWS_ENDPOINT_URL_S3',
    'AWS_ENDPOINT_URL_SECRETS_MANAGER',
  ];
  const saved = settings.map((name) => [name, process.env[name]] as const);
  const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
  let s3StandIn: S3StandIn;
  let secretsStore: LocalSecretsStore;
  let s3: S3Client;

  beforeAll(async () => {
    useLocalCredentials();
    [s3StandIn, secretsStore] = await Promise.all([
      S3StandIn.start(),
      LocalSecretsStore.start({ 'image-key': KEY }),
    ]);
    s3 = new S3Client({ region: 'us-east-1', endpoint: s3StandIn.url, forcePathStyle: true, credentials });
    await s3.send(new CreateBucketCommand({ Bucket: 'graph-images' }));
  });

  afterAll(async () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    s3.destroy();
    await Promise.all([s3StandIn.stop(), secretsStore.stop()]);
  });

  const invoke = (url: string, method = 'GET') => {
    const parsed = new URL(url);
    // A throw, synchronous or not, is an invocation error: the function URL answers 502.
    return Promise.resolve().then(() =>
      handler({
        rawPath: parsed.pathname,
        queryStringParameters: Object.fromEntries(parsed.searchParams),
        requestContext: { http: { method, path: parsed.pathname } },
      } as unknown as LambdaFunctionURLEvent),
    );
  };
  const nowLink = (objectId: string) =>
    signedImageUrl(BASE, KEY, objectId, Math.floor(Date.now() / 1000) + 3600);

  it('without its bucket and secret settings every request fails, naming both', async () => {
    for (const name of settings) delete process.env[name];
    await expect(invoke(nowLink(newObjectId()))).rejects.toThrow(
      'The image endpoint needs IMAGE_BUCKET and IMAGE_TOKEN_SECRET_ID',
    );
  });

  it('answers a stored PNG to a signed link (GET and HEAD), 403 to a forged one, 404 to a missing object', async () => {
    process.env.IMAGE_BUCKET = 'graph-images';
    process.env.IMAGE_TOKEN_SECRET_ID = 'image-key';
    process.env.AWS_ENDPOINT_URL_S3 = s3StandIn.url;
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = secretsStore.url;
    const id = newObjectId();
    await s3.send(new PutObjectCommand({ Bucket: 'graph-images', Key: `graphs/${id}.png`, Body: PNG }));

    const got = await invoke(nowLink(id));
    expect(got).toMatchObject({
      statusCode: 200,
      isBase64Encoded: true,
      headers: { 'content-type': 'image/png' },
    });
    expect(Buffer.from(String((got as { body: string }).body), 'base64')).toEqual(PNG);
    expect((got as { headers: Record<string, string> }).headers['cache-control']).toMatch(
      /^private, max-age=(3[56]\d\d)$/,
    );
    expect(await invoke(nowLink(id), 'HEAD')).toMatchObject({
      statusCode: 200,
      body: '',
      isBase64Encoded: false,
    });
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const forged = signedImageUrl(BASE, 'f'.repeat(64), id, Math.floor(Date.now() / 1000) + 3600);
      expect(await invoke(forged)).toMatchObject({ statusCode: 403 });
      // The refusal is counted in the function's log, as one JSON line.
      expect(warn.mock.calls.map(([line]) => JSON.parse(String(line)) as unknown)).toEqual([
        {
          level: 'WARN',
          message: 'Image requests refused (403) since the last such line, by reason',
          refused: { 'bad signature': 1 },
        },
      ]);
    } finally {
      warn.mockRestore();
    }
    expect(await invoke(nowLink(newObjectId()))).toMatchObject({ statusCode: 404 });
  });

  it('an S3 that refuses the read fails the invocation (a 502), not a 404 that would hide it', async () => {
    const id = newObjectId();
    await s3.send(new PutObjectCommand({ Bucket: 'graph-images', Key: `graphs/${id}.png`, Body: PNG }));
    s3StandIn.failures.set('GetObject', { status: 403, code: 'AccessDenied' });
    try {
      await expect(invoke(nowLink(id))).rejects.toMatchObject({ name: 'AccessDenied' });
    } finally {
      s3StandIn.failures.clear();
    }
    expect(await invoke(nowLink(id))).toMatchObject({ statusCode: 200 });
  });
});
