// Metric graph images for triggers: render with CloudWatch's GetMetricWidgetImage in the alarm's own region, keep
// the PNG in a private bucket, and hand back a signed, expiring link to the image endpoint (image-endpoint.ts).
// Never in the way of a page: one hard deadline for everything, and any failure means "no image", logged and
// counted (ImageFailures), never an error.
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricWidgetImageCommand,
} from '@aws-sdk/client-cloudwatch';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { alarmConsoleUrl } from '../messages/console-links';
import { MetricGraphError } from '../shared/errors';
import { newObjectId, objectKeyFor, signedImageUrl } from './image-token';
import { ImageSigningKeys } from './image-signing-keys';
import {
  childrenToGraph,
  conditionFromDescribedAlarm,
  graphAltText,
  isGraphable,
  metricWidgetFor,
  type GraphSubject,
  type MetricWidget,
} from './metric-graph';
import type { AlarmNotification } from '../messages/notification';

// The settings live apart so that the handler can read them without loading this module's SDK clients.
export { metricGraphsConfigFromEnv, type MetricGraphsConfig } from './graphs-config';

/** A PagerDuty Events API v2 `images[]` entry. */
export interface PagerDutyImage {
  readonly src: string;
  readonly href?: string;
  readonly alt?: string;
}

export interface MetricGraphs {
  /**
   * The graphs to attach to this alarm's trigger; empty when there is nothing to draw or nothing could be made
   * in time. Never rejects. `deadlineMs` is an epoch time in milliseconds; the work also stops after `timeoutMs`.
   */
  imagesFor(alarm: AlarmNotification, deadlineMs: number): Promise<PagerDutyImage[]>;
}

/** The metric name counted for every graph that was wanted but could not be made in time. */
export const IMAGE_FAILURES_METRIC = 'ImageFailures';

export type CrossAccountMode = 'skip' | 'observability';

export interface MetricGraphsOptions {
  /** The private bucket the PNGs go to. */
  readonly bucket: string;
  /** The image endpoint's https base URL (the Lambda function URL). */
  readonly urlBase: string;
  /** Secrets Manager secret holding the HMAC key for links. */
  readonly tokenSecretId: string;
  /** How long a link works. The bucket's lifecycle must keep objects at least this long. @default 14 */
  readonly linkTtlDays?: number;
  /** Hard limit on the time a page waits for its images. @default 1000 */
  readonly timeoutMs?: number;
  /** This function's account: alarms of other accounts need cross-account observability. */
  readonly homeAccountId?: string;
  /**
   * `observability`: this account is a CloudWatch cross-account observability monitoring account, so other
   * accounts' metrics are drawn here with `accountId`. `skip`: other accounts' alarms get no graph.
   * @default 'skip'
   */
  readonly crossAccount?: CrossAccountMode;
  /** Graphs per composite alarm (its triggering children). @default 3 */
  readonly maxGraphs?: number;
  /** @default 3600000 (1 hour) */
  readonly keyCacheMs?: number;
  readonly cloudWatchFor?: (region: string) => CloudWatchClient;
  readonly s3?: S3Client;
  readonly secrets?: SecretsManagerClient;
  readonly now?: () => number;
  readonly objectId?: () => string;
  readonly log?: MetricGraphsLog;
  readonly count?: (metric: typeof IMAGE_FAILURES_METRIC, value: number) => void;
}

export interface MetricGraphsLog {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
}

// GetMetricWidgetImage is not offered in AWS GovCloud (US):
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricWidgetImage.html
const PARTITIONS_WITHOUT_WIDGET_IMAGES = new Set(['aws-us-gov']);

export function createMetricGraphs(options: MetricGraphsOptions): MetricGraphs {
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 1000;
  const linkTtlSeconds = (options.linkTtlDays ?? 14) * 86_400;
  const maxGraphs = options.maxGraphs ?? 3;
  const crossAccount = options.crossAccount ?? 'skip';
  const log = options.log ?? silentLog;
  const count = options.count ?? (() => undefined);
  const objectId = options.objectId ?? newObjectId;
  const s3 = options.s3 ?? new S3Client({ maxAttempts: 2 });
  const keys = new ImageSigningKeys({
    client: options.secrets ?? new SecretsManagerClient({ maxAttempts: 2 }),
    secretId: options.tokenSecretId,
    cacheMs: options.keyCacheMs ?? 3_600_000,
    now,
  });
  const clients = new Map<string, CloudWatchClient>();
  const cloudWatchFor =
    options.cloudWatchFor ??
    ((region: string) => {
      let client = clients.get(region);
      if (!client) {
        client = new CloudWatchClient({ region, maxAttempts: 2 });
        clients.set(region, client);
      }
      return client;
    });

  const oneGraph = async (subject: GraphSubject, alarm: AlarmNotification, signal: AbortSignal) => {
    const widget = metricWidgetFor(subject, metricAccountOf(alarm));
    const [png, key] = await Promise.all([
      render(cloudWatchFor(subject.regionCode), widget, signal),
      keys.current(signal).catch((error: unknown) => {
        throw new MetricGraphError('sign', messageOf(error), { cause: error });
      }),
    ]);
    const id = objectId();
    await store(s3, options.bucket, objectKeyFor(id), png, signal);
    const expires = Math.floor(now() / 1000) + linkTtlSeconds;
    const href = alarmConsoleUrl({ ...alarm, alarmName: subject.alarmName });
    return {
      src: signedImageUrl(options.urlBase, key, id, expires),
      ...(href ? { href } : {}),
      alt: graphAltText(subject),
    };
  };

  const metricAccountOf = (alarm: AlarmNotification) =>
    crossAccount === 'observability' &&
    options.homeAccountId !== undefined &&
    alarm.accountId !== options.homeAccountId
      ? { metricAccountId: alarm.accountId }
      : {};

  /** Why this alarm gets no graph at all, when that is by design rather than a failure. */
  const notDrawable = (alarm: AlarmNotification): string | undefined => {
    if (alarm.regionCode === undefined) return 'the alarm region is unknown';
    if (PARTITIONS_WITHOUT_WIDGET_IMAGES.has(alarm.partition)) {
      return `GetMetricWidgetImage is not available in partition ${alarm.partition}`;
    }
    if (!isGraphable(alarm.condition) && alarm.condition.kind !== 'composite') return 'nothing to draw';
    if (alarm.condition.kind === 'composite' && alarm.condition.triggeringChildren.length === 0) {
      return 'the composite alarm has no triggering children (state set by hand)';
    }
    if (
      crossAccount === 'skip' &&
      options.homeAccountId !== undefined &&
      alarm.accountId !== options.homeAccountId
    ) {
      return (
        `the alarm is in account ${alarm.accountId}; set METRIC_GRAPHS_CROSS_ACCOUNT=observability once this account ` +
        'is a CloudWatch cross-account observability monitoring account for it'
      );
    }
    return undefined;
  };

  /** The composite's children that are metric alarms, read with DescribeAlarms in the composite's region. */
  const childSubjects = async (alarm: AlarmNotification, region: string, signal: AbortSignal) => {
    if (alarm.condition.kind !== 'composite') return [];
    const children = childrenToGraph(alarm.condition, maxGraphs);
    let described;
    try {
      described = await cloudWatchFor(region).send(
        new DescribeAlarmsCommand({
          AlarmNames: children.map((c) => c.name),
          AlarmTypes: ['MetricAlarm'],
          MaxRecords: 100,
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      throw new MetricGraphError('describe', `DescribeAlarms failed: ${messageOf(error)}`, { cause: error });
    }
    const byName = new Map((described.MetricAlarms ?? []).map((a) => [a.AlarmName, a]));
    return children.flatMap((child): GraphSubject[] => {
      const definition = byName.get(child.name);
      const condition = definition && conditionFromDescribedAlarm(definition);
      if (!condition) return [];
      return [
        {
          alarmName: child.name,
          regionCode: region,
          newState: child.state === 'ALARM' || child.state === 'OK' ? child.state : alarm.newState,
          stateChangeEpochMs: child.stateChangeEpochMs ?? alarm.stateChangeEpochMs,
          condition,
        },
      ];
    });
  };

  return {
    async imagesFor(alarm, deadlineMs) {
      const reason = notDrawable(alarm);
      if (reason !== undefined) {
        log.info('No metric graph for this alarm', { alarmName: alarm.alarmName, reason });
        return [];
      }
      const region = alarm.regionCode!;
      const started = now();
      const budgetMs = Math.max(0, Math.min(deadlineMs, started + timeoutMs) - started);
      const controller = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => {
          controller.abort(new MetricGraphError('timeout', `no image within ${budgetMs} ms`));
          resolve('timeout');
        }, budgetMs);
      });
      const failed = (error: unknown, graph: string) => {
        const step = error instanceof MetricGraphError ? error.step : 'render';
        count(IMAGE_FAILURES_METRIC, 1);
        log.warn('Metric graph left out of the event', {
          alarmName: alarm.alarmName,
          graph,
          step,
          reason: messageOf(error),
          elapsedMs: now() - started,
        });
      };

      try {
        const subjectsPromise: Promise<GraphSubject[]> = isGraphable(alarm.condition)
          ? Promise.resolve([{ ...alarm, regionCode: region, condition: alarm.condition }])
          : childSubjects(alarm, region, controller.signal);
        const subjects = await Promise.race([subjectsPromise, timedOut]);
        if (subjects === 'timeout') {
          subjectsPromise.catch(() => undefined);
          failed(
            new MetricGraphError('timeout', `no child alarm definitions within ${budgetMs} ms`),
            alarm.alarmName,
          );
          return [];
        }
        if (subjects.length === 0) {
          log.info('No metric graph for this alarm', {
            alarmName: alarm.alarmName,
            reason: 'none of its triggering children is a metric alarm this account can read',
          });
          return [];
        }
        // Each graph lands in its slot as it finishes: at the deadline, what is done still goes.
        const images: (PagerDutyImage | undefined)[] = subjects.map(() => undefined);
        const errors: unknown[] = subjects.map(() => undefined);
        const attempts = subjects.map((subject, i) =>
          oneGraph(subject, alarm, controller.signal).then(
            (image) => void (images[i] = image),
            (error: unknown) => void (errors[i] = error),
          ),
        );
        await Promise.race([Promise.all(attempts), timedOut]);
        const late = new MetricGraphError('timeout', `no image within ${budgetMs} ms`);
        subjects.forEach((subject, i) => {
          if (images[i] === undefined) failed(errors[i] ?? late, subject.alarmName);
        });
        return images.filter((image): image is PagerDutyImage => image !== undefined);
      } catch (error) {
        failed(error, alarm.alarmName);
        return [];
      } finally {
        clearTimeout(timer);
        if (!controller.signal.aborted) controller.abort();
      }
    },
  };
}

async function render(
  client: CloudWatchClient,
  widget: MetricWidget,
  signal: AbortSignal,
): Promise<Uint8Array> {
  try {
    const response = await client.send(
      new GetMetricWidgetImageCommand({ MetricWidget: JSON.stringify(widget), OutputFormat: 'png' }),
      { abortSignal: signal },
    );
    const png = response.MetricWidgetImage;
    if (!png || png.byteLength === 0) throw new Error('GetMetricWidgetImage answered without an image');
    return png;
  } catch (error) {
    throw new MetricGraphError('render', `GetMetricWidgetImage failed: ${messageOf(error)}`, {
      cause: error,
    });
  }
}

async function store(
  s3: S3Client,
  bucket: string,
  key: string,
  png: Uint8Array,
  signal: AbortSignal,
): Promise<void> {
  try {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: png, ContentType: 'image/png' }), {
      abortSignal: signal,
    });
  } catch (error) {
    throw new MetricGraphError('store', `PutObject to s3://${bucket}/${key} failed: ${messageOf(error)}`, {
      cause: error,
    });
  }
}

function messageOf(error: unknown): string {
  if (error instanceof MetricGraphError) return error.message;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

const silentLog: MetricGraphsLog = { info: () => undefined, warn: () => undefined };
