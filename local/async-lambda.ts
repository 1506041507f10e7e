import type { SNSEvent } from 'aws-lambda';
import { lambdaContext } from './alarm-fixtures';

/**
 * Lambda's asynchronous invocation, modelled for storm tests: an event queue drained by at most `concurrency`
 * invocations (reserved concurrency), each with a time budget; a failed invocation is retried twice after
 * delays (about 1 and 2 minutes in Lambda, compressed here), then the event goes to the dead-letter queue.
 */
export interface AsyncLambdaOptions {
  readonly invoke: (event: SNSEvent, context: ReturnType<typeof lambdaContext>) => Promise<unknown>;
  readonly concurrency: number;
  /** The function's timeout: each invocation's remaining time at start. */
  readonly budgetMs: number;
  /** Delays before the second and third attempts. */
  readonly retryDelaysMs: readonly [number, number];
}

export interface AsyncLambdaResult {
  readonly invocations: number;
  readonly failures: number;
  readonly deadLetters: SNSEvent[];
  readonly elapsedMs: number;
}

interface Pending {
  readonly event: SNSEvent;
  readonly attempt: number;
  readonly readyAt: number;
}

export async function runAsyncInvocations(
  events: readonly SNSEvent[],
  options: AsyncLambdaOptions,
): Promise<AsyncLambdaResult> {
  const started = Date.now();
  const queue: Pending[] = events.map((event) => ({ event, attempt: 1, readyAt: started }));
  const deadLetters: SNSEvent[] = [];
  let invocations = 0;
  let failures = 0;
  let inFlight = 0;

  const takeReady = (): Pending | undefined => {
    const now = Date.now();
    const index = queue.findIndex((item) => item.readyAt <= now);
    return index < 0 ? undefined : queue.splice(index, 1)[0];
  };

  const worker = async (): Promise<void> => {
    for (;;) {
      const item = takeReady();
      if (!item) {
        if (queue.length === 0 && inFlight === 0) return;
        const nextReady = queue.length ? Math.min(...queue.map((q) => q.readyAt)) : Date.now() + 5;
        await new Promise((resolve) =>
          setTimeout(resolve, Math.max(1, Math.min(nextReady - Date.now(), 20))),
        );
        continue;
      }
      inFlight++;
      invocations++;
      try {
        await options.invoke(item.event, lambdaContext(options.budgetMs));
      } catch {
        failures++;
        const delay = options.retryDelaysMs[item.attempt - 1];
        if (delay === undefined) deadLetters.push(item.event);
        else queue.push({ event: item.event, attempt: item.attempt + 1, readyAt: Date.now() + delay });
      } finally {
        inFlight--;
      }
    }
  };

  await Promise.all(Array.from({ length: options.concurrency }, () => worker()));
  return { invocations, failures, deadLetters, elapsedMs: Date.now() - started };
}
