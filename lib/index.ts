/**
 * CloudWatch alarms → PagerDuty Events API v2 as one CDK construct: `new AlarmToPagerDuty(this, 'Pager', …)`,
 * then `pager.addAlarm(alarm, options)`.
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
