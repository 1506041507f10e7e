// RDS event subscriptions: their JSON events, and the prose message that opens a subscription.
import { compact, isRecord } from '../../shared/json';
import { cut, regionOfArn, text } from './fields';
import { SCAN_LIMIT, SEVERITY_BY_OUTCOME, type Outcome, type ServiceNotification } from './types';

// RDS event subscriptions publish JSON with spaced keys ("Event Source", "Event Message", "Source ID", "Event ID"):
// https://docs.aws.amazon.com/lambda/latest/dg/services-rds.html
// https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Events.Messages.html
export function rdsEvent(json: Record<string, unknown>): ServiceNotification | undefined {
  const message = text(json['Event Message']);
  const sourceId = text(json['Source ID']);
  if (message === undefined || (sourceId === undefined && json['Event Source'] === undefined))
    return undefined;
  const sourceType = text(json['Event Source']) ?? 'rds';
  const eventId = /RDS-EVENT-\d+/.exec(text(json['Event ID']) ?? '')?.[0];
  const sourceArn = text(json['Source ARN']);
  const link = text(json['Identifier Link']);
  const region = regionOfArn(sourceArn) ?? /[?&]region=([a-z0-9-]+)/.exec(link ?? '')?.[1];
  const outcome = rdsOutcome(message);
  return {
    service: 'rds',
    kind: eventId ?? sourceType,
    outcome,
    summary: `RDS ${sourceType} ${sourceId ?? '?'}: ${cut(message)}${eventId ? ` (${eventId})` : ''}${region ? ` in ${region}` : ''}`,
    severity: SEVERITY_BY_OUTCOME[outcome],
    source: sourceArn ?? `rds:${region ?? 'unknown-region'}:${sourceType}:${sourceId ?? '?'}`,
    component: sourceId,
    class: eventId ?? 'RDS event',
    details: compact({
      event_source: sourceType,
      event_message: message,
      source_id: sourceId,
      source_arn: sourceArn,
      event_id: eventId,
      event_time: text(json['Event Time']),
      tags: isRecord(json.Tags) ? json.Tags : undefined,
    }),
    links:
      link && /^https:\/\//.test(link)
        ? [{ href: link, text: `RDS ${sourceType} ${sourceId ?? ''}`.trim() }]
        : undefined,
  };
}

// The event message says what happened; RDS puts no category in the SNS message, so the words decide.
function rdsOutcome(message: string): Exclude<Outcome, 'finding' | 'test'> {
  const m = message.slice(0, SCAN_LIMIT);
  if (
    /\b(fail|failed|failure|error|incompatible|unable|could not|cannot|storage-full|low storage|insufficient|unrecoverable|inaccessible)\b/i.test(
      m,
    )
  )
    return 'failure';
  if (
    /\b(shut ?down|stopped|stopping|restart|restarted|reboot|rebooted|rebooting|failover|recovery|maintenance|deleted)\b/i.test(
      m,
    )
  )
    return 'warning';
  if (/\b(finished|completed|complete|created|started|available|succeeded)\b/i.test(m)) return 'success';
  return 'info';
}

// The first message an RDS subscription sends is prose, not JSON (see the Lambda guide's note above).
export function rdsText(body: string): ServiceNotification | undefined {
  if (!/^\s*This is a message to notify that RDS will attempt to send you event notifications/i.test(body))
    return undefined;
  const sourceType = /notifications of type ([A-Za-z-]+)/.exec(body)?.[1];
  return {
    service: 'rds',
    kind: 'subscription',
    outcome: 'test',
    summary: `RDS event subscription ${sourceType ? `for ${sourceType} ` : ''}now sends its events to this topic`,
    severity: 'info',
    source: 'rds:event-subscription',
    class: 'RDS event subscription',
    details: compact({ source_type: sourceType, message: body }),
  };
}
