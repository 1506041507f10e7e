import { Duration } from 'aws-cdk-lib';

/**
 * How the retry queue is consumed. A failed letter becomes visible again after the visibility timeout, so it is
 * retried at least every 4 minutes (test/lambda/handler.storm.simulation.test.ts and test/lambda/handler.outage.simulation.test.ts measure these
 * settings: 5 minutes left letters waiting past the 5-minute goal behind a storm's backlog); the function timeout may not exceed it (Lambda refuses the event source mapping
 * otherwise: https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html). Two concurrent batches
 * (the least Lambda allows for maxConcurrency) leave the rest of the concurrency to fresh alarms.
 */
export const RETRY_QUEUE = {
  visibilityTimeout: Duration.minutes(4),
  batchSize: 10,
  maxConcurrency: 2,
  /** SQS moves a letter to the parked queue after this many times the retry window's worth of receives. */
  receiveMargin: 1.25,
} as const;

/**
 * Receives after which SQS parks a letter itself: more than the handler needs to see a letter outlive the retry
 * window at one receive per visibility timeout, so the handler parks it first, with its reason. SQS allows 1-1000.
 */
export function maxReceiveCount(retryWindowHours: number): number {
  const receivesInWindow = (retryWindowHours * 3600) / RETRY_QUEUE.visibilityTimeout.toSeconds();
  return Math.ceil(receivesInWindow * RETRY_QUEUE.receiveMargin);
}
