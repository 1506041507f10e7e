// SERVICE_SEVERITIES: how an operator overrides the severity a service notification pages at.
import { SEVERITIES, type Severity } from '../../shared/contract';
import { ServiceSeveritiesError } from '../../shared/errors';
import { isRecord } from '../../shared/json';
import { SERVICES, type ServiceNotification, type ServiceSeverities } from './types';

/**
 * The severity to page at: SERVICE_SEVERITIES `service:kind`, then `service:outcome`, then `service`, then the
 * notification's own.
 */
export function serviceSeverity(
  notification: ServiceNotification,
  overrides: ServiceSeverities = {},
): Severity {
  const keys = [
    `${notification.service}:${notification.kind}`,
    `${notification.service}:${notification.outcome}`,
    notification.service,
  ].map((key) => key.toLowerCase());
  for (const key of keys) {
    if (Object.prototype.hasOwnProperty.call(overrides, key)) {
      const severity = overrides[key];
      if (severity !== undefined) return severity;
    }
  }
  return notification.severity;
}

/**
 * Reads SERVICE_SEVERITIES: a JSON object `{ "<service>[:<kind or outcome>]": "<severity>" }`, e.g.
 * `{"guardduty:high":"error","budgets":"warning","rds:RDS-EVENT-0004":"critical"}`. Unset or blank → `{}`.
 * Throws naming the entry when the service is unknown or the severity is not one of PagerDuty's four.
 */
export function parseServiceSeverities(json: string | undefined): ServiceSeverities {
  if (json === undefined || json.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new ServiceSeveritiesError(
      `is not JSON (${error instanceof Error ? error.message : String(error)})`,
      { cause: error },
    );
  }
  if (!isRecord(parsed)) {
    throw new ServiceSeveritiesError('must be a JSON object of "service" or "service:kind" → severity');
  }
  const result: Record<string, Severity> = {};
  for (const [key, value] of Object.entries(parsed)) {
    const service = key.split(':', 1)[0] ?? '';
    if (!SERVICES.some((name) => name === service.toLowerCase())) {
      throw new ServiceSeveritiesError(
        `${JSON.stringify(key)}: ${JSON.stringify(service)} is not a service (${SERVICES.join(', ')})`,
      );
    }
    const severity = SEVERITIES.find((name) => name === value);
    if (severity === undefined) {
      throw new ServiceSeveritiesError(
        `${JSON.stringify(key)}: ${JSON.stringify(value)} is not a severity (${SEVERITIES.join(', ')})`,
      );
    }
    result[key.toLowerCase()] = severity;
  }
  return result;
}
