// Signed, expiring links to stored graph images. The object id is 128 random bits (unguessable on its own); the
// HMAC over id and expiry makes the link expire and stops anyone minting links to other objects. Pure: the key
// and the time are parameters.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** 22 base64url characters: 128 random bits. */
const OBJECT_ID = /^[A-Za-z0-9_-]{22}$/;
const SIGNATURE = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;
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
  | { readonly ok: false; readonly reason: ImageRefusal };

/** Why a request gets 403; the same answer for each, so that a caller learns nothing. */
export type ImageRefusal = 'no such path' | 'no token' | 'expired' | 'bad signature';

/** A request that names an object and carries an unexpired token of the one form links are made in. */
export interface ImageRequest {
  readonly objectId: string;
  readonly expiresEpochSeconds: number;
  readonly sig: string;
}

/**
 * Reads a request for an image with no key: the path names an object, `exp` and `sig` have their canonical form
 * (no leading zero, no second spelling of the signature) and the link has not expired. Run before any secret is
 * read, so that junk requests cost no Secrets Manager call.
 */
export function parseImageRequest(
  path: string,
  query: Readonly<Record<string, string | undefined>>,
  nowMs: number,
): { ok: true; request: ImageRequest } | { ok: false; reason: ImageRefusal } {
  const match = PATH.exec(path);
  if (!match?.[1]) return { ok: false, reason: 'no such path' };
  const expText = query.exp ?? '';
  const sig = query.sig ?? '';
  // A 32-byte HMAC in 43 base64url characters leaves 2 bits of the last one unused: only `AEIMQUYcgkosw048` end it.
  if (!/^[1-9]\d{0,11}$/.test(expText) || !SIGNATURE.test(sig)) return { ok: false, reason: 'no token' };
  const exp = Number(expText);
  if (exp * 1000 <= nowMs) return { ok: false, reason: 'expired' };
  return { ok: true, request: { objectId: match[1], expiresEpochSeconds: exp, sig } };
}

/** Whether the signature was made with one of the keys (the current one, and the previous one after a rotation). */
export function verifyImageRequest(keys: readonly string[], request: ImageRequest): ImageRequestCheck {
  const given = Buffer.from(request.sig, 'ascii');
  const valid = keys.some((key) => {
    // Compared as text: as bytes, base64url decoding would accept four spellings of one signature.
    const expected = Buffer.from(signature(key, request.objectId, request.expiresEpochSeconds), 'ascii');
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
  return valid
    ? { ok: true, objectId: request.objectId, expiresEpochSeconds: request.expiresEpochSeconds }
    : { ok: false, reason: 'bad signature' };
}

/** Both steps at once, for callers that hold the keys already. */
export function checkImageRequest(
  keys: readonly string[],
  path: string,
  query: Readonly<Record<string, string | undefined>>,
  nowMs: number,
): ImageRequestCheck {
  const parsed = parseImageRequest(path, query, nowMs);
  return parsed.ok ? verifyImageRequest(keys, parsed.request) : parsed;
}
