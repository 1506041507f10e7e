// The PagerDuty Events API v2 bodies the pipeline sends (see spec/pagerduty-events-v2.openapi.json).
import type { Severity } from '../shared/contract';

export type PagerDutyAction = 'trigger' | 'acknowledge' | 'resolve';

/** A PagerDuty Events API v2 alert event, without its routing key (added when sent). */
export interface PagerDutyAlertEvent {
  readonly event_action: PagerDutyAction;
  readonly dedup_key: string;
  readonly payload?: {
    readonly summary: string;
    readonly source: string;
    readonly severity: Severity;
    readonly timestamp?: string;
    readonly component?: string;
    readonly group?: string;
    readonly class?: string;
    readonly custom_details?: Record<string, unknown>;
  };
  readonly links?: readonly { readonly href: string; readonly text?: string }[];
  readonly images?: readonly { readonly src: string; readonly href?: string; readonly alt?: string }[];
  readonly client?: string;
  readonly client_url?: string;
}

/** A PagerDuty change event (deploys, config changes), without its routing key. */
export interface PagerDutyChangeEvent {
  readonly payload: {
    readonly summary: string;
    readonly source?: string;
    readonly timestamp?: string;
    readonly custom_details?: Record<string, unknown>;
  };
  readonly links?: readonly { readonly href: string; readonly text?: string }[];
}
