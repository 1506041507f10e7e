// The alert event the floor sends and stores, for the bench (bench.ts) and the warm profile (profile-warm.ts).
import { metricAlarmMessage, snsEvent } from '../local/alarm-fixtures';
import { parseNotification } from '../lambda/messages/parse-notification';
import { buildAlertEvent } from '../lambda/pagerduty/event';

/** The alert event the floor sends and stores: the pipeline's own for a sample alarm, so sizes match. */
export function floorTemplate(base: number) {
  const sample = snsEvent([
    metricAlarmMessage({ alarmName: 'protocol', state: 'ALARM', stateChangeMs: base }),
  ]).Records[0]!.Sns;
  const template = buildAlertEvent(
    parseNotification({
      messageId: sample.MessageId,
      topicArn: sample.TopicArn,
      subject: sample.Subject,
      timestamp: sample.Timestamp,
      message: sample.Message,
    }),
    { route: 'default', severity: 'critical', insufficientData: 'ignore', problems: [] },
    'trigger',
    'template',
    { clientName: 'CloudWatch alarm pipeline' },
  );
  const storedTrigger = JSON.stringify({ ...template, payload: { ...template.payload, custom_details: {} } });
  return { template, storedTrigger };
}
