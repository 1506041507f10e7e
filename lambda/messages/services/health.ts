// AWS Health events, as EventBridge delivers them.
import { compact, isRecord } from '../../shared/json';
import { listed, text, where } from './fields';
import { SEVERITY_BY_OUTCOME, type EventFields, type Outcome, type ServiceNotification } from './types';

// AWS Health event categories: issue, accountNotification, scheduledChange, investigation.
// https://docs.aws.amazon.com/health/latest/ug/aws-health-concepts-and-terms.html
export function healthEvent(e: EventFields): ServiceNotification {
  const d = e.detail;
  const category = text(d.eventTypeCategory) ?? 'event';
  const code = text(d.eventTypeCode) ?? e.detailType;
  const status = text(d.statusCode);
  const service = text(d.service);
  const entities = Array.isArray(d.affectedEntities)
    ? d.affectedEntities.flatMap((entity) => (isRecord(entity) ? (text(entity.entityValue) ?? []) : []))
    : [];
  const affected = entities.length > 0 ? entities : e.resources;
  const outcome: Outcome =
    status === 'closed'
      ? 'success'
      : category === 'issue'
        ? 'failure'
        : category === 'accountNotification'
          ? 'info'
          : 'warning';
  const description = Array.isArray(d.eventDescription)
    ? d.eventDescription.flatMap((entry) => (isRecord(entry) ? (text(entry.latestDescription) ?? []) : []))[0]
    : undefined;
  return {
    service: 'health',
    kind: category,
    outcome,
    summary: `AWS Health: ${service ? `${service} ` : ''}${category} ${code}${status ? ` (${status})` : ''}${affected.length > 0 ? ` affecting ${listed(affected)}` : ''}${where(e.region, e.account)}`,
    severity: SEVERITY_BY_OUTCOME[outcome as Exclude<Outcome, 'finding'>],
    source: text(d.eventArn) ?? `health:${e.region ?? 'global'}:${e.account ?? 'unknown-account'}`,
    component: affected[0],
    class: code,
    details: compact({
      event_type_code: code,
      event_type_category: category,
      status_code: status,
      affected_service: service,
      start_time: text(d.startTime),
      end_time: text(d.endTime),
      description,
      affected_entities: affected.length > 0 ? affected : undefined,
      account: e.account,
      region: e.region,
      detail: e.detail,
    }),
  };
}
