// The deploy marker: a CloudFormation custom resource that puts every create and update of the stack on the
// default PagerDuty service's change timeline (a change event, POST /v2/change/enqueue). It never fails the
// deploy: when PagerDuty or the key cannot be reached, that is logged, counted (ChangeEventFailures, which an
// alarm sends to the ops topic) and the resource still answers SUCCESS.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import type { PagerDutyChangeEvent } from './pagerduty/types';
import {
  DeliveryBudgetExhaustedError,
  describeFailure,
  PagerDutyClient,
  PagerDutyRejectedError,
  type DeliveryReport,
} from './pagerduty/client';
import { consoleHostFor } from './shared/regions';
import { ConfigError } from './shared/errors';
import { EVENTS_API_URL_RULE, isEventsApiUrl, isLoopbackUrl } from './shared/contract';
import { RoutingKeys } from './pagerduty/routing-keys';
import { logger, metrics, publishMetrics, type CountMetric } from './shared/telemetry';

export const CHANGE_EVENT_FAILURES_METRIC = 'ChangeEventFailures' satisfies CountMetric;

/** What the construct puts in the custom resource's properties (CloudFormation passes them as strings). */
export interface DeployMarkerProperties {
  /** The version being deployed, e.g. a commit; `-c version=<commit>` or the construct's prop. */
  readonly Version: string;
  /** The construct's path in the app, to tell several pipelines in one stack apart. */
  readonly Pipeline?: string;
  readonly Environment?: string;
}

export interface DeployMarkerDeps {
  readonly sendChange: (event: PagerDutyChangeEvent, deadline: number) => Promise<DeliveryReport>;
  /** Sends the custom resource's answer to CloudFormation's response URL. */
  readonly respond: (responseUrl: string, body: string) => Promise<void>;
  readonly countFailure: () => void;
  readonly log: {
    info(message: string, extra?: Record<string, unknown>): void;
    error(message: string, extra?: Record<string, unknown>): void;
  };
  readonly now?: () => number;
  /** Longest the change event may take, so the answer to CloudFormation always fits in the invocation. */
  readonly sendBudgetMs?: number;
}

export type DeployMarker = (
  event: CloudFormationCustomResourceEvent,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
) => Promise<{ sent: boolean; reason?: string }>;

/** CloudFormation's response bucket, `cloudformation-custom-resource-response-<region without dashes>`. */
const RESPONSE_BUCKET = 'cloudformation-custom-resource-response-[a-z0-9]+';
const S3_HOST = 's3(?:[.-][a-z]{2}(?:-[a-z]+)+-\\d)?\\.amazonaws\\.com(?:\\.cn)?';
const VIRTUAL_HOSTED = new RegExp(`^${RESPONSE_BUCKET}\\.${S3_HOST}$`);
const PATH_STYLE_HOST = new RegExp(`^${S3_HOST}$`);
const PATH_STYLE_BUCKET = new RegExp(`^/${RESPONSE_BUCKET}/`);

/**
 * Whether `text` is a pre-signed URL of CloudFormation's response bucket (virtual-hosted or path-style, any
 * region), or http to this machine (tests): the marker PUTs its answer nowhere else.
 */
export function isCloudFormationResponseUrl(text: string): boolean {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  if (url.protocol === 'http:') return isLoopbackUrl(url);
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '' || url.port !== '')
    return false;
  return (
    VIRTUAL_HOSTED.test(url.hostname) ||
    (PATH_STYLE_HOST.test(url.hostname) && PATH_STYLE_BUCKET.test(url.pathname))
  );
}

/** Parts of a CloudFormation stack ARN: `arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<id>`. */
export function stackOf(stackId: string): {
  partition: string;
  region: string;
  account: string;
  name: string;
} {
  const m = /^arn:([a-z-]+):cloudformation:([a-z0-9-]+):(\d{12}):stack\/([^/]+)\//.exec(stackId);
  if (!m) return { partition: 'aws', region: 'unknown', account: 'unknown', name: stackId };
  return { partition: m[1]!, region: m[2]!, account: m[3]!, name: m[4]! };
}

/** The change event for one deploy. Pure. */
export function changeEventFor(
  event: CloudFormationCustomResourceEvent,
  nowMs: number,
): PagerDutyChangeEvent {
  const props = event.ResourceProperties as unknown as Partial<DeployMarkerProperties>;
  const stack = stackOf(event.StackId);
  const version = String(props.Version ?? 'unknown').slice(0, 200);
  const verb = event.RequestType === 'Create' ? 'Deployed (new stack)' : 'Deployed';
  const environment = props.Environment ? ` [${props.Environment}]` : '';
  const host = consoleHostFor(stack.partition);
  const consoleUrl =
    host &&
    `https://${host}/cloudformation/home?region=${stack.region}#/stacks/stackinfo?stackId=${encodeURIComponent(event.StackId)}`;
  return {
    payload: {
      summary:
        `${verb}${environment} ${stack.name} version ${version} in ${stack.account} ${stack.region}`.slice(
          0,
          1024,
        ),
      source: `cloudformation:${stack.account}:${stack.region}:${stack.name}`.slice(0, 255),
      timestamp: new Date(nowMs).toISOString(),
      custom_details: {
        stack: stack.name,
        stack_id: event.StackId,
        account: stack.account,
        region: stack.region,
        version,
        request: event.RequestType,
        ...(props.Pipeline ? { pipeline: props.Pipeline } : {}),
        ...(props.Environment ? { environment: props.Environment } : {}),
      },
    },
    ...(consoleUrl ? { links: [{ href: consoleUrl, text: 'CloudFormation stack' }] } : {}),
  };
}

export function createDeployMarker(deps: DeployMarkerDeps): DeployMarker {
  const now = deps.now ?? Date.now;
  const sendBudgetMs = deps.sendBudgetMs ?? 20_000;
  return async (event, context) => {
    // Only CloudFormation invokes the marker with a real ResponseURL: anything else sends no change event either.
    if (!isCloudFormationResponseUrl(event.ResponseURL)) {
      deps.log.error(
        "Refused a request whose ResponseURL is not CloudFormation's: nothing sent, nothing answered",
        {
          responseHost: URL.canParse(event.ResponseURL)
            ? new URL(event.ResponseURL).host.slice(0, 120)
            : 'unparseable',
        },
      );
      throw new Error('The ResponseURL is not a CloudFormation response URL; the request was not answered.');
    }
    const physicalId =
      event.RequestType === 'Create'
        ? `${event.LogicalResourceId}-pagerduty-change-events`
        : event.PhysicalResourceId;
    let outcome: { sent: boolean; reason?: string } = { sent: false, reason: 'nothing to send on Delete' };
    if (event.RequestType !== 'Delete') {
      // Keep 5 s for answering CloudFormation: a custom resource that never answers holds the stack for an hour.
      const remaining = context?.getRemainingTimeInMillis?.() ?? 60_000;
      const deadline = now() + Math.max(0, Math.min(sendBudgetMs, remaining - 5_000));
      try {
        const report = await deps.sendChange(changeEventFor(event, now()), deadline);
        outcome = { sent: true };
        deps.log.info('PagerDuty change event sent for this deploy', {
          stackId: event.StackId,
          attempts: report.attempts,
          latencyMs: report.latencyMs,
        });
      } catch (error) {
        const reason = whyNotSent(error);
        outcome = { sent: false, reason };
        deps.countFailure();
        deps.log.error('PagerDuty change event NOT sent for this deploy; the deploy goes on', {
          stackId: event.StackId,
          reason,
        });
      }
    }
    const body = JSON.stringify({
      Status: 'SUCCESS',
      Reason: outcome.sent
        ? 'Change event sent to PagerDuty'
        : `Change event not sent: ${outcome.reason}`.slice(0, 1000),
      PhysicalResourceId: physicalId,
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
      Data: { Sent: String(outcome.sent) },
    });
    await respondWithRetries(deps, event.ResponseURL, body);
    return outcome;
  };
}

/** The reason in deploy terms (the shared errors speak of Lambda retries and a DLQ, which a deploy has not). */
function whyNotSent(error: unknown): string {
  if (error instanceof PagerDutyRejectedError)
    return `PagerDuty refused it: HTTP ${error.status} ${error.responseText}`;
  if (error instanceof DeliveryBudgetExhaustedError) {
    const last = error.lastFailure ?? 'no time left to try';
    return `PagerDuty not reachable in time (${error.attempts} attempt(s); last: ${last})`;
  }
  if (error instanceof Error)
    return `${error.name}: ${error.message.replace(/\s*(Lambda will retry|The event is retried).*$/s, '')}`;
  return String(error);
}

async function respondWithRetries(deps: DeployMarkerDeps, url: string, body: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await deps.respond(url, body);
      return;
    } catch (error) {
      if (attempt >= 3) throw error;
      deps.log.error('Could not answer CloudFormation; trying again', { attempt, reason: String(error) });
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    }
  }
}

/** PUT the answer to the pre-signed response URL, with the empty content type its signature expects. */
export function putResponse(responseUrl: string, body: string): Promise<void> {
  const url = new URL(responseUrl);
  const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: 'PUT',
        headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) },
        timeout: 10_000,
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode && res.statusCode < 300
            ? resolve()
            : reject(new Error(`the response URL answered HTTP ${res.statusCode}`)),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('the response URL did not answer in 10 s')));
    req.on('error', reject);
    req.end(body);
  });
}

let marker: DeployMarker | undefined;

/** Lambda entry point. Env: ROUTING_KEY_SECRET_ID (the default route's secret), PAGERDUTY_EVENTS_URL. */
export const handler = async (
  event: CloudFormationCustomResourceEvent,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<void> => {
  try {
    marker ??= deployMarkerFromEnv(process.env);
    await marker(event, context);
  } finally {
    publishMetrics();
  }
};

/** The marker with its clients, from an environment (the `handler` uses `process.env`). */
export function deployMarkerFromEnv(env: NodeJS.ProcessEnv): DeployMarker {
  const secretId = env.ROUTING_KEY_SECRET_ID ?? '';
  const keys = new RoutingKeys({
    client: new SecretsManagerClient({
      maxAttempts: 2,
      endpoint: env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? env.AWS_ENDPOINT_URL,
    }),
    secretIds: { default: secretId },
    cacheMs: 0,
  });
  const baseUrl = (env.PAGERDUTY_EVENTS_URL ?? 'https://events.pagerduty.com').replace(/\/+$/, '');
  const client = new PagerDutyClient({
    baseUrl,
    connectTimeoutMs: 3000,
    responseTimeoutMs: 5000,
    retryBaseDelayMs: 200,
    retryMaxDelayMs: 4000,
    rateLimitPerMinute: 0,
    onRetry: (failure, attempt) =>
      logger.warn('PagerDuty change event attempt failed; retrying', {
        attempt,
        failure: describeFailure(failure),
      }),
  });
  return createDeployMarker({
    sendChange: async (event, deadline) => {
      // Checked per send, not at start: a bad setting must still let the deploy go on, with the reason logged.
      if (!isEventsApiUrl(baseUrl)) throw new ConfigError(`PAGERDUTY_EVENTS_URL ${EVENTS_API_URL_RULE}`);
      return client.sendChange(await keys.keyFor('default'), event, deadline);
    },
    respond: putResponse,
    countFailure: () => metrics.addMetric(CHANGE_EVENT_FAILURES_METRIC, MetricUnit.Count, 1),
    log: {
      info: (message, extra = {}) => logger.info(message, extra),
      error: (message, extra = {}) => logger.error(message, extra),
    },
  });
}
