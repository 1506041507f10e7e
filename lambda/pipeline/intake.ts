// Which kind of event the function was invoked with, and its records as the pipeline's inputs. Pure: no I/O.
import { parseNotificationOnDemand } from '../messages/alarm-message';
import { ALARM_CONFIGURATION_CHANGE, ALARM_DETAIL_TYPES } from '../shared/contract';
import { isRecord } from '../shared/json';
import { parseTimestamp } from '../shared/timestamp';
import { parseAlarmEvent } from '../messages/alarm-event';
import type { SnsEnvelope } from '../messages/notification';
import type { RecordInput } from './process-record';
import { refusalFor, type Carrier, type IntakeTrust } from './intake-trust';
import { cutText } from '../shared/text';

export const SCHEDULED_DETAIL_TYPE = 'Scheduled Event';

/** An alarm deleted, as an EventBridge configuration change tells it. */
export interface DeletedAlarm {
  readonly alarmArn: string;
  readonly alarmName: string;
  readonly accountId: string;
  readonly region: string;
  /** The event's time: whole seconds, taken at the start of its second, so a change made after the delete is later. */
  readonly deletedMs: number;
  /**
   * The end of that second. The deletion happened at some instant of it, unknown: until then, its resolve yields to
   * a state change with a time of its own (an alarm re-created within the second), not to one ordered at a cap.
   */
  readonly deletedUntilMs: number;
}

export type Intake =
  | { readonly kind: 'sns'; readonly records: readonly unknown[] }
  /** EventBridge's schedule: run one reconciliation sweep. */
  | { readonly kind: 'scheduled' }
  | { readonly kind: 'alarm-deleted'; readonly deleted: DeletedAlarm }
  /** An event its carrier may not deliver (decision 15): refused, nothing written or sent. */
  | { readonly kind: 'refused'; readonly why: string }
  /** A configuration change that needs nothing (create, update), or a delete too incomplete to act on. */
  | { readonly kind: 'ignored'; readonly why: string }
  | { readonly kind: 'sqs'; readonly records: readonly unknown[] }
  | { readonly kind: 'eventbridge'; readonly event: Record<string, unknown> }
  | { readonly kind: 'failure-record'; readonly payload: unknown }
  | { readonly kind: 'malformed'; readonly why: string };

/** Tells an SNS, SQS or EventBridge event apart; anything else is `malformed`, with what it looked like. */
export function classifyEvent(event: unknown): Intake {
  if (!isRecord(event)) {
    return {
      kind: 'malformed',
      why: `the event is ${describeShape(event)}, not an SNS, SQS or EventBridge event`,
    };
  }
  if ('Records' in event) {
    const records = event.Records;
    if (!Array.isArray(records)) {
      return { kind: 'malformed', why: `the event's "Records" is ${describeShape(records)}, not a list` };
    }
    if (records.length === 0) return { kind: 'malformed', why: 'the event\'s "Records" list is empty' };
    const sources = new Set(records.map(recordSource));
    if (sources.size === 1 && sources.has('aws:sns')) return { kind: 'sns', records };
    if (sources.size === 1 && sources.has('aws:sqs')) return { kind: 'sqs', records };
    const named = [...sources].map((source) => source ?? 'unknown').join(', ');
    return {
      kind: 'malformed',
      why: `the event's records come from ${cutText(named, 200)}; this function takes SNS and SQS records only`,
    };
  }
  if (typeof event['detail-type'] === 'string' && 'detail' in event) {
    const detailType = event['detail-type'];
    if (event.source === 'aws.cloudwatch' && ALARM_DETAIL_TYPES.includes(detailType)) {
      return { kind: 'eventbridge', event };
    }
    if (event.source === 'aws.events' && detailType === SCHEDULED_DETAIL_TYPE) return { kind: 'scheduled' };
    if (event.source === 'aws.cloudwatch' && detailType === ALARM_CONFIGURATION_CHANGE) {
      return configurationChange(event);
    }
    return {
      kind: 'malformed',
      why:
        `an EventBridge event of detail-type ${JSON.stringify(cutText(detailType, 100))} from source ` +
        `${JSON.stringify(cutText(String(event.source), 100))}; this function takes CloudWatch alarm state changes ` +
        'only (send other events to the alarm topic instead)',
    };
  }
  if ('requestPayload' in event && isRecord(event.requestContext)) {
    return { kind: 'failure-record', payload: event.requestPayload };
  }
  const keys = Object.keys(event);
  return {
    kind: 'malformed',
    why:
      `an object with ${keys.length === 0 ? 'no keys' : `keys ${cutText(keys.slice(0, 8).join(', '), 200)}`}, ` +
      'not an SNS, SQS or EventBridge event',
  };
}

// Only detail-type, detail.operation, detail.alarmName and resources[0] are relied on (the delete sample is not
// documented verbatim); the ARN names the account and region.
function configurationChange(event: Record<string, unknown>): Intake {
  const detail = isRecord(event.detail) ? event.detail : {};
  if (detail.operation !== 'delete') {
    return {
      kind: 'ignored',
      why: `an alarm configuration change (${cutText(String(detail.operation), 20)})`,
    };
  }
  const resources = Array.isArray(event.resources) ? event.resources : [];
  const arn = typeof resources[0] === 'string' ? resources[0] : '';
  const match = /^arn:[^:]+:cloudwatch:([^:]+):(\d{12}):alarm:(.+)$/.exec(arn);
  const time = typeof event.time === 'string' ? parseTimestamp(event.time) : undefined;
  if (!match || time === undefined) {
    return {
      kind: 'ignored',
      why: 'an alarm deletion without an alarm ARN or a time: the sweep resolves it',
    };
  }
  // An event bus carries its own account's events: a deletion naming another account's alarm is forged.
  if (event.account !== match[2] || event.region !== match[1]) {
    return {
      kind: 'refused',
      why:
        `an alarm deletion from account ${cutText(String(event.account), 40)} in ${cutText(String(event.region), 40)} ` +
        `names alarm ${cutText(arn, 200)} of another account or region`,
    };
  }
  return {
    kind: 'alarm-deleted',
    deleted: {
      alarmArn: arn,
      alarmName: typeof detail.alarmName === 'string' ? detail.alarmName : match[3]!,
      region: match[1]!,
      accountId: match[2]!,
      deletedMs: Math.floor(time / 1000) * 1000,
      deletedUntilMs: Math.floor(time / 1000) * 1000 + 1000,
    },
  };
}

function recordSource(record: unknown): string | undefined {
  if (!isRecord(record)) return undefined;
  const source = record.EventSource ?? record.eventSource;
  if (typeof source === 'string') return cutText(source, 60);
  if (isRecord(record.Sns)) return 'aws:sns';
  return undefined;
}

export type RecordInputResult =
  | { ok: true; input: RecordInput }
  | { ok: false; why: string; refused?: undefined }
  | { ok: false; why: string; refused: { readonly logKeys: Record<string, unknown> } };

/** The input, or its refusal when the notification claims an alarm its carrier may not carry (decision 15). */
function checked(input: RecordInput, carrier: Carrier, trust: IntakeTrust): RecordInputResult {
  const why = refusalFor(input.notification, carrier, trust);
  if (why === undefined) return { ok: true, input };
  const { notification } = input;
  const claims =
    notification.type === 'alarm'
      ? {
          alarmName: cutText(notification.alarmName, 256),
          alarmArn: notification.alarmArn,
          accountId: notification.accountId,
        }
      : { service: notification.service?.service };
  const from = carrier.via === 'sns' ? carrier.topicArn : JSON.stringify([carrier.account, carrier.region]);
  return {
    ok: false,
    why,
    refused: { logKeys: { ...input.logKeys, ...claims, carrier: cutText(from, 300) } },
  };
}

/** One SNS record as the pipeline's input, or why it cannot be one. */
export async function snsRecordInput(
  record: unknown,
  index: number,
  trust: IntakeTrust,
): Promise<RecordInputResult> {
  const sns = isRecord(record) ? record.Sns : undefined;
  if (!isRecord(sns)) return { ok: false, why: `SNS record ${index} has no "Sns" object` };
  const message = sns.Message;
  if (message === undefined || message === null) {
    return { ok: false, why: `SNS record ${index} has no "Sns.Message": there is nothing to page` };
  }
  const envelope: SnsEnvelope = {
    messageId: typeof sns.MessageId === 'string' ? cutText(sns.MessageId, 100) : 'unknown',
    topicArn: typeof sns.TopicArn === 'string' ? sns.TopicArn : 'unknown',
    subject: typeof sns.Subject === 'string' ? sns.Subject : undefined,
    timestamp: typeof sns.Timestamp === 'string' ? sns.Timestamp : '',
    // An object (a hand-made test event) is read as the JSON it would have been.
    message: typeof message === 'string' ? message : JSON.stringify(message),
  };
  const input: RecordInput = {
    notification: await parseNotificationOnDemand(envelope),
    vouchedMs: parseTimestamp(envelope.timestamp),
    logKeys: { messageId: envelope.messageId, intake: 'sns' },
  };
  return checked(input, { via: 'sns', topicArn: envelope.topicArn }, trust);
}

function describeShape(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'missing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${JSON.stringify(cutText(value, 40))}`;
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- objects returned above: only primitives reach here
  return `${typeof value} ${String(value)}`;
}

/** An EventBridge alarm state change as the pipeline's input. */
export function eventBridgeRecordInput(
  event: Record<string, unknown>,
  trust: IntakeTrust,
): RecordInputResult {
  const input: RecordInput = {
    notification: parseAlarmEvent(event),
    vouchedMs: typeof event.time === 'string' ? eventBridgeVouchedMs(event.time) : undefined,
    logKeys: {
      messageId: typeof event.id === 'string' ? cutText(event.id, 100) : 'unknown',
      intake: 'eventbridge',
    },
  };
  return checked(input, { via: 'eventbridge', account: event.account, region: event.region }, trust);
}

/**
 * EventBridge writes `time` in whole seconds (`2019-10-03T16:00:04Z` for a change at 16:00:04.653): it vouches for any
 * time up to the end of that second, or the same change would be ordered earlier than its SNS copy.
 */
export function eventBridgeVouchedMs(time: string): number | undefined {
  const ms = parseTimestamp(time);
  if (ms === undefined) return undefined;
  return /\.\d/.test(time) ? ms : ms + 999;
}
