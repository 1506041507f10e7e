import { en } from 'zod/locales';
import type { PagerDutyClientOptions } from '../pagerduty/client';
import * as z from 'zod/mini';
import {
  ENVIRONMENT_NAME,
  ENVIRONMENT_NAME_RULE,
  EVENTS_API_URL_RULE,
  isEventsApiUrl,
  LINK_HOST,
  INSUFFICIENT_DATA_POLICIES,
  ROUTE_NAME,
  ROUTE_NAME_RULE,
  SEVERITIES,
  TRIAGE_MODES,
  UNRECOGNISED_MODES,
  type HandlerEnvironment,
  type InsufficientDataPolicy,
  type Severity,
  type TriageMode,
  type UnrecognisedMode,
} from '../shared/contract';
import { ConfigError } from '../shared/errors';
import { parseServiceSeverities } from '../messages/services/severities';
import type { ServiceSeverities } from '../messages/services/types';
import { trimTrailing } from '../shared/text';
import type { IntakeTrust } from './intake-trust';

export { ConfigError, INSUFFICIENT_DATA_POLICIES, SEVERITIES };

// zod/mini: the functional, tree-shakeable API (the classic `z.string().min()` chain pulls in all of zod).
const routeName = z.string().check(z.regex(ROUTE_NAME, ROUTE_NAME_RULE));

const jsonText = z.pipe(
  z.string(),
  z.transform((text: string, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.issues.push({ code: 'custom', message: 'is not JSON', input: text });
      return z.NEVER;
    }
  }),
);

const routingKeySecrets = z.pipe(
  jsonText,
  z
    .record(routeName, z.string().check(z.minLength(1, 'a secret id must not be empty')))
    .check(z.refine((routes) => 'default' in routes, 'needs a "default" route')),
);

/** ENVIRONMENT_ROUTES: environment name → route; the names and the routes' keys are checked in loadConfig. */
const environmentRoutes = z.pipe(jsonText, z.record(z.string(), routeName));

const accountIds = z.pipe(
  jsonText,
  z.array(z.string().check(z.regex(/^\d{12}$/, 'an account id is 12 digits'))),
);

const serviceSeverities = z.pipe(
  z.string(),
  z.transform((text: string, ctx) => {
    try {
      return parseServiceSeverities(text);
    } catch (error) {
      ctx.issues.push({ code: 'custom', message: (error as Error).message, input: text });
      return z.NEVER;
    }
  }),
);

/** Where the reconciliation sweep reads alarms, and what marks an alarm there as wired to this pipeline. */
const reconcileSource = z.object({
  region: z.string().check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'is not a region code such as us-east-1')),
  accountId: z.string().check(z.regex(/^\d{12}$/, 'is not a 12-digit account id')),
  topicArns: z.array(z.string().check(z.regex(/^arn:aws[a-z-]*:sns:/, 'is not an SNS topic ARN'))),
  roleArn: z.optional(
    z.string().check(z.regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+/, 'is not an IAM role ARN')),
  ),
  alarmNamePrefixes: z._default(z.array(z.string().check(z.minLength(1))), []),
  routeTagged: z._default(z.boolean(), false),
});
export type ReconcileSource = z.infer<typeof reconcileSource>;

const integer = (min: number, fallback: number) =>
  z._default(z.coerce.number().check(z.int(), z.gte(min)), fallback);

const schema = z.object({
  LEDGER_TABLE_NAME: z.string().check(z.minLength(1)),
  ROUTING_KEY_SECRETS: routingKeySecrets,
  PAGERDUTY_EVENTS_URL: z.pipe(
    z._default(z.url().check(z.refine(isEventsApiUrl, EVENTS_API_URL_RULE)), 'https://events.pagerduty.com'),
    z.transform((url: string) => trimTrailing(url, '/')),
  ),
  DEFAULT_SEVERITY: z._default(z.enum(SEVERITIES), 'critical'),
  INSUFFICIENT_DATA_POLICY: z._default(z.enum(INSUFFICIENT_DATA_POLICIES), 'ignore'),
  UNRECOGNISED_MESSAGES: z._default(z.enum(UNRECOGNISED_MODES), 'trigger'),
  SERVICE_SEVERITIES: z.optional(serviceSeverities),
  ENVIRONMENT: z._default(z.string().check(z.regex(ENVIRONMENT_NAME, ENVIRONMENT_NAME_RULE)), ''),
  ENVIRONMENT_ROUTES: z._default(environmentRoutes, {}),
  // Longer than the DLQ keeps a message (14 days) plus the async queue (6 h): a redriven old notification must
  // still find the newer state in the ledger, or it would page for an alarm that has since cleared.
  LEDGER_TTL_DAYS: integer(15, 90),
  SECRETS_CACHE_SECONDS: integer(0, 300),
  HTTP_CONNECT_TIMEOUT_MS: integer(1, 3000),
  HTTP_RESPONSE_TIMEOUT_MS: integer(1, 10000),
  RETRY_BASE_DELAY_MS: integer(1, 200),
  RETRY_MAX_DELAY_MS: integer(1, 8000),
  TIME_BUDGET_MARGIN_MS: integer(0, 5000),
  // How long a send that was never answered keeps its alert's lease: the time within which its request may still
  // reach PagerDuty, during which a newer state of the alert waits.
  LEASE_GRACE_MS: integer(0, 5000),
  RATE_LIMIT_PER_MINUTE: integer(0, 120),
  CLIENT_NAME: z._default(z.string().check(z.minLength(1), z.maxLength(256)), 'CloudWatch alarm pipeline'),
  // SNS stamps each message when it accepts it, after CloudWatch stamped the change, and AWS clocks agree far better
  // than alarms change state: a later claimed time is forged or mistyped and is ordered at the stamp (plus this), so a
  // real change published after a forged one wins on arrival (design decision 14).
  MAX_CLOCK_SKEW_SECONDS: integer(0, 0),
  // How long a dead letter is retried from the retry queue before it is parked for a person.
  RETRY_WINDOW_HOURS: integer(1, 24),
  PARKED_QUEUE_URL: z.optional(z.url()),
  RECONCILE_SOURCES: z._default(z.pipe(jsonText, z.array(reconcileSource)), []),
  // An alarm that changed state less than this ago is left to its notification, which may be in flight.
  RECONCILE_MISSED_GRACE_SECONDS: integer(0, 120),
  RECONCILE_MAX_CORRECTIONS: integer(1, 500),
  // Decision 15: the central topic also carries these accounts' alarms; every other topic only its own account's.
  CENTRAL_TOPIC_ARN: z.optional(
    z
      .string()
      .check(
        z.regex(
          /^arn:[a-z][a-z0-9-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}$/,
          'is not an SNS topic ARN',
        ),
      ),
  ),
  PUBLISHER_ACCOUNT_IDS: z._default(accountIds, []),
  // A runbook or dashboard link from an alarm tag travels in the message: whoever can publish chooses it.
  LINK_HOSTS: z.optional(
    z.pipe(
      jsonText,
      z.array(z.string().check(z.regex(LINK_HOST, 'a host is `docs.example.com` or `*.example.com`'))),
    ),
  ),
  // Model triage (lambda/triage/) is off unless a Bedrock model or inference-profile id is set.
  TRIAGE_MODEL_ID: z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
  TRIAGE_SEVERITY: z._default(z.enum(TRIAGE_MODES), 'suggest'),
  // A model answers in about a second; past this the page goes out without triage (design decision 16).
  TRIAGE_TIMEOUT_MS: z._default(z.coerce.number().check(z.int(), z.gte(100), z.lte(10_000)), 1500),
  TRIAGE_NOTE_MAX_CHARS: z._default(z.coerce.number().check(z.int(), z.gte(40), z.lte(1000)), 300),
  // Each key is a HandlerEnvironment variable: a misspelt name here does not compile.
} satisfies { [K in keyof HandlerEnvironment]?: z.ZodMiniType });

// zod/mini registers no locale; English messages ("Invalid input: expected string, received undefined"), as classic zod.
const english = en().localeError;

export type Config = Readonly<{
  ledgerTableName: string;
  routingKeySecrets: Readonly<Record<string, string>>;
  pagerDutyEventsUrl: string;
  defaultSeverity: Severity;
  insufficientDataPolicy: InsufficientDataPolicy;
  unrecognisedMessages: UnrecognisedMode;
  /** The severity of recognised AWS service notifications, by `service[:kind or outcome]`; empty by default. */
  serviceSeverities: ServiceSeverities;
  environment?: string;
  /** Environment name, lower-cased → the route its alarms go to when they name none; empty by default. */
  environmentRoutes: Readonly<Record<string, string>>;
  ledgerTtlSeconds: number;
  secretsCacheMs: number;
  httpConnectTimeoutMs: number;
  httpResponseTimeoutMs: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  timeBudgetMarginMs: number;
  leaseGraceMs: number;
  /** 0 turns the client-side limiter off. */
  rateLimitPerMinute: number;
  clientName: string;
  maxClockSkewMs: number;
  retryWindowMs: number;
  /** Where the handler parks dead letters that retrying cannot fix; unset: the retry queue's redrive policy parks them. */
  parkedQueueUrl?: string;
  /** Where the reconciliation sweep reads alarms; empty: it checks only the open incidents the ledger holds. */
  reconcileSources: readonly ReconcileSource[];
  reconcileMissedGraceMs: number;
  reconcileMaxCorrections: number;
  /** Which accounts each intake may carry (decision 15). */
  intakeTrust: IntakeTrust;
  /** The hosts runbook and dashboard links from alarm tags may name; unset, any https host. */
  linkHosts?: readonly string[];
  /** Model triage; absent (off) unless TRIAGE_MODEL_ID is set. */
  triage?: TriageConfig;
}>;

export type TriageConfig = Readonly<{
  modelId: string;
  /** `suggest`: custom_details only; `apply`: also the severity of alarms that declare none. */
  mode: TriageMode;
  timeoutMs: number;
  noteMaxChars: number;
}>;

/** Reads the configuration once from the environment; a bad setting throws naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')), {
    error: english,
  });
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`,
    );
    throw new ConfigError(`Invalid configuration: ${lines.join('; ')}`);
  }
  const c = parsed.data;
  const environmentRoutes = environmentRoutesOf(c.ENVIRONMENT_ROUTES, c.ROUTING_KEY_SECRETS);
  return {
    ledgerTableName: c.LEDGER_TABLE_NAME,
    routingKeySecrets: c.ROUTING_KEY_SECRETS,
    pagerDutyEventsUrl: c.PAGERDUTY_EVENTS_URL,
    defaultSeverity: c.DEFAULT_SEVERITY,
    insufficientDataPolicy: c.INSUFFICIENT_DATA_POLICY,
    unrecognisedMessages: c.UNRECOGNISED_MESSAGES,
    serviceSeverities: c.SERVICE_SEVERITIES ?? {},
    environment: c.ENVIRONMENT || undefined,
    environmentRoutes,
    ledgerTtlSeconds: c.LEDGER_TTL_DAYS * 86400,
    secretsCacheMs: c.SECRETS_CACHE_SECONDS * 1000,
    httpConnectTimeoutMs: c.HTTP_CONNECT_TIMEOUT_MS,
    httpResponseTimeoutMs: c.HTTP_RESPONSE_TIMEOUT_MS,
    retryBaseDelayMs: c.RETRY_BASE_DELAY_MS,
    retryMaxDelayMs: c.RETRY_MAX_DELAY_MS,
    timeBudgetMarginMs: c.TIME_BUDGET_MARGIN_MS,
    leaseGraceMs: c.LEASE_GRACE_MS,
    rateLimitPerMinute: c.RATE_LIMIT_PER_MINUTE,
    clientName: c.CLIENT_NAME,
    maxClockSkewMs: c.MAX_CLOCK_SKEW_SECONDS * 1000,
    retryWindowMs: c.RETRY_WINDOW_HOURS * 3_600_000,
    parkedQueueUrl: c.PARKED_QUEUE_URL,
    reconcileSources: c.RECONCILE_SOURCES,
    reconcileMissedGraceMs: c.RECONCILE_MISSED_GRACE_SECONDS * 1000,
    reconcileMaxCorrections: c.RECONCILE_MAX_CORRECTIONS,
    linkHosts: c.LINK_HOSTS,
    intakeTrust: { centralTopicArn: c.CENTRAL_TOPIC_ARN, publisherAccountIds: c.PUBLISHER_ACCOUNT_IDS },
    triage:
      c.TRIAGE_MODEL_ID === undefined
        ? undefined
        : {
            modelId: c.TRIAGE_MODEL_ID,
            mode: c.TRIAGE_SEVERITY,
            timeoutMs: c.TRIAGE_TIMEOUT_MS,
            noteMaxChars: c.TRIAGE_NOTE_MAX_CHARS,
          },
  };
}

/**
 * ENVIRONMENT_ROUTES keyed by lower-cased name (tags are matched without regard to case), each route one that
 * ROUTING_KEY_SECRETS has a key for: a route without one, or two names that differ only in case, is a ConfigError.
 */
function environmentRoutesOf(
  routes: Readonly<Record<string, string>>,
  routingKeySecrets: Readonly<Record<string, string>>,
): Readonly<Record<string, string>> {
  const byName: Record<string, string> = {};
  const problems: string[] = [];
  for (const [name, route] of Object.entries(routes)) {
    const key = name.toLowerCase();
    if (name === '' || !ENVIRONMENT_NAME.test(name)) {
      problems.push(`${JSON.stringify(name)}: is not an environment name (1-32 of A-Z a-z 0-9 _ -)`);
    } else if (Object.hasOwn(byName, key)) {
      problems.push(`${name}: names the same environment as another entry (names are matched without case)`);
    } else if (!Object.hasOwn(routingKeySecrets, route)) {
      const known = Object.keys(routingKeySecrets).join(', ');
      problems.push(`${name}: route "${route}" has no routing key (ROUTING_KEY_SECRETS has ${known})`);
    } else {
      byName[key] = route;
    }
  }
  if (problems.length > 0) {
    throw new ConfigError(
      `Invalid configuration: ${problems.map((problem) => `ENVIRONMENT_ROUTES.${problem}`).join('; ')}`,
    );
  }
  return byName;
}

/** The PagerDuty client's settings from the configuration: the handler and the simulations build their clients alike. */
export function pagerDutyClientSettings(
  config: Config,
): Pick<
  PagerDutyClientOptions,
  | 'baseUrl'
  | 'connectTimeoutMs'
  | 'responseTimeoutMs'
  | 'retryBaseDelayMs'
  | 'retryMaxDelayMs'
  | 'rateLimitPerMinute'
> {
  return {
    baseUrl: config.pagerDutyEventsUrl,
    connectTimeoutMs: config.httpConnectTimeoutMs,
    responseTimeoutMs: config.httpResponseTimeoutMs,
    retryBaseDelayMs: config.retryBaseDelayMs,
    retryMaxDelayMs: config.retryMaxDelayMs,
    rateLimitPerMinute: config.rateLimitPerMinute,
  };
}
