import { Token, type Duration } from 'aws-cdk-lib';
import {
  ENVIRONMENT_NAME,
  INSUFFICIENT_DATA_POLICIES,
  isHttpsUrl,
  MAX_REPAGE_MINUTES,
  MIN_REPAGE_MINUTES,
  ROUTE_NAME,
  SETTING_TAGS,
  SEVERITIES,
  type InsufficientDataPolicy,
  type Severity,
} from '../lambda/shared/contract';

// The handler's own rules (lambda/shared/contract.ts), so the construct accepts exactly what the handler does.
export { ENVIRONMENT_NAME, INSUFFICIENT_DATA_POLICIES, ROUTE_NAME, SEVERITIES };
export type { InsufficientDataPolicy, Severity };

/**
 * How one alarm is paged. Every field falls back to the pipeline's default when omitted.
 */
export interface AlarmPagingOptions {
  /**
   * Which PagerDuty service (a key of the construct's `routes`) receives this alarm's incidents.
   * @default 'default'
   */
  readonly route?: string;
  /**
   * Severity of the incident that an ALARM state opens.
   * @default - the construct's `defaultSeverity`
   */
  readonly severity?: Severity;
  /**
   * What INSUFFICIENT_DATA does to the incident: nothing, trigger, or resolve.
   * @default - the construct's `insufficientDataPolicy`
   */
  readonly insufficientData?: InsufficientDataPolicy;
  /**
   * Runbook link shown on the incident.
   * @default - no runbook link
   */
  readonly runbookUrl?: string;
  /**
   * Dashboard link shown on the incident.
   * @default - no dashboard link
   */
  readonly dashboardUrl?: string;
  /**
   * Environment name (for example `prod`) carried in the incident.
   * @default - the construct's `environment`
   */
  readonly environment?: string;
  /**
   * Re-send the trigger of this alarm's open incident every so often while the alarm stays in ALARM (the
   * reconciliation sweep does it): PagerDuty folds it into the open incident, or opens a new one if a person
   * resolved it while the alarm still breaches. Whole minutes, 5 minutes to 7 days; needs `reconcile` on.
   * @default - no re-page
   */
  readonly repageInterval?: Duration;
}

/** The options that ALARM_SETTINGS and the tags carry as they are given. */
type TextOptions = Omit<AlarmPagingOptions, 'repageInterval'>;

/** What the handler reads from ALARM_SETTINGS for one alarm: only the options that were given, as text. */
export type AlarmSettingsEntry = {
  -readonly [K in keyof TextOptions]: TextOptions[K];
} & {
  /** `repageInterval` in whole minutes. */
  repageMinutes?: string;
};

/** Alarm tag key for each setting: the handler's own table, so the construct writes the keys the handler reads. */
export const TAG_KEYS = SETTING_TAGS satisfies Record<keyof AlarmSettingsEntry, string>;

const SETTING_KEYS = Object.keys(TAG_KEYS) as (keyof AlarmSettingsEntry)[];
const TEXT_OPTION_KEYS = SETTING_KEYS.filter((key): key is keyof TextOptions => key !== 'repageMinutes');

/** CloudWatch accepts these characters in tag values (a URL with `?`, `&` or `#` is not a valid tag). */
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,256}$/u;

export function isValidTagValue(value: string): boolean {
  return TAG_VALUE.test(value);
}

/**
 * Checks the options against the routes and the handler's accepted values; returns the options that were
 * given, or throws an error that names the alarm and the bad option.
 */
export function checkPagingOptions(
  alarmPath: string,
  options: AlarmPagingOptions,
  routeNames: readonly string[],
): AlarmSettingsEntry {
  const problem = (what: string) => new Error(`addAlarm(${alarmPath}): ${what}`);
  const { route, severity, insufficientData, runbookUrl, dashboardUrl, environment } = options;
  if (route !== undefined && !Token.isUnresolved(route) && !routeNames.includes(route)) {
    throw problem(
      `route "${route}" is not one of the routes given to AlarmToPagerDuty (${routeNames.join(', ')}); ` +
        'add it to `routes` with the secret that holds its integration key, or pick an existing route.',
    );
  }
  if (severity !== undefined && !Token.isUnresolved(severity) && !SEVERITIES.includes(severity)) {
    throw problem(`severity "${String(severity)}" must be one of ${SEVERITIES.join(', ')}.`);
  }
  if (
    insufficientData !== undefined &&
    !Token.isUnresolved(insufficientData) &&
    !INSUFFICIENT_DATA_POLICIES.includes(insufficientData)
  ) {
    throw problem(
      `insufficientData "${String(insufficientData)}" must be one of ${INSUFFICIENT_DATA_POLICIES.join(', ')}.`,
    );
  }
  for (const [name, url] of [
    ['runbookUrl', runbookUrl],
    ['dashboardUrl', dashboardUrl],
  ] as const) {
    if (url !== undefined && !Token.isUnresolved(url) && !isHttpsUrl(url)) {
      throw problem(`${name} "${url}" must be an https URL.`);
    }
  }
  if (environment !== undefined && !Token.isUnresolved(environment) && !ENVIRONMENT_NAME.test(environment)) {
    throw problem(`environment "${environment}" must be 0-32 of A-Z a-z 0-9 _ -.`);
  }
  const given: AlarmSettingsEntry = {};
  for (const key of TEXT_OPTION_KEYS) {
    const value = options[key];
    if (value !== undefined) Object.assign(given, { [key]: value });
  }
  if (options.repageInterval !== undefined)
    given.repageMinutes = String(repageMinutes(options.repageInterval, problem));
  return given;
}

function repageMinutes(interval: Duration, problem: (what: string) => Error): number {
  const minutes = interval.toMinutes({ integral: false });
  if (!Number.isInteger(minutes) || minutes < MIN_REPAGE_MINUTES || minutes > MAX_REPAGE_MINUTES) {
    throw problem(
      `repageInterval must be whole minutes from ${MIN_REPAGE_MINUTES} minutes to ${MAX_REPAGE_MINUTES / 1440} days ` +
        `(got ${interval.toHumanString()}): the sweep re-pages at most once a sweep, and PagerDuty folds repeats.`,
    );
  }
  return minutes;
}

/** Tag key and value for each given option. */
export function tagsFor(settings: AlarmSettingsEntry): { key: string; value: string }[] {
  return SETTING_KEYS.flatMap((key) => {
    const value = settings[key];
    return value === undefined ? [] : [{ key: TAG_KEYS[key], value }];
  });
}

export const ALL_TAG_KEYS: readonly string[] = Object.values(TAG_KEYS);
