// CodeDeploy deployments: EventBridge state changes and the SNS trigger messages say the same thing.
import { asRecord, compact, isRecord, tryParse } from '../../shared/json';
import { cut, outcomeOfState, shortArn, text, where } from './fields';
import { SEVERITY_BY_OUTCOME, type EventFields, type ServiceNotification } from './types';

export function codeDeployEvent(e: EventFields): ServiceNotification {
  const d = e.detail;
  return codeDeploy({
    application: text(d.application),
    group: text(d.deploymentGroup),
    deploymentId: text(d.deploymentId) ?? '?',
    status: text(d.state) ?? 'UNKNOWN',
    region: text(d.region) ?? e.region,
    account: e.account,
    errorCode: undefined,
    errorMessage: undefined,
    detailType: e.detailType,
    raw: d,
  });
}

// Trigger messages (deployment and instance): https://docs.aws.amazon.com/codedeploy/latest/userguide/monitoring-sns-event-notifications-json-format.html
// Real messages carry deploymentOverview and errorInformation as JSON strings; the guide shows objects. Both read.
export function codeDeployTrigger(json: Record<string, unknown>): ServiceNotification | undefined {
  const deploymentId = text(json.deploymentId);
  if (deploymentId === undefined) return undefined;
  const instanceStatus = text(json.instanceStatus);
  if (text(json.deploymentGroupName) === undefined && instanceStatus === undefined) return undefined;
  const error = isRecord(json.errorInformation)
    ? json.errorInformation
    : asRecord(tryParse(text(json.errorInformation)));
  return codeDeploy({
    application: text(json.applicationName),
    group: text(json.deploymentGroupName),
    deploymentId,
    status: text(json.status) ?? instanceStatus ?? 'UNKNOWN',
    region: text(json.region),
    account: text(json.accountId),
    instanceId: text(json.instanceId),
    errorCode: text(error.ErrorCode),
    errorMessage: text(error.ErrorMessage),
    detailType: undefined,
    raw: json,
  });
}

function codeDeploy(c: {
  application?: string;
  group?: string;
  deploymentId: string;
  status: string;
  region?: string;
  account?: string;
  instanceId?: string;
  errorCode?: string;
  errorMessage?: string;
  detailType?: string;
  raw: Record<string, unknown>;
}): ServiceNotification {
  const outcome = outcomeOfState(c.status);
  const target = [c.application, c.group].filter((part) => part !== undefined).join('/') || 'application';
  const error =
    c.errorCode || c.errorMessage
      ? ` — ${cut([c.errorCode, c.errorMessage].filter(Boolean).join(': '))}`
      : '';
  const instance = c.instanceId ? ` on ${shortArn(c.instanceId)}` : '';
  return {
    service: 'codedeploy',
    kind: c.status.toLowerCase(),
    outcome,
    summary: `CodeDeploy ${cut(target, 150)}: deployment ${c.deploymentId}${instance} ${c.status}${error}${where(c.region, c.account)}`,
    severity: SEVERITY_BY_OUTCOME[outcome],
    source: c.instanceId ?? `codedeploy:${c.region ?? 'unknown-region'}:${target}`,
    component: c.application,
    class: c.detailType ?? (c.instanceId ? 'CodeDeploy instance trigger' : 'CodeDeploy deployment trigger'),
    details: compact({
      application: c.application,
      deployment_group: c.group,
      deployment_id: c.deploymentId,
      status: c.status,
      instance_id: c.instanceId,
      error_code: c.errorCode,
      error_message: c.errorMessage,
      account: c.account,
      region: c.region,
      message: c.raw,
    }),
  };
}
