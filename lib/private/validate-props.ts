import { Token, type Duration } from 'aws-cdk-lib';
import { ENVIRONMENT_NAME, INSUFFICIENT_DATA_POLICIES, ROUTE_NAME, SEVERITIES } from '../paging-options';
import { LINK_HOST } from '../../lambda/shared/contract';
import { RETRY_QUEUE } from './retry-queue';

/** The props `checkProps` reads: AlarmToPagerDutyProps has them all (named here so no import goes back to it). */
export interface CheckedProps {
  readonly routes: Readonly<Record<string, unknown>>;
  readonly defaultSeverity?: string;
  readonly insufficientDataPolicy?: string;
  readonly unrecognisedMessages?: string;
  readonly environment?: string;
  readonly environmentRoutes?: Readonly<Record<string, string>>;
  readonly pagerDutyEventsUrl?: string;
  readonly reservedConcurrency?: number;
  readonly ledgerTtl?: Duration;
  readonly maxEventAge?: Duration;
  readonly retryWindow?: Duration;
  readonly timeout?: Duration;
  readonly opsEmail?: string;
  readonly opsTopic?: unknown;
  readonly publisherAccountIds?: readonly string[];
  readonly publisherRoleArns?: readonly string[];
  readonly restrictPublishing?: boolean;
  readonly linkHosts?: readonly string[];
}

/** Refuses, at synth, props that would deploy a pipeline that cannot page; each message names the prop. */
export function checkProps(props: CheckedProps): void {
  checkNames(props);
  checkCapacityAndTimes(props);
  checkPublishing(props);
}

/** Routes, enumerated settings, the environment name and the Events API URL. */
function checkNames(props: CheckedProps): void {
  const routeNames = Object.keys(props.routes);
  if (!routeNames.includes('default')) {
    throw new Error(
      `AlarmToPagerDuty: routes must contain "default" (got: ${routeNames.join(', ') || 'none'}); ` +
        'it receives every alarm that does not name a route.',
    );
  }
  const badRoute = routeNames.find((name) => !ROUTE_NAME.test(name));
  if (badRoute !== undefined) {
    throw new Error(`AlarmToPagerDuty: route name "${badRoute}" must be 1-64 of A-Z a-z 0-9 _ . -`);
  }
  const oneOf = <T extends string>(name: string, value: T | undefined, allowed: readonly T[]) => {
    if (value !== undefined && !Token.isUnresolved(value) && !allowed.includes(value)) {
      throw new Error(`AlarmToPagerDuty: ${name} "${value}" must be one of ${allowed.join(', ')}`);
    }
  };
  oneOf('defaultSeverity', props.defaultSeverity, SEVERITIES);
  oneOf('insufficientDataPolicy', props.insufficientDataPolicy, INSUFFICIENT_DATA_POLICIES);
  oneOf('unrecognisedMessages', props.unrecognisedMessages, ['trigger', 'drop']);
  const { environment, pagerDutyEventsUrl } = props;
  if (environment !== undefined && !Token.isUnresolved(environment) && !ENVIRONMENT_NAME.test(environment)) {
    throw new Error(`AlarmToPagerDuty: environment "${environment}" must be 0-32 of A-Z a-z 0-9 _ -`);
  }
  if (pagerDutyEventsUrl !== undefined && !Token.isUnresolved(pagerDutyEventsUrl)) {
    if (!/^https:\/\/[^/\s]+/.test(pagerDutyEventsUrl)) {
      throw new Error(`AlarmToPagerDuty: pagerDutyEventsUrl "${pagerDutyEventsUrl}" must be an https:// URL`);
    }
  }
  checkEnvironmentRoutes(props.environmentRoutes ?? {}, routeNames);
}

/** Each environment name once (without regard to case), each route one of `routes`: what the handler refuses. */
function checkEnvironmentRoutes(
  environmentRoutes: Readonly<Record<string, string>>,
  routeNames: string[],
): void {
  const seen = new Set<string>();
  for (const [name, route] of Object.entries(environmentRoutes)) {
    if (Token.isUnresolved(name) || Token.isUnresolved(route)) continue;
    if (name === '' || !ENVIRONMENT_NAME.test(name)) {
      throw new Error(`AlarmToPagerDuty: environmentRoutes name "${name}" must be 1-32 of A-Z a-z 0-9 _ -`);
    }
    if (seen.has(name.toLowerCase())) {
      throw new Error(
        `AlarmToPagerDuty: environmentRoutes names "${name}" twice (names are matched without regard to case)`,
      );
    }
    seen.add(name.toLowerCase());
    if (!routeNames.includes(route)) {
      throw new Error(
        `AlarmToPagerDuty: environmentRoutes.${name} is "${route}", which is not one of routes (${routeNames.join(', ')})`,
      );
    }
  }
}

/** Concurrency, the retry window, the timeout, the ledger's TTL and the async event age. */
function checkCapacityAndTimes(props: CheckedProps): void {
  const { reservedConcurrency, ledgerTtl, maxEventAge, retryWindow, timeout } = props;
  const leastReservation = RETRY_QUEUE.maxConcurrency + 1;
  if (
    reservedConcurrency !== undefined &&
    (!Number.isInteger(reservedConcurrency) || reservedConcurrency < leastReservation)
  ) {
    throw new Error(
      `AlarmToPagerDuty: reservedConcurrency must be a whole number ≥ ${leastReservation} (got ${reservedConcurrency}): ` +
        `the retry queue may use ${RETRY_QUEUE.maxConcurrency} at once and fresh alarms need the rest; 0 would stop paging. ` +
        'Leave it unset to share the account’s unreserved concurrency.',
    );
  }
  const windowHours = retryWindow?.toHours({ integral: false }) ?? 24;
  if (!Number.isInteger(windowHours) || windowHours < 1 || windowHours > 48) {
    throw new Error(
      `AlarmToPagerDuty: retryWindow must be a whole number of hours, 1 to 48 (got ${retryWindow})`,
    );
  }
  if (timeout !== undefined && timeout.toSeconds() > RETRY_QUEUE.visibilityTimeout.toSeconds()) {
    throw new Error(
      `AlarmToPagerDuty: timeout must be at most ${RETRY_QUEUE.visibilityTimeout.toMinutes()} minutes ` +
        `(got ${timeout.toSeconds()} seconds): ` +
        'the retry queue hides a letter that long while an invocation works on it, and Lambda refuses a longer timeout',
    );
  }
  const ttlHours = ledgerTtl?.toHours({ integral: false }) ?? 15 * 24;
  if (!Number.isInteger(ttlHours / 24) || ttlHours < 15 * 24) {
    throw new Error(
      `AlarmToPagerDuty: ledgerTtl must be a whole number of days, at least 15, longer than the queues keep a letter (got ${ledgerTtl})`,
    );
  }
  if (maxEventAge !== undefined && (maxEventAge.toSeconds() < 60 || maxEventAge.toSeconds() > 6 * 3600)) {
    throw new Error(
      `AlarmToPagerDuty: maxEventAge must be between 1 minute and 6 hours (got ${maxEventAge})`,
    );
  }
}

/** The ops topic, who may publish, and the hosts links may name. */
function checkPublishing(props: CheckedProps): void {
  if (props.opsEmail !== undefined && props.opsTopic !== undefined) {
    throw new Error(
      'AlarmToPagerDuty: opsEmail subscribes to the ops topic this construct creates; with your own opsTopic, subscribe to it yourself',
    );
  }
  const badAccount = (props.publisherAccountIds ?? []).find(
    (account) => !Token.isUnresolved(account) && !/^\d{12}$/.test(account),
  );
  if (badAccount !== undefined) {
    throw new Error(
      `AlarmToPagerDuty: publisherAccountIds entry "${badAccount}" is not a 12-digit account ID`,
    );
  }
  if (props.publisherRoleArns !== undefined && !props.restrictPublishing) {
    throw new Error(
      'AlarmToPagerDuty: publisherRoleArns only has an effect with restrictPublishing: true (without it, any principal ' +
        'of this account whose IAM policies allow sns:Publish can publish)',
    );
  }
  const badRole = (props.publisherRoleArns ?? []).find(
    (arn) => !Token.isUnresolved(arn) && !/^arn:aws[a-z-]*:iam::(\d{12}|\*):role\/\S+$/.test(arn),
  );
  if (badRole !== undefined) {
    throw new Error(
      `AlarmToPagerDuty: publisherRoleArns entry "${badRole}" is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)`,
    );
  }
  const badHost = (props.linkHosts ?? []).find((host) => !Token.isUnresolved(host) && !LINK_HOST.test(host));
  if (badHost !== undefined) {
    throw new Error(
      `AlarmToPagerDuty: linkHosts entry "${badHost}" is not a host name (docs.example.com) or *.example.com`,
    );
  }
}
