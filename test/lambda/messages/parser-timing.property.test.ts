// Parsing is linear: any message of SNS's largest size, however hostile, is parsed and its PagerDuty event built
// within the budget, and nothing invisible reaches what PagerDuty shows on one line.
import fc from 'fast-check';
import { MAX_BODY_LENGTH, MAX_TEXT_LENGTH } from '../../../lambda/messages/alarm-fields';
import { dedupKeyFor } from '../../../lambda/pipeline/dedup-key';
import type { Notification } from '../../../lambda/messages/notification';
import { buildAlertEvent } from '../../../lambda/pagerduty/event';
import { MAX_EVENT_BYTES } from '../../../lambda/pagerduty/limits';
import {
  adversarialInput,
  type AdversarialInput,
  filledFieldInput,
  parseAndBuild,
  PARSE_BUDGET_MS,
  timeParse,
} from '../../support/adversarial';
import { settings } from '../../support/notifications';

const INVISIBLE_OR_CONTROL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

function checkWithinBudget(input: AdversarialInput): void {
  const ms = timeParse(input);
  if (ms > PARSE_BUDGET_MS) {
    throw new Error(`${input.name}: ${ms.toFixed(1)} ms of CPU, over the ${PARSE_BUDGET_MS} ms budget`);
  }
}

/** Every string of the typed value, and its longest. */
function longestString(value: unknown, skip: string): number {
  if (typeof value === 'string') return value.length;
  if (Array.isArray(value)) return Math.max(0, ...value.map((item) => longestString(item, skip)));
  if (typeof value === 'object' && value !== null) {
    return Math.max(
      0,
      ...Object.entries(value).map(([key, item]) =>
        key === skip ? 0 : Math.max(key.length, longestString(item, skip)),
      ),
    );
  }
  return 0;
}

function checkShown(n: Notification): void {
  const event = buildAlertEvent(n, settings(), 'trigger', dedupKeyFor(n), { clientName: 'test' });
  const payload = event.payload!;
  for (const field of [payload.summary, payload.source, payload.component, payload.group, payload.class]) {
    if (field !== undefined && INVISIBLE_OR_CONTROL.test(field)) {
      throw new Error(`an invisible or control character reached ${JSON.stringify(field.slice(0, 80))}`);
    }
  }
  expect(Buffer.byteLength(JSON.stringify(event), 'utf8')).toBeLessThanOrEqual(MAX_EVENT_BYTES);
  expect(longestString(n, 'body')).toBeLessThanOrEqual(MAX_TEXT_LENGTH);
  if (n.type === 'unrecognised') expect(n.body.length).toBeLessThanOrEqual(MAX_BODY_LENGTH);
}

describe(`parsing any 256 KB message and building its event takes ≤ ${PARSE_BUDGET_MS} ms`, () => {
  it('for hostile inputs of every family: runs of a character in each field, deep nesting, many entries', () => {
    fc.assert(
      fc.property(adversarialInput(), (input) => {
        checkWithinBudget(input);
        checkShown(parseAndBuild(input));
      }),
      { numRuns: 120 },
    );
  });

  it('for any field filled with any run of characters', () => {
    fc.assert(
      fc.property(filledFieldInput(), (input) => {
        checkWithinBudget(input);
        checkShown(parseAndBuild(input));
      }),
      { numRuns: 60 },
    );
  });

  it('for the runs that were quadratic: spaces in TreatMissingData, " - " in Region', () => {
    const spaces = ' '.repeat(250_000);
    const message = (trigger: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      JSON.stringify({
        AlarmName: 'a',
        AWSAccountId: '123456789012',
        NewStateValue: 'ALARM',
        StateChangeTime: '2021-11-10T02:45:55.640+0000',
        Region: 'US East (N. Virginia)',
        Trigger: {
          MetricName: 'Errors',
          Namespace: 'AWS/Lambda',
          Statistic: 'SUM',
          Period: 60,
          EvaluationPeriods: 1,
          ComparisonOperator: 'GreaterThanThreshold',
          Threshold: 1,
          ...trigger,
        },
        ...extra,
      });
    checkWithinBudget({ name: 'TreatMissingData spaces', sns: message({ TreatMissingData: `${spaces}x` }) });
    checkWithinBudget({
      name: 'TreatMissingData "- " spaces',
      sns: message({ TreatMissingData: `-${spaces}-x` }),
    });
    checkWithinBudget({ name: 'Region " - "', sns: message({}, { Region: `${'a - '.repeat(60_000)}\n` }) });
  });
});
