// One error model for the handler. Every error the pipeline throws says whether trying again can help
// (go-pagerduty's Temporary()), and its message says what happened and what to do next.

import { cutText } from './text';

/** The base of the pipeline's errors. */
export abstract class PipelineError extends Error {
  /** True when the same input may succeed later (timeouts, throttling, outages); false when it never will. */
  abstract readonly retryable: boolean;
}

/** A setting is invalid: fix the environment variable named in the message and redeploy. */
export class ConfigError extends PipelineError {
  override readonly name = 'ConfigError';
  readonly retryable = false;
}

/** PagerDuty refused the event (400 or another non-retryable 4xx): retrying the same event cannot help. */
export class PagerDutyRejectedError extends PipelineError {
  override readonly name = 'PagerDutyRejectedError';
  readonly retryable = false;
  constructor(
    readonly status: number,
    readonly responseText: string,
  ) {
    super(
      `PagerDuty rejected the event with HTTP ${status}: ${responseText}. ` +
        'Retrying cannot help: fix the event or the routing key, then redrive it from the parked queue.',
    );
  }
}

/** Every attempt failed transiently and the invocation's time budget is spent. */
export class DeliveryBudgetExhaustedError extends PipelineError {
  override readonly name = 'DeliveryBudgetExhaustedError';
  readonly retryable = true;
  constructor(
    readonly attempts: number,
    /** The last attempt's failure, described; undefined when no attempt could start. */
    readonly lastFailure: string | undefined,
    /**
     * An attempt was sent but not answered (a response timeout, a dropped connection): PagerDuty may still
     * receive it, later. False when every attempt was answered, or never left.
     */
    readonly mayLandLater: boolean,
  ) {
    super(
      `PagerDuty delivery gave up after ${attempts} attempt(s) within the invocation's time budget; ` +
        `last failure: ${lastFailure ?? 'none (no time left to try)'}. The event is retried later ` +
        '(Lambda retries, then the retry queue).',
    );
  }
}

/** The client-side rate limit has no free slot for this routing key before the deadline. */
export class RateLimitBudgetError extends PipelineError {
  override readonly name = 'RateLimitBudgetError';
  readonly retryable = true;
  constructor(
    readonly waitMs: number,
    readonly attempts: number,
  ) {
    super(
      `The client-side rate limit (RATE_LIMIT_PER_MINUTE) has no free slot for this routing key for ${waitMs} ms, ` +
        "past the invocation's time budget. The event is retried later; nothing was dropped.",
    );
  }
}

/**
 * PagerDuty answered 429, or the client-side limit is full, for a send told not to wait: a fresh notification
 * hands its event to the retry queue, whose few consumers wait for free slots instead of every instance at once.
 */
export class PagerDutyThrottledError extends PipelineError {
  override readonly name = 'PagerDutyThrottledError';
  readonly retryable = true;
  constructor(
    readonly detail: string,
    /**
     * An earlier attempt of this send was sent and never answered (a response timeout, a dropped connection), so
     * PagerDuty may still receive it. False when none was, or the throttle came before any attempt.
     */
    readonly mayLandLater = false,
  ) {
    super(
      `PagerDuty is throttling this routing key (${detail}). The event is retried from the retry queue, ` +
        'whose consumers wait for free rate-limit slots; nothing was dropped.',
    );
  }
}

/** The routing key's secret could not be read and no earlier copy is cached. */
export class RoutingKeyUnavailableError extends PipelineError {
  override readonly name = 'RoutingKeyUnavailableError';
  readonly retryable = true;
}

/** The secret was read but does not hold a usable integration key: fix the secret's value. */
export class RoutingKeyInvalidError extends PipelineError {
  override readonly name = 'RoutingKeyInvalidError';
  readonly retryable = false;
}

/** The ledger could not mark a sent event delivered; a retry sends the same action again. */
export class LedgerSettleError extends PipelineError {
  override readonly name = 'LedgerSettleError';
  readonly retryable = true;
}

/** The ledger item kept changing under us; a retry starts over. */
export class LedgerContentionError extends PipelineError {
  override readonly name = 'LedgerContentionError';
  readonly retryable = true;
}

/**
 * Another delivery of the same alert held the ledger's lease (it was sending to PagerDuty) until this delivery's
 * time ran out; a retry tries again, by when that send has ended or its lease has run out.
 */
export class LedgerLeaseBusyError extends PipelineError {
  override readonly name = 'LedgerLeaseBusyError';
  readonly retryable = true;
}

/** The handler was invoked with an event it does not know: nothing in it can be delivered as it is. */
export class MalformedEventError extends PipelineError {
  override readonly name = 'MalformedEventError';
  readonly retryable = false;
}

/** Some records of an event were not delivered; `retryable` when every failure was transient. */
export class RecordsFailedError extends PipelineError {
  override readonly name = 'RecordsFailedError';
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * A metric graph could not be made: the reason is in the message, the step in `step`. The page goes without the
 * image; nothing retries it, but each step is an AWS call or a deadline that may succeed another time.
 */
export class MetricGraphError extends PipelineError {
  override readonly name = 'MetricGraphError';
  readonly retryable = true;
  constructor(
    readonly step: 'describe' | 'render' | 'store' | 'sign' | 'timeout',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** SERVICE_SEVERITIES is not a JSON object of known services to PagerDuty severities (config.ts reports it). */
export class ServiceSeveritiesError extends Error {
  override readonly name = 'ServiceSeveritiesError';
}

/** Whether trying again may help. Errors we did not classify (SDK, network) are taken as transient. */
export function isRetryable(error: unknown): boolean {
  return error instanceof PipelineError ? error.retryable : true;
}

/** The error's message alone, cut to 200 characters: for a failure quoted inside a sentence (a JSON parse error). */
export function errorMessage(error: unknown): string {
  return cutText(error instanceof Error ? error.message : String(error), 200);
}

/** `Name: message` for logs and error texts, whatever was thrown. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return typeof error === 'string' ? error : (JSON.stringify(error) ?? String(error));
}
