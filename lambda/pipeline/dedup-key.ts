import { createHash } from 'node:crypto';
import type { AlarmNotification, Notification } from '../messages/notification';
import { cutText } from '../shared/text';

/** PagerDuty's limit on `dedup_key`. */
export const MAX_DEDUP_KEY_LENGTH = 255;

const HASH_MARK = ':sha256:';

/** Between an alarm's identity and a contributor id: `arn:…:alarm:Name/contributor/6d442278dba546f6`. */
export const CONTRIBUTOR_MARK = '/contributor/';

/**
 * The PagerDuty dedup key of a notification: the same for every state change of one alarm (ALARM and OK),
 * different for alarms of the same name in other accounts or regions, and stable across deploys. Each contributor
 * of a multi-time-series alarm has its own: the alarm's identity, the mark and the contributor id. The same over
 * SNS and EventBridge, which both name the alarm by its ARN.
 */
export function dedupKeyFor(notification: Notification): string {
  if (notification.type === 'alarm') {
    const identity = alarmIdentity(notification);
    return fitDedupKey(
      notification.contributor ? `${identity}${CONTRIBUTOR_MARK}${notification.contributor.id}` : identity,
    );
  }
  // A re-publish of the same message joins the same incident; 128 bits of SHA-256 make collisions moot.
  const digest = sha256Hex(
    [notification.topicArn, notification.subject ?? '', notification.body].join('\u0000'),
  ).slice(0, 32);
  return `${notification.intake === 'eventbridge' ? 'eventbridge' : 'sns'}:${digest}`;
}

/**
 * The alarm's ARN; for old messages without one, the same ARN built from partition, region, account and name,
 * so that an old-format and a new-format message of one alarm share a key. When the region name is unknown,
 * `cloudwatch-alarm:<account>:<region name>:<alarm name>`.
 */
export function alarmIdentity(alarm: AlarmNotification): string {
  if (alarm.alarmArn !== undefined) return alarm.alarmArn;
  if (alarm.regionCode !== undefined)
    return alarmArnFor(alarm.partition, alarm.regionCode, alarm.accountId, alarm.alarmName);
  return `cloudwatch-alarm:${alarm.accountId}:${alarm.regionName}:${alarm.alarmName}`;
}

export function alarmArnFor(
  partition: string,
  regionCode: string,
  accountId: string,
  alarmName: string,
): string {
  return `arn:${partition}:cloudwatch:${regionCode}:${accountId}:alarm:${alarmName}`;
}

/** Keeps `identity` when short enough; else a readable prefix and the SHA-256 of the whole identity. */
export function fitDedupKey(identity: string): string {
  if (identity.length <= MAX_DEDUP_KEY_LENGTH) return identity;
  const digest = sha256Hex(identity);
  const prefix = cutText(identity, MAX_DEDUP_KEY_LENGTH - HASH_MARK.length - digest.length, '');
  return `${prefix}${HASH_MARK}${digest}`;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
