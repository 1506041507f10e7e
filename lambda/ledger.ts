import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { LEDGER_KEY_ATTRIBUTE } from './contract';

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
  /**
   * An item holding a time later than this can only hold a forged or mistyped future time (times are capped at
   * what SNS vouches for before they are claimed): any claim replaces it, so the alarm heals on its next change.
   */
  readonly futureLimitMs: number;
}

/** Bounds on what one item stores, far under DynamoDB's 400 KB item limit whatever a publisher sends. */
export const MAX_STORED_ALARM_NAME = 1024;
export const MAX_STORED_TRIGGER_EVENT = 64 * 1024;
const MAX_STORED_TIME_TEXT = 64;

export interface SettleOptions {
  /**
   * The caller sent this item's action after seeing it claimed, which also answers a pending `needsResend`; the
   * claim's owner settling its own send does not, as an older send may have landed after it.
   */
  readonly resent?: boolean;
}

/** What the delivery step needs of a ledger: the DynamoDB table, or the in-memory one of the tests. */
export interface LedgerStore {
  claim(claim: Claim, nowMs: number): Promise<ClaimResult>;
  settle(
    dedupKey: string,
    settled: { readonly stateChangeMs: number; readonly action: LedgerAction },
    nowMs: number,
    options?: SettleOptions,
  ): Promise<SettleResult>;
  markNeedsResend(dedupKey: string, stateChangeMs: number): Promise<void>;
  read(dedupKey: string): Promise<LedgerEntry | undefined>;
}

/** The claim as stored: every text bounded. */
export function boundedClaim(claim: Claim): Claim {
  const triggerEvent =
    claim.triggerEvent !== undefined && claim.triggerEvent.length <= MAX_STORED_TRIGGER_EVENT
      ? claim.triggerEvent
      : undefined;
  return {
    ...claim,
    alarmName: claim.alarmName.slice(0, MAX_STORED_ALARM_NAME),
    stateChangeTime: claim.stateChangeTime.slice(0, MAX_STORED_TIME_TEXT),
    triggerEvent,
  };
}

// The claim's condition, piece by piece: a new item; a newer state change; the retry of one not yet delivered;
// or an item wedged by a future time.
const CLAIM_CONDITION = [
  'attribute_not_exists(dedupKey)',
  'stateChangeMs < :t',
  '(stateChangeMs = :t AND delivered = :false)',
  'stateChangeMs > :futureLimit',
].join(' OR ');

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
export class Ledger implements LedgerStore {
  private readonly documents: DynamoDBDocumentClient;

  constructor(private readonly options: LedgerOptions) {
    this.documents = DynamoDBDocumentClient.from(options.client ?? new DynamoDBClient({}), {
      marshallOptions: { removeUndefinedValues: true },
    });
  }

  async claim(unbounded: Claim, nowMs: number): Promise<ClaimResult> {
    const claim = boundedClaim(unbounded);
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
          Key: { [LEDGER_KEY_ATTRIBUTE]: claim.dedupKey },
          // No exception for expired items: only an older notification could use one, and it must stay a no-op.
          ConditionExpression: CLAIM_CONDITION,
          UpdateExpression:
            'SET stateChangeMs = :t, stateChangeTime = :time, #action = :action, ' +
            '#route = if_not_exists(openRoute, :route), delivered = :false, alarmName = :alarmName, ' +
            `updatedAt = :updatedAt, ${actionUpdates}`,
          ExpressionAttributeNames: { '#action': 'action', '#route': 'route' },
          ExpressionAttributeValues: {
            ':t': claim.stateChangeMs,
            ':futureLimit': claim.futureLimitMs,
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
      return { claimed: false, reason: refusalReason(current, claim), current };
    }
  }

  async settle(
    dedupKey: string,
    settled: { readonly stateChangeMs: number; readonly action: LedgerAction },
    nowMs: number,
    { resent = false }: SettleOptions = {},
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
          Key: { [LEDGER_KEY_ATTRIBUTE]: dedupKey },
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
          Key: { [LEDGER_KEY_ATTRIBUTE]: dedupKey },
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
      new GetCommand({
        TableName: this.options.tableName,
        Key: { [LEDGER_KEY_ATTRIBUTE]: dedupKey },
        ConsistentRead: true,
      }),
    );
    return toEntry(response.Item);
  }
}

/** Why a claim was refused: a newer state is recorded (stale), or this one was already delivered (duplicate). */
export function refusalReason(current: LedgerEntry | undefined, claim: Claim): 'stale' | 'duplicate' {
  return current && current.stateChangeMs > claim.stateChangeMs ? 'stale' : 'duplicate';
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
