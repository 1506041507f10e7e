import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';

export const SERVICE_NAME = 'alarm-to-pagerduty';
export const METRICS_NAMESPACE = 'AlarmToPagerDuty';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME });
export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME,
});

/** The pipeline's own metric names; the dashboard and alarms in lib/ read these. */
export type CountMetric =
  | 'EventsSent'
  | 'DeliveryFailures'
  | 'DeliveryRetries'
  | 'DuplicatesSkipped'
  | 'StaleSkipped'
  | 'PolicySkipped'
  | 'UnrecognisedMessages'
  | 'UnrecognisedDropped'
  | 'LedgerUnavailable'
  | 'Compensations'
  | 'StaleRoutingKeyUsed'
  | 'TagProblems';

export interface Telemetry {
  count(metric: CountMetric, value?: number): void;
  /** EventsSent with an `action` dimension as well as the plain total. */
  sent(action: string): void;
  latency(ms: number): void;
}

export function powertoolsTelemetry(target: Metrics = metrics): Telemetry {
  return {
    count: (metric, value = 1) => {
      target.addMetric(metric, MetricUnit.Count, value);
    },
    sent: (action) => {
      target.addMetric('EventsSent', MetricUnit.Count, 1);
      target.singleMetric().addDimension('action', action).addMetric('EventsSent', MetricUnit.Count, 1);
    },
    latency: (ms) => {
      target.addMetric('DeliveryLatency', MetricUnit.Milliseconds, ms);
    },
  };
}
