import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';

export type LedgerAction = 'trigger' | 'resolve';

/** One item per dedup key: the newest state change claimed for it, where it went, and whether it was delivered. */
export interface LedgerEntry {
  readonly dedupKey: string;
  readonly stateChangeMs: number;
  readonly action: LedgerAction;
  readonly route: string;
  readonly delivered: boolean;
  /** Epoch seconds; DynamoDB TTL deletes lazily, so readers compare it themselves. */
  readonly expiresAt: number;
  /** The trigger event without custom details, so a compensating trigger can be re-sent faithfully. */
  readonly triggerEvent?: string;
  /** Set when a compensating send failed: PagerDuty may not be in this state, so the next reader re-sends it. */
  readonly needsResend: boolean;
}

export interface Claim {
  readonly dedupKey: string;
  readonly stateChangeMs: number;
  /** As written in the message, for people reading the table. */
  readonly stateChangeTime: string;
  readonly action: LedgerAction;
  /** The route the alarm is configured for now. */
  readonly route: string;
  readonly alarmName: string;
  readonly triggerEvent?: string;
}

export type ClaimResult =
  | {
      readonly claimed: true;
      /** Where to send: the route of the open incident when there is one, else the configured route. */
      readonly route: string;
      readonly previous?: LedgerEntry;
    }
  | { readonly claimed: false; readonly reason: 'duplicate' | 'stale'; readonly current?: LedgerEntry };

export type SettleResult =
  { readonly settled: true } | { readonly settled: false; readonly newest?: LedgerEntry };

export interface LedgerOptions {
  readonly tableName: string;
  readonly ttlSeconds: number;
  readonly client?: DynamoDBClient;
}

/**
 * The ordering ledger. `claim` records a state change only if it is newer than what the item holds (or is the
 * same one, not yet delivered); `settle` marks it delivered only if nothing newer was claimed meanwhile.
 */
export class Ledger {
  private readonly documents: DynamoDBDocumentClient;

  constructor(private readonly options: LedgerOptions) {
    this.documents = DynamoDBDocumentClient.from(options.client ?? new DynamoDBClient({}), {
      marshallOptions: { removeUndefinedValues: true },
    });
  }

  async claim(claim: Claim, nowMs: number): Promise<ClaimResult> {
    const nowSeconds = Math.floor(nowMs / 1000);
    // A resolve keeps the route that received the trigger; a trigger records the configured route.
    const routeUpdate =
      claim.action === 'resolve' ? '#route = if_not_exists(#route, :route)' : '#route = :route';
    const triggerUpdate = claim.triggerEvent !== undefined ? ', triggerEvent = :triggerEvent' : '';
    try {
      const response = await this.documents.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: { dedupKey: claim.dedupKey },
          ConditionExpression:
            'attribute_not_exists(dedupKey) OR expiresAt < :now OR stateChangeMs < :t ' +
            'OR (stateChangeMs = :t AND delivered = :false)',
          UpdateExpression:
            `SET stateChangeMs = :t, stateChangeTime = :time, #action = :action, ${routeUpdate}, ` +
            `delivered = :false, expiresAt = :expiresAt, alarmName = :alarmName, updatedAt = :updatedAt${triggerUpdate} REMOVE needsResend`,
          ExpressionAttributeNames: { '#action': 'action', '#route': 'route' },
          ExpressionAttributeValues: {
            ':t': claim.stateChangeMs,
            ':time': claim.stateChangeTime,
            ':action': claim.action,
            ':route': claim.route,
            ':false': false,
            ':now': nowSeconds,
            ':expiresAt': nowSeconds + this.options.ttlSeconds,
            ':alarmName': claim.alarmName,
            ':updatedAt': new Date(nowMs).toISOString(),
            ...(claim.triggerEvent !== undefined ? { ':triggerEvent': claim.triggerEvent } : {}),
          },
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const previous = toEntry(response.Attributes);
      const live = previous && previous.expiresAt >= nowSeconds ? previous : undefined;
      if (claim.action === 'resolve') return { claimed: true, route: live?.route ?? claim.route, previous };
      // A trigger while an incident is open must join it on the route it was opened on.
      if (live?.action === 'trigger' && live.route !== claim.route) {
        await this.pinRoute(claim, live.route);
        return { claimed: true, route: live.route, previous };
      }
      return { claimed: true, route: claim.route, previous };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = error.Item ? toEntry(unmarshall(error.Item)) : await this.read(claim.dedupKey);
      const reason = current && current.stateChangeMs > claim.stateChangeMs ? 'stale' : 'duplicate';
      return { claimed: false, reason, current };
    }
  }

  /**
   * `resent` says the caller sent this item's action after seeing it claimed, which also answers a pending
   * `needsResend`; the claim's owner settling its own send does not, as an older send may have landed after it.
   */
  async settle(
    dedupKey: string,
    stateChangeMs: number,
    nowMs: number,
    resent = false,
  ): Promise<SettleResult> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: { dedupKey },
          ConditionExpression: 'stateChangeMs = :t',
          UpdateExpression: `SET delivered = :true, updatedAt = :updatedAt${resent ? ' REMOVE needsResend' : ''}`,
          ExpressionAttributeValues: {
            ':t': stateChangeMs,
            ':true': true,
            ':updatedAt': new Date(nowMs).toISOString(),
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { settled: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const newest = error.Item ? toEntry(unmarshall(error.Item)) : await this.read(dedupKey);
      return { settled: false, newest };
    }
  }

  /** Flags the item's state as possibly not in PagerDuty, unless a newer state was claimed since. */
  async markNeedsResend(dedupKey: string, stateChangeMs: number): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: { dedupKey },
          ConditionExpression: 'stateChangeMs = :t',
          UpdateExpression: 'SET needsResend = :true',
          ExpressionAttributeValues: { ':t': stateChangeMs, ':true': true },
        }),
      );
    } catch (error) {
      // A newer claim supersedes the flag: its owner sends after us.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async read(dedupKey: string): Promise<LedgerEntry | undefined> {
    const response = await this.documents.send(
      new GetCommand({ TableName: this.options.tableName, Key: { dedupKey }, ConsistentRead: true }),
    );
    return toEntry(response.Item);
  }

  private async pinRoute(claim: Claim, route: string): Promise<void> {
    await this.documents.send(
      new UpdateCommand({
        TableName: this.options.tableName,
        Key: { dedupKey: claim.dedupKey },
        ConditionExpression: 'stateChangeMs = :t',
        UpdateExpression: 'SET #route = :route',
        ExpressionAttributeNames: { '#route': 'route' },
        ExpressionAttributeValues: { ':t': claim.stateChangeMs, ':route': route },
      }),
    );
  }
}

function toEntry(item: Record<string, unknown> | undefined): LedgerEntry | undefined {
  if (!item || typeof item.dedupKey !== 'string') return undefined;
  return {
    dedupKey: item.dedupKey,
    stateChangeMs: Number(item.stateChangeMs),
    action: item.action === 'resolve' ? 'resolve' : 'trigger',
    route: typeof item.route === 'string' ? item.route : 'default',
    delivered: item.delivered === true,
    expiresAt: Number(item.expiresAt ?? 0),
    triggerEvent: typeof item.triggerEvent === 'string' ? item.triggerEvent : undefined,
    needsResend: item.needsResend === true,
  };
}
