/**
 * CloudWatch alarms → PagerDuty Events API v2 as one CDK construct: `new AlarmToPagerDuty(this, 'Pager', …)`,
 * then `pager.addAlarm(alarm, options)`. Alarms in other regions and accounts reach it through a
 * `RegionalIntakeStack` (or the one `addAlarm` creates); the types of every public member are exported too.
 * @packageDocumentation
 */
export {
  ALARM_SETTINGS_MAX_BYTES,
  AlarmToPagerDuty,
  type AlarmPagingOptions,
  type AlarmToPagerDutyProps,
  type InsufficientDataPolicy,
  type Severity,
} from './alarm-to-pagerduty';
export { INSUFFICIENT_DATA_POLICIES, SEVERITIES } from './paging-options';
export {
  IntakeSubscriberStack,
  RegionalIntake,
  RegionalIntakeStack,
  SubscriptionDeadLetters,
  type IntakeEnvironment,
  type IntakeSubscriberStackProps,
  type RegionalIntakeProps,
  type RegionalIntakeStackProps,
  type SubscriptionDeadLettersProps,
} from './regional-intake';
export {
  AlarmEventsForwarder,
  AlarmEventsIntake,
  type AlarmEventsForwarderProps,
  type AlarmEventsIntakeProps,
  type AlarmEventsSelection,
} from './eventbridge-intake';
export {
  MetricGraphImages,
  type MetricGraphImagesProps,
  type MetricGraphSettings,
} from './metric-graph-images';
export type { IntakePipeline, PublishingPolicy, SweepAccess } from './intake-pipeline';
export {
  ReconcileSweep,
  type ReconcileSweepProps,
  type ReconcileSource,
  type SweepShard,
} from './reconcile-sweep';
export { SweepReadRole, type SweepReadRoleProps } from './private/alarm-read';
export type { TriageOptions } from './private/model-triage';
export { DeployMarker, type DeployMarkerProps } from './deploy-marker';
