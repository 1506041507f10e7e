import { Token } from 'aws-cdk-lib';
import {
  ENVIRONMENT_NAME,
  INSUFFICIENT_DATA_POLICIES,
  isHttpsUrl,
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
}

/** What the handler reads from ALARM_SETTINGS for one alarm: only the options that were given. */
export type AlarmSettingsEntry = {
  -readonly [K in keyof AlarmPagingOptions]: AlarmPagingOptions[K];
};

/** Alarm tag key for each option: the handler's own table, so the construct writes the keys the handler reads. */
export const TAG_KEYS = SETTING_TAGS satisfies Record<keyof AlarmPagingOptions, string>;

const OPTION_KEYS = Object.keys(TAG_KEYS) as (keyof AlarmPagingOptions)[];

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
  for (const key of OPTION_KEYS) {
    const value = options[key];
    if (value !== undefined) Object.assign(given, { [key]: value });
  }
  return given;
}

/** Tag key and value for each given option. */
export function tagsFor(settings: AlarmSettingsEntry): { key: string; value: string }[] {
  return OPTION_KEYS.flatMap((key) => {
    const value = settings[key];
    return value === undefined ? [] : [{ key: TAG_KEYS[key], value }];
  });
}

export const ALL_TAG_KEYS: readonly string[] = Object.values(TAG_KEYS);
