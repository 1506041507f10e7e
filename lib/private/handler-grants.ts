import { Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { openIncidentsIndexArn } from './ledger-table';

export interface HandlerResources {
  readonly secrets: readonly secretsmanager.ISecret[];
  readonly ledger: dynamodb.Table;
  readonly retryQueue: sqs.Queue;
  readonly parkedQueue: sqs.Queue;
  readonly key: kms.Key;
}

/**
 * The handler's role gets what the code and Lambda call on its behalf, nothing more: GetSecretValue (no
 * DescribeSecret), the ledger's two item calls, sending on-failure records to the retry queue and polling it
 * (the event source mapping), sending to the parked queue, and data keys of the queues' key through SQS only.
 */
export function grantHandler(role: iam.Role, resources: HandlerResources): void {
  const { secrets, ledger, retryQueue, parkedQueue, key } = resources;
  const region = Stack.of(role).region;
  const [readRoutingKeys, ...routingKeySecretsKeys] = routingKeySecretStatements(secrets, region);
  const statements = [
    readRoutingKeys!,
    new iam.PolicyStatement({
      sid: 'LedgerReadWrite',
      actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      resources: [ledger.tableArn],
    }),
    // An alarm deleted (EventBridge) resolves its contributors' incidents too, found through the index.
    new iam.PolicyStatement({
      sid: 'LedgerOpenIncidents',
      actions: ['dynamodb:Query'],
      resources: [openIncidentsIndexArn(ledger)],
    }),
    // Lambda sends on-failure records with the function's role (the async destination) and polls with it
    // (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html: ReceiveMessage, DeleteMessage, GetQueueAttributes).
    new iam.PolicyStatement({
      sid: 'RetryQueueSendAndPoll',
      actions: ['sqs:SendMessage', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
      resources: [retryQueue.queueArn],
    }),
    new iam.PolicyStatement({
      sid: 'ParkedQueueSend',
      actions: ['sqs:SendMessage'],
      resources: [parkedQueue.queueArn],
    }),
    // SQS asks KMS on the caller's behalf: GenerateDataKey to send, Decrypt to send and receive
    // (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html).
    new iam.PolicyStatement({
      sid: 'QueueKeyThroughSqs',
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `sqs.${region}.amazonaws.com` } },
    }),
    ...routingKeySecretsKeys,
  ];
  for (const statement of statements) role.addToPrincipalPolicy(statement);
}

/**
 * Reading the routing keys (the handler and the sweep): GetSecretValue (no DescribeSecret) on the route secrets, and
 * for a secret under its own KMS key, Decrypt on that key through Secrets Manager only.
 */
export function routingKeySecretStatements(
  secrets: readonly secretsmanager.ISecret[],
  region: string,
): iam.PolicyStatement[] {
  const statements = [
    new iam.PolicyStatement({
      sid: 'ReadRoutingKeys',
      actions: ['secretsmanager:GetSecretValue'],
      resources: secrets.map(secretArnForPolicies),
    }),
  ];
  const secretKeys = secrets.flatMap((secret) => (secret.encryptionKey ? [secret.encryptionKey.keyArn] : []));
  if (secretKeys.length > 0) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'RoutingKeySecretsKeyThroughSecretsManager',
        actions: ['kms:Decrypt'],
        resources: secretKeys,
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${region}.amazonaws.com` } },
      }),
    );
  }
  return statements;
}

/**
 * GetSecretValue on one secret (and Decrypt of its own key through Secrets Manager), no more: `grantRead` also
 * grants DescribeSecret, which no function calls.
 */
export function grantSecretValue(grantee: iam.IGrantable, secret: secretsmanager.ISecret): void {
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['secretsmanager:GetSecretValue'],
    resourceArns: [secretArnForPolicies(secret)],
  });
  if (secret.encryptionKey) {
    const region = Stack.of(secret).region;
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [secret.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${region}.amazonaws.com` } },
      }),
    );
  }
}

/** The ARN an IAM policy needs: the full ARN, or the partial one with the 6 characters Secrets Manager appends. */
export function secretArnForPolicies(secret: secretsmanager.ISecret): string {
  return secret.secretFullArn ?? `${secret.secretArn}-??????`;
}

/**
 * What the handler passes to GetSecretValue: the full ARN when known; otherwise (a secret imported by
 * name) the name, since the partial ARN `name-??????` is only valid in IAM policies.
 */
export function secretId(secret: secretsmanager.ISecret): string {
  return secret.secretFullArn ?? secret.secretName;
}
