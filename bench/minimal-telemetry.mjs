// For `BENCH_TELEMETRY=minimal npm run bench` only, never deployed: the pipeline's bundles built with this module in
// place of Powertools Logger and Metrics, to measure what Powertools costs. The least telemetry that still does the
// same job: one JSON line per log call (level, message, time, service, request id and the call's keys), one EMF
// line per publish (the stored metrics under the instance's dimensions).
export const MetricUnit = { Count: 'Count', Milliseconds: 'Milliseconds' };

export class Logger {
  constructor(options = {}) {
    this.service = options.serviceName;
    this.requestId = undefined;
  }
  addContext(context) {
    this.requestId = context?.awsRequestId;
  }
  write(level, message, extra) {
    const line = { level, message, timestamp: new Date().toISOString(), service: this.service };
    if (this.requestId !== undefined) line.function_request_id = this.requestId;
    process.stdout.write(`${JSON.stringify({ ...line, ...extra })}\n`);
  }
  debug() {}
  info(message, extra) {
    this.write('INFO', message, extra);
  }
  warn(message, extra) {
    this.write('WARN', message, extra);
  }
  error(message, extra) {
    this.write('ERROR', message, extra);
  }
}

export class Metrics {
  constructor(options = {}) {
    this.namespace = options.namespace;
    this.dimensions = { service: options.serviceName, ...options.defaultDimensions };
    this.stored = new Map();
  }
  addMetric(name, unit, value) {
    const metric = this.stored.get(name);
    if (metric) metric.values.push(value);
    else this.stored.set(name, { unit, values: [value] });
  }
  hasStoredMetrics() {
    return this.stored.size > 0;
  }
  publishStoredMetrics() {
    const definitions = [];
    const values = {};
    for (const [name, { unit, values: list }] of this.stored) {
      definitions.push({ Name: name, Unit: unit });
      values[name] = list.length === 1 ? list[0] : list;
    }
    const directive = {
      Namespace: this.namespace,
      Dimensions: [Object.keys(this.dimensions)],
      Metrics: definitions,
    };
    const document = {
      _aws: { Timestamp: Date.now(), CloudWatchMetrics: [directive] },
      ...this.dimensions,
      ...values,
    };
    process.stdout.write(`${JSON.stringify(document)}\n`);
    this.stored.clear();
  }
}
