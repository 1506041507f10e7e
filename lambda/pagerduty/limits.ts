// The Events API's limits, enforced by shrinking an event, never by failing it.
import { fitDedupKey } from '../pipeline/dedup-key';
import { compact } from '../shared/json';
import { cutText, displayLine, formatPath } from '../shared/text';
import type { PagerDutyAlertEvent } from './types';

/** PagerDuty's limit on `payload.summary`, in characters (counted here as UTF-16 units, the stricter reading). */
export const MAX_SUMMARY_LENGTH = 1024;
/** PagerDuty limits a whole event to 512 KB; counted as 512,000 bytes, safe whichever KB is meant. */
export const MAX_EVENT_BYTES = 512_000;

/** Source, component, group and class are one-line labels: cut to this many characters. */
const MAX_DISPLAY_FIELD_LENGTH = 1024;

function displayField(text: string): string | undefined {
  return cutText(displayLine(text), MAX_DISPLAY_FIELD_LENGTH) || undefined;
}

const ROUTING_KEY_STAND_IN = '0'.repeat(32);
// Only strings over 1 KB are cut (a smaller cut saves less than its note costs), and to no less than 256 bytes.
const CUT_ABOVE_BYTES = 1024;
const MIN_KEPT_BYTES = 256;
const NOTES_KEY_BYTES = Buffer.byteLength(',"_truncated":');

/** The UTF-8 size of the event as sent: with its 32-character routing key. */
export function eventBytes(event: PagerDutyAlertEvent): number {
  return Buffer.byteLength(JSON.stringify({ routing_key: ROUTING_KEY_STAND_IN, ...event }), 'utf8');
}

/**
 * Enforces the Events API limits by shrinking, never by failing: dedup_key ≤ 255 characters, summary ≤ 1024
 * characters, and the whole event ≤ 512 KB, cutting custom_details (largest strings first) and saying what was
 * cut in `custom_details._truncated`.
 */
export function fitToLimits(event: PagerDutyAlertEvent): PagerDutyAlertEvent {
  const dedupKey = fitDedupKey(event.dedup_key);
  if (event.payload === undefined) return { ...event, dedup_key: dedupKey };
  // What PagerDuty displays as one line gets no control, bidi or invisible character, whatever built it.
  const shown = event.payload;
  const payload = compact({
    ...shown,
    summary: cutText(displayLine(shown.summary) || '(no summary)', MAX_SUMMARY_LENGTH),
    source: cutText(displayLine(shown.source) || 'unknown', MAX_DISPLAY_FIELD_LENGTH),
    component: shown.component === undefined ? undefined : displayField(shown.component),
    group: shown.group === undefined ? undefined : displayField(shown.group),
    class: shown.class === undefined ? undefined : displayField(shown.class),
  });
  const fitted: PagerDutyAlertEvent = { ...event, dedup_key: dedupKey, payload };
  if (eventBytes(fitted) <= MAX_EVENT_BYTES) return fitted;

  const withDetails = (details: Record<string, unknown>): PagerDutyAlertEvent => ({
    ...fitted,
    payload: { ...payload, custom_details: details },
  });
  const room = MAX_EVENT_BYTES - eventBytes(withDetails({})) + jsonBytes({});
  const shrunk = withDetails(shrinkDetails(payload.custom_details ?? {}, room));
  if (eventBytes(shrunk) <= MAX_EVENT_BYTES) return shrunk;
  // Only links and client fields are left to drop; the events built here never get this far.
  return { event_action: shrunk.event_action, dedup_key: dedupKey, payload: shrunk.payload };
}

interface Leaf {
  readonly path: readonly (string | number)[];
  readonly value: string;
  readonly bytes: number;
}

function shrinkDetails(details: Record<string, unknown>, maxBytes: number): Record<string, unknown> {
  const copy = structuredClone(details);
  const notes: string[] = [];
  const noted = () => (notes.length > 0 ? { ...copy, _truncated: notes } : copy);
  // Bytes that `,"_truncated":[…]` adds to the object, kept as notes are added.
  let notesBytes = 0;
  const notesBytesWith = (note: string) =>
    (notesBytes === 0 ? NOTES_KEY_BYTES + 2 : notesBytes + 1) + jsonBytes(note);
  let total = jsonBytes(copy);

  for (const leaf of stringLeaves(copy, []).sort((a, b) => b.bytes - a.bytes)) {
    if (total + notesBytes <= maxBytes || leaf.bytes <= CUT_ABOVE_BYTES) break;
    const note = (to: number) =>
      `${formatPath(leaf.path)}: cut from ${leaf.value.length} to ${to} characters`;
    // The final note is no longer than this one: the cut length has no more digits than the original.
    const excess = total + notesBytesWith(note(leaf.value.length)) - maxBytes;
    const cut = cutToJsonBytes(leaf.value, Math.max(MIN_KEPT_BYTES, leaf.bytes - excess));
    setAt(copy, leaf.path, cut);
    total -= leaf.bytes - jsonBytes(cut);
    notesBytes = notesBytesWith(note(cut.length));
    notes.push(note(cut.length));
  }
  if (jsonBytes(noted()) <= maxBytes) return noted();

  // Many small values: drop whole top-level entries, largest first.
  const entries = Object.entries(copy).sort(([, a], [, b]) => jsonBytes(b) - jsonBytes(a));
  for (const [key, value] of entries) {
    notes.push(`${key}: removed (${jsonBytes(value)} bytes)`);
    delete copy[key];
    if (jsonBytes(noted()) <= maxBytes) return noted();
  }
  return { _truncated: ['custom_details: removed, too large to send'] };
}

function stringLeaves(value: unknown, path: (string | number)[]): Leaf[] {
  if (typeof value === 'string') return [{ path, value, bytes: jsonBytes(value) }];
  if (Array.isArray(value)) return value.flatMap((item, i) => stringLeaves(item, [...path, i]));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => stringLeaves(item, [...path, key]));
  }
  return [];
}

function setAt(root: Record<string, unknown>, path: readonly (string | number)[], value: string): void {
  let parent: unknown = root;
  for (const key of path.slice(0, -1)) parent = (parent as Record<string | number, unknown>)[key];
  const last = path[path.length - 1];
  if (last !== undefined) (parent as Record<string | number, unknown>)[last] = value;
}

/**
 * The longest cut of `text` (as cutText makes it, with its one-character ellipsis) whose JSON form fits in
 * `maxBytes` UTF-8 bytes. One pass counting each character's escaped size: a binary search of JSON.stringify calls
 * took 1.6 s on a 256 KB body of lone surrogates, each escaped to 6 bytes.
 */
export function cutToJsonBytes(text: string, maxBytes: number): string {
  const ellipsisBytes = 3;
  let bytes = 2 + ellipsisBytes;
  let kept = 0;
  while (kept < text.length) {
    const width = jsonCharAt(text, kept);
    // The size is width >> 2, the UTF-16 length width & 3: one number, so the loop allocates nothing.
    if (bytes + (width >> 2) > maxBytes) break;
    bytes += width >> 2;
    kept += width & 3;
  }
  return kept === text.length ? text : cutText(text, kept + 1);
}

/** The character at `index`: its UTF-8 size in JSON.stringify's output × 4 + its length in UTF-16 units. */
function jsonCharAt(text: string, index: number): number {
  const code = text.charCodeAt(index);
  if (code < 0x20)
    return (code === 8 || code === 9 || code === 10 || code === 12 || code === 13 ? 2 : 6) * 4 + 1;
  if (code === 0x22 || code === 0x5c) return 2 * 4 + 1;
  if (code < 0x80) return 1 * 4 + 1;
  if (code < 0x800) return 2 * 4 + 1;
  if (code >= 0xd800 && code <= 0xdbff) {
    const next = text.charCodeAt(index + 1);
    // A pair is 4 bytes; a lone surrogate is escaped as `\udXXX`.
    return next >= 0xdc00 && next <= 0xdfff ? 4 * 4 + 2 : 6 * 4 + 1;
  }
  if (code >= 0xdc00 && code <= 0xdfff) return 6 * 4 + 1;
  return 3 * 4 + 1;
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}
