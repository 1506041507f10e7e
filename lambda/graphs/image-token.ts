// Signed, expiring links to stored graph images. The object id is 128 random bits (unguessable on its own); the
// HMAC over id and expiry makes the link expire and stops anyone minting links to other objects. Pure: the key
// and the time are parameters.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** 22 base64url characters: 128 random bits. */
const OBJECT_ID = /^[A-Za-z0-9_-]{22}$/;
const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;
const PATH = /^\/v1\/([A-Za-z0-9_-]{22})\.png$/;

export function newObjectId(): string {
  return randomBytes(16).toString('base64url');
}

/** Where the PNG of an object id is kept in the image bucket (the bucket's lifecycle rule expires this prefix). */
export function objectKeyFor(objectId: string): string {
  return `graphs/${objectId}.png`;
}

export const IMAGE_KEY_PREFIX = 'graphs/';

function signature(key: string, objectId: string, expiresEpochSeconds: number): string {
  return createHmac('sha256', key).update(`v1\n${objectId}\n${expiresEpochSeconds}`).digest('base64url');
}

/** `<base>/v1/<id>.png?exp=<epoch seconds>&sig=<HMAC-SHA256, base64url>`. */
export function signedImageUrl(
  base: string,
  key: string,
  objectId: string,
  expiresEpochSeconds: number,
): string {
  if (!OBJECT_ID.test(objectId)) throw new Error(`not an image object id: ${objectId}`);
  const exp = Math.floor(expiresEpochSeconds);
  return `${base.replace(/\/+$/, '')}/v1/${objectId}.png?exp=${exp}&sig=${signature(key, objectId, exp)}`;
}

export type ImageRequestCheck =
  | { readonly ok: true; readonly objectId: string; readonly expiresEpochSeconds: number }
  | { readonly ok: false; readonly reason: string };

/**
 * Checks a request for an image: the path names an object, the link has not expired, and its signature was made
 * with one of the keys (the current one, and the previous one while a rotated key's links live out).
 */
export function checkImageRequest(
  keys: readonly string[],
  path: string,
  query: Readonly<Record<string, string | undefined>>,
  nowMs: number,
): ImageRequestCheck {
  const match = PATH.exec(path);
  if (!match?.[1]) return { ok: false, reason: 'no such path' };
  const objectId = match[1];
  const expText = query.exp ?? '';
  const sig = query.sig ?? '';
  if (!/^\d{1,12}$/.test(expText) || !SIGNATURE.test(sig)) return { ok: false, reason: 'no token' };
  const exp = Number(expText);
  if (exp * 1000 <= nowMs) return { ok: false, reason: 'expired' };
  const given = Buffer.from(sig, 'base64url');
  const valid = keys.some((key) => {
    const expected = Buffer.from(signature(key, objectId, exp), 'base64url');
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
  return valid ? { ok: true, objectId, expiresEpochSeconds: exp } : { ok: false, reason: 'bad signature' };
}
