// What the sweep learns from CloudWatch, in its own shapes: the planner reads these, never the SDK's answers.
import type { AlarmContributor, CompositeAlarm, MetricAlarm } from '@aws-sdk/client-cloudwatch';
import type { AlarmState } from '../messages/notification';

/** One alarm as DescribeAlarms answered it. */
export interface ObservedAlarm {
  readonly name: string;
  readonly arn: string;
  readonly kind: 'metric' | 'composite';
  readonly state: AlarmState;
  /** When its state value last changed: StateTransitionedTimestamp, else StateUpdatedTimestamp (moto has only that). */
  readonly changedMs?: number;
  readonly actionsEnabled: boolean;
  readonly alarmActions: readonly string[];
  /** Where CloudWatch notifies an INSUFFICIENT_DATA change. */
  readonly insufficientDataActions: readonly string[];
  /** A composite alarm's ActionsSuppressedBy when not `None`: CloudWatch runs no action for it now. */
  readonly suppressedBy?: string;
  /** A Metrics Insights GROUP BY or PromQL alarm: its contributors alarm and recover one by one. */
  readonly multiSeries: boolean;
  /** The answer as received, to build the page's event from. */
  readonly raw: MetricAlarm | CompositeAlarm;
}

/** One contributor of a multi-time-series alarm that DescribeAlarmContributors lists (they are all in ALARM). */
export interface ObservedContributor {
  readonly id: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly reason: string;
  readonly changedMs?: number;
}

/** An answer and the clock read just before its request: a correction acting on it is ordered there. */
export interface Observed<T> {
  readonly observedMs: number;
  readonly value: T;
}

const STATES: readonly AlarmState[] = ['OK', 'ALARM', 'INSUFFICIENT_DATA'];
// Metrics Insights: `SELECT … GROUP BY …` makes one time series (contributor) per group.
const GROUP_BY_QUERY = /\bSELECT\b[\s\S]*\bGROUP\s+BY\b/i;

export function observeMetricAlarm(alarm: MetricAlarm): ObservedAlarm | undefined {
  if (!alarm.AlarmName || !alarm.AlarmArn) return undefined;
  return {
    ...common(alarm),
    name: alarm.AlarmName,
    arn: alarm.AlarmArn,
    kind: 'metric',
    multiSeries:
      alarm.EvaluationCriteria?.PromQLCriteria !== undefined ||
      (alarm.Metrics ?? []).some((metric) => GROUP_BY_QUERY.test(metric.Expression ?? '')),
    raw: alarm,
  };
}

export function observeCompositeAlarm(alarm: CompositeAlarm): ObservedAlarm | undefined {
  if (!alarm.AlarmName || !alarm.AlarmArn) return undefined;
  // The API documents `None` too, though the SDK's enum leaves it out.
  const suppressedBy: string | undefined = alarm.ActionsSuppressedBy;
  return {
    ...common(alarm),
    name: alarm.AlarmName,
    arn: alarm.AlarmArn,
    kind: 'composite',
    suppressedBy: suppressedBy === undefined || suppressedBy === 'None' ? undefined : suppressedBy,
    multiSeries: false,
    raw: alarm,
  };
}

export function observeContributor(contributor: AlarmContributor): ObservedContributor {
  return {
    id: contributor.ContributorId ?? '',
    attributes: contributor.ContributorAttributes ?? {},
    reason: contributor.StateReason ?? '',
    changedMs: contributor.StateTransitionedTimestamp?.getTime(),
  };
}

function common(alarm: MetricAlarm | CompositeAlarm) {
  const state = STATES.find((value) => value === alarm.StateValue) ?? 'INSUFFICIENT_DATA';
  return {
    state,
    changedMs: (alarm.StateTransitionedTimestamp ?? alarm.StateUpdatedTimestamp)?.getTime(),
    actionsEnabled: alarm.ActionsEnabled !== false,
    alarmActions: alarm.AlarmActions ?? [],
    insufficientDataActions: alarm.InsufficientDataActions ?? [],
  };
}
