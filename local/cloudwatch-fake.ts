// CloudWatch's alarm state in process, for the sweep's tests and simulations: what moto lacks (composite alarms,
// contributors, mute rules, pagination at 100, StateValue with names) and faults on demand. It answers the SDK's
// commands through `send`, so the sweep's real reader (lambda/sweep/cloudwatch.ts) runs against it. Time is the
// caller's clock (a virtual one in simulations). For HTTP tests, local/cloudwatch-stand-in.ts answers GetMetricWidgetImage.
import type {
  AlarmContributor,
  CompositeAlarm,
  DescribeAlarmsCommandInput,
  MetricAlarm,
} from '@aws-sdk/client-cloudwatch';
import type { AlarmState } from '../lambda/messages/notification';

export interface FakeAlarm {
  readonly name: string;
  readonly arn: string;
  readonly kind: 'metric' | 'composite';
  state: AlarmState;
  /** When the state value last changed. */
  changedMs: number;
  actionsEnabled: boolean;
  alarmActions: string[];
  insufficientDataActions: string[];
  tags: Record<string, string>;
  /** Composite only: ActionsSuppressedBy. */
  suppressedBy?: 'Alarm' | 'WaitPeriod' | 'ExtensionPeriod';
  /** A Metrics Insights GROUP BY alarm: contributors by id. */
  readonly contributors?: Map<
    string,
    { state: 'ALARM' | 'OK'; attributes: Record<string, string>; changedMs: number }
  >;
}

export interface FakeFault {
  readonly name: 'Throttling' | 'AccessDenied' | 'InternalFailure';
  /** How many calls fail; Infinity until `heal`. */
  remaining: number;
}

/** A state change CloudWatch made: what it would publish (and the test may deliver, lose or duplicate). */
export interface FakeChange {
  readonly name: string;
  readonly arn: string;
  readonly state: AlarmState;
  readonly oldState: AlarmState;
  readonly atMs: number;
}

export const FAKE_TOPIC = 'arn:aws:sns:us-east-1:123456789012:alarm-to-pagerduty';
const PAGE = 100;

export class CloudWatchFake {
  readonly alarms = new Map<string, FakeAlarm>();
  readonly requests: { operation: string; input: Record<string, unknown> }[] = [];
  readonly muteRules = new Map<string, string[]>();
  private readonly faults = new Map<string, FakeFault>();

  constructor(
    readonly now: () => number,
    readonly accountId = '123456789012',
    readonly region = 'us-east-1',
  ) {}

  arnOf(name: string): string {
    return `arn:aws:cloudwatch:${this.region}:${this.accountId}:alarm:${name}`;
  }

  putMetricAlarm(
    name: string,
    options: {
      state?: AlarmState;
      actions?: string[];
      /** INSUFFICIENT_DATA actions; none by default (addAlarm adds the topic under a trigger or resolve policy). */
      insufficientDataActions?: string[];
      tags?: Record<string, string>;
      multiSeries?: boolean;
    } = {},
  ): FakeAlarm {
    const alarm: FakeAlarm = {
      name,
      arn: this.arnOf(name),
      kind: 'metric',
      // AWS starts a new alarm in INSUFFICIENT_DATA (moto in OK).
      state: options.state ?? 'INSUFFICIENT_DATA',
      changedMs: this.now(),
      actionsEnabled: true,
      alarmActions: options.actions ?? [FAKE_TOPIC],
      insufficientDataActions: options.insufficientDataActions ?? [],
      tags: options.tags ?? {},
      contributors: options.multiSeries ? new Map() : undefined,
    };
    this.alarms.set(name, alarm);
    return alarm;
  }

  putCompositeAlarm(name: string, options: { actions?: string[] } = {}): FakeAlarm {
    const alarm = this.putMetricAlarm(name, options);
    const composite: FakeAlarm = { ...alarm, kind: 'composite', contributors: undefined };
    this.alarms.set(name, composite);
    return composite;
  }

  /** Changes an alarm's state now; answers the change CloudWatch would publish, or nothing if unchanged. */
  setState(name: string, state: AlarmState): FakeChange | undefined {
    const alarm = this.alarms.get(name);
    if (!alarm) throw new Error(`no alarm ${name}`);
    if (alarm.state === state) return undefined;
    const change = { name, arn: alarm.arn, state, oldState: alarm.state, atMs: this.now() };
    alarm.state = state;
    alarm.changedMs = change.atMs;
    return change;
  }

  setContributor(
    name: string,
    id: string,
    state: 'ALARM' | 'OK',
    attributes: Record<string, string> = {},
  ): void {
    const alarm = this.alarms.get(name);
    if (!alarm?.contributors) throw new Error(`${name} is not a multi-time-series alarm`);
    alarm.contributors.set(id, { state, attributes, changedMs: this.now() });
    const alarming = [...alarm.contributors.values()].some((c) => c.state === 'ALARM');
    this.setState(name, alarming ? 'ALARM' : 'OK');
  }

  deleteAlarm(name: string): void {
    this.alarms.delete(name);
  }

  /** The next `times` calls of `operation` (or of every operation, `*`) fail with `name`. */
  fail(operation: string, name: FakeFault['name'], times = Number.POSITIVE_INFINITY): void {
    this.faults.set(operation, { name, remaining: times });
  }

  heal(): void {
    this.faults.clear();
  }

  /** The SDK client's `send`, for the commands the sweep uses. */
  async send(command: { constructor: { name: string }; input: unknown }): Promise<unknown> {
    await Promise.resolve();
    const operation = command.constructor.name.replace(/Command$/, '');
    const input = (command.input ?? {}) as Record<string, unknown>;
    this.requests.push({ operation, input });
    this.maybeFail(operation);
    switch (operation) {
      case 'DescribeAlarms':
        return this.describeAlarms(input);
      case 'DescribeAlarmContributors':
        return this.describeContributors(String(input.AlarmName), input.NextToken as string | undefined);
      case 'ListAlarmMuteRules':
        return {
          AlarmMuteRuleSummaries: [...this.muteRules.keys()].map((rule) => ({
            AlarmMuteRuleArn: `arn:aws:cloudwatch:${this.region}:${this.accountId}:alarm-mute-rule:${rule}`,
            Status: 'ACTIVE',
          })),
        };
      case 'GetAlarmMuteRule': {
        const targets = this.muteRules.get(String(input.AlarmMuteRuleName));
        if (!targets) throw awsError('ResourceNotFoundException', 404);
        return { Name: input.AlarmMuteRuleName, Status: 'ACTIVE', MuteTargets: { AlarmNames: targets } };
      }
      case 'ListTagsForResource': {
        const alarm = [...this.alarms.values()].find((a) => a.arn === input.ResourceARN);
        if (!alarm) throw awsError('ResourceNotFoundException', 404);
        return { Tags: Object.entries(alarm.tags).map(([Key, Value]) => ({ Key, Value })) };
      }
      default:
        throw awsError('UnknownOperationException', 400);
    }
  }

  private maybeFail(operation: string): void {
    for (const key of [operation, '*']) {
      const fault = this.faults.get(key);
      if (!fault || fault.remaining <= 0) continue;
      fault.remaining--;
      throw awsError(
        fault.name,
        fault.name === 'AccessDenied' ? 403 : fault.name === 'Throttling' ? 400 : 500,
      );
    }
  }

  private describeAlarms(input: DescribeAlarmsCommandInput): unknown {
    const names = input.AlarmNames;
    if (names && names.length > PAGE) throw awsError('ValidationError', 400);
    if (names && input.AlarmNamePrefix) throw awsError('InvalidParameterCombination', 400);
    const types = input.AlarmTypes ?? ['MetricAlarm'];
    const matching = [...this.alarms.values()]
      .filter((a) => types.includes(a.kind === 'metric' ? 'MetricAlarm' : 'CompositeAlarm'))
      .filter((a) => !names || names.includes(a.name))
      .filter((a) => !input.AlarmNamePrefix || a.name.startsWith(input.AlarmNamePrefix))
      .filter((a) => !input.StateValue || a.state === input.StateValue)
      .filter((a) => !input.ActionPrefix || a.alarmActions.some((x) => x.startsWith(input.ActionPrefix!)))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    const size = Math.min(input.MaxRecords ?? 50, PAGE);
    const from = input.NextToken ? Number(input.NextToken) : 0;
    const page = matching.slice(from, from + size);
    return {
      MetricAlarms: page.filter((a) => a.kind === 'metric').map((a) => this.metricShape(a)),
      CompositeAlarms: page.filter((a) => a.kind === 'composite').map((a) => this.compositeShape(a)),
      NextToken: from + size < matching.length ? String(from + size) : undefined,
    };
  }

  private describeContributors(name: string, token: string | undefined): unknown {
    const alarm = this.alarms.get(name);
    if (!alarm) throw awsError('ResourceNotFoundException', 404);
    const listed: AlarmContributor[] = [...(alarm.contributors?.entries() ?? [])]
      .filter(([, c]) => c.state === 'ALARM')
      .map(([id, c]) => ({
        ContributorId: id,
        ContributorAttributes: c.attributes,
        StateReason: 'Threshold Crossed',
        StateTransitionedTimestamp: new Date(c.changedMs),
      }));
    const from = token ? Number(token) : 0;
    const size = 50;
    return {
      AlarmContributors: listed.slice(from, from + size),
      NextToken: from + size < listed.length ? String(from + size) : undefined,
    };
  }

  private metricShape(a: FakeAlarm): MetricAlarm {
    return {
      ...this.commonShape(a),
      MetricName: '5XXError',
      Namespace: 'AWS/ApiGateway',
      Statistic: 'Sum',
      Dimensions: [{ Name: 'ApiName', Value: a.name }],
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 5,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      ...(a.contributors
        ? {
            MetricName: undefined,
            Namespace: undefined,
            Statistic: undefined,
            Dimensions: undefined,
            Metrics: [
              {
                Id: 'q1',
                Expression:
                  'SELECT SUM(ConsumedReadCapacityUnits) FROM SCHEMA("AWS/DynamoDB", TableName) GROUP BY TableName',
                Period: 60,
                ReturnData: true,
              },
            ],
          }
        : {}),
    };
  }

  private compositeShape(a: FakeAlarm): CompositeAlarm {
    return {
      ...this.commonShape(a),
      AlarmRule: 'ALARM(child-a) OR ALARM(child-b)',
      ActionsSuppressedBy: a.suppressedBy,
    };
  }

  private commonShape(a: FakeAlarm) {
    return {
      AlarmName: a.name,
      AlarmArn: a.arn,
      ActionsEnabled: a.actionsEnabled,
      AlarmActions: a.alarmActions,
      OKActions: a.alarmActions,
      InsufficientDataActions: a.insufficientDataActions,
      StateValue: a.state,
      StateReason: `The fake set ${a.state}`,
      StateUpdatedTimestamp: new Date(a.changedMs),
      StateTransitionedTimestamp: new Date(a.changedMs),
    };
  }
}

/** An error as the SDK raises a service's: `name` is the error code. */
export function awsError(name: string, status: number): Error {
  return Object.assign(new Error(`${name} (CloudWatch fake)`), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}
