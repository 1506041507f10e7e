// A sweep correction as the notification the pipeline plans from: a page is the SNS message CloudWatch would have
// published (parsed by the same parser, so the incident has the usual context); a resolve names the alarm only.
import type { CompositeAlarm, Dimension, MetricAlarm, MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { parseNotification } from '../messages/alarm-message';
import type { AlarmNotification, Notification } from '../messages/notification';
import type { PageCorrection, ResolveCorrection } from './planner';

const WHY: Record<ResolveCorrection['reason'], string> = {
  ok: 'the reconciliation sweep found the alarm no longer in ALARM (its OK notification was lost or muted)',
  deleted: 'the reconciliation sweep found the alarm deleted',
  'insufficient-data':
    'the reconciliation sweep found the alarm in INSUFFICIENT_DATA, which its policy resolves',
};

/** CloudWatch's timestamp format: millisecond precision and `+0000`. */
function cloudWatchTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace('Z', '+0000');
}

/** `arn:<partition>:cloudwatch:<region>:<account>:alarm:<name>` → its parts. */
export function alarmArnParts(
  arn: string,
): { partition: string; region: string; accountId: string; name: string } | undefined {
  const match = /^arn:([^:]+):cloudwatch:([^:]+):(\d{12}):alarm:(.+)$/.exec(arn);
  return match
    ? { partition: match[1]!, region: match[2]!, accountId: match[3]!, name: match[4]! }
    : undefined;
}

/** The resolve a correction sends: an OK of the incident's alarm (and contributor), at the observation time. */
export function resolveNotification(correction: ResolveCorrection): AlarmNotification | undefined {
  const { incident, observedMs } = correction;
  const parts = alarmArnParts(incident.alarmArn);
  if (!parts) return undefined;
  return {
    type: 'alarm',
    alarmName: incident.alarmName,
    alarmArn: incident.alarmArn,
    accountId: parts.accountId,
    regionName: parts.region,
    regionCode: parts.region,
    partition: parts.partition,
    newState: 'OK',
    reason: WHY[correction.reason],
    stateChangeTime: cloudWatchTime(observedMs),
    stateChangeEpochMs: observedMs,
    condition: { kind: 'unknown', why: 'a correction of the reconciliation sweep' },
    tags: {},
    ...(incident.contributorId === undefined
      ? {}
      : { contributor: { id: incident.contributorId, attributes: {} } }),
  };
}

/** The page a correction sends, from the DescribeAlarms answer, as CloudWatch's SNS message would carry it. */
export function pageNotification(
  correction: PageCorrection,
  tags: Readonly<Record<string, string>>,
): Notification {
  const { alarm, contributor } = correction;
  const parts = alarmArnParts(alarm.arn);
  const raw = alarm.raw;
  const message: Record<string, unknown> = {
    AlarmName: alarm.name,
    AlarmDescription: raw.AlarmDescription ?? null,
    AWSAccountId: parts?.accountId,
    AlarmConfigurationUpdatedTimestamp: raw.AlarmConfigurationUpdatedTimestamp?.toISOString(),
    // ALARM, or INSUFFICIENT_DATA under a `trigger` policy: the pipeline decides it as the handler would.
    NewStateValue: alarm.state,
    NewStateReason:
      `${contributor?.reason || raw.StateReason || `In ${alarm.state}`} ` +
      (correction.reason === 'missed'
        ? '(paged by the reconciliation sweep: no notification of this state reached the pipeline)'
        : '(re-paged by the reconciliation sweep: the alarm still breaches)'),
    StateChangeTime: cloudWatchTime(contributor?.changedMs ?? alarm.changedMs ?? correction.observedMs),
    Region: parts?.region,
    AlarmArn: alarm.arn,
    OKActions: raw.OKActions ?? [],
    AlarmActions: raw.AlarmActions ?? [],
    InsufficientDataActions: raw.InsufficientDataActions ?? [],
    ...(alarm.kind === 'composite' ? compositeFields(raw) : { Trigger: trigger(raw) }),
    ...(Object.keys(tags).length > 0 ? { AlarmTags: tags, AlarmTagsStatus: 'SUCCESS' } : {}),
    ...(contributor
      ? { AlarmContributorId: contributor.id, AlarmContributorAttributes: contributor.attributes }
      : {}),
  };
  return parseNotification({
    messageId: `sweep-${correction.observedMs}`,
    topicArn: '',
    timestamp: new Date(correction.observedMs).toISOString(),
    message: JSON.stringify(message),
  });
}

function compositeFields(raw: CompositeAlarm): Record<string, unknown> {
  return { AlarmRule: raw.AlarmRule ?? '', TriggeringChildren: [] };
}

const dimensions = (list: readonly Dimension[] | undefined) =>
  (list ?? []).map((d) => ({ name: d.Name ?? '', value: d.Value ?? '' }));

function trigger(raw: MetricAlarm): Record<string, unknown> {
  const evaluation = {
    EvaluationPeriods: raw.EvaluationPeriods,
    DatapointsToAlarm: raw.DatapointsToAlarm,
    ComparisonOperator: raw.ComparisonOperator,
    TreatMissingData: raw.TreatMissingData,
    EvaluateLowSampleCountPercentile: raw.EvaluateLowSampleCountPercentile ?? '',
  };
  if (raw.Metrics && raw.Metrics.length > 0) {
    return {
      Period: raw.Period,
      Threshold: raw.Threshold,
      ThresholdMetricId: raw.ThresholdMetricId,
      Metrics: raw.Metrics.map(mathMetric),
      ...evaluation,
    };
  }
  return {
    MetricName: raw.MetricName,
    Namespace: raw.Namespace,
    StatisticType: raw.ExtendedStatistic ? 'ExtendedStatistic' : 'Statistic',
    Statistic: raw.Statistic?.toUpperCase(),
    ExtendedStatistic: raw.ExtendedStatistic,
    Unit: raw.Unit ?? null,
    Dimensions: dimensions(raw.Dimensions),
    Period: raw.Period,
    Threshold: raw.Threshold,
    ...evaluation,
  };
}

function mathMetric(metric: MetricDataQuery): Record<string, unknown> {
  const stat = metric.MetricStat;
  return {
    Id: metric.Id,
    Expression: metric.Expression,
    Label: metric.Label,
    ReturnData: metric.ReturnData,
    MetricStat: stat && {
      Metric: {
        Namespace: stat.Metric?.Namespace,
        MetricName: stat.Metric?.MetricName,
        Dimensions: dimensions(stat.Metric?.Dimensions),
      },
      Period: stat.Period,
      Stat: stat.Stat,
      Unit: stat.Unit,
    },
  };
}
