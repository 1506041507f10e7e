import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, SERVICE_NAME, type CountMetric } from './contract';

export { METRICS_NAMESPACE, SERVICE_NAME, type CountMetric };

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME });
export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME,
});

export interface Telemetry {
  count(metric: CountMetric, value?: number): void;
  /** EventsSent with an `action` dimension as well as the plain total. */
  sent(action: string): void;
  latency(ms: number): void;
  /** A duration other than a delivery's (one sweep's), milliseconds. */
  timing?(metric: 'SweepDuration', ms: number): void;
}

// EventsSent per action goes through one Metrics instance per action (created once), not `singleMetric()`,
// which builds a new instance for every event.
const actionMetrics = new Map<string, Metrics>();

function metricsForAction(action: string): Metrics {
  let forAction = actionMetrics.get(action);
  if (!forAction) {
    forAction = new Metrics({
      namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
      serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME,
      defaultDimensions: { action },
    });
    actionMetrics.set(action, forAction);
  }
  return forAction;
}

/** Writes every stored metric as EMF lines; called once per invocation, in a `finally`. */
export function publishMetrics(): void {
  for (const target of [metrics, ...actionMetrics.values()]) {
    if (target.hasStoredMetrics()) target.publishStoredMetrics();
  }
}

export function powertoolsTelemetry(target: Metrics = metrics): Telemetry {
  return {
    count: (metric, value = 1) => {
      target.addMetric(metric, MetricUnit.Count, value);
    },
    sent: (action) => {
      target.addMetric('EventsSent', MetricUnit.Count, 1);
      metricsForAction(action).addMetric('EventsSent', MetricUnit.Count, 1);
    },
    latency: (ms) => {
      target.addMetric('DeliveryLatency', MetricUnit.Milliseconds, ms);
    },
    timing: (metric, ms) => {
      target.addMetric(metric, MetricUnit.Milliseconds, ms);
    },
  };
}

/** Log lines about one record: its keys on every line, without building a child logger for each record. */
export class RecordLog {
  private readonly keys: Record<string, unknown> = {};

  constructor(private readonly logger: Logger) {}

  appendKeys(keys: Record<string, unknown>): void {
    Object.assign(this.keys, keys);
  }

  info(message: string, extra: Record<string, unknown> = {}): void {
    this.logger.info(message, { ...this.keys, ...extra });
  }

  warn(message: string, extra: Record<string, unknown> = {}): void {
    this.logger.warn(message, { ...this.keys, ...extra });
  }

  error(message: string, extra: Record<string, unknown> = {}): void {
    this.logger.error(message, { ...this.keys, ...extra });
  }
}
