import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import {
  boundedClaim,
  claimUpdates,
  heldByDeletion,
  openValues,
  type Claim,
  type LedgerAction,
} from './claim';
import {
  LEDGER_KEY_ATTRIBUTE,
  OPEN_INCIDENTS_INDEX,
  OPEN_SOURCE_ATTRIBUTE,
  sweepCursorKey,
  type InsufficientDataPolicy,
} from '../shared/contract';

export { boundedClaim, MAX_STORED_ALARM_NAME, MAX_STORED_TRIGGER_EVENT } from './claim';
export type { Claim, LedgerAction, OpenIncidentFacts } from './claim';

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
  /**
   * Epoch milliseconds until which a delivery holds the right to send this alert's events (a lease). Sends of one
   * alert never overlap while it is held, so they reach PagerDuty in the order they were claimed.
   */
  readonly sendingUntilMs?: number;
  /** Who holds the lease: a random id per claim or lease call, so that its holder alone gives it back. */
  readonly sendingBy?: string;
  /** `<accountId>:<region>` while PagerDuty may hold an open incident for it: the open-incidents index's key. */
  readonly openSource?: string;
  /** The alarm the incident is about (a trigger claim for an alarm stores these; the sweep reads them). */
  readonly alarmArn?: string;
  readonly sourceAlarmName?: string;
  readonly contributorId?: string;
  readonly insufficientData?: InsufficientDataPolicy;
  /** Opt-in re-page interval while the alarm still breaches. */
  readonly repageMs?: number;
  /** An alarm deletion's resolve holds off claims ordered at a cap until then (`Claim.deletedUntilMs`). */
  readonly deletedUntilMs?: number;
  /** The state was ordered at its SNS stamp, its own time being later (`Claim.timeCapped`). */
  readonly timeCapped?: boolean;
  /** With `timeCapped`: the time of the state it replaced (0 for none). */
  readonly cappedOverMs?: number;
  /**
   * The model triage of the open incident (JSON, lambda/triage/record.ts): written with the settle or the release
   * of the trigger that asked, kept by later triggers, removed by a resolve's claim. Absent when triage is off.
   */
  readonly triage?: string;
}

/** One item of the open-incidents index: an incident PagerDuty may hold open, and what the sweep needs of it. */
export interface OpenIncident {
  readonly dedupKey: string;
  readonly openSource: string;
  readonly alarmArn: string;
  readonly alarmName: string;
  readonly contributorId?: string;
  readonly insufficientData: InsufficientDataPolicy;
  readonly repageMs?: number;
  readonly stateChangeMs: number;
  readonly action: LedgerAction;
  readonly delivered: boolean;
}

export interface OpenIncidentPage {
  readonly items: readonly OpenIncident[];
  /** Pass it back for the next page; absent on the last. */
  readonly cursor?: string;
}

export interface SettleOptions {
  /**
   * The caller sent this item's action after seeing it claimed, which also answers a pending `needsResend`; the
   * claim's owner settling its own send does not, as an older send may have landed after it.
   */
  readonly resent?: boolean;
  /**
   * Keep the lease until then instead of giving it back: an earlier attempt of this send went unanswered and may
   * still reach PagerDuty, after a newer state's request if that one went at once.
   */
  readonly holdLeaseUntilMs?: number;
  /** The triage this delivery asked for, stored with the settle (no call of its own). */
  readonly triage?: string;
}

/**
 * What the delivery step needs of a ledger: the DynamoDB table, or the in-memory one of the tests.
 *
 * Every send to PagerDuty for one dedup key happens under that key's lease: `claim` takes it with a newer state
 * change, `lease` takes it to re-send the newest one, `settle` and `release` give it back. The lease ends by
 * itself at `leaseUntilMs`, so a delivery that crashed holds up the others only until then.
 */
export interface LedgerStore {
  /** Records a newer state change and takes the lease; refused as `busy` while another delivery holds it. */
  claim(claim: Claim, nowMs: number, leaseUntilMs: number): Promise<ClaimResult>;
  /** Takes the lease to send the item's current state again, if that is still `stateChangeMs`. */
  lease(dedupKey: string, stateChangeMs: number, nowMs: number, leaseUntilMs: number): Promise<LeaseResult>;
  /**
   * Gives our lease (`leaseId`, from the claim or lease) back without settling (the send failed), if the item still
   * holds `stateChangeMs` and our lease: at once, or, with `heldUntilMs`, when that time comes (a request that may still
   * land keeps the others waiting). Another delivery's lease is left alone. `triage` is stored with it, so that the
   * retry of a failed send does not ask the model again.
   */
  release(
    dedupKey: string,
    stateChangeMs: number,
    leaseId: string,
    heldUntilMs?: number,
    triage?: string,
  ): Promise<void>;
  settle(
    dedupKey: string,
    settled: { readonly stateChangeMs: number; readonly action: LedgerAction },
    nowMs: number,
    options?: SettleOptions,
  ): Promise<SettleResult>;
  markNeedsResend(dedupKey: string, stateChangeMs: number): Promise<void>;
  read(dedupKey: string): Promise<LedgerEntry | undefined>;
  /** One page of the open incidents of a source (`<accountId>:<region>`), by dedup key; eventually consistent. */
  openIncidents(openSource: string, cursor?: string): Promise<OpenIncidentPage>;
  /**
   * Where the last sweep over the list of sources `shard` names stopped (the index of the source to resume at), if
   * it was cut short. Each list (each sweep function) has its own cursor.
   */
  readSweepCursor(shard: string): Promise<number | undefined>;
  /** Records where to resume that list; `undefined` clears it (the sweep got through every source). */
  writeSweepCursor(shard: string, next: number | undefined): Promise<void>;
}

// The claim's condition, piece by piece: a new item; or a newer state change, or the retry of one not yet
// delivered, while no other delivery holds the lease; or an item wedged by a future time, whatever it holds.
const NEW_ITEM = 'attribute_not_exists(dedupKey)';
const NEWER_OR_UNDELIVERED = 'stateChangeMs < :t OR (stateChangeMs = :t AND delivered = :false)';
// `sendingBy = :owner`: the SDK retrying a call DynamoDB applied but whose answer was lost finds its own lease.
const LEASE_FREE = 'attribute_not_exists(sendingUntilMs) OR sendingUntilMs <= :now OR sendingBy = :owner';
const WEDGED_IN_FUTURE = 'stateChangeMs > :futureLimit';
const CLAIM_CONDITION = `${NEW_ITEM} OR ((${NEWER_OR_UNDELIVERED}) AND (${LEASE_FREE})) OR ${WEDGED_IN_FUTURE}`;
// A claim ordered at a cap, as well: no alarm deletion's resolve holds the item past its time.
const NOT_HELD_BY_DELETION = 'attribute_not_exists(deletedUntilMs) OR deletedUntilMs <= :t';
const CAPPED_CLAIM_CONDITION =
  `${NEW_ITEM} OR ((${NEWER_OR_UNDELIVERED}) AND (${LEASE_FREE}) AND (${NOT_HELD_BY_DELETION})) OR ` +
  WEDGED_IN_FUTURE;
const LEASE_CONDITION = `stateChangeMs = :t AND (${LEASE_FREE})`;

export type ClaimResult =
  | {
      readonly claimed: true;
      /** Names this delivery's lease, to give it back with `release`. */
      readonly leaseId: string;
      /** Where to send: the route of the open incident when there is one, else the configured route. */
      readonly route: string;
      readonly previous?: LedgerEntry;
    }
  | { readonly claimed: false; readonly reason: RefusalReason; readonly current?: LedgerEntry };

/**
 * Why a claim was refused: a newer state is recorded (stale); this one was already delivered (duplicate); its
 * time is a cap and an alarm deletion holds the item past it (held: a forged copy of the deleted alarm's state); or
 * another delivery of this alert holds the lease (busy: try again when it ends).
 */
export type RefusalReason = 'duplicate' | 'stale' | 'busy' | 'held';

export type LeaseResult =
  | { readonly leased: true; readonly leaseId: string }
  /** The item holds a newer state (`current` says which), or another delivery holds the lease. */
  | { readonly leased: false; readonly current?: LedgerEntry };

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

  async claim(unbounded: Claim, nowMs: number, leaseUntilMs: number): Promise<ClaimResult> {
    const claim = boundedClaim(unbounded);
    const leaseId = randomUUID();
    const nowSeconds = Math.floor(nowMs / 1000);
    // `openRoute` is the route of the incident a trigger opened, kept until a resolve of it settles: a trigger
    // joins it and a resolve goes to it, even if the alarm's configured route changed meanwhile. A trigger's
    // item does not expire while the incident is open; a resolve's expires after the TTL.
    const open = claim.action === 'trigger' ? claim.open : undefined;
    const { sets, removals } = claimUpdates(claim, open);
    try {
      const response = await this.documents.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: { [LEDGER_KEY_ATTRIBUTE]: claim.dedupKey },
          // No exception for expired items: only an older notification could use one, and it must stay a no-op.
          ConditionExpression: claim.timeCapped ? CAPPED_CLAIM_CONDITION : CLAIM_CONDITION,
          UpdateExpression:
            'SET stateChangeMs = :t, stateChangeTime = :time, #action = :action, ' +
            '#route = if_not_exists(openRoute, :route), delivered = :false, alarmName = :alarmName, ' +
            `updatedAt = :updatedAt, sendingUntilMs = :lease, sendingBy = :owner, ${sets.join(', ')} ` +
            `REMOVE ${removals.join(', ')}`,
          ExpressionAttributeNames: { '#action': 'action', '#route': 'route' },
          ExpressionAttributeValues: {
            ':t': claim.stateChangeMs,
            ':futureLimit': claim.futureLimitMs,
            ':now': nowMs,
            ':lease': leaseUntilMs,
            ':owner': leaseId,
            ':time': claim.stateChangeTime,
            ':action': claim.action,
            ':route': claim.route,
            ':false': false,
            ':alarmName': claim.alarmName,
            ':updatedAt': new Date(nowMs).toISOString(),
            ...(claim.action === 'trigger'
              ? { ':triggerEvent': claim.triggerEvent ?? '', ...openValues(open) }
              : {
                  ':expiresAt': nowSeconds + this.options.ttlSeconds,
                  ...(claim.deletedUntilMs === undefined ? {} : { ':deletedUntil': claim.deletedUntilMs }),
                }),
            ...(claim.timeCapped ? { ':true': true, ':zero': 0 } : {}),
          },
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const previous = toEntry(response.Attributes);
      return { claimed: true, route: previous?.openRoute ?? claim.route, previous, leaseId };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = error.Item ? toEntry(unmarshall(error.Item)) : await this.read(claim.dedupKey);
      return { claimed: false, reason: refusalReason(current, claim), current };
    }
  }

  async lease(
    dedupKey: string,
    stateChangeMs: number,
    nowMs: number,
    leaseUntilMs: number,
  ): Promise<LeaseResult> {
    const leaseId = randomUUID();
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: { [LEDGER_KEY_ATTRIBUTE]: dedupKey },
          ConditionExpression: LEASE_CONDITION,
          UpdateExpression: 'SET sendingUntilMs = :lease, sendingBy = :owner',
          ExpressionAttributeValues: {
            ':t': stateChangeMs,
            ':now': nowMs,
            ':lease': leaseUntilMs,
            ':owner': leaseId,
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { leased: true, leaseId };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = error.Item ? toEntry(unmarshall(error.Item)) : await this.read(dedupKey);
      return { leased: false, current };
    }
  }

  async release(
    dedupKey: string,
    stateChangeMs: number,
    leaseId: string,
    heldUntilMs?: number,
    triage?: string,
  ): Promise<void> {
    const sets = [
      ...(heldUntilMs === undefined ? [] : ['sendingUntilMs = :heldUntil']),
      ...(triage === undefined ? [] : ['triage = :triage']),
    ];
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: { [LEDGER_KEY_ATTRIBUTE]: dedupKey },
          ConditionExpression: 'stateChangeMs = :t AND sendingBy = :owner',
          UpdateExpression: [
            ...(sets.length > 0 ? [`SET ${sets.join(', ')}`] : []),
            ...(heldUntilMs === undefined ? ['REMOVE sendingUntilMs, sendingBy'] : []),
          ].join(' '),
          ExpressionAttributeValues: {
            ':t': stateChangeMs,
            ':owner': leaseId,
            ...(heldUntilMs === undefined ? {} : { ':heldUntil': heldUntilMs }),
            ...(triage === undefined ? {} : { ':triage': triage }),
          },
        }),
      );
    } catch (error) {
      // A newer claim took the item, or another delivery holds the lease now (ours had run out): it is theirs.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async settle(
    dedupKey: string,
    settled: { readonly stateChangeMs: number; readonly action: LedgerAction },
    nowMs: number,
    { resent = false, holdLeaseUntilMs, triage }: SettleOptions = {},
  ): Promise<SettleResult> {
    const { stateChangeMs } = settled;
    // A delivered resolve closes the incident: the next trigger may open one on the configured route. Settling
    // gives the lease back, or holds it a little longer for an attempt that may still land.
    const hold = holdLeaseUntilMs !== undefined;
    const removals = [
      ...(hold ? [] : ['sendingUntilMs', 'sendingBy']),
      ...(resent ? ['needsResend'] : []),
      // A settled resolve leaves the open-incidents index; an unsettled one stays for the sweep to finish.
      ...(settled.action === 'resolve' ? ['openRoute', OPEN_SOURCE_ATTRIBUTE] : []),
    ];
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: { [LEDGER_KEY_ATTRIBUTE]: dedupKey },
          ConditionExpression: 'stateChangeMs = :t',
          UpdateExpression:
            `SET delivered = :true, updatedAt = :updatedAt${hold ? ', sendingUntilMs = :hold' : ''}` +
            (triage === undefined ? '' : ', triage = :triage') +
            (removals.length > 0 ? ` REMOVE ${removals.join(', ')}` : ''),
          ExpressionAttributeValues: {
            ':t': stateChangeMs,
            ':true': true,
            ':updatedAt': new Date(nowMs).toISOString(),
            ...(hold ? { ':hold': holdLeaseUntilMs } : {}),
            ...(triage === undefined ? {} : { ':triage': triage }),
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

  async openIncidents(openSource: string, cursor?: string): Promise<OpenIncidentPage> {
    const response = await this.documents.send(
      new QueryCommand({
        TableName: this.options.tableName,
        IndexName: OPEN_INCIDENTS_INDEX,
        KeyConditionExpression: '#source = :source',
        ExpressionAttributeNames: { '#source': OPEN_SOURCE_ATTRIBUTE },
        ExpressionAttributeValues: { ':source': openSource },
        ExclusiveStartKey: cursor === undefined ? undefined : (JSON.parse(cursor) as Record<string, unknown>),
        Limit: OPEN_INCIDENTS_PAGE,
      }),
    );
    return {
      items: (response.Items ?? []).flatMap((item) => toOpenIncident(item) ?? []),
      cursor: response.LastEvaluatedKey ? JSON.stringify(response.LastEvaluatedKey) : undefined,
    };
  }

  async readSweepCursor(shard: string): Promise<number | undefined> {
    const response = await this.documents.send(
      new GetCommand({
        TableName: this.options.tableName,
        Key: { [LEDGER_KEY_ATTRIBUTE]: sweepCursorKey(shard) },
        ConsistentRead: true,
      }),
    );
    const next: unknown = response.Item?.nextSource;
    return typeof next === 'number' ? next : undefined;
  }

  async writeSweepCursor(shard: string, next: number | undefined): Promise<void> {
    await this.documents.send(
      new UpdateCommand({
        TableName: this.options.tableName,
        Key: { [LEDGER_KEY_ATTRIBUTE]: sweepCursorKey(shard) },
        // Expires like a resolved alert: a cursor of a source list no sweep uses any more goes away by itself.
        UpdateExpression:
          next === undefined
            ? 'SET expiresAt = :expiresAt REMOVE nextSource'
            : 'SET nextSource = :next, expiresAt = :expiresAt',
        ExpressionAttributeValues: {
          ':expiresAt': Math.floor(Date.now() / 1000) + this.options.ttlSeconds,
          ...(next === undefined ? {} : { ':next': next }),
        },
      }),
    );
  }
}

/** Open incidents per index page: the sweep checks them 100 names a DescribeAlarms call. */
export const OPEN_INCIDENTS_PAGE = 100;

/** An index item as an open incident; `undefined` for an item without the facts (never written that way). */
export function toOpenIncident(item: Record<string, unknown>): OpenIncident | undefined {
  const entry = toEntry(item);
  if (!entry?.openSource || entry.alarmArn === undefined) return undefined;
  return {
    dedupKey: entry.dedupKey,
    openSource: entry.openSource,
    alarmArn: entry.alarmArn,
    alarmName: entry.sourceAlarmName ?? entry.alarmArn.split(':alarm:').pop() ?? '',
    contributorId: entry.contributorId,
    insufficientData: entry.insufficientData ?? 'ignore',
    repageMs: entry.repageMs,
    stateChangeMs: entry.stateChangeMs,
    action: entry.action,
    delivered: entry.delivered,
  };
}

/** Why the item `current` refused `claim` (see `RefusalReason`). */
export function refusalReason(current: LedgerEntry | undefined, claim: Claim): RefusalReason {
  if (current && current.stateChangeMs > claim.stateChangeMs) return 'stale';
  if (current && heldByDeletion(current, claim)) return 'held';
  if (current && current.stateChangeMs === claim.stateChangeMs && current.delivered) return 'duplicate';
  // Newer, or the same one not yet delivered: only another delivery's lease refuses it. (An item that vanished
  // between the refusal and the read, by TTL, reads as busy too: the caller's next claim succeeds.)
  return 'busy';
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
    sendingUntilMs: item.sendingUntilMs === undefined ? undefined : Number(item.sendingUntilMs),
    sendingBy: typeof item.sendingBy === 'string' ? item.sendingBy : undefined,
    openSource: typeof item.openSource === 'string' ? item.openSource : undefined,
    alarmArn: typeof item.alarmArn === 'string' ? item.alarmArn : undefined,
    sourceAlarmName: typeof item.sourceAlarmName === 'string' ? item.sourceAlarmName : undefined,
    contributorId: typeof item.contributorId === 'string' ? item.contributorId : undefined,
    insufficientData: policyOf(item.insufficientData),
    repageMs: item.repageMs === undefined ? undefined : Number(item.repageMs),
    deletedUntilMs: item.deletedUntilMs === undefined ? undefined : Number(item.deletedUntilMs),
    timeCapped: item.timeCapped === true ? true : undefined,
    cappedOverMs: item.cappedOverMs === undefined ? undefined : Number(item.cappedOverMs),
    triage: typeof item.triage === 'string' ? item.triage : undefined,
  };
}

function policyOf(value: unknown): InsufficientDataPolicy | undefined {
  return value === 'ignore' || value === 'trigger' || value === 'resolve' ? value : undefined;
}
