// What every service recogniser returns, and the limits they share.
import type { Severity } from '../../shared/contract';

/** The services recognised; also the first part of a SERVICE_SEVERITIES key. */
export const SERVICES = [
  'rds',
  'budgets',
  'backup',
  'autoscaling',
  'codepipeline',
  'codedeploy',
  'guardduty',
  'health',
  's3',
  'eventbridge',
] as const;
export type ServiceName = (typeof SERVICES)[number];

/** How a notification turned out; picks the default severity (a GuardDuty finding carries its own). */
export type Outcome = 'test' | 'success' | 'info' | 'warning' | 'failure' | 'finding';

export interface ServiceLink {
  readonly href: string;
  readonly text: string;
}

/** Another AWS service's notification, read: what happened, to what, and how much it matters. */
export interface ServiceNotification {
  readonly service: ServiceName;
  /** Within the service: an RDS event ID, a job state, a Auto Scaling event, a GuardDuty level, a detail-type… */
  readonly kind: string;
  readonly outcome: Outcome;
  /** What happened, and to what, in one line (no environment prefix). */
  readonly summary: string;
  /** The default for this notification, before SERVICE_SEVERITIES. */
  readonly severity: Severity;
  /** The affected resource (an ARN when the notification names one), else `<service>:<region>:<account>`. */
  readonly source: string;
  readonly component?: string;
  /** The notification's type in AWS's own words: `RDS-EVENT-0006`, `GuardDuty Finding`, `autoscaling:…`. */
  readonly class?: string;
  readonly details: Readonly<Record<string, unknown>>;
  readonly links?: readonly ServiceLink[];
}

export interface ServiceNotificationInput {
  readonly subject?: string;
  readonly body: string;
  /** The body parsed as JSON, when it is JSON. */
  readonly json?: unknown;
}

/** `service` or `service:kind` or `service:outcome` → severity; keys lower-case. */
export type ServiceSeverities = Readonly<Record<string, Severity>>;

export const SEVERITY_BY_OUTCOME: Readonly<Record<Exclude<Outcome, 'finding'>, Severity>> = {
  test: 'info',
  success: 'info',
  info: 'info',
  warning: 'warning',
  failure: 'error',
};

// CodeStar notification rules send EventBridge's event with `detail-type` renamed `detailType`:
// https://docs.aws.amazon.com/codepipeline/latest/userguide/detect-state-changes-cloudwatch-events.html
/** An EventBridge event's fields, read once by eventbridge.ts's dispatcher for each family's recogniser. */
export interface EventFields {
  readonly source?: string;
  readonly detailType: string;
  readonly account?: string;
  readonly region?: string;
  readonly time?: string;
  readonly resources: readonly string[];
  readonly detail: Record<string, unknown>;
  /** What a CodeStar notification rule adds (`failedActions`, `additionalInformation`). */
  readonly additional: Record<string, unknown>;
}

// Regexes below only ever see text cut to this many characters, so none can take long.
export const SCAN_LIMIT = 8_192;
export const MAX_SUMMARY_PART = 300;
