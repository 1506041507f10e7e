// A loopback stand-in for the two CloudWatch operations the metric graphs use, GetMetricWidgetImage and
// DescribeAlarms, speaking the AWS JSON 1.0 protocol the SDK's CloudWatch client uses (moto has no
// GetMetricWidgetImage). Point a CloudWatchClient's `endpoint` at `url`. Each answer can be delayed or made to fail.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoopbackServer } from './loopback-server';

/** A 1×1 PNG: what the stand-in draws for every widget unless told otherwise. */
export const TINY_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

export type StandInBehaviour =
  | { readonly kind: 'answer'; readonly delayMs?: number }
  | { readonly kind: 'error'; readonly status: number; readonly code: string; readonly delayMs?: number }
  | { readonly kind: 'hang' };

export interface StandInRequest {
  readonly operation: string;
  readonly body: Record<string, unknown>;
  readonly receivedAt: number;
}

export class CloudWatchStandIn {
  readonly requests: StandInRequest[] = [];
  /** What GetMetricWidgetImage does next; stays until changed. */
  widgetBehaviour: StandInBehaviour = { kind: 'answer' };
  /** What DescribeAlarms does next; stays until changed. */
  describeBehaviour: StandInBehaviour = { kind: 'answer' };
  png: Buffer = TINY_PNG;
  /** DescribeAlarms answers these metric alarms (by name) from the SDK's MetricAlarm shape. */
  metricAlarms: Record<string, unknown>[] = [];

  private loopback!: LoopbackServer;

  private constructor() {}

  static async start(): Promise<CloudWatchStandIn> {
    const standIn = new CloudWatchStandIn();
    standIn.loopback = await LoopbackServer.start((req, res) => void standIn.serve(req, res));
    return standIn;
  }

  get url(): string {
    return this.loopback.url;
  }

  stop(): Promise<void> {
    return this.loopback.stop();
  }

  /** The MetricWidget JSON of every GetMetricWidgetImage request so far. */
  widgets(): Record<string, unknown>[] {
    return this.requests
      .filter((r) => r.operation === 'GetMetricWidgetImage')
      .map((r) => JSON.parse(String(r.body.MetricWidget)) as Record<string, unknown>);
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.split('.').pop() ?? '';
    const body = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
    this.requests.push({ operation, body, receivedAt: Date.now() });
    const behaviour: StandInBehaviour =
      operation === 'GetMetricWidgetImage'
        ? this.widgetBehaviour
        : operation === 'DescribeAlarms'
          ? this.describeBehaviour
          : { kind: 'answer' };
    if (behaviour.kind === 'hang') return;
    if (behaviour.delayMs) await new Promise((resolve) => setTimeout(resolve, behaviour.delayMs));
    if (res.destroyed) return;
    if (behaviour.kind === 'error') {
      res.writeHead(behaviour.status, {
        'content-type': 'application/x-amz-json-1.0',
        'x-amzn-query-error': `${behaviour.code};Sender`,
      });
      res.end(JSON.stringify({ __type: behaviour.code, message: `stand-in says ${behaviour.code}` }));
      return;
    }
    const answer =
      operation === 'GetMetricWidgetImage'
        ? { MetricWidgetImage: this.png.toString('base64') }
        : operation === 'DescribeAlarms'
          ? {
              MetricAlarms: this.metricAlarms.filter((a) =>
                ((body.AlarmNames as string[] | undefined) ?? []).includes(String(a.AlarmName)),
              ),
              CompositeAlarms: [],
            }
          : undefined;
    if (!answer) {
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ __type: 'UnknownOperationException', message: operation }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
    res.end(JSON.stringify(answer));
  }
}
