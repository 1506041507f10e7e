// What other AWS services publish to an alarm topic, recognised and said in one line. Pure: text in, value out.
// Each family's recogniser lives in services/; this file tries them in turn.
import { cutText } from '../shared/text';
import { isRecord, tryParse } from '../shared/json';
import { backupNotification } from './services/backup';
import { budgetNotification } from './services/budgets';
import { codeDeployTrigger } from './services/codedeploy';
import { autoScalingNotification } from './services/autoscaling';
import { eventBridgeEvent } from './services/eventbridge';
import { collapse, text } from './services/fields';
import { rdsEvent, rdsText } from './services/rds';
import { s3Notification } from './services/s3';
import {
  MAX_SUMMARY_PART,
  SCAN_LIMIT,
  type ServiceNotification,
  type ServiceNotificationInput,
} from './services/types';

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

/**
 * The summary line of an SNS message that nothing recognises: its subject and the beginning of its body, e.g.
 * `SNS message: Test — disk full on db-7`. A JSON body is said by what it is (`why`), not by its first bytes.
 */
export function unrecognisedHeadline(input: { subject?: string; body: string; why: string }): string {
  const subject = collapse(input.subject ?? '');
  const looksLikeJson = /^\s*[[{]/.test(input.body);
  const start = looksLikeJson ? withoutTrailingAside(input.why) : collapse(input.body.slice(0, SCAN_LIMIT));
  // Nothing to quote (an empty or missing message): say why, which names what was missing.
  if (subject === '') return `SNS message: ${cutText(start || input.why, MAX_SUMMARY_PART)}`;
  if (start === '' || start === subject) return `SNS message: ${cutText(subject, MAX_SUMMARY_PART)}`;
  return `SNS message: ${cutText(subject, 150)} — ${cutText(start, MAX_SUMMARY_PART)}`;
}

/** `what it is (detail)` → `what it is`: the detail (a parser's message, a key list) stays in the event details. */
function withoutTrailingAside(why: string): string {
  if (!why.endsWith(')')) return why;
  // The parenthesis that opens the final aside, which may nest others (Node 24's JSON errors add "(line 1 column 9)").
  let depth = 0;
  for (let i = why.length - 1; i > 0; i--) {
    if (why[i] === ')') depth++;
    else if (why[i] === '(' && --depth === 0) return why[i - 1] === ' ' ? why.slice(0, i - 1) : why;
  }
  return why;
}
