// CodePipeline state changes, from EventBridge or a CodeStar notification rule.
import { compact, isRecord } from '../../shared/json';
import { cut, listed, outcomeOfState, text, where } from './fields';
import { SEVERITY_BY_OUTCOME, type EventFields, type Outcome, type ServiceNotification } from './types';

export function codePipelineEvent(e: EventFields): ServiceNotification {
  const d = e.detail;
  const pipeline = text(d.pipeline) ?? 'pipeline';
  const state = text(d.state) ?? 'UNKNOWN';
  const stage = text(d.stage);
  const action = text(d.action);
  const executionId = text(d['execution-id']);
  const result = isRecord(d['execution-result']) ? d['execution-result'] : {};
  const failedActions = Array.isArray(e.additional.failedActions)
    ? e.additional.failedActions.flatMap((a) => (isRecord(a) ? (text(a.additionalInformation) ?? []) : []))
    : [];
  const why =
    text(result['external-execution-summary']) ??
    text(e.additional.additionalInformation) ??
    (failedActions.length > 0 ? listed(failedActions) : undefined);
  const what = action
    ? `action ${action} in stage ${stage ?? '?'}`
    : stage
      ? `stage ${stage}`
      : 'pipeline execution';
  const outcome = outcomeOfState(state);
  const url = text(result['external-execution-url']);
  return {
    service: 'codepipeline',
    kind: state.toLowerCase(),
    outcome,
    summary: `CodePipeline ${pipeline}: ${what} ${state}${why && outcome === 'failure' ? ` — ${cut(why)}` : ''}${where(e.region, e.account)}`,
    severity: SEVERITY_BY_OUTCOME[outcome as Exclude<Outcome, 'finding'>],
    source: e.resources[0] ?? `codepipeline:${e.region ?? 'unknown-region'}:${pipeline}`,
    component: pipeline,
    class: e.detailType,
    details: compact({
      pipeline,
      state,
      stage,
      action,
      execution_id: executionId,
      execution_summary: why,
      failed_actions: failedActions.length > 0 ? failedActions : undefined,
      account: e.account,
      region: e.region,
      time: e.time,
      detail: e.detail,
    }),
    links:
      url && /^https:\/\//.test(url)
        ? [{ href: url, text: action ? `${action} execution` : 'Execution' }]
        : undefined,
  };
}
