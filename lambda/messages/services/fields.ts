// Reading a notification's fields and saying them in a summary: shared by the service recognisers.
import { consoleHostFor, isRegionCode } from '../../shared/regions';
import { cutText } from '../../shared/text';
import { isRecord } from '../../shared/json';
import { MAX_SUMMARY_PART, type Outcome } from './types';

export function where(region: string | undefined, account: string | undefined): string {
  if (region && account) return ` in ${region} (${account})`;
  if (region) return ` in ${region}`;
  if (account) return ` (${account})`;
  return '';
}

export function listed(items: readonly string[]): string {
  const shown = items.slice(0, 3).map((item) => cut(item, 64));
  return shown.join(', ') + (items.length > 3 ? ` and ${items.length - 3} more` : '');
}

/** `arn:aws:ec2:us-east-1:123:instance/i-1` → `instance/i-1`; anything else as it is. */
export function shortArn(value: string): string {
  if (!value.startsWith('arn:')) return value;
  const parts = value.split(':');
  return parts.length >= 6 ? parts.slice(5).join(':') : value;
}

export function regionOfArn(arn: string | undefined): string | undefined {
  if (arn === undefined || !arn.startsWith('arn:')) return undefined;
  const region = arn.split(':')[3];
  return region && isRegionCode(region) ? region : undefined;
}

export function consoleHostOf(region: string | undefined): string | undefined {
  return region !== undefined && isRegionCode(region) ? consoleHostFor(region) : undefined;
}

export function cut(value: string, max = MAX_SUMMARY_PART): string {
  // Collapsing whitespace only shortens: a prefix four times as long is enough, and keeps this cheap on megabytes.
  return cutText(collapse(value.slice(0, max * 4)), max);
}

export function collapse(value: string): string {
  return value.replace(/\s+/g, ' ').trim();
}

export function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** The object with lower-cased keys: GuardDuty's detail arrives camelCase from EventBridge, PascalCase from the API. */
export function lowerKeys(value: unknown): Record<string, unknown> {
  return isRecord(value)
    ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k.toLowerCase(), v]))
    : {};
}

const FAILURE_STATES =
  /^(failed|failure|error|errored|aborted|timed[_ ]?out|unhealthy|alarm|impaired|unsuccessful|stopped_with_error)$/i;
const SUCCESS_STATES =
  /^(succeeded|success|successful|completed|complete|healthy|ok|available|running|resolved|closed)$/i;

export function outcomeOfState(state: string): Exclude<Outcome, 'finding' | 'test'> {
  if (FAILURE_STATES.test(state)) return 'failure';
  if (SUCCESS_STATES.test(state)) return 'success';
  if (/^(canceled|cancelled|stopped|superseded|stopping|expired)$/i.test(state)) return 'warning';
  return 'info';
}
