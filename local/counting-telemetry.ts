import type { CountMetric, Telemetry } from '../lambda/shared/telemetry';

/** Counts metrics in memory (tests and the delivery simulation). */
export class CountingTelemetry implements Telemetry {
  readonly counts = new Map<string, number>();
  count(metric: CountMetric, value = 1): void {
    this.counts.set(metric, (this.counts.get(metric) ?? 0) + value);
  }
  sent(action: string): void {
    this.count('EventsSent');
    this.counts.set(`EventsSent:${action}`, (this.counts.get(`EventsSent:${action}`) ?? 0) + 1);
  }
  latency(): void {}
  readonly timings: { metric: string; ms: number }[] = [];
  timing(metric: string, ms: number): void {
    this.timings.push({ metric, ms });
  }
  get(metric: string): number {
    return this.counts.get(metric) ?? 0;
  }
}
