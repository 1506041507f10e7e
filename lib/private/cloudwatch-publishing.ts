import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';

/**
 * CloudWatch cannot publish to a topic under alias/aws/sns; with a customer managed key it needs these two actions
 * (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html). With `sourceAccounts`, only for alarms of
 * those accounts.
 */
export function allowCloudWatchToUseKey(key: kms.IKey, sourceAccounts?: readonly string[]): void {
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchAlarmsToPublishToEncryptedTopics',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions:
        sourceAccounts === undefined ? undefined : { StringEquals: { 'aws:SourceAccount': sourceAccounts } },
    }),
  );
}

/**
 * Lets CloudWatch alarms of `sourceAccounts` (one account or a list) publish to the topic, named in the policy by
 * `topicArn` (a literal ARN for a topic that other stacks name); the topic's TLS-only statement stays.
 */
export function allowCloudWatchToPublish(
  topic: sns.ITopic,
  sourceAccounts: string | readonly string[],
  topicArn: string = topic.topicArn,
): void {
  topic.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchAlarmsToPublish',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['sns:Publish'],
      resources: [topicArn],
      conditions: { StringEquals: { 'aws:SourceAccount': sourceAccounts } },
    }),
  );
}
