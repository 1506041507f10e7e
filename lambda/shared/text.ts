/** Cuts `text` to at most `maxLength` UTF-16 units, ending in `ellipsis`, never splitting a surrogate pair. */
export function cutText(text: string, maxLength: number, ellipsis = '…'): string {
  if (text.length <= maxLength) return text;
  let end = Math.max(0, maxLength - ellipsis.length);
  const last = text.charCodeAt(end - 1);
  if (end > 0 && last >= 0xd800 && last <= 0xdbff) end -= 1;
  return text.slice(0, end) + ellipsis;
}

/** The first line of `text` that is not blank, trimmed; without splitting the whole text into lines. */
export function firstLine(text: string): string {
  const start = text.search(/\S/);
  if (start < 0) return '';
  const rest = text.slice(start);
  const end = rest.search(/[\r\n]/);
  return (end < 0 ? rest : rest.slice(0, end)).trim();
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `text` with any lone surrogate (possible in JSON input: `"\ud800"`) replaced by U+FFFD, so it can be URL-encoded. */
export function wellFormed(text: string): string {
  // The native check (Node 20+) is a fast scan; the regex, with its lookbehind, is the fallback and the fix.
  const native = text as unknown as { isWellFormed?: () => boolean };
  if (typeof native.isWellFormed === 'function' && native.isWellFormed()) return text;
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
// Printable ASCII and the punctuation summaries add (— … →), with no two spaces in a row: nothing to remove or
// collapse, so displayLine is a trim. The two Unicode-property regexes cost more than the rest of a summary.
const PLAIN_LINE = /^(?:[\x21-\x7e\u2014\u2026\u2192]| (?! ))*$/;

/**
 * `text` as one line that displays as it reads, for a summary, source or component: format characters (bidi
 * overrides and isolates, zero-width characters, BOM) removed, each run of controls, line breaks and whitespace
 * made one space, lone surrogates replaced. The raw text belongs in the details.
 */
export function displayLine(text: string): string {
  if (PLAIN_LINE.test(text)) return text.trim();
  return wellFormed(text).replace(FORMAT_CHARACTERS, '').replace(BREAKS, ' ').trim();
}

const VISIBLE = /[^\s\p{Cc}\p{Cf}]/u;
const ALL_INVISIBLE = /^[\s\p{Cc}\p{Cf}]*$/u;
// The last visible character: run only on a short window, where trying each start position costs little.
const LAST_VISIBLE = /[^\s\p{Cc}\p{Cf}][\s\p{Cc}\p{Cf}]*$/u;
const WINDOW = 256;

/**
 * `text` without the whitespace, control and invisible characters around it (a byte-order mark, zero-width
 * spaces, bidi marks), which JSON.parse rejects though they say nothing. The end is found window by window from
 * the back, so a long invisible tail costs one regex pass over it, and a visible last character almost nothing.
 */
export function trimInvisible(text: string): string {
  const start = text.search(VISIBLE);
  if (start < 0) return '';
  let end = text.length;
  while (end > start) {
    let from = Math.max(start, end - WINDOW);
    const first = text.charCodeAt(from);
    if (from > start && first >= 0xdc00 && first <= 0xdfff) from -= 1;
    const window = text.slice(from, end);
    if (!ALL_INVISIBLE.test(window)) {
      const last = from + (LAST_VISIBLE.exec(window)?.index ?? window.length - 1);
      end = last + ((text.codePointAt(last) ?? 0) > 0xffff ? 2 : 1);
      break;
    }
    end = from;
  }
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/** `text` without any trailing `char`s; a loop, where `/x+$/` would be quadratic on a long run of them. */
export function trimTrailing(text: string, char: string): string {
  let end = text.length;
  while (end > 0 && text[end - 1] === char) end -= 1;
  return text.slice(0, end);
}
