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
  /** Epoch seconds; absent while a trigger is the newest state (an open incident's item never expires). */
  readonly expiresAt?: number;
  /** The route of the incident a trigger opened, until a resolve of it settles. */
  readonly openRoute?: string;
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
    // `openRoute` is the route of the incident a trigger opened, kept until a resolve of it settles: a trigger
    // joins it and a resolve goes to it, even if the alarm's configured route changed meanwhile. A trigger's
    // item does not expire while the incident is open; a resolve's expires after the TTL.
    const actionUpdates =
      claim.action === 'trigger'
        ? 'openRoute = if_not_exists(openRoute, :route), triggerEvent = :triggerEvent REMOVE needsResend, expiresAt'
        : 'expiresAt = :expiresAt REMOVE needsResend';
    try {
      const response = await this.documents.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: { dedupKey: claim.dedupKey },
          // No exception for expired items: only an older notification could use one, and it must stay a no-op.
          ConditionExpression:
            'attribute_not_exists(dedupKey) OR stateChangeMs < :t OR (stateChangeMs = :t AND delivered = :false)',
          UpdateExpression:
            'SET stateChangeMs = :t, stateChangeTime = :time, #action = :action, ' +
            '#route = if_not_exists(openRoute, :route), delivered = :false, alarmName = :alarmName, ' +
            `updatedAt = :updatedAt, ${actionUpdates}`,
          ExpressionAttributeNames: { '#action': 'action', '#route': 'route' },
          ExpressionAttributeValues: {
            ':t': claim.stateChangeMs,
            ':time': claim.stateChangeTime,
            ':action': claim.action,
            ':route': claim.route,
            ':false': false,
            ':alarmName': claim.alarmName,
            ':updatedAt': new Date(nowMs).toISOString(),
            ...(claim.action === 'trigger'
              ? { ':triggerEvent': claim.triggerEvent ?? '' }
              : { ':expiresAt': nowSeconds + this.options.ttlSeconds }),
          },
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const previous = toEntry(response.Attributes);
      return { claimed: true, route: previous?.openRoute ?? claim.route, previous };
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
    settled: { readonly stateChangeMs: number; readonly action: LedgerAction },
    nowMs: number,
    resent = false,
  ): Promise<SettleResult> {
    const { stateChangeMs } = settled;
    // A delivered resolve closes the incident: the next trigger may open one on the configured route.
    const removals = [
      ...(resent ? ['needsResend'] : []),
      ...(settled.action === 'resolve' ? ['openRoute'] : []),
    ];
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: { dedupKey },
          ConditionExpression: 'stateChangeMs = :t',
          UpdateExpression: `SET delivered = :true, updatedAt = :updatedAt${removals.length ? ` REMOVE ${removals.join(', ')}` : ''}`,
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
}

function toEntry(item: Record<string, unknown> | undefined): LedgerEntry | undefined {
  if (!item || typeof item.dedupKey !== 'string') return undefined;
  return {
    dedupKey: item.dedupKey,
    stateChangeMs: Number(item.stateChangeMs),
    action: item.action === 'resolve' ? 'resolve' : 'trigger',
    route: typeof item.route === 'string' ? item.route : 'default',
    delivered: item.delivered === true,
    expiresAt: item.expiresAt === undefined ? undefined : Number(item.expiresAt),
    openRoute: typeof item.openRoute === 'string' ? item.openRoute : undefined,
    triggerEvent: typeof item.triggerEvent === 'string' ? item.triggerEvent : undefined,
    needsResend: item.needsResend === true,
  };
}
