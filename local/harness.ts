import { randomBytes } from 'node:crypto';
import {
  CreateTableCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
  type DynamoDBClientConfig,
} from '@aws-sdk/client-dynamodb';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Ledger, type LedgerEntry } from '../lambda/pipeline/ledger';
import {
  LEDGER_KEY_ATTRIBUTE,
  OPEN_INCIDENTS_INDEX,
  OPEN_INCIDENTS_PROJECTION,
  OPEN_INCIDENTS_SORT_ATTRIBUTE,
  OPEN_SOURCE_ATTRIBUTE,
} from '../lambda/shared/contract';
import { createHandler, type SnsHandler } from '../lambda/handler';

/** A fresh 32-character integration key, like PagerDuty's. */
export function newRoutingKey(): string {
  return randomBytes(16).toString('hex');
}

export interface PipelineStores {
  /** DynamoDB endpoint (moto_server or dynalite). */
  readonly dynamoEndpoint: string;
  /** Secrets Manager endpoint (moto_server or the local secrets store). */
  readonly secretsEndpoint: string;
  /** Stores a secret without the Secrets Manager API (the local secrets store); default: CreateSecret. */
  readonly putSecret?: (secretId: string, value: string) => void;
  /** moto supports UpdateTimeToLive; dynalite does not. */
  readonly supportsTtl: boolean;
}

/** moto_server as both DynamoDB and Secrets Manager. */
export function motoStores(endpoint: string): PipelineStores {
  return { dynamoEndpoint: endpoint, secretsEndpoint: endpoint, supportsTtl: true };
}

/** dynalite as DynamoDB and the loopback secrets store, filled directly. */
export function localStores(
  dynamoEndpoint: string,
  secrets: { readonly url: string; put(secretId: string, value: string): void },
): PipelineStores {
  return {
    dynamoEndpoint,
    secretsEndpoint: secrets.url,
    putSecret: (id, value) => secrets.put(id, value),
    supportsTtl: false,
  };
}

export interface PipelineOptions {
  readonly stores: PipelineStores;
  readonly pagerDutyUrl: string;
  /** Route name → integration key; `default` is required. */
  readonly routingKeys: Readonly<Record<string, string>>;
  /** Extra handler environment (DEFAULT_SEVERITY, ENVIRONMENT, ...). */
  readonly env?: Readonly<Record<string, string>>;
  readonly tableName?: string;
}

export interface LocalPipeline {
  readonly handler: SnsHandler;
  readonly env: Readonly<Record<string, string>>;
  readonly tableName: string;
  /** Secret id per route, as ROUTING_KEY_SECRETS has them. */
  readonly secretIds: Readonly<Record<string, string>>;
  readLedger(dedupKey: string): Promise<LedgerEntry | undefined>;
  /** A second, independent handler instance (another Lambda container) on the same stores. */
  newHandler(): SnsHandler;
}

const region = 'us-east-1';

/** Credentials the SDK accepts; the local stores ignore them. */
export function useLocalCredentials(): void {
  process.env.AWS_ACCESS_KEY_ID ??= 'testing';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';
  process.env.AWS_REGION ??= region;
}

function clientConfig(endpoint: string): DynamoDBClientConfig {
  return { region, endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
}

export async function createLedgerTable(
  endpoint: string,
  tableName: string,
  supportsTtl: boolean,
): Promise<void> {
  const dynamo = new DynamoDBClient(clientConfig(endpoint));
  try {
    await dynamo.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: LEDGER_KEY_ATTRIBUTE, AttributeType: 'S' },
          { AttributeName: OPEN_SOURCE_ATTRIBUTE, AttributeType: 'S' },
        ],
        KeySchema: [{ AttributeName: LEDGER_KEY_ATTRIBUTE, KeyType: 'HASH' }],
        // The sparse open-incidents index the sweep queries, as lib/ declares it.
        GlobalSecondaryIndexes: [
          {
            IndexName: OPEN_INCIDENTS_INDEX,
            KeySchema: [
              { AttributeName: OPEN_SOURCE_ATTRIBUTE, KeyType: 'HASH' },
              { AttributeName: OPEN_INCIDENTS_SORT_ATTRIBUTE, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...OPEN_INCIDENTS_PROJECTION] },
          },
        ],
      }),
    );
    if (supportsTtl) {
      await dynamo.send(
        new UpdateTimeToLiveCommand({
          TableName: tableName,
          TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        }),
      );
    }
  } finally {
    dynamo.destroy();
  }
}

/**
 * The real handler wired to local stores and a PagerDuty emulator: creates the ledger table and the routing-key
 * secrets, then builds the handler from an environment exactly as Lambda would see it.
 */
export async function startPipeline(options: PipelineOptions): Promise<LocalPipeline> {
  useLocalCredentials();
  const { stores } = options;
  const suffix = randomBytes(4).toString('hex');
  const tableName = options.tableName ?? `alarm-ledger-${suffix}`;
  await createLedgerTable(stores.dynamoEndpoint, tableName, stores.supportsTtl);

  const secretIds: Record<string, string> = {};
  for (const route of Object.keys(options.routingKeys)) secretIds[route] = `pagerduty/${route}-${suffix}`;
  if (stores.putSecret) {
    for (const [route, key] of Object.entries(options.routingKeys)) stores.putSecret(secretIds[route]!, key);
  } else {
    const secrets = new SecretsManagerClient(clientConfig(stores.secretsEndpoint));
    try {
      for (const [route, key] of Object.entries(options.routingKeys)) {
        await secrets.send(new CreateSecretCommand({ Name: secretIds[route], SecretString: key }));
      }
    } finally {
      secrets.destroy();
    }
  }

  const env: Record<string, string> = {
    AWS_REGION: region,
    AWS_ENDPOINT_URL_DYNAMODB: stores.dynamoEndpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: stores.secretsEndpoint,
    LEDGER_TABLE_NAME: tableName,
    ROUTING_KEY_SECRETS: JSON.stringify(secretIds),
    PAGERDUTY_EVENTS_URL: options.pagerDutyUrl,
    ...options.env,
  };
  const ledger = new Ledger({
    tableName,
    ttlSeconds: 86400,
    client: new DynamoDBClient(clientConfig(stores.dynamoEndpoint)),
  });
  return {
    handler: createHandler(env),
    env,
    tableName,
    secretIds,
    readLedger: (dedupKey) => ledger.read(dedupKey),
    newHandler: () => createHandler(env),
  };
}
