// Issue 19: the public image endpoint checks path and query before it reads a key, refuses every spelling of a
// token but the one it signs, answers 405 to other methods, and says how many it refused, not one line each.
import { NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { createImageEndpoint } from '../../lambda/image-endpoint';
import { newObjectId, signedImageUrl } from '../../lambda/graphs/image-token';

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
