import { CloudWatchClient, DescribeAlarmsCommand, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { cloudWatchTime, lambdaContext, snsEvent } from '../../local/alarm-fixtures';
import { newRoutingKey, startPipeline, type LocalPipeline, motoStores } from '../../local/harness';
import { describeWithMoto, startMoto } from '../../local/moto';
import { PagerDutyEmulator } from '../../local/pagerduty-emulator';
import { runDrill } from '../../scripts/drill';
import { captureStdout } from '../support/output';

const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

/**
 * Stands in for CloudWatch's alarm actions (moto changes the state but runs no actions): when the alarm's state
 * changes, publish what CloudWatch would, through the real handler.
 */
function deliverStateChanges(cloudwatch: CloudWatchClient, alarmName: string, pipeline: LocalPipeline) {
  let stopped = false;
  let last: string | undefined;
  const loop = (async () => {
    while (!stopped) {
      const { MetricAlarms } = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [alarmName] }));
      const alarm = MetricAlarms?.[0];
      const stamp = `${alarm?.StateValue}@${alarm?.StateUpdatedTimestamp?.toISOString()}`;
      if (alarm && stamp !== last) {
        if (last !== undefined) {
          const message = {
            AlarmName: alarm.AlarmName,
            AlarmDescription: alarm.AlarmDescription ?? null,
            AWSAccountId: alarm.AlarmArn?.split(':')[4],
            NewStateValue: alarm.StateValue,
            NewStateReason: alarm.StateReason,
            StateChangeTime: cloudWatchTime(alarm.StateUpdatedTimestamp!.getTime()),
            Region: 'US East (N. Virginia)',
            AlarmArn: alarm.AlarmArn,
            OldStateValue: last.split('@')[0],
            Trigger: {
              MetricName: alarm.MetricName,
              Namespace: alarm.Namespace,
              StatisticType: 'Statistic',
              Statistic: String(alarm.Statistic).toUpperCase(),
              Unit: null,
              Dimensions: [],
              Period: alarm.Period,
              EvaluationPeriods: alarm.EvaluationPeriods,
              ComparisonOperator: alarm.ComparisonOperator,
              Threshold: alarm.Threshold,
              TreatMissingData: alarm.TreatMissingData ?? 'missing',
              EvaluateLowSampleCountPercentile: '',
            },
          };
          await pipeline.handler(snsEvent([message]), lambdaContext());
        }
        last = stamp;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}

describeWithMoto('npm run drill against moto_server', () => {
  let moto: { endpoint: string; stop(): Promise<void> };
  let emulator: PagerDutyEmulator;
  let output: ReturnType<typeof captureStdout>;

  beforeAll(async () => {
    moto = await startMoto();
    emulator = await PagerDutyEmulator.start();
  });
  afterAll(async () => {
    await emulator?.stop();
    await moto?.stop();
  });
  beforeEach(() => (output = captureStdout()));
  afterEach(() => output.restore());

  it('sets the alarm to ALARM then OK and sees PagerDuty accept the trigger, then the resolve', async () => {
    const pipeline = await startPipeline({
      stores: motoStores(moto.endpoint),
      pagerDutyUrl: emulator.url,
      routingKeys: { default: newRoutingKey() },
    });
    const cloudwatch = new CloudWatchClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials });
    const dynamodb = new DynamoDBClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials });
    await cloudwatch.send(
      new PutMetricAlarmCommand({
        AlarmName: 'drill-heartbeat',
        Namespace: 'AlarmToPagerDuty/Example',
        MetricName: 'Heartbeat',
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      }),
    );
    const stop = deliverStateChanges(cloudwatch, 'drill-heartbeat', pipeline);
    const lines: string[] = [];
    try {
      const steps = await runDrill({
        cloudwatch,
        dynamodb,
        alarmName: 'drill-heartbeat',
        tableName: pipeline.tableName,
        timeoutMs: 10_000,
        pollMs: 50,
        log: (line) => lines.push(line),
      });
      expect(steps.map((s) => [s.state, s.ok])).toEqual([
        ['ALARM', true],
        ['OK', true],
      ]);
    } finally {
      await stop();
    }
    const dedupKey = 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:drill-heartbeat';
    expect(emulator.incidents({ dedupKey })).toEqual([expect.objectContaining({ status: 'resolved' })]);
    expect(lines.join('\n')).toMatch(/accepted the trigger.*\n.*\n.*accepted the resolve/);
  });

  it('says where to look when nothing reaches the ledger', async () => {
    const pipeline = await startPipeline({
      stores: motoStores(moto.endpoint),
      pagerDutyUrl: emulator.url,
      routingKeys: { default: newRoutingKey() },
    });
    const cloudwatch = new CloudWatchClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials });
    await cloudwatch.send(
      new PutMetricAlarmCommand({
        AlarmName: 'not-attached',
        Namespace: 'X',
        MetricName: 'Y',
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      }),
    );
    const lines: string[] = [];
    const steps = await runDrill({
      cloudwatch,
      dynamodb: new DynamoDBClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials }),
      alarmName: 'not-attached',
      tableName: pipeline.tableName,
      timeoutMs: 300,
      pollMs: 50,
      log: (line) => lines.push(line),
    });
    expect(steps).toEqual([expect.objectContaining({ state: 'ALARM', ok: false })]);
    expect(lines.join('\n')).toMatch(
      /no delivered trigger in the ledger.*alarm's actions point at the topic/s,
    );
  });
});
