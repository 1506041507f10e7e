import * as iam from 'aws-cdk-lib/aws-iam';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';

/**
 * Reading the routing keys: GetSecretValue (no DescribeSecret) on the route secrets, and for a secret under its own
 * KMS key, Decrypt on that key through Secrets Manager only.
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

/** The ARN an IAM policy needs: the full ARN, or the partial one with the 6 characters Secrets Manager appends. */
export function secretArnForPolicies(secret: secretsmanager.ISecret): string {
  return secret.secretFullArn ?? `${secret.secretArn}-??????`;
}
