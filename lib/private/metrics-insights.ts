import { Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

const GROUPED_QUERY = /^\s*SELECT\b[\s\S]*\bGROUP\s+BY\b/i;

/**
 * Whether the alarm evaluates a Metrics Insights query with GROUP BY: each time series is a contributor with its
 * own ALARM/OK state, never INSUFFICIENT_DATA.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Acting_Alarm_Changes.html
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Create_Metrics_Insights_Alarm.html
 */
export function isMultiTimeSeriesAlarm(cfn: cloudwatch.CfnAlarm | cloudwatch.CfnCompositeAlarm): boolean {
  if (!('metrics' in cfn)) return false;
  const metrics: unknown = Stack.of(cfn).resolve(cfn.metrics);
  if (!Array.isArray(metrics)) return false;
  return metrics.some((query: unknown) => {
    const expression = (query as { expression?: unknown } | null)?.expression;
    return typeof expression === 'string' && GROUPED_QUERY.test(expression);
  });
}
