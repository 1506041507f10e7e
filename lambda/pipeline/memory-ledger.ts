import { randomUUID } from 'node:crypto';
import {
  boundedClaim,
  refusalReason,
  type Claim,
  type ClaimResult,
  type LedgerAction,
  type LeaseResult,
  type LedgerEntry,
  type LedgerStore,
  type SettleOptions,
  type SettleResult,
} from './ledger';

type Item = { -readonly [K in keyof LedgerEntry]: LedgerEntry[K] };

/**
 * The ledger in memory, with the DynamoDB ledger's conditions: one item per dedup key, every operation atomic.
 * For tests and local tools; the shared contract suite (test/lambda/pipeline/ledger.contract.test.ts) keeps the two alike.
 */
export class MemoryLedger implements LedgerStore {
  private readonly items = new Map<string, Item>();

  constructor(private readonly ttlSeconds = 90 * 86400) {}

  async claim(unbounded: Claim, nowMs: number, leaseUntilMs: number): Promise<ClaimResult> {
    await Promise.resolve();
    const claim = boundedClaim(unbounded);
    const current = this.items.get(claim.dedupKey);
    const claimable =
      current === undefined ||
      ((current.stateChangeMs < claim.stateChangeMs ||
        (current.stateChangeMs === claim.stateChangeMs && !current.delivered)) &&
        leaseFree(current, nowMs)) ||
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
    if (claim.action === 'trigger') {
      next.openRoute = openRoute ?? claim.route;
      next.triggerEvent = claim.triggerEvent ?? '';
      next.expiresAt = undefined;
    } else {
      next.expiresAt = Math.floor(nowMs / 1000) + this.ttlSeconds;
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
    if (settled.action === 'resolve') current.openRoute = undefined;
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
}

function leaseFree(item: Item, nowMs: number): boolean {
  return item.sendingUntilMs === undefined || item.sendingUntilMs <= nowMs;
}

function copy(item: Item | undefined): LedgerEntry | undefined {
  if (item === undefined) return undefined;
  return Object.fromEntries(
    Object.entries(item).filter(([, value]) => value !== undefined),
  ) as unknown as LedgerEntry;
}
