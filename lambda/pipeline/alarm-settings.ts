import { isRecord } from '../shared/json';
import {
  ENVIRONMENT_NAME,
  INSUFFICIENT_DATA_POLICIES,
  isAllowedHost,
  isHttpsUrl,
  MAX_REPAGE_MINUTES,
  MIN_REPAGE_MINUTES,
  SETTING_TAGS,
  SEVERITIES,
  type SettingName,
} from '../shared/contract';
import { ConfigError } from '../shared/errors';
import { alarmIdentity } from './dedup-key';
import type { AlarmSettings, InsufficientDataPolicy, Notification, Severity } from '../messages/notification';

/** What the CDK construct's `addAlarm` options declare for one alarm (env `ALARM_SETTINGS`, keyed by ARN or name). */
export interface DeclaredSettings {
  readonly route: string;
  readonly severity: Severity;
  readonly insufficientData: InsufficientDataPolicy;
  readonly runbookUrl: string;
  readonly dashboardUrl: string;
  readonly environment: string;
  /** Whole minutes, as text (tags and ALARM_SETTINGS carry strings). */
  readonly repageMinutes: string;
}

export type DeclaredSettingsMap = Readonly<Record<string, Partial<DeclaredSettings>>>;

/** The alarm tags that override the declared settings and the defaults. */
export { SETTING_TAGS };

export interface SettingsInput {
  readonly tags: Readonly<Record<string, string>>;
  readonly declared?: Partial<DeclaredSettings>;
  readonly defaults: {
    readonly route: string;
    readonly severity: Severity;
    readonly insufficientData: InsufficientDataPolicy;
    readonly environment?: string;
  };
  readonly knownRoutes: readonly string[];
  /** The hosts a link from an alarm tag may name (LINK_HOSTS); unset, any https host. */
  readonly linkHosts?: readonly string[];
  /** ENVIRONMENT_ROUTES, by lower-cased environment name: the route of an alarm that names none of its own. */
  readonly environmentRoutes?: Readonly<Record<string, string>>;
}

/** What a check knows besides the value: the routes, and for a tag the hosts its links may name. */
interface CheckContext {
  readonly knownRoutes: readonly string[];
  readonly linkHosts?: readonly string[];
}

type Checked<T> = { ok: true; value: T } | { ok: false; problem: string };
type Check<T> = (raw: string, ctx: CheckContext) => Checked<T>;

const oneOf =
  <T extends string>(allowed: readonly T[], what: string): Check<T> =>
  (raw) => {
    const value = allowed.find((candidate) => candidate === raw.trim().toLowerCase());
    return value === undefined
      ? { ok: false, problem: `is not ${what} (${allowed.join(', ')})` }
      : { ok: true, value };
  };

const webUrl: Check<string> = (raw, { linkHosts }) => {
  if (!isHttpsUrl(raw)) return { ok: false, problem: 'is not an https URL' };
  const url = new URL(raw.trim());
  if (linkHosts && !isAllowedHost(url.hostname, linkHosts)) {
    return { ok: false, problem: `names a host not in LINK_HOSTS (${linkHosts.join(', ')})` };
  }
  return { ok: true, value: url.href };
};

const CHECKS: { readonly [K in keyof DeclaredSettings]: Check<DeclaredSettings[K]> } = {
  route: (raw, { knownRoutes }) => {
    const value = knownRoutes.find((route) => route.toLowerCase() === raw.trim().toLowerCase());
    return value === undefined
      ? { ok: false, problem: `is not a known route (${knownRoutes.join(', ') || 'none'})` }
      : { ok: true, value };
  },
  severity: oneOf(SEVERITIES, 'a severity'),
  insufficientData: oneOf(INSUFFICIENT_DATA_POLICIES, 'an insufficient-data policy'),
  runbookUrl: webUrl,
  dashboardUrl: webUrl,
  // A tag names an environment: the ENVIRONMENT rule, but not empty.
  environment: (raw) =>
    raw.trim() !== '' && ENVIRONMENT_NAME.test(raw.trim())
      ? { ok: true, value: raw.trim() }
      : { ok: false, problem: 'is not 1-32 of A-Z a-z 0-9 _ -' },
  repageMinutes: (raw) => {
    const minutes = /^\d{1,6}$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
    return minutes >= MIN_REPAGE_MINUTES && minutes <= MAX_REPAGE_MINUTES
      ? { ok: true, value: String(minutes) }
      : { ok: false, problem: `is not whole minutes from ${MIN_REPAGE_MINUTES} to ${MAX_REPAGE_MINUTES}` };
  },
};

const FIELDS = Object.keys(SETTING_TAGS) as SettingName[];

/**
 * Merges per-alarm settings, field by field: alarm tag, then the CDK declaration, then the defaults. A bad
 * value never blocks paging: it is reported in `problems` (one line naming the tag and value) and the next
 * source is used.
 */
export function resolveSettings(input: SettingsInput): AlarmSettings {
  const problems: string[] = [];
  const tags = tagsByLowerCaseKey(input.tags);

  const origins: Partial<Record<keyof DeclaredSettings, 'tag' | 'declared'>> = {};
  function pick<K extends keyof DeclaredSettings>(
    field: K,
    fallback?: DeclaredSettings[K],
    fallbackIs = 'the default',
  ): DeclaredSettings[K] | undefined {
    const candidates = settingSources(field, input, tags);
    const rejected: string[] = [];
    let chosen: { value: DeclaredSettings[K]; source: string } | undefined;
    for (const { source, origin, raw, ctx } of candidates) {
      if (raw === undefined || raw.trim() === '') continue;
      const checked = CHECKS[field](raw, ctx);
      if (checked.ok) {
        chosen = { value: checked.value, source };
        origins[field] = origin;
        break;
      }
      rejected.push(`${source}: ${JSON.stringify(raw)} ${checked.problem}`);
    }
    const used = chosen
      ? `using ${JSON.stringify(chosen.value)} from the ${chosen.source}`
      : fallback === undefined
        ? 'leaving it unset'
        : `using ${fallbackIs} ${JSON.stringify(fallback)}`;
    problems.push(...rejected.map((line) => `${line}; ${used}`));
    return chosen ? chosen.value : fallback;
  }

  const { defaults } = input;
  // The environment first: an alarm that names no route of its own goes to its environment's route, if listed.
  const environment = pick('environment', defaults.environment || undefined);
  const environmentRoute = routeOfEnvironment(environment, input);
  const routeFallback = environmentRoute ?? defaults.route;
  const route =
    pick(
      'route',
      routeFallback,
      environmentRoute === undefined
        ? 'the default'
        : `environment ${JSON.stringify(environment)}'s route (ENVIRONMENT_ROUTES)`,
    ) ?? routeFallback;
  const severity = pick('severity', defaults.severity) ?? defaults.severity;
  return {
    route,
    routeFrom: origins.route ?? (environmentRoute === undefined ? 'default' : 'environment'),
    severity,
    severityFrom: origins.severity ?? 'default',
    insufficientData: pick('insufficientData', defaults.insufficientData) ?? defaults.insufficientData,
    runbookUrl: pick('runbookUrl'),
    dashboardUrl: pick('dashboardUrl'),
    environment,
    repageMinutes: optionalNumber(pick('repageMinutes')),
    problems,
  };
}

/** The route ENVIRONMENT_ROUTES gives the environment, when it has a key (loadConfig checks that it does). */
function routeOfEnvironment(environment: string | undefined, input: SettingsInput): string | undefined {
  if (environment === undefined || !input.environmentRoutes) return undefined;
  const route = own(input.environmentRoutes, environment.toLowerCase());
  return route !== undefined && input.knownRoutes.includes(route) ? route : undefined;
}

/**
 * Where a field's value may come from; the first that checks wins. A tag travels in the message, so whoever can
 * publish chooses it; a declaration is the operator's own code.
 */
function settingSources(field: keyof DeclaredSettings, input: SettingsInput, tags: Map<string, string>) {
  return [
    {
      source: `tag ${SETTING_TAGS[field]}`,
      origin: 'tag',
      raw: tags.get(SETTING_TAGS[field]),
      ctx: { knownRoutes: input.knownRoutes, linkHosts: input.linkHosts },
    },
    {
      source: `declared ${field} (ALARM_SETTINGS)`,
      origin: 'declared',
      raw: input.declared?.[field],
      ctx: { knownRoutes: input.knownRoutes },
    },
  ] as const;
}

function optionalNumber(text: string | undefined): number | undefined {
  return text === undefined ? undefined : Number(text);
}

function tagsByLowerCaseKey(tags: Readonly<Record<string, string>>): Map<string, string> {
  const byKey = new Map<string, string>();
  // An exactly lower-case key wins over `PagerDuty:Route` and the like.
  const entries = Object.entries(tags).sort(
    ([a], [b]) => Number(a === a.toLowerCase()) - Number(b === b.toLowerCase()),
  );
  for (const [key, value] of entries) byKey.set(key.toLowerCase(), value);
  return byKey;
}

/**
 * Reads `ALARM_SETTINGS`: JSON `{ "<alarm ARN or name>": { route?, severity?, ... } }`. Unset or blank → no
 * declarations. Malformed JSON, an unknown field or a bad value is a ConfigError naming ALARM_SETTINGS and the
 * entry: thrown, or, with `report`, reported and skipped (the handler does that, so one bad declaration never
 * stops paging for every alarm). Routes are checked per notification, against the routes with a key.
 */
export function parseDeclaredSettings(
  json: string | undefined,
  report?: (problem: string) => void,
): DeclaredSettingsMap {
  const problem = (where: string, text: string): void => {
    const error = configError(where, text);
    if (!report) throw error;
    report(error.message);
  };
  if (json === undefined || json.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    problem('', `is not JSON (${error instanceof Error ? error.message : String(error)})`);
    return {};
  }
  if (!isRecord(parsed)) {
    problem('', 'must be a JSON object keyed by alarm ARN or name');
    return {};
  }
  return Object.fromEntries(
    Object.entries(parsed).map(([alarm, entry]) => [
      alarm,
      parseDeclaration(`[${JSON.stringify(alarm)}]`, entry, problem),
    ]),
  );
}

function parseDeclaration(
  where: string,
  entry: unknown,
  problem: (where: string, text: string) => void,
): Partial<DeclaredSettings> {
  const settings: Partial<Record<keyof DeclaredSettings, string>> = {};
  if (!isRecord(entry)) {
    problem(where, 'must be an object of settings');
    return {};
  }
  for (const [field, raw] of Object.entries(entry)) {
    const key = FIELDS.find((name) => name === field);
    if (key === undefined) {
      problem(`${where}.${field}`, `is not a setting (${FIELDS.join(', ')})`);
      continue;
    }
    if (raw === undefined || raw === null) continue;
    if (typeof raw !== 'string') {
      problem(`${where}.${field}`, 'must be a string');
      continue;
    }
    if (raw.trim() === '') continue;
    if (key === 'route') {
      // Which routes have a key is known only at run time; resolveSettings checks it per notification.
      settings.route = raw.trim();
      continue;
    }
    const checked = CHECKS[key](raw, { knownRoutes: [] });
    if (!checked.ok) {
      problem(`${where}.${field}`, `${JSON.stringify(raw)} ${checked.problem}`);
      continue;
    }
    settings[key] = checked.value;
  }
  return settings as Partial<DeclaredSettings>;
}

function configError(where: string, problem: string): ConfigError {
  return new ConfigError(`Invalid configuration: ALARM_SETTINGS${where}: ${problem}`);
}

/** The declaration for a notification's alarm: by ARN (the message's, or the one built for old messages), then by name. */
export function declaredFor(
  map: DeclaredSettingsMap,
  notification: Notification,
): Partial<DeclaredSettings> | undefined {
  if (notification.type !== 'alarm') return undefined;
  return declaredForAlarm(map, alarmIdentity(notification), notification.alarmName);
}

/** The declaration for an alarm known by its ARN and name (the sweep's, from DescribeAlarms): by ARN, then by name. */
export function declaredForAlarm(
  map: DeclaredSettingsMap,
  alarmArn: string,
  alarmName: string,
): Partial<DeclaredSettings> | undefined {
  return own(map, alarmArn) ?? own(map, alarmName);
}

/**
 * An alarm's INSUFFICIENT_DATA policy as the handler resolves it for a notification: its `pagerduty:insufficient-data`
 * tag, then its declaration, then the default.
 */
export function insufficientDataPolicyOf(
  tags: Readonly<Record<string, string>>,
  declared: Partial<DeclaredSettings> | undefined,
  fallback: InsufficientDataPolicy,
): InsufficientDataPolicy {
  return resolveSettings({
    tags,
    declared,
    defaults: { route: 'default', severity: 'error', insufficientData: fallback },
    knownRoutes: [],
  }).insufficientData;
}

/** The map's own entry for `key` (never one inherited, such as `constructor`). */
function own<T>(map: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}
