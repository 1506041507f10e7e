// What other AWS services publish to an alarm topic, recognised and said in one line. Pure: text in, value out.
// Each family's recogniser lives in services/; this file tries them in turn.
import { isRecord, tryParse } from '../shared/json';
import { backupNotification } from './services/backup';
import { budgetNotification } from './services/budgets';
import { codeDeployTrigger } from './services/codedeploy';
import { autoScalingNotification } from './services/autoscaling';
import { eventBridgeEvent } from './services/eventbridge';
import { text } from './services/fields';
import { rdsEvent, rdsText } from './services/rds';
import { s3Notification } from './services/s3';
import { SCAN_LIMIT, type ServiceNotification, type ServiceNotificationInput } from './services/types';

/** Recognises a notification another AWS service published to the topic; undefined when nothing does. */
export function recogniseServiceNotification(
  input: ServiceNotificationInput,
): ServiceNotification | undefined {
  return recognise(input, 0);
}

function recognise(input: ServiceNotificationInput, depth: number): ServiceNotification | undefined {
  const json = input.json;
  if (isRecord(json)) {
    // A whole SNS notification forwarded from another topic or queue: read what it carries.
    if (depth === 0 && json.Type === 'Notification' && typeof json.Message === 'string') {
      return recognise(
        { subject: text(json.Subject), body: json.Message, json: tryParse(json.Message) },
        depth + 1,
      );
    }
    return (
      eventBridgeEvent(json) ??
      s3Notification(json) ??
      rdsEvent(json) ??
      autoScalingNotification(json) ??
      codeDeployTrigger(json)
    );
  }
  if (json !== undefined) return undefined;
  const body = input.body.slice(0, SCAN_LIMIT);
  return budgetNotification(input.subject, body) ?? backupNotification(input.subject, body) ?? rdsText(body);
}

// Here before; its own module so the alarm path's event builder does not load the recognisers.
export { unrecognisedHeadline } from './unrecognised-headline';
