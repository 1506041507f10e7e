import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** How long SQS keeps a letter: its maximum. The parked queue keeps the enqueue time of a letter SQS moves there. */
export const QUEUE_RETENTION = Duration.days(14);

export interface EncryptedQueueProps extends Pick<sqs.QueueProps, 'visibilityTimeout' | 'deadLetterQueue'> {
  /** Encrypts the queue; a service that sends to it must be allowed to use the key. */
  readonly key: kms.IKey;
  /**
   * What the queue is the dead-letter queue of, e.g. 'SNS subscriptions': acknowledges cdk-nag's AwsSolutions-SQS3
   * (a queue without a dead-letter queue of its own) with that reason.
   * @default - nothing acknowledged
   */
  readonly deadLetterQueueOf?: string;
}

/** A queue encrypted with the given key, TLS-only, that keeps a letter as long as SQS allows. */
export function encryptedQueue(scope: Construct, id: string, props: EncryptedQueueProps): sqs.Queue {
  const { key, deadLetterQueueOf, ...queueProps } = props;
  const queue = new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: key,
    enforceSSL: true,
    retentionPeriod: QUEUE_RETENTION,
    ...queueProps,
  });
  if (deadLetterQueueOf !== undefined) {
    Validations.of(queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: `This queue is the dead-letter queue of ${deadLetterQueueOf}.`,
    });
  }
  return queue;
}

export interface QueueNotEmptyAlarmProps {
  readonly queue: sqs.IQueue;
  /** Notified on ALARM and on OK. */
  readonly opsTopic: sns.ITopic;
  /** What the letters mean and what to do about them. */
  readonly description: string;
}

/** In ALARM while a letter waits in the queue (its visible messages, the maximum over a minute). */
export function queueNotEmptyAlarm(
  scope: Construct,
  id: string,
  props: QueueNotEmptyAlarmProps,
): cloudwatch.Alarm {
  const alarm = new cloudwatch.Alarm(scope, id, {
    metric: props.queue.metricApproximateNumberOfMessagesVisible({
      statistic: 'Maximum',
      period: Duration.minutes(1),
    }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: props.description,
  });
  const action = new SnsAction(props.opsTopic);
  alarm.addAlarmAction(action);
  alarm.addOkAction(action);
  return alarm;
}
