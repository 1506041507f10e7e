import { randomUUID } from 'node:crypto';
import { heldByDeletion } from './claim';
import {
  boundedClaim,
  MAX_STORED_ALARM_NAME,
  refusalReason,
  type Claim,
  type ClaimResult,
  type LedgerAction,
  type LeaseResult,
  type LedgerEntry,
  type LedgerStore,
  type OpenIncidentPage,
  type SettleOptions,
  type SettleResult,
  OPEN_INCIDENTS_PAGE,
  toOpenIncident,
} from './ledger';

type Item = { -readonly [K in keyof LedgerEntry]: LedgerEntry[K] };

/**
 * The ledger in memory, with the DynamoDB ledger's conditions: one item per dedup key, every operation atomic.
 * For tests and local tools; the shared contract suite (test/lambda/pipeline/ledger.contract.test.ts) keeps the two alike.
 */
export class MemoryLedger implements LedgerStore {
  private readonly items = new Map<string, Item>();
  private readonly sweepCursors = new Map<string, number>();

  constructor(private readonly ttlSeconds = 90 * 86400) {}

  async claim(unbounded: Claim, nowMs: number, leaseUntilMs: number): Promise<ClaimResult> {
    await Promise.resolve();
    const claim = boundedClaim(unbounded);
    const current = this.items.get(claim.dedupKey);
    const claimable =
      current === undefined ||
      ((current.stateChangeMs < claim.stateChangeMs ||
        (current.stateChangeMs === claim.stateChangeMs && !current.delivered)) &&
        leaseFree(current, nowMs) &&
        !heldByDeletion(current, claim)) ||
      current.stateChangeMs > claim.futureLimitMs;
    if (!claimable) return { claimed: false, reason: refusalReason(current, claim), current: copy(current) };

    const openRoute = current?.openRoute;
    const next: Item = {
      dedupKey: claim.dedupKey,
      stateChangeMs: claim.stateChangeMs,
      action: claim.action,
      route: openRoute ?? claim.route,
      delivered: false,
      needsResend: false,
      openRoute,
      triggerEvent: current?.triggerEvent,
      // An open incident's triage stays for its later triggers; a resolve's claim removes it.
      triage: claim.action === 'trigger' ? current?.triage : undefined,
      sendingUntilMs: leaseUntilMs,
      sendingBy: randomUUID(),
    };
    // The open-incident facts stay with the item until a resolve settles, as in DynamoDB.
    for (const key of OPEN_FACTS) (next as Record<string, unknown>)[key] = current?.[key];
    if (claim.action === 'trigger') {
      next.openRoute = openRoute ?? claim.route;
      next.triggerEvent = claim.triggerEvent ?? '';
      next.expiresAt = undefined;
      const open = claim.open;
      if (open) {
        next.openSource = open.source;
        next.alarmArn = open.alarmArn;
        next.sourceAlarmName = open.alarmName.slice(0, MAX_STORED_ALARM_NAME);
        next.insufficientData = open.insufficientData;
        if (open.contributorId !== undefined) next.contributorId = open.contributorId;
        next.repageMs = open.repageMs;
      }
    } else {
      next.expiresAt = Math.floor(nowMs / 1000) + this.ttlSeconds;
      // A resolve keeps an alarm deletion's hold, or sets it for a deletion; a trigger ends it.
      next.deletedUntilMs = claim.deletedUntilMs ?? current?.deletedUntilMs;
    }
    if (claim.timeCapped) {
      next.timeCapped = true;
      next.cappedOverMs = current?.stateChangeMs ?? 0;
    }
    this.items.set(claim.dedupKey, next);
    return {
      claimed: true,
      route: openRoute ?? claim.route,
      previous: copy(current),
      leaseId: next.sendingBy!,
    };
  }

  async lease(
    dedupKey: string,
    stateChangeMs: number,
    nowMs: number,
    leaseUntilMs: number,
  ): Promise<LeaseResult> {
    await Promise.resolve();
    const current = this.items.get(dedupKey);
    if (current === undefined || current.stateChangeMs !== stateChangeMs || !leaseFree(current, nowMs)) {
      return { leased: false, current: copy(current) };
    }
    const leaseId = randomUUID();
    current.sendingUntilMs = leaseUntilMs;
    current.sendingBy = leaseId;
    return { leased: true, leaseId };
  }

  async release(
    dedupKey: string,
    stateChangeMs: number,
    leaseId: string,
    heldUntilMs?: number,
    triage?: string,
  ): Promise<void> {
    await Promise.resolve();
    const current = this.items.get(dedupKey);
    if (current?.stateChangeMs === stateChangeMs && current.sendingBy === leaseId) {
      if (triage !== undefined) current.triage = triage;
      current.sendingUntilMs = heldUntilMs;
      if (heldUntilMs === undefined) current.sendingBy = undefined;
    }
  }

  async settle(
    dedupKey: string,
    settled: { readonly stateChangeMs: number; readonly action: LedgerAction },
    _nowMs: number,
    { resent = false, holdLeaseUntilMs, triage }: SettleOptions = {},
  ): Promise<SettleResult> {
    await Promise.resolve();
    const current = this.items.get(dedupKey);
    if (current === undefined || current.stateChangeMs !== settled.stateChangeMs) {
      return { settled: false, newest: copy(current) };
    }
    current.delivered = true;
    if (triage !== undefined) current.triage = triage;
    current.sendingUntilMs = holdLeaseUntilMs;
    if (holdLeaseUntilMs === undefined) current.sendingBy = undefined;
    if (resent) current.needsResend = false;
    if (settled.action === 'resolve') {
      current.openRoute = undefined;
      current.openSource = undefined;
    }
    return { settled: true };
  }

  async markNeedsResend(dedupKey: string, stateChangeMs: number): Promise<void> {
    await Promise.resolve();
    const current = this.items.get(dedupKey);
    if (current !== undefined && current.stateChangeMs === stateChangeMs) current.needsResend = true;
  }

  async read(dedupKey: string): Promise<LedgerEntry | undefined> {
    await Promise.resolve();
    return copy(this.items.get(dedupKey));
  }

  async openIncidents(openSource: string, cursor?: string): Promise<OpenIncidentPage> {
    await Promise.resolve();
    const open = [...this.items.values()]
      .filter((item) => item.openSource === openSource && (cursor === undefined || item.dedupKey > cursor))
      .sort((a, b) => (a.dedupKey < b.dedupKey ? -1 : a.dedupKey > b.dedupKey ? 1 : 0));
    const page = open.slice(0, OPEN_INCIDENTS_PAGE);
    return {
      items: page.flatMap((item) => toOpenIncident({ ...item }) ?? []),
      cursor: open.length > page.length ? page[page.length - 1]!.dedupKey : undefined,
    };
  }

  async readSweepCursor(shard: string): Promise<number | undefined> {
    await Promise.resolve();
    return this.sweepCursors.get(shard);
  }

  async writeSweepCursor(shard: string, next: number | undefined): Promise<void> {
    await Promise.resolve();
    if (next === undefined) this.sweepCursors.delete(shard);
    else this.sweepCursors.set(shard, next);
  }
}

const OPEN_FACTS = [
  'openSource',
  'alarmArn',
  'sourceAlarmName',
  'contributorId',
  'insufficientData',
  'repageMs',
] as const satisfies readonly (keyof LedgerEntry)[];

function leaseFree(item: Item, nowMs: number): boolean {
  return item.sendingUntilMs === undefined || item.sendingUntilMs <= nowMs;
}

function copy(item: Item | undefined): LedgerEntry | undefined {
  if (item === undefined) return undefined;
  return Object.fromEntries(
    Object.entries(item).filter(([, value]) => value !== undefined),
  ) as unknown as LedgerEntry;
}
