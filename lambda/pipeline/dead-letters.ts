// What the retry queue holds, read back into records. A letter is one of: a Lambda on-failure invocation record
// (its `requestPayload` is the event that failed), an SNS notification envelope (the subscription's DLQ), or the
// raw event itself (a function DLQ, an EventBridge target DLQ, a redrive of either). Pure: no I/O.
import { isRecord } from '../shared/json';

/** A letter read back: the event it carries, and when it was first written. */
export type ReadLetter =
  | {
      readonly readable: true;
      readonly event: unknown;
      readonly kind: LetterKind;
      readonly lastError?: string;
    }
  | { readonly readable: false; readonly why: string };

export type LetterKind = 'lambda-failure-record' | 'sns-envelope' | 'raw-event';

/** Reads one SQS message body of the retry queue. */
export function readLetter(body: unknown): ReadLetter {
  if (typeof body !== 'string' || body.trim() === '') {
    return { readable: false, why: 'the SQS message has no body' };
  }
  let json: unknown;
  try {
    json = JSON.parse(body.replace(/^\uFEFF/, ''));
  } catch {
    return {
      readable: false,
      why: 'the SQS message body is not JSON, so it is no dead letter of this pipeline',
    };
  }
  if (!isRecord(json)) {
    return { readable: false, why: 'the SQS message body is JSON but not an object' };
  }
  if ('requestPayload' in json && isRecord(json.requestContext)) {
    return {
      readable: true,
      kind: 'lambda-failure-record',
      event: json.requestPayload,
      lastError: lastErrorOf(json.responsePayload),
    };
  }
  if (json.Type === 'Notification' && 'Message' in json) {
    // The subscription's DLQ keeps the notification as SNS would have posted it over HTTP: make it an SNS event.
    return {
      readable: true,
      kind: 'sns-envelope',
      event: {
        Records: [
          {
            EventSource: 'aws:sns',
            EventSubscriptionArn: 'dead-letter',
            Sns: {
              MessageId: json.MessageId,
              TopicArn: json.TopicArn,
              Subject: json.Subject,
              Message: json.Message,
              Timestamp: json.Timestamp,
              Type: 'Notification',
            },
          },
        ],
      },
    };
  }
  return { readable: true, kind: 'raw-event', event: json };
}

function lastErrorOf(payload: unknown): string | undefined {
  if (!isRecord(payload)) return undefined;
  const type = typeof payload.errorType === 'string' ? payload.errorType : 'Error';
  return typeof payload.errorMessage === 'string'
    ? `${type}: ${payload.errorMessage.slice(0, 500)}`
    : undefined;
}
