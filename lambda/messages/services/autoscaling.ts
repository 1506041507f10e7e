// EC2 Auto Scaling: group notifications published to SNS, and the same events from EventBridge.
import { compact } from '../../shared/json';
import { cut, regionOfArn, text, where } from './fields';
import { SEVERITY_BY_OUTCOME, type EventFields, type Outcome, type ServiceNotification } from './types';

export function autoScalingEvent(e: EventFields): ServiceNotification {
  return autoScaling(e.detail, e.region ?? regionOfArn(e.resources[0]), e.account, e.detailType);
}

// https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-sns-notifications.html
export function autoScalingNotification(json: Record<string, unknown>): ServiceNotification | undefined {
  if (json.Service !== 'AWS Auto Scaling' || text(json.AutoScalingGroupName) === undefined) return undefined;
  const region = regionOfArn(text(json.AutoScalingGroupARN));
  return autoScaling(json, region, text(json.AccountId), undefined);
}

function autoScaling(
  d: Record<string, unknown>,
  region: string | undefined,
  account: string | undefined,
  detailType: string | undefined,
): ServiceNotification {
  const group = text(d.AutoScalingGroupName) ?? '?';
  const event = text(d.Event) ?? text(d.LifecycleTransition) ?? detailType ?? 'event';
  const statusCode = text(d.StatusCode);
  const description = text(d.Description);
  const statusMessage = text(d.StatusMessage);
  const isTest = event === 'autoscaling:TEST_NOTIFICATION';
  const failed =
    /_ERROR$/.test(event) ||
    /unsuccessful/i.test(detailType ?? '') ||
    /^(failed|cancelled)$/i.test(statusCode ?? '');
  const outcome: Outcome = isTest ? 'test' : failed ? 'failure' : 'info';
  const what = isTest
    ? 'test notification: this topic receives the group’s notifications'
    : (description ?? event) +
      (failed && statusMessage && !description?.includes(statusMessage) ? ` — ${statusMessage}` : '');
  return {
    service: 'autoscaling',
    kind: event,
    outcome,
    summary: `Auto Scaling group ${cut(group, 150)}: ${cut(what)}${where(region, account)}`,
    severity: SEVERITY_BY_OUTCOME[outcome],
    source: text(d.AutoScalingGroupARN) ?? `autoscaling:${region ?? 'unknown-region'}:${group}`,
    component: text(d.EC2InstanceId) ?? group,
    class: detailType ?? event,
    details: compact({
      auto_scaling_group: group,
      event,
      status_code: statusCode,
      status_message: statusMessage,
      description,
      cause: text(d.Cause),
      instance_id: text(d.EC2InstanceId),
      activity_id: text(d.ActivityId),
      start_time: text(d.StartTime),
      end_time: text(d.EndTime),
      account,
      region,
    }),
  };
}
