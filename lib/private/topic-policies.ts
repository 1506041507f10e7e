import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';

/**
 * Denies sns:Publish to every principal but AWS services (of which the topic policy allows only CloudWatch) and the
 * given roles. `aws:PrincipalIsAWSService` is in every request's context, so `Bool` never denies CloudWatch by a
 * missing key (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
 */
export function denyOtherPublishers(topic: sns.Topic, roleArns: string[]): void {
  const conditions: Record<string, Record<string, unknown>> = {
    Bool: { 'aws:PrincipalIsAWSService': 'false' },
  };
  if (roleArns.length > 0) conditions.ArnNotLike = { 'aws:PrincipalArn': roleArns };
  topic.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenyPublishersOtherThanCloudWatchAndNamedRoles',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
      conditions,
    }),
  );
}
