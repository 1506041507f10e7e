// What the pipeline and the triage step share: types only, so that the delivery step names them without loading
// the triage code (lambda/triage/bedrock-triage.ts is imported only when TRIAGE_MODEL_ID is set).
import type { AlarmNotification } from '../messages/notification';
import type { PagerDutyAlertEvent } from '../pagerduty/types';
import type { LedgerAction } from '../pipeline/ledger';

/** What a trigger's plan hands the triage step: the alarm, and whether its severity may be replaced. */
export interface TriageSubject {
  readonly alarm: AlarmNotification;
  readonly dedupKey: string;
  /** A tag or `addAlarm` declared the severity: it always stands (design decision 16). */
  readonly severityDeclared: boolean;
}

/** The ledger item the claim replaced: the alarm's previous recorded change, and its stored triage. */
export interface PreviousChange {
  readonly action: LedgerAction;
  readonly stateChangeMs: number;
  readonly triage?: string;
}

export interface TriageLog {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
}

export interface TriageRequest {
  readonly subject: TriageSubject;
  /** The trigger about to be sent. */
  readonly event: PagerDutyAlertEvent;
  readonly previous?: PreviousChange;
  /** What is left of the delivery's time: triage never runs past it, nor past TRIAGE_TIMEOUT_MS. */
  readonly timeLeftMs: number;
  readonly log: TriageLog;
}

export interface TriageResult {
  /** The trigger to send: with the triage in custom_details (and its severity, under `apply`), or as it was. */
  readonly event: PagerDutyAlertEvent;
  /** What to store on the ledger item with the settle (the answer, or why there is none); absent when reused. */
  readonly record?: string;
}

/** Enriches a trigger about to be sent; never throws, never runs past its time limit. */
export interface TriageStep {
  enrich(request: TriageRequest): Promise<TriageResult>;
}
