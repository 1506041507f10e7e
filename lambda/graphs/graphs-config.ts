// The metric graphs' settings, and the graphs loaded on first use: the S3 and CloudWatch clients (metric-graphs.ts
// and its chunk) are loaded only by a function that draws a graph, not by every cold start.
import { en } from 'zod/locales';
import * as z from 'zod/mini';
import type { AlarmNotification } from '../messages/notification';
import type { MetricGraphs, MetricGraphsOptions, PagerDutyImage } from './metric-graphs';

/** createMetricGraphs, with metric-graphs.ts imported at the first alarm that wants a graph. */
export function lazyMetricGraphs(options: MetricGraphsOptions): MetricGraphs {
  let loading: Promise<MetricGraphs> | undefined;
  return {
    imagesFor: async (alarm: AlarmNotification, deadlineMs: number): Promise<PagerDutyImage[]> => {
      loading ??= import('./metric-graphs').then((module) => module.createMetricGraphs(options));
      try {
        return await (await loading).imagesFor(alarm, deadlineMs);
      } catch (error) {
        // imagesFor never rejects; only a missing chunk gets here, and a page never waits on a graph.
        loading = undefined;
        options.log?.warn('Metric graphs could not be loaded; the page goes without them', {
          error: error instanceof Error ? error.message : String(error),
        });
        options.count?.('ImageFailures', 1);
        return [];
      }
    },
  };
}

const integer = (min: number, max: number, fallback: number) =>
  z._default(z.coerce.number().check(z.int(), z.gte(min), z.lte(max)), fallback);

// Built on first use: most functions run with METRIC_GRAPHS off and never read these settings.
let schema: ReturnType<typeof buildSchema> | undefined;
const buildSchema = () =>
  z.object({
    METRIC_GRAPHS: z._default(z.enum(['on', 'off']), 'off'),
    IMAGE_BUCKET: z.optional(z.string().check(z.minLength(3))),
    IMAGE_URL_BASE: z.optional(z.string().check(z.regex(/^https:\/\/[^/\s]+/, 'must be an https:// URL'))),
    IMAGE_TOKEN_SECRET_ID: z.optional(z.string().check(z.minLength(1))),
    // At least 7 days: PagerDuty's apps must be able to show the image for a week.
    IMAGE_LINK_TTL_DAYS: integer(7, 365, 14),
    IMAGE_TIMEOUT_MS: integer(50, 5000, 1000),
    IMAGE_HOME_ACCOUNT_ID: z.optional(z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit account id'))),
    METRIC_GRAPHS_CROSS_ACCOUNT: z._default(z.enum(['skip', 'observability']), 'skip'),
  });

export type MetricGraphsConfig = Pick<
  MetricGraphsOptions,
  'bucket' | 'urlBase' | 'tokenSecretId' | 'linkTtlDays' | 'timeoutMs' | 'homeAccountId' | 'crossAccount'
>;

/** The image settings from the environment: undefined when METRIC_GRAPHS is off (the default). */
export function metricGraphsConfigFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): MetricGraphsConfig | undefined {
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  if ((set.METRIC_GRAPHS ?? 'off') === 'off') return undefined;
  schema ??= buildSchema();
  const parsed = schema.safeParse(set, { error: en().localeError });
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid configuration: ${lines.join('; ')}`);
  }
  const c = parsed.data;
  const missing = (['IMAGE_BUCKET', 'IMAGE_URL_BASE', 'IMAGE_TOKEN_SECRET_ID'] as const).filter((k) => !c[k]);
  if (missing.length > 0) {
    throw new Error(`Invalid configuration: METRIC_GRAPHS=on needs ${missing.join(', ')}`);
  }
  return {
    bucket: c.IMAGE_BUCKET!,
    urlBase: c.IMAGE_URL_BASE!.replace(/\/+$/, ''),
    tokenSecretId: c.IMAGE_TOKEN_SECRET_ID!,
    linkTtlDays: c.IMAGE_LINK_TTL_DAYS,
    timeoutMs: c.IMAGE_TIMEOUT_MS,
    ...(c.IMAGE_HOME_ACCOUNT_ID ? { homeAccountId: c.IMAGE_HOME_ACCOUNT_ID } : {}),
    crossAccount: c.METRIC_GRAPHS_CROSS_ACCOUNT,
  };
}
