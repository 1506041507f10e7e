// S3 event notifications and the test event S3 sends when a notification configuration is saved.
import { compact, isRecord } from '../../shared/json';
import { cut, text } from './fields';
import { SEVERITY_BY_OUTCOME, type Outcome, type ServiceNotification } from './types';

// The test message S3 sends when a notification configuration is saved, and the event message structure:
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
export function s3Notification(json: Record<string, unknown>): ServiceNotification | undefined {
  if (json.Event === 's3:TestEvent') {
    const bucket = text(json.Bucket) ?? 'a bucket';
    return {
      service: 's3',
      kind: 'test',
      outcome: 'test',
      summary: `S3 test event for bucket ${bucket}: the bucket's event notifications reach this topic`,
      severity: 'info',
      source: `arn:aws:s3:::${bucket}`,
      component: bucket,
      class: 's3:TestEvent',
      details: compact({
        bucket,
        time: text(json.Time),
        request_id: text(json.RequestId),
        host_id: text(json.HostId),
      }),
    };
  }
  if (!Array.isArray(json.Records)) return undefined;
  const records = json.Records.filter(
    (r): r is Record<string, unknown> => isRecord(r) && r.eventSource === 'aws:s3',
  );
  const first = records[0];
  if (first === undefined) return undefined;
  const s3 = isRecord(first.s3) ? first.s3 : {};
  const bucket = (isRecord(s3.bucket) && text(s3.bucket.name)) || 'bucket';
  const object = isRecord(s3.object) ? s3.object : {};
  const key = decodeS3Key(text(object.key));
  const size = typeof object.size === 'number' ? object.size : undefined;
  const eventName = text(first.eventName) ?? 'event';
  const region = text(first.awsRegion);
  const outcome: Outcome = /lost|failed/i.test(eventName) ? 'failure' : 'info';
  const more = records.length > 1 ? ` (+${records.length - 1} more)` : '';
  return {
    service: 's3',
    kind: eventName.split(':', 1)[0]?.toLowerCase() ?? 'event',
    outcome,
    summary: `S3 ${eventName}: ${cut(`${bucket}/${key ?? ''}`, 200)}${size === undefined ? '' : ` (${size} bytes)`}${more}${region ? ` in ${region}` : ''}`,
    severity: SEVERITY_BY_OUTCOME[outcome],
    source: `arn:aws:s3:::${bucket}`,
    component: bucket,
    class: eventName,
    details: compact({
      event_name: eventName,
      bucket,
      object_key: key,
      object_size: size,
      region,
      event_time: text(first.eventTime),
      records: records.length,
    }),
  };
}

/** S3 URL-encodes object keys in event messages, a space as `+`. */
function decodeS3Key(key: string | undefined): string | undefined {
  if (key === undefined) return undefined;
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return key;
  }
}
