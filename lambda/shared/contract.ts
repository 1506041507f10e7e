// The names and rules that the CDK construct (lib/) and the handler (lambda/) must agree on. No side effects and
// no imports with side effects: lib/ imports it without loading the handler's Logger, Metrics or SDK clients.

/** PagerDuty's event severities, most severe first. */
export const SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** The EventBridge detail-types of CloudWatch alarm state changes: the intake rule's pattern and the parser's. */
export const ALARM_STATE_CHANGE = 'CloudWatch Alarm State Change';
export const ALARM_CONTRIBUTOR_STATE_CHANGE = 'CloudWatch Alarm Contributor State Change';
export const ALARM_DETAIL_TYPES: readonly string[] = [ALARM_STATE_CHANGE, ALARM_CONTRIBUTOR_STATE_CHANGE];
/** An alarm created, updated or deleted: the sweep acts on deletes. */
export const ALARM_CONFIGURATION_CHANGE = 'CloudWatch Alarm Configuration Change';

/** What to do when an alarm enters INSUFFICIENT_DATA. */
export const INSUFFICIENT_DATA_POLICIES = ['ignore', 'trigger', 'resolve'] as const;
export type InsufficientDataPolicy = (typeof INSUFFICIENT_DATA_POLICIES)[number];

/** What to do with a message nothing recognises. */
export const UNRECOGNISED_MODES = ['trigger', 'drop'] as const;
export type UnrecognisedMode = (typeof UNRECOGNISED_MODES)[number];

/** TRIAGE_SEVERITY: what a model's triage may change (suggest: custom_details only; apply: also the severity). */
export const TRIAGE_MODES = ['suggest', 'apply'] as const;
export type TriageMode = (typeof TRIAGE_MODES)[number];

/** Route names: keys of ROUTING_KEY_SECRETS and values of the `pagerduty:route` tag. */
export const ROUTE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
export const ROUTE_NAME_RULE = 'route names are 1-64 of A-Z a-z 0-9 _ . -';

/** ENVIRONMENT and the `pagerduty:environment` tag (the setting may be empty; a tag may not). */
export const ENVIRONMENT_NAME = /^[A-Za-z0-9_-]{0,32}$/;
export const ENVIRONMENT_NAME_RULE = 'is 0-32 of A-Z a-z 0-9 _ -';

/** An https URL, as runbook and dashboard links must be: a page an incident links to is not sent in clear. */
export function isHttpsUrl(text: string): boolean {
  try {
    return new URL(text.trim()).protocol === 'https:';
  } catch {
    return false;
  }
}

/** Whether `url` points at this machine: `localhost`, 127.0.0.0/8 or `[::1]` (tests and the local emulator). */
export function isLoopbackUrl(url: URL): boolean {
  return url.hostname === 'localhost' || url.hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(url.hostname);
}

/** A PagerDuty Events API base URL: https, or http to this machine only; a routing key never goes out in clear. */
export function isEventsApiUrl(text: string): boolean {
  try {
    const url = new URL(text.trim());
    return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackUrl(url));
  } catch {
    return false;
  }
}

export const EVENTS_API_URL_RULE = 'must be an https URL (http only to localhost or 127.0.0.1)';

/** A LINK_HOSTS entry: a host name, or `*.` and a domain for the hosts under it. */
export const LINK_HOST = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** Whether `host` is one of `allowed` (`docs.example.com`), or under a `*.example.com` entry. */
export function isAllowedHost(host: string, allowed: readonly string[]): boolean {
  const name = host.toLowerCase();
  return allowed.some((entry) =>
    entry.startsWith('*.') ? name.endsWith(entry.slice(1)) : name === entry.toLowerCase(),
  );
}

/** The alarm tag that carries each per-alarm setting. */
export const SETTING_TAGS = {
  route: 'pagerduty:route',
  severity: 'pagerduty:severity',
  insufficientData: 'pagerduty:insufficient-data',
  runbookUrl: 'pagerduty:runbook',
  dashboardUrl: 'pagerduty:dashboard',
  environment: 'pagerduty:environment',
  /** Whole minutes between re-sends of a still-breaching alarm's trigger (opt-in; at least MIN_REPAGE_MINUTES). */
  repageMinutes: 'pagerduty:repage-minutes',
} as const;
export type SettingName = keyof typeof SETTING_TAGS;

/** The shortest re-page interval, in minutes: a sweep runs every few minutes, and PagerDuty folds repeats anyway. */
export const MIN_REPAGE_MINUTES = 5;
/** The longest: a week. */
export const MAX_REPAGE_MINUTES = 7 * 24 * 60;

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
  'SweepResolvedOk',
  'SweepResolvedDeleted',
  'SweepResolvedInsufficientData',
  'MissedNotifications',
  'Repages',
  'SweepErrors',
  'SweepIncomplete',
  'SweepPagerDutyUnavailable',
  'TriageCalls',
  'TriageTimeouts',
  'TriageFailures',
  'TriageApplied',
  'TriageReused',
  'TriageTokens',
  'ForeignAlarmsRefused',
] as const;
export type CountMetric = (typeof COUNT_METRICS)[number];

/** The reconciliation sweep's corrections, one metric per kind: an open incident resolved because its alarm was… */
export const SWEEP_CORRECTION_METRICS = [
  'SweepResolvedOk',
  'SweepResolvedDeleted',
  'SweepResolvedInsufficientData',
] as const satisfies readonly CountMetric[];

/**
 * Every metric the functions publish: the counts plus the handler's delivery latency and one sweep's duration
 * (both milliseconds).
 */
export const PIPELINE_METRICS = [...COUNT_METRICS, 'DeliveryLatency', 'SweepDuration'] as const;
export type PipelineMetricName = (typeof PIPELINE_METRICS)[number];

/** The ledger table's partition key and TTL attribute. */
export const LEDGER_KEY_ATTRIBUTE = 'dedupKey';
export const LEDGER_TTL_ATTRIBUTE = 'expiresAt';

/**
 * The ledger's sparse index of open incidents: only items that hold an open trigger for an alarm carry
 * `openSource` ("<accountId>:<region>" of the alarm), so the sweep reads one source's open incidents without a scan.
 */
export const OPEN_INCIDENTS_INDEX = 'OpenIncidents';
export const OPEN_SOURCE_ATTRIBUTE = 'openSource';
/** The index's sort key: the ledger's own key. */
export const OPEN_INCIDENTS_SORT_ATTRIBUTE = LEDGER_KEY_ATTRIBUTE;
/** The ledger items where a sweep cut short records the source to resume at: one per list of sources (shard). */
export const SWEEP_CURSOR_KEY = 'sweep#cursor';
/** The cursor item of one list of sources; `shard` is a short hash of that list (lambda/sweep/cursor.ts). */
export const sweepCursorKey = (shard: string): string => `${SWEEP_CURSOR_KEY}#${shard}`;
/** The attributes the index projects besides its keys and the table's (INCLUDE): what a sweep reads of an item. */
export const OPEN_INCIDENTS_PROJECTION = [
  'alarmArn',
  'sourceAlarmName',
  'contributorId',
  'action',
  'stateChangeMs',
  'delivered',
  'insufficientData',
  'repageMs',
  'updatedAt',
] as const;

/**
 * One place the sweep reads alarms from (RECONCILE_SOURCES is a JSON array of these): an account and region,
 * the topics that mark an alarm there as wired to the pipeline, and the role to assume (absent: own credentials).
 * `alarmNamePrefixes` and `routeTagged` mirror the EventBridge intake's selection where it is on.
 */
export interface ReconcileSource {
  /** The region whose alarms are read. */
  readonly region: string;
  /** The account whose alarms are read. */
  readonly accountId: string;
  /** The topics whose alarms are the pipeline's (an alarm with one of them as an action). */
  readonly topicArns: readonly string[];
  /** The role to assume for another account; the sweep's own credentials when absent. */
  readonly roleArn?: string;
  /** Alarms selected by name prefix (the EventBridge intake's selection). */
  readonly alarmNamePrefixes?: readonly string[];
  /** Alarms selected by the `pagerduty:route` tag (the EventBridge intake's selection). */
  readonly routeTagged?: boolean;
}

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
  /**
   * JSON: environment name → route. A notification whose environment (an alarm's `pagerduty:environment` tag, its
   * declaration, else ENVIRONMENT) is listed, and that names no route of its own, goes to that route.
   */
  readonly ENVIRONMENT_ROUTES?: string;
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
  /** A Bedrock model or inference-profile id: turns model triage on. */
  readonly TRIAGE_MODEL_ID?: string;
  readonly TRIAGE_SEVERITY?: TriageMode;
  readonly TRIAGE_TIMEOUT_MS?: string;
  readonly TRIAGE_NOTE_MAX_CHARS?: string;
  /** The central topic's ARN: it carries the alarms of PUBLISHER_ACCOUNT_IDS too; unset, no topic does. */
  readonly CENTRAL_TOPIC_ARN?: string;
  /** JSON list of account ids whose alarms the central topic carries besides its own account's. */
  readonly PUBLISHER_ACCOUNT_IDS?: string;
  /** JSON list of hosts (`*.example.com` for a domain's) that runbook and dashboard links from alarm tags may name. */
  readonly LINK_HOSTS?: string;
  /** JSON: alarm ARN or name → the options given to `addAlarm`. */
  readonly ALARM_SETTINGS?: string;
  /** JSON: ReconcileSource[], where the sweep reads alarms. */
  readonly RECONCILE_SOURCES?: string;
  readonly RECONCILE_MISSED_GRACE_SECONDS?: string;
  readonly RECONCILE_MAX_CORRECTIONS?: string;
  readonly POWERTOOLS_SERVICE_NAME?: string;
  readonly POWERTOOLS_METRICS_NAMESPACE?: string;
  readonly NODE_OPTIONS?: string;
}
