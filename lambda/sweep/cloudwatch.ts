// Reads one source's alarms from CloudWatch (its own account, or a role assumed in another), in the planner's shapes.
import {
  CloudWatchClient,
  DescribeAlarmContributorsCommand,
  DescribeAlarmsCommand,
  GetAlarmMuteRuleCommand,
  ListAlarmMuteRulesCommand,
  ListTagsForResourceCommand,
  type DescribeAlarmsCommandInput,
} from '@aws-sdk/client-cloudwatch';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import {
  observeCompositeAlarm,
  observeContributor,
  observeMetricAlarm,
  type ObservedAlarm,
  type ObservedContributor,
} from './observations';

/** What the sweep asks CloudWatch; the SDK reader below, or a test's fake. Every call throws on any failure. */
export interface AlarmReader {
  /** Every metric and composite alarm in ALARM, all pages. */
  alarmsInAlarm(): Promise<ObservedAlarm[]>;
  /** Every metric and composite alarm in INSUFFICIENT_DATA, all pages (a `trigger` policy pages them). */
  alarmsInInsufficientData(): Promise<ObservedAlarm[]>;
  /** These alarms (at most 100 names), as they are now; an alarm not in the answer does not exist. */
  alarmsByName(names: readonly string[]): Promise<ObservedAlarm[]>;
  /** The contributors of a multi-time-series alarm that are in ALARM, all pages. */
  contributorsInAlarm(alarmName: string): Promise<ObservedContributor[]>;
  /** The names of the alarms an ACTIVE mute rule mutes now. */
  mutedAlarmNames(): Promise<Set<string>>;
  tagsOf(alarmArn: string): Promise<Record<string, string>>;
}

/** DescribeAlarms' largest page, and the most names one call may ask for. */
export const DESCRIBE_ALARMS_PAGE = 100;
const ALARM_TYPES: DescribeAlarmsCommandInput['AlarmTypes'] = ['MetricAlarm', 'CompositeAlarm'];

export class CloudWatchAlarmReader implements AlarmReader {
  constructor(private readonly client: CloudWatchClient) {}

  alarmsInAlarm(): Promise<ObservedAlarm[]> {
    return this.describe({ StateValue: 'ALARM' });
  }

  alarmsInInsufficientData(): Promise<ObservedAlarm[]> {
    return this.describe({ StateValue: 'INSUFFICIENT_DATA' });
  }

  alarmsByName(names: readonly string[]): Promise<ObservedAlarm[]> {
    if (names.length > DESCRIBE_ALARMS_PAGE) throw new RangeError('at most 100 alarm names a call');
    // moto ignores StateValue when names are given; AWS would too be asked for names only.
    return this.describe({ AlarmNames: [...names] });
  }

  async contributorsInAlarm(alarmName: string): Promise<ObservedContributor[]> {
    const found: ObservedContributor[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new DescribeAlarmContributorsCommand({ AlarmName: alarmName, NextToken: token }),
      );
      found.push(...(page.AlarmContributors ?? []).map(observeContributor));
      token = page.NextToken;
    } while (token);
    return found;
  }

  async mutedAlarmNames(): Promise<Set<string>> {
    const muted = new Set<string>();
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListAlarmMuteRulesCommand({ Statuses: ['ACTIVE'], NextToken: token }),
      );
      for (const rule of page.AlarmMuteRuleSummaries ?? []) {
        // The summary has the ARN only; the rule's name is its last part.
        const name = rule.AlarmMuteRuleArn?.split(':alarm-mute-rule:').pop();
        if (!name) continue;
        const detail = await this.client.send(new GetAlarmMuteRuleCommand({ AlarmMuteRuleName: name }));
        if (detail.Status !== undefined && detail.Status !== 'ACTIVE') continue;
        for (const alarmName of detail.MuteTargets?.AlarmNames ?? []) muted.add(alarmName);
      }
      token = page.NextToken;
    } while (token);
    return muted;
  }

  async tagsOf(alarmArn: string): Promise<Record<string, string>> {
    const answer = await this.client.send(new ListTagsForResourceCommand({ ResourceARN: alarmArn }));
    return Object.fromEntries((answer.Tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
  }

  private async describe(filter: DescribeAlarmsCommandInput): Promise<ObservedAlarm[]> {
    const found: ObservedAlarm[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new DescribeAlarmsCommand({
          ...filter,
          AlarmTypes: ALARM_TYPES,
          MaxRecords: DESCRIBE_ALARMS_PAGE,
          NextToken: token,
        }),
      );
      for (const alarm of page.MetricAlarms ?? []) pushDefined(found, observeMetricAlarm(alarm));
      for (const alarm of page.CompositeAlarms ?? []) pushDefined(found, observeCompositeAlarm(alarm));
      token = page.NextToken;
    } while (token);
    return found;
  }
}

function pushDefined<T>(list: T[], value: T | undefined): void {
  if (value !== undefined) list.push(value);
}

export interface ReaderSource {
  readonly region: string;
  readonly roleArn?: string;
}

interface CachedCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/** Assumed-role credentials are reused until this long before they expire. */
const CREDENTIALS_REFRESH_MS = 5 * 60_000;
const assumed = new Map<string, CachedCredentials>();

/** A CloudWatch client for the source: the function's own credentials, or the source's role assumed through STS. */
export function cloudWatchClientFor(
  source: ReaderSource,
  env: NodeJS.ProcessEnv,
  now: () => number = Date.now,
): CloudWatchClient {
  const credentials = source.roleArn === undefined ? undefined : assumeRole(source, env, now);
  return new CloudWatchClient({
    region: source.region,
    endpoint: env.AWS_ENDPOINT_URL_CLOUDWATCH ?? env.AWS_ENDPOINT_URL,
    // The SDK retries throttling with back-off; after that the source is left for the next sweep.
    maxAttempts: 4,
    requestHandler: { connectionTimeout: 2000, requestTimeout: 10_000 },
    ...(credentials ? { credentials } : {}),
  });
}

function assumeRole(source: ReaderSource, env: NodeJS.ProcessEnv, now: () => number) {
  const roleArn = source.roleArn!;
  return async (): Promise<CachedCredentials> => {
    const cached = assumed.get(roleArn);
    if (cached?.expiration && cached.expiration.getTime() - CREDENTIALS_REFRESH_MS > now()) return cached;
    const sts = new STSClient({
      region: env.AWS_REGION ?? source.region,
      endpoint: env.AWS_ENDPOINT_URL_STS ?? env.AWS_ENDPOINT_URL,
      maxAttempts: 3,
    });
    try {
      const answer = await sts.send(
        new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'alarm-to-pagerduty-sweep' }),
      );
      const c = answer.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey)
        throw new Error(`STS returned no credentials for ${roleArn}`);
      const fresh: CachedCredentials = {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
        expiration: c.Expiration,
      };
      assumed.set(roleArn, fresh);
      return fresh;
    } finally {
      sts.destroy();
    }
  };
}
