import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';

/**
 * Denies sns:Publish to every principal but AWS services (of which the topic policy allows only CloudWatch) and the
 * given roles. `aws:PrincipalIsAWSService` is in every request's context, so `Bool` never denies CloudWatch by a
 * missing key (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
 */
export function denyOtherPublishers(
  topic: sns.Topic,
  roleArns: readonly string[],
  topicArn: string = topic.topicArn,
): void {
  const conditions: Record<string, Record<string, unknown>> = {
    Bool: { 'aws:PrincipalIsAWSService': 'false' },
  };
  if (roleArns.length > 0) conditions.ArnNotLike = { 'aws:PrincipalArn': [...roleArns] };
  topic.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenyPublishersOtherThanCloudWatchAndNamedRoles',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['sns:Publish'],
      resources: [topicArn],
      conditions,
    }),
  );
}

/**
 * Denies sqs:SendMessage on a queue to every principal but AWS services (SNS keeps its dead letters here; the queue
 * policy allows it for named topics only) and the given roles (the handler: Lambda's on-failure destination sends
 * with its role, and it parks letters). A letter is processed as the event it holds, so a sender could inject one.
 */
export function denyOtherSenders(queue: sqs.IQueue, roleArns: readonly string[]): void {
  queue.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenySendersOtherThanAwsServicesAndTheHandler',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['sqs:SendMessage'],
      resources: [queue.queueArn],
      conditions: {
        Bool: { 'aws:PrincipalIsAWSService': 'false' },
        ArnNotEquals: { 'aws:PrincipalArn': [...roleArns] },
      },
    }),
  );
}
