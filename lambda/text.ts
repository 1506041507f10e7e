/** Cuts `text` to at most `maxLength` UTF-16 units, ending in `ellipsis`, never splitting a surrogate pair. */
export function cutText(text: string, maxLength: number, ellipsis = '…'): string {
  if (text.length <= maxLength) return text;
  let end = Math.max(0, maxLength - ellipsis.length);
  const last = text.charCodeAt(end - 1);
  if (end > 0 && last >= 0xd800 && last <= 0xdbff) end -= 1;
  return text.slice(0, end) + ellipsis;
}

/** The first line of `text` that is not blank, trimmed. */
export function firstLine(text: string): string {
  return (
    text
      .split(/\r\n|\r|\n/)
      .map((line) => line.trim())
      .find((line) => line !== '') ?? ''
  );
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `text` with any lone surrogate (possible in JSON input: `"\ud800"`) replaced by U+FFFD, so it can be URL-encoded. */
export function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD');
}

/** A JSON path as people write it: `Trigger.Metrics[0].Id`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`))
    .join('');
}

// Format characters: bidi overrides, isolates and marks, zero-width characters, the BOM, tag characters.
const FORMAT_CHARACTERS = /\p{Cf}/gu;
// Controls, line and paragraph separators and whitespace, in runs. One character class: linear.
const BREAKS = /[\p{Cc}\p{Zl}\p{Zp}\s]+/gu;

/**
 * `text` as one line that displays as it reads, for a summary, source or component: format characters (bidi
 * overrides and isolates, zero-width characters, BOM) removed, each run of controls, line breaks and whitespace
 * made one space, lone surrogates replaced. The raw text belongs in the details.
 */
export function displayLine(text: string): string {
  return wellFormed(text).replace(FORMAT_CHARACTERS, '').replace(BREAKS, ' ').trim();
}

const INVISIBLE = /^[\s\p{Cc}\p{Cf}]$/u;

function invisibleAt(text: string, index: number): number {
  const code = text.charCodeAt(index);
  // ASCII fast path: JSON's own whitespace and the other C0 controls.
  if (code < 0x80) return code <= 0x20 || code === 0x7f ? 1 : 0;
  const point = text.codePointAt(index) ?? code;
  const char = String.fromCodePoint(point);
  return INVISIBLE.test(char) ? char.length : 0;
}

/**
 * `text` without the whitespace, control and invisible characters around it (a byte-order mark, zero-width
 * spaces, bidi marks), which JSON.parse rejects though they say nothing. A loop, not a regex: linear.
 */
export function trimInvisible(text: string): string {
  let start = 0;
  while (start < text.length) {
    const width = invisibleAt(text, start);
    if (width === 0) break;
    start += width;
  }
  let end = text.length;
  while (end > start) {
    const low = text.charCodeAt(end - 1);
    const pair = end - 2 >= start && low >= 0xdc00 && low <= 0xdfff ? 2 : 1;
    if (invisibleAt(text, end - pair) !== pair) break;
    end -= pair;
  }
  return text.slice(start, end);
}

/** `text` without any trailing `char`s; a loop, where `/x+$/` would be quadratic on a long run of them. */
export function trimTrailing(text: string, char: string): string {
  let end = text.length;
  while (end > 0 && text[end - 1] === char) end -= 1;
  return text.slice(0, end);
}
