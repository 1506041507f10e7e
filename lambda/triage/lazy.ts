// Statically imported by the handler, so it imports types only: the triage code and the Bedrock SDK load when
// TRIAGE_MODEL_ID is set, and the path without triage loads nothing more.
import type { CountMetric } from '../shared/contract';
import type { TriageRequest, TriageResult, TriageStep } from './types';

export interface LazyTriageOptions {
  /** Starts loading at once (during the function's init); the first trigger waits for it within `timeoutMs`. */
  readonly load: () => Promise<TriageStep>;
  readonly timeoutMs: number;
  readonly count: (metric: CountMetric) => void;
}

/** A triage step loaded with `import()`: one that failed to load, or is not loaded in time, pages without triage. */
export function lazyTriage({ load, timeoutMs, count }: LazyTriageOptions): TriageStep {
  const loading: Promise<TriageStep | Error> = load().catch((error: unknown) =>
    error instanceof Error ? error : new Error(String(error)),
  );
  let loaded: TriageStep | Error | undefined;
  void loading.then((step) => (loaded = step));
  return {
    enrich: async (request: TriageRequest): Promise<TriageResult> => {
      const waitMs = Math.min(timeoutMs, request.timeLeftMs);
      const step = loaded ?? (await waitAtMost(loading, waitMs));
      if (step === undefined || step instanceof Error) {
        count(step === undefined ? 'TriageTimeouts' : 'TriageFailures');
        request.log.warn('Triage: paging without it; the triage code is not loaded', {
          triageOutcome: step === undefined ? 'timeout' : 'failed',
          why: step === undefined ? `not loaded within ${waitMs} ms` : step.message,
        });
        return { event: request.event };
      }
      return step.enrich(request);
    },
  };
}

async function waitAtMost<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
