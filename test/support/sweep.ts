// The sweep in one process: the pipeline of in-process.ts, the CloudWatch fake read through the sweep's real
// reader, and a handler for delivering the notifications CloudWatch would have published.
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { cloudWatchTime, metricAlarmMessage, snsEvent } from '../../local/alarm-fixtures';
import { CloudWatchFake, FAKE_TOPIC, type FakeChange } from '../../local/cloudwatch-fake';
import { createHandler, type PipelineHandler } from '../../lambda/handler';
import { CloudWatchAlarmReader, type AlarmReader } from '../../lambda/sweep/cloudwatch';
import { runScheduledSweep, sweepDeps, type SweepSummary } from '../../lambda/sweep';
import type { PipelineDeps } from '../../lambda/pipeline/process-record';
import { inProcessDeps, TEST_ENV, type InProcessPipeline } from './in-process';

export const SOURCE = { region: 'us-east-1', accountId: '123456789012', topicArns: [FAKE_TOPIC] };

export interface SweepRig extends InProcessPipeline {
  readonly cloudWatch: CloudWatchFake;
  readonly handler: PipelineHandler;
  /** Wraps the reader each sweep uses (to race it, or to fail it). */
  wrapReader: (reader: AlarmReader) => AlarmReader;
  /** The PagerDuty client sweeps send through, when not the scripted one (a real client on a failing transport). */
  sweepPagerDuty?: PipelineDeps['pagerDuty'];
  sweep(deadlineMs?: number): Promise<SweepSummary>;
  /** Delivers a change as CloudWatch's SNS message, published `publishDelayMs` after it. */
  deliver(change: FakeChange | undefined, options?: DeliverOptions): Promise<unknown>;
}

export interface DeliverOptions {
  readonly publishDelayMs?: number;
  /** A forged or mistyped StateChangeTime in the message. */
  readonly claimedMs?: number;
  readonly tags?: Record<string, string>;
}

export function sweepRig(env: Record<string, string> = {}, startMs = Date.UTC(2026, 11, 6, 12)): SweepRig {
  const pipeline = inProcessDeps({ RECONCILE_SOURCES: JSON.stringify([SOURCE]), ...env }, startMs);
  const cloudWatch = new CloudWatchFake(() => pipeline.clock.now);
  const rig: SweepRig = {
    ...pipeline,
    cloudWatch,
    handler: createHandler({ ...TEST_ENV, ...env }, { deps: pipeline.deps }),
    wrapReader: (reader) => reader,
    sweep: (deadlineMs = pipeline.clock.now + 60_000) =>
      runScheduledSweep(
        sweepDeps({ ...pipeline.deps, pagerDuty: rig.sweepPagerDuty ?? pipeline.deps.pagerDuty }, () =>
          rig.wrapReader(new CloudWatchAlarmReader(cloudWatch as unknown as CloudWatchClient)),
        ),
        { deadline: deadlineMs },
      ),
    deliver: async (change, options = {}) => {
      if (!change) throw new Error('no change to deliver');
      const message = metricAlarmMessage({
        alarmName: change.name,
        state: change.state,
        oldState: change.oldState,
        stateChangeMs: options.claimedMs ?? change.atMs,
        tags: options.tags ?? cloudWatch.alarms.get(change.name)?.tags,
      });
      message.StateChangeTime = cloudWatchTime(options.claimedMs ?? change.atMs);
      return rig.handler(
        snsEvent([message], {
          timestamp: new Date(change.atMs + (options.publishDelayMs ?? 40)).toISOString(),
        }),
      );
    },
  };
  return rig;
}
