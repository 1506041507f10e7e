// The graphs' chunk is imported at the first alarm that wants a graph; if it cannot be loaded, the page still goes,
// without images, and the failure is logged and counted (ImageFailures), then tried again at the next alarm.
import { lazyMetricGraphs } from '../../../lambda/graphs/graphs-config';
import type { AlarmNotification } from '../../../lambda/messages/notification';
import type { MetricGraphsLog } from '../../../lambda/graphs/metric-graphs';

const METRIC_GRAPHS_MODULE = '../../../lambda/graphs/metric-graphs';

afterEach(() => {
  jest.dontMock(METRIC_GRAPHS_MODULE);
  jest.resetModules();
});

it('a chunk that cannot be loaded costs the page its images only, counted; the next alarm loads it again', async () => {
  const lines: { level: string; message: string; extra?: Record<string, unknown> }[] = [];
  const log: MetricGraphsLog = {
    info: (message, extra) => lines.push({ level: 'info', message, extra }),
    warn: (message, extra) => lines.push({ level: 'warn', message, extra }),
  };
  const counted: [string, number][] = [];
  const graphs = lazyMetricGraphs({
    bucket: 'graph-images',
    urlBase: 'https://abc.lambda-url.us-east-1.on.aws',
    tokenSecretId: 'image-key',
    log,
    count: (metric, value) => counted.push([metric, value]),
  });
  // No region: the loaded module answers "no graph" at once, without any AWS call.
  const alarm = { alarmName: 'HighErrorRate', regionCode: undefined } as unknown as AlarmNotification;

  jest.doMock(METRIC_GRAPHS_MODULE, () => {
    throw new Error("Cannot find module './metric-graphs'");
  });
  expect(await graphs.imagesFor(alarm, Date.now() + 1000)).toEqual([]);
  expect(lines).toEqual([
    {
      level: 'warn',
      message: 'Metric graphs could not be loaded; the page goes without them',
      extra: { error: "Cannot find module './metric-graphs'" },
    },
  ]);
  expect(counted).toEqual([['ImageFailures', 1]]);

  jest.dontMock(METRIC_GRAPHS_MODULE);
  expect(await graphs.imagesFor(alarm, Date.now() + 1000)).toEqual([]);
  expect(lines.at(-1)).toEqual({
    level: 'info',
    message: 'No metric graph for this alarm',
    extra: { alarmName: 'HighErrorRate', reason: 'the alarm region is unknown' },
  });
  expect(counted).toHaveLength(1);
});
