// Deep links into the AWS console, in the alarm's own partition and region.
import type { AlarmNotification, SingleMetricCondition } from './notification';
import { consoleHostFor, isRegionCode } from '../shared/regions';
import { wellFormed } from '../shared/text';

/**
 * `https://<console host>/cloudwatch/home?region=<code>#alarmsV2:alarm/<url-encoded name>`. Also for a contributor
 * of a multi-time-series alarm: AWS documents no console URL for one contributor, and the alarm's page lists them.
 */
export function alarmConsoleUrl(alarm: AlarmNotification): string | undefined {
  const base = cloudWatchHome(alarm);
  return base && `${base}#alarmsV2:alarm/${encodeURIComponent(wellFormed(alarm.alarmName))}`;
}

/**
 * The alarm's metric in the CloudWatch metrics console, last 3 hours, with the threshold drawn. The graph
 * state uses the console's own URL notation (the one its "share" links carry): `~(key~value~...)` objects,
 * `(~item~item)` arrays, `'`-prefixed strings percent-encoded with `*` in place of `%`.
 */
export function metricConsoleUrl(alarm: AlarmNotification): string | undefined {
  const base = cloudWatchHome(alarm);
  if (!base || alarm.condition.kind !== 'metric' || alarm.regionCode === undefined) return undefined;
  const c: SingleMetricCondition = alarm.condition;
  const graph = {
    metrics: [
      [
        c.metric.namespace,
        c.metric.metricName,
        ...c.metric.dimensions.flatMap((d) => [d.name, d.value]),
        { stat: c.statistic },
      ],
    ],
    view: 'timeSeries',
    stacked: false,
    region: alarm.regionCode,
    period: c.period,
    start: '-PT3H',
    end: 'P0D',
    ...(c.threshold === undefined
      ? {}
      : { annotations: { horizontal: [{ label: 'Threshold', value: c.threshold }] } }),
  };
  return `${base}#metricsV2:graph=~${encodeGraphValue(graph)}`;
}

/** The SNS topic in the console, for messages that are not alarms. */
export function snsTopicConsoleUrl(topicArn: string): string | undefined {
  const m = /^arn:([a-z-]+):sns:([a-z0-9-]+):\d{12}:[A-Za-z0-9_.-]{1,256}$/.exec(topicArn);
  if (!m || m[1] === undefined || m[2] === undefined || !isRegionCode(m[2])) return undefined;
  const host = consoleHostFor(m[1]);
  return host && `https://${host}/sns/v3/home?region=${m[2]}#/topic/${topicArn}`;
}

function cloudWatchHome(alarm: AlarmNotification): string | undefined {
  if (alarm.regionCode === undefined) return undefined;
  const host = consoleHostFor(alarm.partition);
  return host && `https://${host}/cloudwatch/home?region=${alarm.regionCode}`;
}

type GraphValue = string | number | boolean | readonly GraphValue[] | { readonly [key: string]: GraphValue };

function encodeGraphValue(value: GraphValue): string {
  if (typeof value === 'string') return `'${encodeGraphString(value)}`;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '0';
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value))
    return `(${value.map((item: GraphValue) => `~${encodeGraphValue(item)}`).join('')})`;
  const entries = Object.entries(value as { readonly [key: string]: GraphValue });
  return `(${entries.map(([key, item]) => `${key}~${encodeGraphValue(item)}`).join('~')})`;
}

// Letters, digits and `_ . -`: what encodeURIComponent and the notation both leave as it is (most names).
const UNESCAPED = /^[\w.-]*$/;
// `~ ' ( ) * !` are the notation's own punctuation (or left alone by encodeURIComponent), so they are escaped too,
// and every `%` of the encoding becomes `*`: one pass.
const GRAPH_ESCAPES: Readonly<Record<string, string>> = {
  '~': '*7E',
  "'": '*27',
  '(': '*28',
  ')': '*29',
  '*': '*2A',
  '!': '*21',
  '%': '*',
};

function encodeGraphString(text: string): string {
  if (UNESCAPED.test(text)) return text;
  return encodeURIComponent(wellFormed(text)).replace(/[~'()*!%]/g, (ch) => GRAPH_ESCAPES[ch] ?? ch);
}
