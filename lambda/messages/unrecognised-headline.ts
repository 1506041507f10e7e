// The summary line of an SNS message that nothing recognises. Apart from the recognisers (service-notification.ts),
// which load only for a message that is not an alarm: the event builder needs this on every path.
import { cutText } from '../shared/text';
import { collapse } from './services/fields';
import { MAX_SUMMARY_PART, SCAN_LIMIT } from './services/types';

/**
 * The summary line of an SNS message that nothing recognises: its subject and the beginning of its body, e.g.
 * `SNS message: Test — disk full on db-7`. A JSON body is said by what it is (`why`), not by its first bytes.
 */
export function unrecognisedHeadline(input: { subject?: string; body: string; why: string }): string {
  const subject = collapse(input.subject ?? '');
  const looksLikeJson = /^\s*[[{]/.test(input.body);
  const start = looksLikeJson ? withoutTrailingAside(input.why) : collapse(input.body.slice(0, SCAN_LIMIT));
  // Nothing to quote (an empty or missing message): say why, which names what was missing.
  if (subject === '') return `SNS message: ${cutText(start || input.why, MAX_SUMMARY_PART)}`;
  if (start === '' || start === subject) return `SNS message: ${cutText(subject, MAX_SUMMARY_PART)}`;
  return `SNS message: ${cutText(subject, 150)} — ${cutText(start, MAX_SUMMARY_PART)}`;
}

/** `what it is (detail)` → `what it is`: the detail (a parser's message, a key list) stays in the event details. */
function withoutTrailingAside(why: string): string {
  if (!why.endsWith(')')) return why;
  // The parenthesis that opens the final aside, which may nest others (Node 24's JSON errors add "(line 1 column 9)").
  let depth = 0;
  for (let i = why.length - 1; i > 0; i--) {
    if (why[i] === ')') depth++;
    else if (why[i] === '(' && --depth === 0) return why[i - 1] === ' ' ? why.slice(0, i - 1) : why;
  }
  return why;
}
