// The names and rules that the CDK construct (lib/) and the handler (lambda/) must agree on. No side effects and
// no imports with side effects: lib/ imports it without loading the handler's Logger, Metrics or SDK clients.

/** PagerDuty's event severities, most severe first. */
export const SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** What to do when an alarm enters INSUFFICIENT_DATA. */
export const INSUFFICIENT_DATA_POLICIES = ['ignore', 'trigger', 'resolve'] as const;
export type InsufficientDataPolicy = (typeof INSUFFICIENT_DATA_POLICIES)[number];

/** What to do with a message nothing recognises. */
export const UNRECOGNISED_MODES = ['trigger', 'drop'] as const;
export type UnrecognisedMode = (typeof UNRECOGNISED_MODES)[number];

/** Route names: keys of ROUTING_KEY_SECRETS and values of the `pagerduty:route` tag. */
export const ROUTE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
export const ROUTE_NAME_RULE = 'route names are 1-64 of A-Z a-z 0-9 _ . -';

/** ENVIRONMENT and the `pagerduty:environment` tag (the setting may be empty; a tag may not). */
export const ENVIRONMENT_NAME = /^[A-Za-z0-9_-]{0,32}$/;
export const ENVIRONMENT_NAME_RULE = 'is 0-32 of A-Z a-z 0-9 _ -';

/** An http(s) URL, as runbook and dashboard links must be. */
export function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text.trim());
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

/** The alarm tag that carries each per-alarm setting. */
export const SETTING_TAGS = {
  route: 'pagerduty:route',
  severity: 'pagerduty:severity',
  insufficientData: 'pagerduty:insufficient-data',
  runbookUrl: 'pagerduty:runbook',
  dashboardUrl: 'pagerduty:dashboard',
  environment: 'pagerduty:environment',
} as const;
export type SettingName = keyof typeof SETTING_TAGS;

/** Powertools' service name and the EMF namespace of the handler's metrics. */
export const SERVICE_NAME = 'alarm-to-pagerduty';
export const METRICS_NAMESPACE = 'AlarmToPagerDuty';

/**
 * The count metrics the functions publish: the handler's, and the deploy marker's `ChangeEventFailures`. The
 * dashboard and the alarms in lib/ read these names.
 */
export const COUNT_METRICS = [
  'EventsSent',
  'DeliveryFailures',
  'DeliveryRetries',
  'DuplicatesSkipped',
  'StaleSkipped',
  'PolicySkipped',
  'UnrecognisedMessages',
  'UnrecognisedDropped',
  'LedgerUnavailable',
  'Compensations',
  'StaleRoutingKeyUsed',
  'TagProblems',
  'FutureTimestamps',
  'MalformedEvents',
  'DeadLettersRetried',
  'DeadLettersParked',
  'DeadLettersDelivered',
  'ActionsSuppressedSkipped',
  'ImageFailures',
  'LeaseWaits',
  'ChangeEventFailures',
] as const;
export type CountMetric = (typeof COUNT_METRICS)[number];

/** Every metric the functions publish: the counts plus the handler's delivery latency (milliseconds). */
export const PIPELINE_METRICS = [...COUNT_METRICS, 'DeliveryLatency'] as const;
export type PipelineMetricName = (typeof PIPELINE_METRICS)[number];

/** The ledger table's partition key and TTL attribute. */
export const LEDGER_KEY_ATTRIBUTE = 'dedupKey';
export const LEDGER_TTL_ATTRIBUTE = 'expiresAt';

/**
 * The handler's environment, as the construct writes it. Every value is a string (Lambda's environment);
 * optional ones have a default in lambda/pipeline/config.ts.
 */
export interface HandlerEnvironment {
  readonly LEDGER_TABLE_NAME: string;
  /** JSON: route name → Secrets Manager secret id; must have `default`. */
  readonly ROUTING_KEY_SECRETS: string;
  readonly PAGERDUTY_EVENTS_URL?: string;
  readonly DEFAULT_SEVERITY?: Severity;
  readonly INSUFFICIENT_DATA_POLICY?: InsufficientDataPolicy;
  readonly UNRECOGNISED_MESSAGES?: UnrecognisedMode;
  /** JSON: `service` or `service:kind` or `service:outcome` → severity, for AWS service notifications. */
  readonly SERVICE_SEVERITIES?: string;
  readonly ENVIRONMENT?: string;
  readonly LEDGER_TTL_DAYS?: string;
  readonly SECRETS_CACHE_SECONDS?: string;
  readonly HTTP_CONNECT_TIMEOUT_MS?: string;
  readonly HTTP_RESPONSE_TIMEOUT_MS?: string;
  readonly RETRY_BASE_DELAY_MS?: string;
  readonly RETRY_MAX_DELAY_MS?: string;
  readonly TIME_BUDGET_MARGIN_MS?: string;
  readonly LEASE_GRACE_MS?: string;
  readonly RATE_LIMIT_PER_MINUTE?: string;
  readonly CLIENT_NAME?: string;
  readonly MAX_CLOCK_SKEW_SECONDS?: string;
  readonly RETRY_WINDOW_HOURS?: string;
  readonly PARKED_QUEUE_URL?: string;
  /** JSON: alarm ARN or name → the options given to `addAlarm`. */
  readonly ALARM_SETTINGS?: string;
  readonly POWERTOOLS_SERVICE_NAME?: string;
  readonly POWERTOOLS_METRICS_NAMESPACE?: string;
  readonly NODE_OPTIONS?: string;
}
