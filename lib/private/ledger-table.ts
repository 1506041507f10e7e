import type { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import {
  LEDGER_KEY_ATTRIBUTE,
  LEDGER_TTL_ATTRIBUTE,
  OPEN_INCIDENTS_INDEX,
  OPEN_INCIDENTS_PROJECTION,
  OPEN_INCIDENTS_SORT_ATTRIBUTE,
  OPEN_SOURCE_ATTRIBUTE,
} from '../../lambda/shared/contract';

/**
 * The ledger: one item per dedup key, and the sparse index of open incidents by source ("<account>:<region>"),
 * which only items holding an open trigger for an alarm appear in, so a sweep finds them without a scan.
 */
export function ledgerTable(scope: Construct, id: string, removalPolicy: RemovalPolicy): dynamodb.Table {
  const table = new dynamodb.Table(scope, id, {
    partitionKey: { name: LEDGER_KEY_ATTRIBUTE, type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    timeToLiveAttribute: LEDGER_TTL_ATTRIBUTE,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: dynamodb.TableEncryption.AWS_MANAGED,
    removalPolicy,
  });
  table.addGlobalSecondaryIndex({
    indexName: OPEN_INCIDENTS_INDEX,
    partitionKey: { name: OPEN_SOURCE_ATTRIBUTE, type: dynamodb.AttributeType.STRING },
    sortKey: { name: OPEN_INCIDENTS_SORT_ATTRIBUTE, type: dynamodb.AttributeType.STRING },
    projectionType: dynamodb.ProjectionType.INCLUDE,
    nonKeyAttributes: [...OPEN_INCIDENTS_PROJECTION],
  });
  return table;
}

/** The index's ARN, for IAM: Query on the index needs its own resource. */
export function openIncidentsIndexArn(table: dynamodb.ITable): string {
  return `${table.tableArn}/index/${OPEN_INCIDENTS_INDEX}`;
}
