// The graph of an alarm's metric around its state change, as the MetricWidget JSON of CloudWatch's
// GetMetricWidgetImage. Pure: no environment, no clock, no network; the state change time is the only time used.
// Widget syntax: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Metric-Widget-Structure.html
import { parseTimestamp } from '../shared/timestamp';
import type {
  AlarmState,
  AnomalyCondition,
  CompositeCondition,
  Dimension,
  MathMetric,
  MetricMathCondition,
  SingleMetricCondition,
} from '../messages/notification';

/** The alarm conditions that have a metric to draw. */
export type GraphableCondition = SingleMetricCondition | MetricMathCondition | AnomalyCondition;

/** What a graph needs to know about an alarm: a notification, or a composite's child read with DescribeAlarms. */
export interface GraphSubject {
  readonly alarmName: string;
  /** e.g. `us-east-1`: GetMetricWidgetImage is called in this region. */
  readonly regionCode: string;
  readonly newState: AlarmState;
  readonly stateChangeEpochMs: number;
  readonly condition: GraphableCondition;
}

export interface GraphOptions {
  /**
   * The account that holds the metrics, when it is not the caller's (CloudWatch cross-account observability):
   * written on every metric of the graph.
   */
  readonly metricAccountId?: string;
  /** @default 800 */
  readonly width?: number;
  /** @default 400 */
  readonly height?: number;
}

type RowOptions = {
  id?: string;
  stat?: string;
  period?: number;
  label?: string;
  visible?: boolean;
  accountId?: string;
  color?: string;
};
type ExpressionRow = [{ expression: string } & RowOptions];
type MetricRow = [...string[], RowOptions];
export type WidgetMetricRow = MetricRow | ExpressionRow;

export interface HorizontalAnnotation {
  readonly value: number;
  readonly label: string;
  readonly color: string;
  readonly fill?: 'above' | 'below';
}

export interface VerticalAnnotation {
  /** ISO 8601 time. */
  readonly value: string;
  readonly label: string;
  readonly color: string;
}

export interface MetricWidget {
  readonly view: 'timeSeries';
  readonly stacked: false;
  readonly region: string;
  readonly title: string;
  readonly width: number;
  readonly height: number;
  readonly start: string;
  readonly end: string;
  readonly period: number;
  readonly timezone: '+0000';
  readonly legend: { readonly position: 'bottom' };
  readonly metrics: readonly WidgetMetricRow[];
  readonly annotations: {
    readonly horizontal?: readonly HorizontalAnnotation[];
    readonly vertical: readonly VerticalAnnotation[];
  };
}

const ALARM_RED = '#d62728';
const OK_GREEN = '#2ca02c';
const GREY = '#7f7f7f';
const HOUR_MS = 3_600_000;
const TITLE_MAX = 120;

export function isGraphable(condition: { readonly kind: string }): condition is GraphableCondition {
  return condition.kind === 'metric' || condition.kind === 'metric-math' || condition.kind === 'anomaly';
}

/** The graph of one alarm: its metric (or math), the threshold or band, and a line at the state change. */
export function metricWidgetFor(subject: GraphSubject, options: GraphOptions = {}): MetricWidget {
  const { condition } = subject;
  const period = periodOf(condition);
  const window = graphWindow(period, condition.evaluationPeriods ?? 1, subject.stateChangeEpochMs);
  const account = options.metricAccountId;
  const metrics: WidgetMetricRow[] =
    condition.kind === 'metric'
      ? [metricRow(condition.metric, { stat: condition.statistic, period, accountId: account })]
      : condition.metrics.map((m) => mathRow(m, period, visibleIds(condition), account));
  // No line where the message gave no threshold (an anomaly band, or a message that left it out).
  const horizontal =
    condition.kind === 'anomaly' || condition.threshold === undefined
      ? undefined
      : [thresholdAnnotation(condition, condition.threshold)];
  const stateColour = subject.newState === 'ALARM' ? ALARM_RED : subject.newState === 'OK' ? OK_GREEN : GREY;
  return {
    view: 'timeSeries',
    stacked: false,
    region: subject.regionCode,
    title: cut(subject.alarmName, TITLE_MAX),
    width: options.width ?? 800,
    height: options.height ?? 400,
    start: iso(window.startMs),
    end: iso(window.endMs),
    period,
    timezone: '+0000',
    legend: { position: 'bottom' },
    metrics,
    annotations: {
      ...(horizontal ? { horizontal } : {}),
      vertical: [
        {
          value: iso(subject.stateChangeEpochMs),
          label: `${subject.newState} ${iso(subject.stateChangeEpochMs).slice(11, 16)} UTC`,
          color: stateColour,
        },
      ],
    },
  };
}

/**
 * The time shown: enough periods before the change to see the normal level (24 periods, at least 3 evaluation
 * windows, 1 hour to 24 hours unless the evaluation window itself is longer), and a little after it.
 */
export function graphWindow(
  periodSeconds: number,
  evaluationPeriods: number,
  stateChangeEpochMs: number,
): { startMs: number; endMs: number } {
  const periodMs = periodSeconds * 1000;
  const evaluationWindowMs = 3 * Math.max(1, evaluationPeriods) * periodMs;
  const before = Math.max(evaluationWindowMs, clamp(24 * periodMs, HOUR_MS, 24 * HOUR_MS));
  const after = Math.max(periodMs, Math.round(before / 12));
  const second = (ms: number) => Math.floor(ms / 1000) * 1000;
  return { startMs: second(stateChangeEpochMs - before), endMs: second(stateChangeEpochMs + after) };
}

/** A short text for the image's `alt`: what is drawn and when the state changed. */
export function graphAltText(subject: GraphSubject): string {
  const { condition } = subject;
  const what =
    condition.kind === 'metric'
      ? `${condition.metric.namespace} ${condition.metric.metricName} (${condition.statistic})`
      : condition.kind === 'anomaly'
        ? 'the metric and its expected band'
        : `${condition.metrics.find((m) => m.returnData)?.label ?? 'the metric math expression'}`;
  const at = iso(subject.stateChangeEpochMs).slice(0, 16).replace('T', ' ');
  return cut(`${subject.alarmName}: ${what} around ${subject.newState} at ${at} UTC`, 256);
}

export interface ChildToGraph {
  readonly arn: string;
  readonly name: string;
  readonly state?: string;
  /** When the child changed state, if its timestamp reads as a time. */
  readonly stateChangeEpochMs?: number;
}

/** The children of a composite alarm whose graphs are worth drawing: those now in ALARM, then the rest, unique. */
export function childrenToGraph(condition: CompositeCondition, max: number): ChildToGraph[] {
  const inAlarm = condition.triggeringChildren.filter((c) => c.state === 'ALARM');
  const others = condition.triggeringChildren.filter((c) => c.state !== 'ALARM');
  const seen = new Set<string>();
  const chosen: ChildToGraph[] = [];
  for (const child of [...inAlarm, ...others]) {
    if (seen.has(child.arn) || chosen.length >= max) continue;
    seen.add(child.arn);
    const at = child.timestamp === undefined ? undefined : parseTimestamp(child.timestamp);
    chosen.push({
      arn: child.arn,
      name: child.name,
      ...(child.state !== undefined ? { state: child.state } : {}),
      ...(at !== undefined ? { stateChangeEpochMs: at } : {}),
    });
  }
  return chosen;
}

/** The parts of DescribeAlarms' `MetricAlarm` that define what it watches (the SDK's shape, all optional). */
export interface DescribedMetricAlarm {
  readonly AlarmName?: string;
  readonly Namespace?: string;
  readonly MetricName?: string;
  readonly Statistic?: string;
  readonly ExtendedStatistic?: string;
  readonly Dimensions?: readonly { readonly Name?: string; readonly Value?: string }[];
  readonly Period?: number;
  readonly Unit?: string;
  readonly EvaluationPeriods?: number;
  readonly DatapointsToAlarm?: number;
  readonly Threshold?: number;
  readonly ComparisonOperator?: string;
  readonly TreatMissingData?: string;
  readonly ThresholdMetricId?: string;
  readonly Metrics?: readonly {
    readonly Id?: string;
    readonly Expression?: string;
    readonly Label?: string;
    readonly ReturnData?: boolean;
    readonly Period?: number;
    readonly MetricStat?: {
      readonly Metric?: {
        readonly Namespace?: string;
        readonly MetricName?: string;
        readonly Dimensions?: readonly { readonly Name?: string; readonly Value?: string }[];
      };
      readonly Period?: number;
      readonly Stat?: string;
      readonly Unit?: string;
    };
  }[];
}

/** A described metric alarm as the condition the graph needs; undefined when it has nothing drawable. */
export function conditionFromDescribedAlarm(alarm: DescribedMetricAlarm): GraphableCondition | undefined {
  const evaluation = {
    comparisonOperator: alarm.ComparisonOperator ?? 'GreaterThanThreshold',
    evaluationPeriods: alarm.EvaluationPeriods ?? 1,
    ...(alarm.DatapointsToAlarm !== undefined ? { datapointsToAlarm: alarm.DatapointsToAlarm } : {}),
    ...(alarm.TreatMissingData !== undefined ? { treatMissingData: alarm.TreatMissingData } : {}),
  };
  if (alarm.Metrics && alarm.Metrics.length > 0) {
    const metrics = mathMetricsOf(alarm.Metrics);
    if (metrics === undefined) return undefined;
    const period = alarm.Period ?? metrics.find((m) => m.metricStat)?.metricStat?.period;
    if (alarm.ThresholdMetricId) {
      return {
        kind: 'anomaly',
        ...evaluation,
        metrics,
        thresholdMetricId: alarm.ThresholdMetricId,
        ...(period ? { period } : {}),
      };
    }
    if (alarm.Threshold === undefined) return undefined;
    return {
      kind: 'metric-math',
      ...evaluation,
      metrics,
      threshold: alarm.Threshold,
      ...(period ? { period } : {}),
    };
  }
  const statistic = alarm.ExtendedStatistic ?? alarm.Statistic;
  if (!alarm.Namespace || !alarm.MetricName || !statistic || !alarm.Period || alarm.Threshold === undefined) {
    return undefined;
  }
  return {
    kind: 'metric',
    ...evaluation,
    metric: {
      namespace: alarm.Namespace,
      metricName: alarm.MetricName,
      dimensions: dimensionsOf(alarm.Dimensions),
    },
    statistic,
    period: alarm.Period,
    threshold: alarm.Threshold,
    ...(alarm.Unit ? { unit: alarm.Unit } : {}),
  };
}

/** The alarm's metrics and expressions; undefined when one lacks what a graph needs (an id, a full metric stat). */
function mathMetricsOf(described: NonNullable<DescribedMetricAlarm['Metrics']>): MathMetric[] | undefined {
  const metrics: MathMetric[] = [];
  for (const m of described) {
    const stat = m.MetricStat;
    const metric = stat?.Metric;
    if (!m.Id || (!stat && !m.Expression)) return undefined;
    if (stat && !(metric?.Namespace && metric.MetricName && stat.Stat && stat.Period)) return undefined;
    metrics.push({
      id: m.Id,
      returnData: m.ReturnData ?? true,
      ...(m.Label ? { label: m.Label } : {}),
      ...(m.Expression ? { expression: m.Expression } : {}),
      ...(stat && metric
        ? {
            metricStat: {
              metric: {
                namespace: metric.Namespace!,
                metricName: metric.MetricName!,
                dimensions: dimensionsOf(metric.Dimensions),
              },
              period: stat.Period!,
              stat: stat.Stat!,
            },
          }
        : {}),
    });
  }
  return metrics;
}

function dimensionsOf(
  dimensions: readonly { readonly Name?: string; readonly Value?: string }[] | undefined,
): Dimension[] {
  return (dimensions ?? []).flatMap((d) =>
    d.Name !== undefined && d.Value !== undefined ? [{ name: d.Name, value: d.Value }] : [],
  );
}

function periodOf(condition: GraphableCondition): number {
  if (condition.kind === 'metric') return condition.period;
  return condition.period ?? condition.metrics.find((m) => m.metricStat)?.metricStat?.period ?? 60;
}

/** Shown: what the alarm evaluates (ReturnData) and, for anomaly detection, the band. Inputs stay hidden. */
function visibleIds(condition: MetricMathCondition | AnomalyCondition): Set<string> {
  const ids = new Set(condition.metrics.filter((m) => m.returnData).map((m) => m.id));
  if (condition.kind === 'anomaly') ids.add(condition.thresholdMetricId);
  return ids;
}

function mathRow(
  m: MathMetric,
  period: number,
  visible: ReadonlySet<string>,
  accountId: string | undefined,
): WidgetMetricRow {
  const options: RowOptions = {
    id: m.id,
    ...(m.label ? { label: m.label } : {}),
    ...(visible.has(m.id) ? {} : { visible: false }),
  };
  if (m.metricStat) {
    return metricRow(m.metricStat.metric, {
      ...options,
      stat: m.metricStat.stat,
      period: m.metricStat.period,
      accountId,
    });
  }
  return [{ expression: m.expression ?? m.id, period, ...options }];
}

function metricRow(
  metric: { namespace: string; metricName: string; dimensions: readonly Dimension[] },
  options: RowOptions,
): MetricRow {
  const clean = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as RowOptions;
  return [
    metric.namespace,
    metric.metricName,
    ...metric.dimensions.flatMap((d) => [d.name, d.value]),
    clean,
  ] as MetricRow;
}

const OPERATORS: Record<string, { symbol: string; fill: 'above' | 'below' }> = {
  GreaterThanOrEqualToThreshold: { symbol: '≥', fill: 'above' },
  GreaterThanThreshold: { symbol: '>', fill: 'above' },
  LessThanThreshold: { symbol: '<', fill: 'below' },
  LessThanOrEqualToThreshold: { symbol: '≤', fill: 'below' },
};

function thresholdAnnotation(
  condition: SingleMetricCondition | MetricMathCondition,
  threshold: number,
): HorizontalAnnotation {
  const operator = OPERATORS[condition.comparisonOperator ?? ''];
  return {
    value: threshold,
    label: `Threshold ${operator?.symbol ?? condition.comparisonOperator} ${threshold}`,
    color: ALARM_RED,
    ...(operator ? { fill: operator.fill } : {}),
  };
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
