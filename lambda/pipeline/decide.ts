import type { AlarmNotification, AlarmSettings, Notification } from '../messages/notification';

export type Decision = { send: true; action: 'trigger' | 'resolve' } | { send: false; reason: string };

/**
 * ALARM → trigger, OK → resolve, INSUFFICIENT_DATA → the alarm's policy. When CloudWatch suppressed or muted the
 * alarm's actions, no page, but a resolve still goes: a mute silences pages, it must not pin incidents open.
 * An unrecognised message → trigger: whether to drop those instead is the operator's setting, applied by the handler.
 */
export function decideAction(notification: Notification, settings: AlarmSettings): Decision {
  if (notification.type === 'unrecognised') return { send: true, action: 'trigger' };
  const decision = decideState(notification, settings);
  // CloudWatch itself runs no action here (a suppressor, its wait or extension period, a mute rule): no page.
  if (notification.actionsSuppressed && decision.send && decision.action === 'trigger') {
    return {
      send: false,
      reason: `CloudWatch runs no action for this change of alarm ${JSON.stringify(notification.alarmName)}: ${notification.actionsSuppressed.reason}`,
    };
  }
  return decision;
}

function decideState(notification: AlarmNotification, settings: AlarmSettings): Decision {
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
