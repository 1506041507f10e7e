import * as z from 'zod/mini';
import { fitToLimits } from '../pagerduty/limits';
import type { PagerDutyAlertEvent } from '../pagerduty/types';
import { SEVERITIES, type TriageMode } from '../shared/contract';
import type { TriageAnswer } from './answer';

/**
 * What the ledger item of a trigger keeps of its triage (attribute `triage`, JSON): the model's answer, or why
 * there is none. A retry of the same change, or a later trigger of the same open incident, reuses it instead of
 * asking again (never twice for one alarm change).
 */
export type TriageRecord =
  ({ readonly model: string } & TriageAnswer) | { readonly model: string; readonly none: string };

/** Bounds what one ledger item stores whatever was read back. */
const MAX_RECORD_CHARS = 4096;

const recordSchema = z.union([
  z.object({
    model: z.string(),
    severity: z.enum(SEVERITIES),
    confidence: z.number().check(z.gte(0), z.lte(1)),
    note: z.string().check(z.maxLength(1000)),
  }),
  z.object({ model: z.string(), none: z.string() }),
]);

export function storedRecord(record: TriageRecord): string {
  return JSON.stringify(record).slice(0, MAX_RECORD_CHARS);
}

/** The stored record, or undefined when there is none; one that cannot be read counts as "no answer". */
export function readRecord(stored: string | undefined): TriageRecord | undefined {
  if (stored === undefined || stored === '') return undefined;
  try {
    const parsed = recordSchema.safeParse(JSON.parse(stored));
    if (parsed.success) return parsed.data;
  } catch {
    // fall through: an unreadable record still says a triage was tried for this change
  }
  return { model: 'unknown', none: 'the stored triage could not be read' };
}

export interface Enrichment {
  readonly event: PagerDutyAlertEvent;
  /** The payload severity was replaced by the model's (TRIAGE_SEVERITY=apply, no declared severity). */
  readonly applied: boolean;
}

/**
 * The trigger with the answer in `custom_details.triage`; under `apply`, with the model's severity too, unless
 * the alarm declared one. Nothing else changes: no link, no summary, no routing.
 */
export function enrichEvent(
  event: PagerDutyAlertEvent,
  record: TriageRecord,
  how: { readonly mode: TriageMode; readonly severityDeclared: boolean },
): Enrichment {
  if (!event.payload || 'none' in record) return { event, applied: false };
  const applied = how.mode === 'apply' && !how.severityDeclared;
  const triage = {
    severity: record.severity,
    confidence: record.confidence,
    note: record.note,
    model: record.model,
    ...(how.mode === 'apply' ? { applied } : {}),
  };
  const enriched: PagerDutyAlertEvent = {
    ...event,
    payload: {
      ...event.payload,
      severity: applied ? record.severity : event.payload.severity,
      custom_details: { ...event.payload.custom_details, triage },
    },
  };
  return { event: fitToLimits(enriched), applied };
}
