// An alarm's condition in words for the summary, and in fields for the event's details.
import type { AlarmNotification, Dimension, Evaluation, MathMetric } from '../messages/notification';
import { compact } from '../shared/json';
import { cutText, displayLine } from '../shared/text';

const COMPARISONS: ReadonlyMap<string, string> = new Map([
  ['GreaterThanThreshold', '>'],
  ['GreaterThanOrEqualToThreshold', '>='],
  ['LessThanThreshold', '<'],
  ['LessThanOrEqualToThreshold', '<='],
]);

const BAND_COMPARISONS: ReadonlyMap<string, string> = new Map([
  ['GreaterThanUpperThreshold', 'above the expected band'],
  ['LessThanLowerThreshold', 'below the expected band'],
  ['LessThanLowerOrGreaterThanUpperThreshold', 'outside the expected band'],
]);

const UNIT_SUFFIXES: ReadonlyMap<string, string> = new Map([
  ['Percent', '%'],
  ['Seconds', ' s'],
  ['Milliseconds', ' ms'],
  ['Microseconds', ' µs'],
  ['Count', ''],
  ['None', ''],
]);

/** The alarm's condition in words: `Errors Sum > 5 for 1 datapoint within 1 minute (myfunc)`. */
export function describeCondition(alarm: AlarmNotification): string {
  const c = alarm.condition;
  switch (c.kind) {
    case 'metric': {
      const unit = c.unit === undefined ? '' : (UNIT_SUFFIXES.get(c.unit) ?? ` ${c.unit}`);
      const comparison = comparisonWords(c.comparisonOperator, c.threshold, unit);
      return `${c.metric.metricName} ${c.statistic}${comparison} ${windowWords(c, c.period)}${dimensionWords(c.metric.dimensions)}`;
    }
    case 'metric-math': {
      const alarmed = c.metrics.find((m) => m.returnData) ?? c.metrics[0];
      const comparison = comparisonWords(c.comparisonOperator, c.threshold, '');
      return `${mathMetricWords(alarmed)}${comparison} ${windowWords(c, periodOf(c.period, c.metrics))}${dimensionWords(mathDimensions(c.metrics))}`;
    }
    case 'anomaly': {
      const band =
        c.comparisonOperator === undefined
          ? 'outside the expected band'
          : (BAND_COMPARISONS.get(c.comparisonOperator) ??
            `outside the expected band (${c.comparisonOperator})`);
      return `${mathMetricWords(bandBaseMetric(c.metrics, c.thresholdMetricId))} ${band} ${windowWords(c, periodOf(c.period, c.metrics))}${dimensionWords(mathDimensions(c.metrics))}`;
    }
    case 'unknown':
      return c.label ?? 'condition of an unknown kind';
    case 'composite': {
      const names = c.triggeringChildren.map((child) => cutText(child.name, 100));
      if (names.length === 0) return 'composite alarm state set by hand (no triggering child alarm)';
      const shown = names.slice(0, 3).join(', ');
      return `composite alarm triggered by ${shown}${names.length > 3 ? ` and ${names.length - 3} more` : ''}`;
    }
  }
}

/** ` > 5%`; ` > ?` when the threshold is not known (EventBridge events), empty when neither is. */
function comparisonWords(operator: string | undefined, threshold: number | undefined, unit: string): string {
  if (operator === undefined && threshold === undefined) return '';
  const comparison = operator === undefined ? 'vs' : (COMPARISONS.get(operator) ?? operator);
  return ` ${comparison} ${threshold === undefined ? '?' : `${String(threshold)}${unit}`}`;
}

function windowWords(e: Evaluation, period: number | undefined): string {
  const periods = e.evaluationPeriods;
  if (periods === undefined) return period === undefined ? '' : `over ${durationWords(period)}`;
  const datapoints = e.datapointsToAlarm ?? periods;
  const points =
    datapoints === periods
      ? `${datapoints} datapoint${datapoints === 1 ? '' : 's'}`
      : `${datapoints} of ${periods} datapoints`;
  return period === undefined ? `for ${points}` : `for ${points} within ${durationWords(periods * period)}`;
}

function durationWords(seconds: number): string {
  const units: [number, string][] = [
    [86_400, 'day'],
    [3_600, 'hour'],
    [60, 'minute'],
  ];
  for (const [size, name] of units) {
    if (seconds % size === 0) return plural(seconds / size, name);
  }
  return plural(seconds, 'second');
}

function plural(count: number, unit: string): string {
  return `${count} ${unit}${count === 1 ? '' : 's'}`;
}

function dimensionWords(dimensions: readonly Dimension[]): string {
  const values = [...new Set(dimensions.map((d) => d.value))].filter((value) => value !== '');
  if (values.length === 0) return '';
  const shown = values.slice(0, 3).map((value) => cutText(displayLine(value), 64));
  return ` (${shown.join(', ')}${values.length > 3 ? ` +${values.length - 3}` : ''})`;
}

function mathMetricWords(metric: MathMetric | undefined): string {
  if (metric === undefined) return 'the metric';
  if (metric.label) return metric.label;
  if (metric.metricStat) return `${metric.metricStat.metric.metricName} ${metric.metricStat.stat}`;
  return metric.expression ?? metric.id;
}

/** The metric whose band it is: the first argument of `ANOMALY_DETECTION_BAND(m1, 2)`. */
function bandBaseMetric(metrics: readonly MathMetric[], bandId: string): MathMetric | undefined {
  const band = metrics.find((m) => m.id === bandId);
  const baseId =
    band?.expression && /ANOMALY_DETECTION_BAND\s*\(\s*([A-Za-z0-9_]+)/i.exec(band.expression)?.[1];
  return (
    metrics.find((m) => m.id === baseId) ??
    metrics.find((m) => m.id !== bandId && m.metricStat !== undefined) ??
    metrics.find((m) => m.id !== bandId)
  );
}

function mathDimensions(metrics: readonly MathMetric[]): Dimension[] {
  return metrics.flatMap((m) => m.metricStat?.metric.dimensions ?? []);
}

function periodOf(period: number | undefined, metrics: readonly MathMetric[]): number | undefined {
  return period ?? metrics.find((m) => m.metricStat)?.metricStat?.period;
}

export function conditionDetails(alarm: AlarmNotification): Record<string, unknown> {
  const c = alarm.condition;
  if (c.kind === 'unknown') {
    return { condition_unreadable: c.why, condition_raw: c.raw };
  }
  if (c.kind === 'composite') {
    return {
      alarm_rule: c.alarmRule,
      triggering_children: c.triggeringChildren.map((child) =>
        compact({ name: child.name, state: child.state, timestamp: child.timestamp, arn: child.arn }),
      ),
    };
  }
  const evaluation = {
    comparison_operator: c.comparisonOperator,
    evaluation_periods: c.evaluationPeriods,
    datapoints_to_alarm: c.datapointsToAlarm,
    treat_missing_data: c.treatMissingData,
    evaluate_low_sample_count_percentile: c.evaluateLowSampleCountPercentile,
  };
  if (c.kind === 'metric') {
    return {
      metric: compact({
        namespace: c.metric.namespace,
        name: c.metric.metricName,
        dimensions: dimensionObject(c.metric.dimensions),
      }),
      statistic: c.statistic,
      unit: c.unit,
      threshold: c.threshold,
      period_seconds: c.period,
      ...evaluation,
    };
  }
  const band = c.kind === 'anomaly' ? c.metrics.find((m) => m.id === c.thresholdMetricId) : undefined;
  return {
    metrics: c.metrics.map(mathMetricDetails),
    ...(c.kind === 'metric-math'
      ? { threshold: c.threshold }
      : { anomaly_band_id: c.thresholdMetricId, anomaly_band_expression: band?.expression }),
    period_seconds: periodOf(c.period, c.metrics),
    ...evaluation,
  };
}

function mathMetricDetails(m: MathMetric): Record<string, unknown> {
  const stat = m.metricStat;
  return compact({
    id: m.id,
    label: m.label,
    expression: m.expression,
    metric: stat
      ? {
          namespace: stat.metric.namespace,
          name: stat.metric.metricName,
          dimensions: dimensionObject(stat.metric.dimensions),
        }
      : undefined,
    stat: stat?.stat,
    period_seconds: stat?.period,
    unit: stat?.unit,
    return_data: m.returnData,
  });
}

function dimensionObject(dimensions: readonly Dimension[]): Record<string, string> {
  return Object.fromEntries(dimensions.map((d) => [d.name, d.value]));
}
