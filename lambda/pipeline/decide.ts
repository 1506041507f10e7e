import type { AlarmSettings, Notification } from '../messages/notification';

export type Decision = { send: true; action: 'trigger' | 'resolve' } | { send: false; reason: string };

/**
 * ALARM → trigger, OK → resolve, INSUFFICIENT_DATA → the alarm's policy; nothing when CloudWatch suppressed or
 * muted the alarm's actions. An unrecognised message → trigger:
 * whether to drop those instead is the operator's setting, applied by the handler.
 */
export function decideAction(notification: Notification, settings: AlarmSettings): Decision {
  if (notification.type === 'unrecognised') return { send: true, action: 'trigger' };
  // CloudWatch itself runs no action here (a suppressor, its wait or extension period, a mute rule): neither do we.
  if (notification.actionsSuppressed) {
    return {
      send: false,
      reason: `CloudWatch runs no action for this change of alarm ${JSON.stringify(notification.alarmName)}: ${notification.actionsSuppressed.reason}`,
    };
  }
  switch (notification.newState) {
    case 'ALARM':
      return { send: true, action: 'trigger' };
    case 'OK':
      return { send: true, action: 'resolve' };
    case 'INSUFFICIENT_DATA':
      return settings.insufficientData === 'ignore'
        ? {
            send: false,
            reason: `INSUFFICIENT_DATA is ignored for alarm ${JSON.stringify(notification.alarmName)} (insufficient-data policy "ignore"): the incident stays as it is`,
          }
        : { send: true, action: settings.insufficientData };
  }
}
