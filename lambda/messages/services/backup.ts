// AWS Backup vault notifications, published as one line of prose.
import { compact } from '../../shared/json';
import { collapse, cut, regionOfArn, shortArn } from './fields';
import { SEVERITY_BY_OUTCOME, type Outcome, type ServiceNotification } from './types';

// Vault notifications: "An AWS Backup job failed. Resource ARN : arn:…. BackupJob ID : …", subject
// "Notification from AWS Backup": https://docs.aws.amazon.com/aws-backup/latest/devguide/backup-notifications.html
export function backupNotification(
  subject: string | undefined,
  body: string,
): ServiceNotification | undefined {
  const fromBackup =
    subject === 'Notification from AWS Backup' ||
    /^\s*An AWS (Backup|Copy|Restore)\b[^.]{0,80}\bjob\b/.test(body) ||
    /from your Amazon EKS Backup\./.test(body);
  if (!fromBackup) return undefined;
  const what = collapse(/^[^.]*/.exec(body)?.[0] ?? body) || 'AWS Backup notification';
  const resource =
    labelled(body, 'Backed up Resource ARN') ??
    labelled(body, 'Resource ARN') ??
    labelled(body, 'Indexed recovery point arn') ??
    labelled(body, 'Resource');
  const jobId =
    labelled(body, 'BackupJob ID') ??
    labelled(body, 'Backup Job Id') ??
    labelled(body, 'Copy Job Id') ??
    labelled(body, 'RestoreJob ID');
  const recoveryPoint = labelled(body, 'Recovery point ARN');
  const outcome: Outcome = /\b(failed|aborted|expired|could not|failed to complete)\b/i.test(what)
    ? 'failure'
    : /\bskipped\b/i.test(what)
      ? 'warning'
      : /\b(successfully|successful|completed|was completed)\b/i.test(what)
        ? 'success'
        : 'info';
  const jobKind = /\bcopy\b/i.test(what) ? 'copy' : /\brestore\b/i.test(what) ? 'restore' : 'backup';
  const region = regionOfArn(resource);
  return {
    service: 'backup',
    kind: `${jobKind}:${outcome}`,
    outcome,
    summary: `AWS Backup: ${cut(what, 200)}${resource ? ` — ${cut(shortArn(resource), 150)}` : ''}${jobId ? ` (job ${jobId})` : ''}${region ? ` in ${region}` : ''}`,
    severity: SEVERITY_BY_OUTCOME[outcome],
    source: resource ?? `backup:${jobId ?? 'unknown-job'}`,
    component: resource === undefined ? undefined : shortArn(resource),
    class: `AWS Backup ${jobKind} job`,
    details: compact({
      job_kind: jobKind,
      job_id: jobId,
      resource_arn: resource,
      recovery_point_arn: recoveryPoint,
      message: body,
    }),
  };
}

/** `Label : value.` or `Label: value` inside Backup's one-line prose; the value ends at `. ` or the end. */
function labelled(body: string, label: string): string | undefined {
  const at = body.indexOf(`${label} :`) >= 0 ? body.indexOf(`${label} :`) : body.indexOf(`${label}:`);
  if (at < 0) return undefined;
  const rest = body.slice(at + label.length).replace(/^\s*:\s*/, '');
  const end = rest.search(/\.(\s|$)/);
  const value = (end >= 0 ? rest.slice(0, end) : rest).trim();
  return value === '' ? undefined : value;
}
