import * as z from 'zod/mini';
import { SEVERITIES, type Severity } from '../shared/contract';
import { cutText, wellFormed } from '../shared/text';

/** The tool the model must call; its input is the only answer read. */
export const TRIAGE_TOOL_NAME = 'record_triage';

/** A model's triage after validation: one of the four severities, a confidence, a bounded plain-text note. */
export interface TriageAnswer {
  readonly severity: Severity;
  readonly confidence: number;
  readonly note: string;
}

export type AnswerReading =
  { readonly ok: true; readonly answer: TriageAnswer } | { readonly ok: false; readonly why: string };

// Loose on purpose: anything else in the output is ignored, only these fields are read.
const toolInput = z.object({
  severity: z.enum(SEVERITIES),
  confidence: z.number().check(z.gte(0), z.lte(1)),
  note: z.string(),
});

const converseOutput = z.object({
  stopReason: z.optional(z.string()),
  output: z.object({
    message: z.object({
      content: z.array(
        z.object({
          toolUse: z.optional(z.object({ name: z.string(), input: z.unknown() })),
        }),
      ),
    }),
  }),
});

/**
 * Reads the Converse output: the input of our tool, validated. Anything else (no tool call, another tool, a
 * severity outside the four, a confidence outside 0..1, a missing field, an output of the wrong shape) is no answer.
 */
export function readAnswer(output: unknown, noteMaxChars: number): AnswerReading {
  const parsed = converseOutput.safeParse(output);
  if (!parsed.success) return { ok: false, why: 'the answer is not a Converse message' };
  const call = parsed.data.output.message.content.find((block) => block.toolUse?.name === TRIAGE_TOOL_NAME);
  if (!call?.toolUse) {
    return {
      ok: false,
      why: `no ${TRIAGE_TOOL_NAME} call (stop reason ${parsed.data.stopReason ?? 'none'})`,
    };
  }
  const input = toolInput.safeParse(call.toolUse.input);
  if (!input.success) {
    const fields = [...new Set(input.error.issues.map((issue) => issue.path.join('.') || 'input'))];
    return { ok: false, why: `the ${TRIAGE_TOOL_NAME} input is invalid (${fields.join(', ')})` };
  }
  const note = plainNote(input.data.note, noteMaxChars);
  return { ok: true, answer: { severity: input.data.severity, confidence: input.data.confidence, note } };
}

// Controls and format characters (bidi overrides, zero-width) go; runs of whitespace become one space.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\s]+/gu;
// Anything a client could turn into a link: a scheme with `//`, `www.`, a mail or data URI.
const LINK_LIKE = /\b(?:[a-z][a-z0-9+.-]*:\/\/|www\.|mailto:|data:|javascript:)\S*/giu;
// A bare host with a path, e.g. `bit.ly/x`: a clickable link in many viewers.
const HOST_WITH_PATH = /\b[a-z0-9-]+(?:\.[a-z0-9-]+)+\/\S*/giu;

/** The note as plain text on one line: no controls, no links (each replaced by `[link removed]`), bounded. */
export function plainNote(text: string, maxChars: number): string {
  // Cut first: the patterns below then run over a few hundred characters, whatever length the model sent.
  const flat = wellFormed(text.slice(0, maxChars + 256)).replace(INVISIBLE, ' ');
  const unlinked = flat
    .replace(LINK_LIKE, '[link removed]')
    .replace(HOST_WITH_PATH, '[link removed]')
    // Markdown link syntax left behind: `[text](…)`.
    .replace(/\]\(\[link removed\]\)/g, ']');
  return cutText(unlinked.trim(), maxChars);
}
