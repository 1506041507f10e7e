// Placeholder until the EventBridge parser lands (branch `parse`): every event reads as unrecognised.
import type { Notification } from './notification';

export function parseAlarmEvent(event: unknown): Notification {
  const body = JSON.stringify(event);
  return {
    type: 'unrecognised',
    why: 'an EventBridge alarm event (not parsed yet)',
    body,
    publishedEpochMs: 0,
    topicArn: '',
  };
}
