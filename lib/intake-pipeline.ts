import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import type { AlarmEventsIntake } from './eventbridge-intake';

/**
 * What a regional intake needs of the central pipeline it feeds. `AlarmToPagerDuty` implements it; intakes depend on
 * this interface only, so the construct and its intakes do not import each other.
 */
export interface IntakePipeline extends IConstruct {
  /** The central topic: alarms in the pipeline's own account and region notify it. */
  readonly topic: sns.ITopic;
  /** The function every intake topic delivers to. */
  readonly handler: lambda.IFunction;
  /** The central key: SNS may use it for the dead letters of intakes subscribed in the central region. */
  readonly key: kms.Key;
  /** Where SNS keeps what it could not deliver from intakes subscribed in the central region. */
  readonly retryQueue: sqs.IQueue;
  /** The pipeline's ops topic: the pipeline's own alarms notify it. */
  readonly opsTopic: sns.ITopic;
  /** The email subscribed to the ops topic, if any: intakes that `addAlarm` creates subscribe it to theirs. */
  readonly opsEmail?: string;
  /** `restrictPublishing` and `publisherRoleArns`: every intake topic denies other publishers as the central one does. */
  readonly publishing: PublishingPolicy;
  /** The EventBridge intake, when the pipeline has one: intakes forward their alarm events to its bus. */
  readonly alarmEvents?: AlarmEventsIntake;
  /** The reconciliation sweep, when on: intakes in other accounts deploy a read role that only it may assume. */
  readonly reconcileSweep?: SweepAccess;
}

/** Who may publish to the pipeline's topics besides CloudWatch (`restrictPublishing`, `publisherRoleArns`). */
export interface PublishingPolicy {
  /** Whether the topic policies deny `sns:Publish` to every principal but AWS services and `roleArns`. */
  readonly restricted: boolean;
  /** The roles that may still publish when restricted (ArnLike patterns). */
  readonly roleArns: readonly string[];
}

/** What an intake in another account needs of the sweep: the role to trust, and a way to be assumed by it. */
export interface SweepAccess {
  /** The sweep function's role: the only principal a read role in another account trusts. */
  readonly role: iam.IRole;
  /** Lets the sweep assume a read role in another account. */
  allowAssume(roleArn: string): void;
}
