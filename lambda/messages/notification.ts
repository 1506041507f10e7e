// The typed values every SNS record becomes. Parsed once in alarm-message.ts; nothing downstream re-checks.
import type { InsufficientDataPolicy, Severity } from '../shared/contract';
import type { ServiceNotification } from './services/types';

export type { InsufficientDataPolicy, Severity };

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** The SNS envelope of one record: the parts the pipeline uses. */
export interface SnsEnvelope {
  readonly messageId: string;
  readonly topicArn: string;
  readonly subject?: string;
  /** SNS publish time, ISO 8601. */
  readonly timestamp: string;
  readonly message: string;
}

export interface Dimension {
  readonly name: string;
  readonly value: string;
}

export interface MetricIdentity {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: readonly Dimension[];
}

/** One entry of `Trigger.Metrics[]` in a metric-math or anomaly-detection alarm. */
export interface MathMetric {
  readonly id: string;
  readonly label?: string;
  readonly returnData: boolean;
  readonly expression?: string;
  readonly metricStat?: {
    readonly metric: MetricIdentity;
    readonly period: number;
    readonly stat: string;
    readonly unit?: string;
  };
}

/**
 * Evaluation settings common to every metric-based alarm. SNS messages carry them all; EventBridge state-change
 * events carry none of them, so each may be absent.
 */
export interface Evaluation {
  readonly comparisonOperator?: string;
  readonly evaluationPeriods?: number;
  readonly datapointsToAlarm?: number;
  /** Normalised: `missing`, `breaching`, `notBreaching`, `ignore` (the old padded form is unwrapped). */
  readonly treatMissingData?: string;
  /** `evaluate` or `ignore`: percentile alarms only; absent when the message leaves it empty. */
  readonly evaluateLowSampleCountPercentile?: string;
}

export interface SingleMetricCondition extends Evaluation {
  readonly kind: 'metric';
  readonly metric: MetricIdentity;
  /** `Average`, `Sum`, ... for Statistic; `p99`, `tm90`, ... for ExtendedStatistic. */
  readonly statistic: string;
  readonly unit?: string;
  readonly period: number;
  /** Absent in EventBridge events, which do not carry it. */
  readonly threshold?: number;
}

export interface MetricMathCondition extends Evaluation {
  readonly kind: 'metric-math';
  readonly metrics: readonly MathMetric[];
  readonly period?: number;
  /** Absent in EventBridge events, which do not carry it. */
  readonly threshold?: number;
}

export interface AnomalyCondition extends Evaluation {
  readonly kind: 'anomaly';
  readonly metrics: readonly MathMetric[];
  readonly period?: number;
  /** The id of the ANOMALY_DETECTION_BAND expression in `metrics`. */
  readonly thresholdMetricId: string;
}

export interface TriggeringChild {
  readonly arn: string;
  /** The alarm name, taken from the ARN. */
  readonly name: string;
  readonly state?: string;
  readonly timestamp?: string;
}

export interface CompositeCondition {
  readonly kind: 'composite';
  readonly alarmRule: string;
  readonly triggeringChildren: readonly TriggeringChild[];
}

/**
 * An alarm whose condition this pipeline cannot read: a log alarm, a PromQL alarm, a future kind, or a `Trigger` of
 * an unexpected shape. The alarm still pages and resolves under its own ARN; only the words about its condition
 * are missing.
 */
export interface UnknownCondition {
  readonly kind: 'unknown';
  /** What could not be read, naming the field: `no Trigger and no AlarmRule`, `Trigger.Period: missing`. */
  readonly why: string;
  /** A few words for the summary when something recognisable was found, e.g. `PromQL: up == 0`. */
  readonly label?: string;
  /** The `Trigger` (or the event's `configuration`) as received, as bounded JSON text, for the details. */
  readonly raw?: string;
}

export type AlarmCondition =
  SingleMetricCondition | MetricMathCondition | AnomalyCondition | CompositeCondition | UnknownCondition;

/** One time series of a multi-time-series alarm (Metrics Insights GROUP BY, PromQL): it alarms and recovers alone. */
export interface AlarmContributor {
  /** Stable per time series; part of the dedup key. */
  readonly id: string;
  /** The values that name the time series, e.g. `{ TableName: "orders" }`. */
  readonly attributes: Readonly<Record<string, string>>;
}

/** Why CloudWatch itself would run no action for this state change. */
export interface SuppressedActions {
  /** `WaitPeriod`, `ExtensionPeriod`, `Alarm` (a suppressor alarm) or `MuteRule`. */
  readonly by: string;
  /** In words, for the log line: `actions suppressed by WaitPeriod`, `muted by …/alarm-mute-rule:x until …`. */
  readonly reason: string;
}

/** A CloudWatch alarm state-change notification. */
export interface AlarmNotification {
  readonly type: 'alarm';
  readonly alarmName: string;
  readonly alarmDescription?: string;
  /** Absent in old messages. */
  readonly alarmArn?: string;
  readonly accountId: string;
  /** As written in the message, e.g. `US East (N. Virginia)` or `US - N. Virginia`. */
  readonly regionName: string;
  /** e.g. `us-east-1`; from the ARN, else from the region name; absent when neither tells. */
  readonly regionCode?: string;
  /** `aws`, `aws-cn`, `aws-us-gov`, ... */
  readonly partition: string;
  readonly newState: AlarmState;
  readonly oldState?: AlarmState;
  readonly reason: string;
  /** As written in the message, e.g. `2021-11-10T02:45:55.640+0000`. */
  readonly stateChangeTime: string;
  /** The same instant in epoch milliseconds: the ledger orders by it. */
  readonly stateChangeEpochMs: number;
  readonly condition: AlarmCondition;
  /** Propagated alarm tags (`aws:` keys never appear); empty when the message has none. */
  readonly tags: Readonly<Record<string, string>>;
  readonly tagsStatus?: string;
  readonly actionExecutedAfterMuteWindow?: boolean;
  /** Set when the change is one contributor's: the dedup key and the ordering are per contributor. */
  readonly contributor?: AlarmContributor;
  /** Set when CloudWatch would run no action (suppressed or muted): the decision step sends nothing. */
  readonly actionsSuppressed?: SuppressedActions;
  /** How it arrived; absent means SNS. */
  readonly intake?: 'sns' | 'eventbridge';
}

/** Anything else that reached the topic: a console test publish, another service's JSON, a broken alarm. */
export interface UnrecognisedNotification {
  readonly type: 'unrecognised';
  /** Why it is not an alarm notification, for the log and the event details. */
  readonly why: string;
  readonly subject?: string;
  /** The raw SNS message text. */
  readonly body: string;
  /** SNS publish time in epoch milliseconds: orders re-publishes in the ledger. */
  readonly publishedEpochMs: number;
  /** Empty when it did not come through a topic. */
  readonly topicArn: string;
  /** What another AWS service said, when the message is one it publishes (RDS, Budgets, GuardDuty, ...). */
  readonly service?: ServiceNotification;
  /** How it arrived; absent means SNS. */
  readonly intake?: 'sns' | 'eventbridge';
}

export type Notification = AlarmNotification | UnrecognisedNotification;

/** Per-alarm settings after tags, CDK options and defaults have been merged. */
export interface AlarmSettings {
  readonly route: string;
  /** Where the route came from: a tag, a declaration, the alarm's environment (ENVIRONMENT_ROUTES), or the default. */
  readonly routeFrom?: 'tag' | 'declared' | 'environment' | 'default';
  readonly severity: Severity;
  /** Where the severity came from; only a `default` one may be replaced by a model's triage (TRIAGE_SEVERITY=apply). */
  readonly severityFrom?: 'tag' | 'declared' | 'default';
  readonly insufficientData: InsufficientDataPolicy;
  readonly runbookUrl?: string;
  readonly dashboardUrl?: string;
  readonly environment?: string;
  /** Re-send the trigger while the alarm still breaches, every so many minutes (opt-in; the sweep does it). */
  readonly repageMinutes?: number;
  /** Tags with bad values, each said in one line; the default was used instead. */
  readonly problems: readonly string[];
}
