// GuardDuty findings and malware scan results, as EventBridge delivers them.
import type { Severity } from '../../shared/contract';
import { compact, isRecord } from '../../shared/json';
import { consoleHostOf, cut, listed, lowerKeys, text, where } from './fields';
import type { EventFields, ServiceNotification } from './types';

// Severity levels of GuardDuty findings: Critical 9.0–10.0, High 7.0–8.9, Medium 4.0–6.9, Low 1.0–3.9.
// https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings-severity.html
// Paged as: Critical and High → critical, Medium → warning, Low → info.
export function guardDutyLevel(score: number): { level: string; severity: Severity } {
  if (score >= 9) return { level: 'critical', severity: 'critical' };
  if (score >= 7) return { level: 'high', severity: 'critical' };
  if (score >= 4) return { level: 'medium', severity: 'warning' };
  return { level: 'low', severity: 'info' };
}

export function guardDutyFinding(e: EventFields): ServiceNotification {
  const d = lowerKeys(e.detail);
  const score = Number(d.severity);
  const { level, severity } = Number.isFinite(score)
    ? guardDutyLevel(score)
    : { level: 'unknown', severity: 'error' as const };
  const title = text(d.title) ?? text(d.description) ?? 'a finding';
  const type = text(d.type);
  const region = text(d.region) ?? e.region;
  const account = text(d.accountid) ?? e.account;
  const id = text(d.id);
  const resource = lowerKeys(d.resource);
  const resourceType = text(resource.resourcetype);
  const consoleHost = consoleHostOf(region);
  return {
    service: 'guardduty',
    kind: level,
    outcome: 'finding',
    summary: `GuardDuty finding (severity ${Number.isFinite(score) ? String(score) : '?'}, ${level}): ${cut(title)}${type ? ` — ${type}` : ''}${where(region, account)}`,
    severity,
    source: text(d.arn) ?? `guardduty:${region ?? 'unknown-region'}:${account ?? 'unknown-account'}`,
    component: instanceIdOf(resource) ?? resourceType,
    class: type ?? 'GuardDuty Finding',
    details: compact({
      finding_title: title,
      finding_type: type,
      finding_severity: Number.isFinite(score) ? score : d.severity,
      severity_level: level,
      description: text(d.description),
      finding_id: id,
      finding_arn: text(d.arn),
      resource_type: resourceType,
      account,
      region,
      detail: e.detail,
    }),
    links:
      id && region && consoleHost
        ? [
            {
              href: `https://${consoleHost}/guardduty/home?region=${region}#/findings?search=id%3D${encodeURIComponent(id)}`,
              text: 'GuardDuty finding',
            },
          ]
        : undefined,
  };
}

// One of the events GuardDuty sends to EventBridge: https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-guardduty.html
// Threats found is paged like a High finding (critical); a clean or failed scan is information.
export function malwareScan(e: EventFields): ServiceNotification {
  const d = e.detail;
  const object = isRecord(d.s3ObjectDetails) ? d.s3ObjectDetails : {};
  const result = isRecord(d.scanResultDetails) ? d.scanResultDetails : {};
  const status = text(result.scanResultStatus) ?? text(d.scanStatus) ?? 'UNKNOWN';
  const threats = Array.isArray(result.threats)
    ? result.threats.flatMap((threat) => (isRecord(threat) ? (text(threat.name) ?? []) : []))
    : [];
  const bucket = text(object.bucketName);
  const key = text(object.objectKey);
  const found = status === 'THREATS_FOUND';
  return {
    service: 'guardduty',
    kind: status.toLowerCase(),
    outcome: 'finding',
    summary: `GuardDuty malware scan: ${status}${threats.length > 0 ? ` (${listed(threats)})` : ''} in s3://${cut(`${bucket ?? '?'}/${key ?? '?'}`, 200)}${where(e.region, e.account)}`,
    severity: found ? 'critical' : 'info',
    source: bucket ? `arn:aws:s3:::${bucket}` : (e.resources[0] ?? 'guardduty:malware-protection'),
    component: bucket,
    class: e.detailType,
    details: compact({
      scan_status: text(d.scanStatus),
      scan_result: status,
      threats: threats.length > 0 ? threats : undefined,
      bucket,
      object_key: key,
      account: e.account,
      region: e.region,
      detail: e.detail,
    }),
  };
}

function instanceIdOf(resource: Record<string, unknown>): string | undefined {
  const instance = lowerKeys(resource.instancedetails);
  return text(instance.instanceid);
}
