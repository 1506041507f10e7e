// EventBridge events (forwarded by a rule, or by a CodeStar notification rule as `detailType`): the dispatcher to
// each family's recogniser, and the generic reading of any other service's event.
import { asRecord, compact, isRecord } from '../../shared/json';
import { autoScalingEvent } from './autoscaling';
import { codeDeployEvent } from './codedeploy';
import { codePipelineEvent } from './codepipeline';
import { cut, outcomeOfState, shortArn, text, where } from './fields';
import { guardDutyFinding, malwareScan } from './guardduty';
import { healthEvent } from './health';
import { SEVERITY_BY_OUTCOME, type EventFields, type Outcome, type ServiceNotification } from './types';

export function eventBridgeEvent(json: Record<string, unknown>): ServiceNotification | undefined {
  const detailType = text(json['detail-type']) ?? text(json.detailType);
  const detail = json.detail;
  if (detailType === undefined || !isRecord(detail)) return undefined;
  const event: EventFields = {
    source: text(json.source),
    detailType,
    account: text(json.account) ?? text(detail.accountId),
    region: text(json.region),
    time: text(json.time),
    resources: Array.isArray(json.resources) ? json.resources.flatMap((r) => text(r) ?? []) : [],
    detail,
    additional: asRecord(json.additionalAttributes),
  };
  const source = event.source ?? '';
  if (detailType === 'GuardDuty Finding') return guardDutyFinding(event);
  if (detailType === 'GuardDuty Malware Protection Object Scan Result') return malwareScan(event);
  if (source === 'aws.health' || detailType === 'AWS Health Event') return healthEvent(event);
  if (source === 'aws.codepipeline' || detailType.startsWith('CodePipeline '))
    return codePipelineEvent(event);
  if (source === 'aws.codedeploy' && text(detail.deploymentId)) return codeDeployEvent(event);
  if (source === 'aws.autoscaling' && text(detail.AutoScalingGroupName)) return autoScalingEvent(event);
  return genericEvent(event);
}

function genericEvent(e: EventFields): ServiceNotification {
  const d = e.detail;
  const state = stateOf(d);
  const resource = e.resources[0] ?? text(d['instance-id']) ?? text(d.resourceArn) ?? text(d.SourceArn);
  const shown = resource === undefined ? undefined : shortArn(resource);
  const message = text(d.Message) ?? text(d.message) ?? text(d.description);
  const failed = /fail|unsuccessful|error|unhealthy/i.test(e.detailType);
  const outcome: Outcome = failed ? 'failure' : state === undefined ? 'warning' : outcomeOfState(state);
  const source = e.source ?? 'unknown source';
  return {
    service: 'eventbridge',
    kind: (e.source ?? 'unknown').toLowerCase(),
    outcome,
    summary: `EventBridge ${source} ${JSON.stringify(e.detailType)}${shown ? ` for ${cut(shown, 120)}` : ''}${state ? `: ${cut(state, 60)}` : ''}${message ? ` — ${cut(message, 200)}` : ''}${where(e.region, e.account)}`,
    severity: SEVERITY_BY_OUTCOME[outcome as Exclude<Outcome, 'finding'>],
    source: resource ?? `${source}:${e.region ?? 'unknown-region'}:${e.account ?? 'unknown-account'}`,
    component: shown,
    class: e.detailType,
    details: compact({
      event_source: e.source,
      detail_type: e.detailType,
      resources: e.resources.length > 0 ? e.resources : undefined,
      state,
      account: e.account,
      region: e.region,
      time: e.time,
      detail: e.detail,
    }),
  };
}

const STATE_FIELDS = [
  'state',
  'status',
  'State',
  'Status',
  'lastStatus',
  'currentState',
  'scanStatus',
  'eventStatus',
];

function stateOf(detail: Record<string, unknown>): string | undefined {
  for (const name of STATE_FIELDS) {
    const value = detail[name];
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
    // CloudWatch alarm state change events carry `state: { value, reason }`.
    if (isRecord(value) && typeof value.value === 'string') return value.value;
  }
  return undefined;
}
