// The SNS parser with the service-notification recognisers loaded, for callers that may load them at once (the
// sweep, tools, tests). The handler's intake uses parseNotificationOnDemand, which loads them only when needed:
// alarm-message.ts does not import them, so the alarm path's bundle does not hold them.
import { readNotification } from './alarm-message';
import type { Notification, SnsEnvelope } from './notification';
import { recogniseServiceNotification } from './service-notification';

/**
 * Parses one SNS record's message. Never throws: anything that is not a CloudWatch alarm state change becomes an
 * `UnrecognisedNotification` whose `why` says what was wrong, naming the field, and `service` what another AWS
 * service published, when one is recognised. Linear in the message's size.
 */
export function parseNotification(envelope: SnsEnvelope): Notification {
  return readNotification(envelope, recogniseServiceNotification);
}
