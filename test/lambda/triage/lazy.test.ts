// The triage code is loaded with import() when TRIAGE_MODEL_ID is set. If it fails to load, or is not loaded within
// the trigger's time, the trigger goes as it was: triage never holds up or stops a page.
import { lazyTriage } from '../../../lambda/triage/lazy';
import type { TriageRequest, TriageStep } from '../../../lambda/triage/types';
import type { PagerDutyAlertEvent } from '../../../lambda/pagerduty/types';

const EVENT: PagerDutyAlertEvent = {
  event_action: 'trigger',
  dedup_key: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-api-5xx',
  payload: { summary: 'checkout-api-5xx in ALARM', source: 'us-east-1', severity: 'critical' },
};

function request(timeLeftMs: number) {
  const warnings: { message: string; extra?: Record<string, unknown> }[] = [];
  const req: TriageRequest = {
    subject: {
      alarm: {} as TriageRequest['subject']['alarm'],
      dedupKey: EVENT.dedup_key,
      severityDeclared: false,
    },
    event: EVENT,
    timeLeftMs,
    log: { info: () => undefined, warn: (message, extra) => warnings.push({ message, extra }) },
  };
  return { req, warnings };
}

function counting() {
  const counted: string[] = [];
  return { counted, count: (metric: string) => void counted.push(metric) };
}

it('triage code that fails to load: the trigger goes unchanged, logged and counted as a triage failure', async () => {
  const { counted, count } = counting();
  const triage = lazyTriage({
    load: () => Promise.reject(new Error("Cannot find module './triage/bedrock-triage'")),
    timeoutMs: 1000,
    count,
  });
  const { req, warnings } = request(5000);
  expect(await triage.enrich(req)).toEqual({ event: EVENT });
  expect(counted).toEqual(['TriageFailures']);
  expect(warnings).toEqual([
    {
      message: 'Triage: paging without it; the triage code is not loaded',
      extra: { triageOutcome: 'failed', why: "Cannot find module './triage/bedrock-triage'" },
    },
  ]);
});

it('triage code not loaded within the time left: the trigger goes unchanged after at most that time, counted', async () => {
  const { counted, count } = counting();
  const triage = lazyTriage({
    load: () => new Promise<TriageStep>(() => undefined),
    timeoutMs: 10_000,
    count,
  });
  const { req, warnings } = request(50);
  const started = Date.now();
  expect(await triage.enrich(req)).toEqual({ event: EVENT });
  // Cut at the delivery's 50 ms left, not TRIAGE_TIMEOUT_MS (10 s): a bound a loaded machine keeps.
  expect(Date.now() - started).toBeLessThan(5000);
  expect(counted).toEqual(['TriageTimeouts']);
  expect(warnings[0]?.extra).toEqual({ triageOutcome: 'timeout', why: 'not loaded within 50 ms' });
});

it('once loaded, every trigger goes through the loaded step without waiting', async () => {
  const { counted, count } = counting();
  const enriched = { ...EVENT, payload: { ...EVENT.payload!, custom_details: { triage: { note: 'db' } } } };
  const step: TriageStep = { enrich: async () => ({ event: enriched, record: 'answered' }) };
  const triage = lazyTriage({ load: async () => step, timeoutMs: 1000, count });
  expect(await triage.enrich(request(5000).req)).toEqual({ event: enriched, record: 'answered' });
  expect(await triage.enrich(request(0).req)).toEqual({ event: enriched, record: 'answered' });
  expect(counted).toEqual([]);
});
