// One suite, three ledgers: the in-memory fake, and the DynamoDB ledger on dynalite and on serialized moto_server.
// The fake must not drift from the real conditions: every case here runs against all of them.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { startDynalite } from '../../../local/dynalite';
import { createLedgerTable } from '../../../local/harness';
import { motoAvailability, startMoto } from '../../../local/moto';
import { Ledger, MAX_STORED_ALARM_NAME, type Claim, type LedgerStore } from '../../../lambda/pipeline/ledger';
import { MemoryLedger } from '../../../lambda/pipeline/memory-ledger';
import { sweepCursorKey } from '../../../lambda/shared/contract';

const NOW = Date.UTC(2026, 10, 29, 12);
const HOUR = 3_600_000;

interface Backend {
  readonly name: string;
  start(): Promise<{ ledger: () => Promise<LedgerStore>; stop(): Promise<void> }>;
}

async function dynamoBackend(endpoint: string, supportsTtl: boolean) {
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  return {
    ledger: async () => {
      const tableName = `ledger-${randomBytes(4).toString('hex')}`;
      await createLedgerTable(endpoint, tableName, supportsTtl);
      return new Ledger({ tableName, ttlSeconds: 86400, client });
    },
    close: () => client.destroy(),
  };
}

const backends: Backend[] = [
  {
    name: 'in-memory ledger',
    start: async () => ({ ledger: async () => new MemoryLedger(86400), stop: async () => undefined }),
  },
  {
    name: 'DynamoDB ledger on dynalite',
    start: async () => {
      const server = await startDynalite();
      const backend = await dynamoBackend(server.endpoint, false);
      return {
        ledger: backend.ledger,
        stop: async () => {
          backend.close();
          await server.stop();
        },
      };
    },
  },
];
const moto = motoAvailability();
if (moto.available) {
  backends.push({
    name: 'DynamoDB ledger on serialized moto_server',
    start: async () => {
      const server = await startMoto();
      const backend = await dynamoBackend(server.endpoint, true);
      return {
        ledger: backend.ledger,
        stop: async () => {
          backend.close();
          await server.stop();
        },
      };
    },
  });
} else if (process.env.CI === 'true') {
  it('needs moto for the DynamoDB ledger contract', () => {
    throw new Error(`moto is required when CI=true, but ${moto.reason}`);
  });
} else {
  process.stderr.write(`Skipping the ledger contract on moto_server: ${moto.reason}\n`);
}

function claimOf(overrides: Partial<Claim> = {}): Claim {
  return {
    dedupKey: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:db-cpu',
    stateChangeMs: NOW - HOUR,
    stateChangeTime: '2026-11-29T11:00:00.000+0000',
    action: 'trigger',
    route: 'default',
    alarmName: 'db-cpu',
    triggerEvent: '{"event_action":"trigger"}',
    futureLimitMs: NOW + 60_000,
    ...overrides,
  };
}

describe.each(backends)('ledger contract: $name', (backend) => {
  let started: Awaited<ReturnType<Backend['start']>>;
  let ledger: LedgerStore;
  beforeAll(async () => {
    started = await backend.start();
  }, 60_000);
  afterAll(async () => started?.stop());
  beforeEach(async () => {
    ledger = await started.ledger();
  });

  it('claims a new key, and records the configured route as the open route of a trigger', async () => {
    const result = await ledger.claim(claimOf({ route: 'payments' }), NOW, NOW);
    expect(result).toEqual({
      claimed: true,
      route: 'payments',
      previous: undefined,
      leaseId: expect.any(String),
    });
    expect(await ledger.read(claimOf().dedupKey)).toMatchObject({
      stateChangeMs: NOW - HOUR,
      action: 'trigger',
      route: 'payments',
      openRoute: 'payments',
      delivered: false,
      needsResend: false,
      triggerEvent: '{"event_action":"trigger"}',
    });
  });

  it('refuses an older state change as stale and a delivered one as a duplicate', async () => {
    await ledger.claim(claimOf(), NOW, NOW);
    await ledger.settle(claimOf().dedupKey, { stateChangeMs: NOW - HOUR, action: 'trigger' }, NOW);
    const older = await ledger.claim(claimOf({ stateChangeMs: NOW - 2 * HOUR, action: 'resolve' }), NOW, NOW);
    expect(older).toMatchObject({
      claimed: false,
      reason: 'stale',
      current: { action: 'trigger', delivered: true },
    });
    const again = await ledger.claim(claimOf(), NOW, NOW);
    expect(again).toMatchObject({ claimed: false, reason: 'duplicate' });
  });

  it('lets the retry of a claimed but undelivered state change claim it again', async () => {
    await ledger.claim(claimOf(), NOW, NOW);
    expect(await ledger.claim(claimOf(), NOW, NOW)).toMatchObject({ claimed: true });
  });

  it('keeps the open route for a resolve and later triggers, until a resolve settles', async () => {
    const key = claimOf().dedupKey;
    await ledger.claim(claimOf({ route: 'payments' }), NOW, NOW);
    await ledger.settle(key, { stateChangeMs: NOW - HOUR, action: 'trigger' }, NOW);
    const resolve = await ledger.claim(
      claimOf({ stateChangeMs: NOW - HOUR + 1, action: 'resolve', route: 'default' }),
      NOW,
      NOW,
    );
    expect(resolve).toMatchObject({ claimed: true, route: 'payments' });
    await ledger.settle(key, { stateChangeMs: NOW - HOUR + 1, action: 'resolve' }, NOW);
    const entry = await ledger.read(key);
    expect(entry?.openRoute).toBeUndefined();
    expect(entry?.expiresAt).toBe(Math.floor(NOW / 1000) + 86400);
    const next = await ledger.claim(claimOf({ stateChangeMs: NOW - HOUR + 2, route: 'default' }), NOW, NOW);
    expect(next).toMatchObject({ claimed: true, route: 'default' });
    expect((await ledger.read(key))?.expiresAt).toBeUndefined();
  });

  it('stores a triage with the settle or the release, keeps it for later triggers, and a resolve removes it', async () => {
    const key = claimOf().dedupKey;
    const first = await ledger.claim(claimOf(), NOW, NOW + HOUR);
    if (!first.claimed) throw new Error('expected a claim');
    // A failed send gives the lease back with the triage: the retry finds it on the claim's previous item.
    await ledger.release(key, NOW - HOUR, first.leaseId, undefined, '{"model":"m","none":"timeout"}');
    const retry = await ledger.claim(claimOf(), NOW, NOW + HOUR);
    expect(retry).toMatchObject({ claimed: true, previous: { triage: '{"model":"m","none":"timeout"}' } });
    await ledger.settle(key, { stateChangeMs: NOW - HOUR, action: 'trigger' }, NOW, { triage: '{"a":1}' });
    expect(await ledger.read(key)).toMatchObject({ delivered: true, triage: '{"a":1}' });
    const later = await ledger.claim(claimOf({ stateChangeMs: NOW - HOUR + 1 }), NOW, NOW);
    expect(later).toMatchObject({ claimed: true, previous: { triage: '{"a":1}' } });
    expect((await ledger.read(key))?.triage).toBe('{"a":1}');
    await ledger.claim(claimOf({ stateChangeMs: NOW - HOUR + 2, action: 'resolve' }), NOW, NOW);
    expect((await ledger.read(key))?.triage).toBeUndefined();
    // Without a triage, the settle leaves the attribute alone.
    await ledger.settle(key, { stateChangeMs: NOW - HOUR + 2, action: 'resolve' }, NOW);
    expect((await ledger.read(key))?.triage).toBeUndefined();
  });

  it('settles only the state change it sent, and answers with the newest otherwise', async () => {
    const key = claimOf().dedupKey;
    await ledger.claim(claimOf(), NOW, NOW);
    await ledger.claim(claimOf({ stateChangeMs: NOW - HOUR + 5, action: 'resolve' }), NOW, NOW);
    const settled = await ledger.settle(key, { stateChangeMs: NOW - HOUR, action: 'trigger' }, NOW);
    expect(settled).toMatchObject({
      settled: false,
      newest: { stateChangeMs: NOW - HOUR + 5, action: 'resolve' },
    });
    expect(await ledger.settle(key, { stateChangeMs: NOW - HOUR + 5, action: 'resolve' }, NOW)).toEqual({
      settled: true,
    });
  });

  it('flags a state for re-sending only while it is the newest, and a resent settle clears the flag', async () => {
    const key = claimOf().dedupKey;
    await ledger.claim(claimOf(), NOW, NOW);
    await ledger.markNeedsResend(key, NOW - 2 * HOUR);
    expect((await ledger.read(key))?.needsResend).toBe(false);
    await ledger.markNeedsResend(key, NOW - HOUR);
    expect((await ledger.read(key))?.needsResend).toBe(true);
    await ledger.settle(key, { stateChangeMs: NOW - HOUR, action: 'trigger' }, NOW);
    expect((await ledger.read(key))?.needsResend).toBe(true);
    await ledger.settle(key, { stateChangeMs: NOW - HOUR, action: 'trigger' }, NOW, { resent: true });
    expect((await ledger.read(key))?.needsResend).toBe(false);
  });

  describe('the lease: sends of one alert take turns', () => {
    const key = claimOf().dedupKey;
    const LEASE = NOW + 30_000;

    it('is taken by a claim; a newer claim, or a copy of the undelivered one, is busy until it ends', async () => {
      expect(await ledger.claim(claimOf(), NOW, LEASE)).toMatchObject({ claimed: true });
      expect((await ledger.read(key))?.sendingUntilMs).toBe(LEASE);
      const newer = claimOf({ stateChangeMs: NOW - HOUR + 1, action: 'resolve' });
      expect(await ledger.claim(newer, NOW + 1_000, NOW + 40_000)).toMatchObject({
        claimed: false,
        reason: 'busy',
        current: { stateChangeMs: NOW - HOUR, delivered: false, sendingUntilMs: LEASE },
      });
      expect(await ledger.claim(claimOf(), NOW + 1_000, NOW + 40_000)).toMatchObject({ reason: 'busy' });
      // A delivery that crashed holds the others up only until its lease ends.
      expect(await ledger.claim(newer, LEASE, LEASE + 30_000)).toMatchObject({ claimed: true });
      expect((await ledger.read(key))?.sendingUntilMs).toBe(LEASE + 30_000);
    });

    it('does not hold up a stale or a duplicate state change', async () => {
      await ledger.claim(claimOf(), NOW, NOW);
      await ledger.settle(key, { stateChangeMs: NOW - HOUR, action: 'trigger' }, NOW);
      await ledger.claim(claimOf({ stateChangeMs: NOW - HOUR + 9, action: 'resolve' }), NOW, LEASE);
      const older = claimOf({ stateChangeMs: NOW - HOUR + 1, action: 'resolve' });
      expect(await ledger.claim(older, NOW, LEASE)).toMatchObject({ claimed: false, reason: 'stale' });
      await ledger.settle(key, { stateChangeMs: NOW - HOUR + 9, action: 'resolve' }, NOW);
      await ledger.claim(claimOf({ stateChangeMs: NOW - HOUR + 20 }), NOW, LEASE);
      await ledger.settle(key, { stateChangeMs: NOW - HOUR + 20, action: 'trigger' }, NOW);
      await ledger.lease(key, NOW - HOUR + 20, NOW, LEASE);
      expect(await ledger.claim(claimOf({ stateChangeMs: NOW - HOUR + 20 }), NOW, LEASE)).toMatchObject({
        reason: 'duplicate',
      });
    });

    it('is given back by settling, and by its holder releasing it, but not for a state that was superseded', async () => {
      const first = await ledger.claim(claimOf(), NOW, LEASE);
      await ledger.settle(key, { stateChangeMs: NOW - HOUR, action: 'trigger' }, NOW);
      expect((await ledger.read(key))?.sendingUntilMs).toBeUndefined();
      const newer = claimOf({ stateChangeMs: NOW - HOUR + 1, action: 'resolve' });
      const second = await ledger.claim(newer, NOW, LEASE);
      if (!first.claimed || !second.claimed) throw new Error('both claims should have been taken');
      expect(second.leaseId).not.toBe(first.leaseId);
      await ledger.release(key, NOW - HOUR, first.leaseId);
      expect((await ledger.read(key))?.sendingUntilMs).toBe(LEASE);
      // Only its holder gives a lease back: another delivery's lease is left alone.
      await ledger.release(key, NOW - HOUR + 1, first.leaseId);
      expect((await ledger.read(key))?.sendingUntilMs).toBe(LEASE);
      // A request that may still land keeps the lease a little longer.
      await ledger.release(key, NOW - HOUR + 1, second.leaseId, NOW + 5_000);
      expect((await ledger.read(key))?.sendingUntilMs).toBe(NOW + 5_000);
      const next = claimOf({ stateChangeMs: NOW - HOUR + 2 });
      expect(await ledger.claim(next, NOW + 4_999, LEASE)).toMatchObject({ reason: 'busy' });
      await ledger.release(key, NOW - HOUR + 1, second.leaseId);
      expect((await ledger.read(key))?.sendingUntilMs).toBeUndefined();
      expect(await ledger.claim(claimOf({ stateChangeMs: NOW - HOUR + 2 }), NOW, LEASE)).toMatchObject({
        claimed: true,
      });
    });

    it('is held a little longer by a settle whose send had an unanswered attempt', async () => {
      await ledger.claim(claimOf(), NOW, LEASE);
      await ledger.settle(key, { stateChangeMs: NOW - HOUR, action: 'trigger' }, NOW, {
        holdLeaseUntilMs: NOW + 5_000,
      });
      expect(await ledger.read(key)).toMatchObject({ delivered: true, sendingUntilMs: NOW + 5_000 });
      const newer = claimOf({ stateChangeMs: NOW - HOUR + 1, action: 'resolve' });
      expect(await ledger.claim(newer, NOW + 4_999, LEASE)).toMatchObject({ reason: 'busy' });
      expect(await ledger.claim(newer, NOW + 5_000, LEASE)).toMatchObject({ claimed: true });
    });

    it('is taken to re-send the newest state only while that is the newest and nobody holds it', async () => {
      await ledger.claim(claimOf(), NOW, LEASE);
      expect(await ledger.lease(key, NOW - HOUR, NOW, NOW + 50_000)).toMatchObject({
        leased: false,
        current: { stateChangeMs: NOW - HOUR, sendingUntilMs: LEASE },
      });
      await ledger.settle(key, { stateChangeMs: NOW - HOUR, action: 'trigger' }, NOW);
      expect(await ledger.lease(key, NOW - HOUR, NOW, NOW + 50_000)).toMatchObject({ leased: true });
      expect(await ledger.read(key)).toMatchObject({ delivered: true, sendingUntilMs: NOW + 50_000 });
      await ledger.settle(key, { stateChangeMs: NOW - HOUR, action: 'trigger' }, NOW, { resent: true });
      await ledger.claim(claimOf({ stateChangeMs: NOW - HOUR + 1, action: 'resolve' }), NOW, NOW);
      expect(await ledger.lease(key, NOW - HOUR, NOW, LEASE)).toMatchObject({
        leased: false,
        current: { stateChangeMs: NOW - HOUR + 1, action: 'resolve' },
      });
      expect(
        await ledger.lease('arn:aws:cloudwatch:us-east-1:123456789012:alarm:none', 1, NOW, LEASE),
      ).toEqual({
        leased: false,
      });
    });

    it('does not protect an item wedged by a future time', async () => {
      const year2099 = Date.UTC(2099, 0, 1);
      await ledger.claim(
        claimOf({ stateChangeMs: year2099, action: 'resolve', futureLimitMs: Number.MAX_SAFE_INTEGER }),
        NOW,
        LEASE,
      );
      expect(await ledger.claim(claimOf(), NOW, LEASE)).toMatchObject({ claimed: true });
    });
  });

  it('lets any claim replace an item wedged by a future time', async () => {
    const key = claimOf().dedupKey;
    const year2099 = Date.UTC(2099, 0, 1);
    // Written before times were capped (or by a tool that does not cap): the limit at that time was no bound.
    await ledger.claim(
      claimOf({ stateChangeMs: year2099, action: 'resolve', futureLimitMs: Number.MAX_SAFE_INTEGER }),
      NOW,
      NOW,
    );
    await ledger.settle(key, { stateChangeMs: year2099, action: 'resolve' }, NOW);
    const real = await ledger.claim(claimOf({ stateChangeMs: NOW - HOUR }), NOW, NOW);
    expect(real).toMatchObject({ claimed: true });
    expect(await ledger.read(key)).toMatchObject({ stateChangeMs: NOW - HOUR, action: 'trigger' });
    // A time within the limit is no wedge: an older notification stays stale.
    await ledger.settle(key, { stateChangeMs: NOW - HOUR, action: 'trigger' }, NOW);
    expect(
      await ledger.claim(claimOf({ stateChangeMs: NOW - 2 * HOUR, action: 'resolve' }), NOW, NOW),
    ).toMatchObject({
      claimed: false,
      reason: 'stale',
    });
  });

  it("holds an alarm deletion's resolve against a claim ordered at a cap, to the end of the deletion's second", async () => {
    const key = claimOf().dedupKey;
    const deletedMs = NOW - 10_000;
    const deletion = claimOf({
      stateChangeMs: deletedMs,
      action: 'resolve',
      deletedUntilMs: deletedMs + 1000,
    });
    await ledger.claim(claimOf({ stateChangeMs: deletedMs - HOUR }), NOW, NOW);
    await ledger.settle(key, { stateChangeMs: deletedMs - HOUR, action: 'trigger' }, NOW);
    expect(await ledger.claim(deletion, NOW, NOW)).toMatchObject({ claimed: true });
    await ledger.settle(key, { stateChangeMs: deletedMs, action: 'resolve' }, NOW);
    expect(await ledger.read(key)).toMatchObject({ deletedUntilMs: deletedMs + 1000 });

    // A forged copy ordered at its SNS stamp within the second: held off, though its order is later.
    const capped = claimOf({ stateChangeMs: deletedMs + 400, timeCapped: true });
    expect(await ledger.claim(capped, NOW, NOW)).toMatchObject({ claimed: false, reason: 'held' });
    // Another resolve within the second (a sweep's, a real OK) keeps the hold.
    const ok = claimOf({ stateChangeMs: deletedMs + 100, action: 'resolve' });
    expect(await ledger.claim(ok, NOW, NOW)).toMatchObject({ claimed: true });
    await ledger.settle(key, { stateChangeMs: deletedMs + 100, action: 'resolve' }, NOW);
    expect(await ledger.read(key)).toMatchObject({ deletedUntilMs: deletedMs + 1000 });
    expect(await ledger.claim(capped, NOW, NOW)).toMatchObject({ claimed: false, reason: 'held' });
    // A change with a time of its own in that second (an alarm re-created) replaces it, and ends the hold.
    expect(await ledger.claim(claimOf({ stateChangeMs: deletedMs + 600 }), NOW, NOW)).toMatchObject({
      claimed: true,
    });
    expect((await ledger.read(key))?.deletedUntilMs).toBeUndefined();
    await ledger.settle(key, { stateChangeMs: deletedMs + 600, action: 'trigger' }, NOW);
    const resolve = claimOf({ stateChangeMs: deletedMs + 800, action: 'resolve', timeCapped: true });
    expect(await ledger.claim(resolve, NOW, NOW)).toMatchObject({ claimed: true });
  });

  it('records that a state was ordered at a cap, until a claim with a time of its own replaces it', async () => {
    const key = claimOf().dedupKey;
    await ledger.claim(claimOf({ stateChangeMs: NOW - HOUR, timeCapped: true }), NOW, NOW);
    // And the time of the state it replaced, as the item held it before the update (0: none).
    expect(await ledger.read(key)).toMatchObject({ timeCapped: true, cappedOverMs: 0 });
    await ledger.settle(key, { stateChangeMs: NOW - HOUR, action: 'trigger' }, NOW);
    await ledger.claim(
      claimOf({ stateChangeMs: NOW - HOUR + 5, action: 'resolve', timeCapped: true }),
      NOW,
      NOW,
    );
    expect(await ledger.read(key)).toMatchObject({ timeCapped: true, cappedOverMs: NOW - HOUR });
    await ledger.settle(key, { stateChangeMs: NOW - HOUR + 5, action: 'resolve' }, NOW);
    await ledger.claim(claimOf({ stateChangeMs: NOW - HOUR + 9, action: 'resolve' }), NOW, NOW);
    const item = await ledger.read(key);
    expect(item?.timeCapped).toBeUndefined();
    expect(item?.cappedOverMs).toBeUndefined();
  });

  it("lets a claim ordered at a cap past the deletion's second replace its resolve", async () => {
    const key = claimOf().dedupKey;
    const deletedMs = NOW - 10_000;
    await ledger.claim(
      claimOf({ stateChangeMs: deletedMs, action: 'resolve', deletedUntilMs: deletedMs + 1000 }),
      NOW,
      NOW,
    );
    await ledger.settle(key, { stateChangeMs: deletedMs, action: 'resolve' }, NOW);
    const capped = claimOf({ stateChangeMs: deletedMs + 1000, timeCapped: true });
    expect(await ledger.claim(capped, NOW, NOW)).toMatchObject({ claimed: true });
  });

  describe('the open-incidents index (the reconciliation sweep reads it)', () => {
    const SOURCE = '123456789012:us-east-1';
    const open = {
      source: SOURCE,
      alarmArn: claimOf().dedupKey,
      alarmName: 'db-cpu',
      insufficientData: 'resolve' as const,
      repageMs: 1_800_000,
    };
    const all = async (source: string) => {
      const keys: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await ledger.openIncidents(source, cursor);
        keys.push(...page.items.map((item) => item.dedupKey));
        cursor = page.cursor;
      } while (cursor !== undefined);
      return keys;
    };

    it('lists an alarm trigger under its source with what the sweep needs, until a resolve of it settles', async () => {
      const key = claimOf().dedupKey;
      await ledger.claim(claimOf({ open }), NOW, NOW);
      expect((await ledger.openIncidents(SOURCE)).items).toEqual([
        {
          dedupKey: key,
          openSource: SOURCE,
          alarmArn: key,
          alarmName: 'db-cpu',
          insufficientData: 'resolve',
          repageMs: 1_800_000,
          stateChangeMs: NOW - HOUR,
          action: 'trigger',
          delivered: false,
        },
      ]);
      expect((await ledger.openIncidents('123456789012:eu-west-1')).items).toEqual([]);
      await ledger.settle(key, { stateChangeMs: NOW - HOUR, action: 'trigger' }, NOW);
      // A resolve claimed but not yet delivered may still leave the incident open: it stays listed.
      await ledger.claim(claimOf({ stateChangeMs: NOW - HOUR + 1, action: 'resolve' }), NOW, NOW);
      expect((await ledger.openIncidents(SOURCE)).items).toMatchObject([
        { dedupKey: key, action: 'resolve', delivered: false, insufficientData: 'resolve' },
      ]);
      await ledger.settle(key, { stateChangeMs: NOW - HOUR + 1, action: 'resolve' }, NOW);
      expect((await ledger.openIncidents(SOURCE)).items).toEqual([]);
      // The next trigger opens it again; without a re-page interval it drops the old one.
      await ledger.claim(
        claimOf({ stateChangeMs: NOW - HOUR + 2, open: { ...open, repageMs: undefined } }),
        NOW,
        NOW,
      );
      const [again] = (await ledger.openIncidents(SOURCE)).items;
      expect(again).toMatchObject({ dedupKey: key, action: 'trigger', stateChangeMs: NOW - HOUR + 2 });
      expect(again?.repageMs).toBeUndefined();
    });

    it('keeps a contributor id, and leaves out triggers that are not about an alarm', async () => {
      const contributorKey = `${claimOf().dedupKey}/contributor/6d442278dba546f6`;
      await ledger.claim(
        claimOf({ dedupKey: contributorKey, open: { ...open, contributorId: '6d442278dba546f6' } }),
        NOW,
        NOW,
      );
      await ledger.claim(claimOf({ dedupKey: 'sns:0123456789abcdef' }), NOW, NOW);
      expect((await ledger.openIncidents(SOURCE)).items).toMatchObject([
        { dedupKey: contributorKey, contributorId: '6d442278dba546f6' },
      ]);
    });

    it('pages through a source 100 incidents at a time, each once', async () => {
      const keys = Array.from(
        { length: 103 },
        (_, i) => `${claimOf().dedupKey}-${String(i).padStart(3, '0')}`,
      );
      for (const dedupKey of keys) await ledger.claim(claimOf({ dedupKey, open }), NOW, NOW);
      expect((await ledger.openIncidents(SOURCE)).items).toHaveLength(100);
      expect(await all(SOURCE)).toEqual(keys);
    });

    it('remembers where a sweep stopped, until it is cleared', async () => {
      expect(await ledger.readSweepCursor('a1b2')).toBeUndefined();
      await ledger.writeSweepCursor('a1b2', 3);
      expect(await ledger.readSweepCursor('a1b2')).toBe(3);
      await ledger.writeSweepCursor('a1b2', undefined);
      expect(await ledger.readSweepCursor('a1b2')).toBeUndefined();
      // On DynamoDB the item stays (the sweep's role may not delete), with the ledger's TTL: a source list no
      // sweep uses any more leaves nothing behind for long.
      if (ledger instanceof Ledger) {
        const item = await ledger.read(sweepCursorKey('a1b2'));
        expect(item?.expiresAt).toBeGreaterThan(Date.now() / 1000 + 86400 - 60);
      }
    });

    it("keeps one cursor per list of sources: two sweep functions' cursors do not clobber each other", async () => {
      await ledger.writeSweepCursor('shard-one', 4);
      await ledger.writeSweepCursor('shard-two', 11);
      expect(await ledger.readSweepCursor('shard-one')).toBe(4);
      expect(await ledger.readSweepCursor('shard-two')).toBe(11);
      await ledger.writeSweepCursor('shard-one', undefined);
      expect(await ledger.readSweepCursor('shard-one')).toBeUndefined();
      expect(await ledger.readSweepCursor('shard-two')).toBe(11);
      // A cursor is no open incident: it never shows in a source's index.
      expect((await ledger.openIncidents(SOURCE)).items).toEqual([]);
    });
  });

  it('bounds what it stores, whatever size the publisher sent', async () => {
    const key = claimOf().dedupKey;
    const result = await ledger.claim(
      claimOf({ alarmName: 'n'.repeat(250_000), triggerEvent: `{"x":"${'y'.repeat(300_000)}"}` }),
      NOW,
      NOW,
    );
    expect(result).toMatchObject({ claimed: true });
    const entry = await ledger.read(key);
    expect(entry?.triggerEvent ?? '').toBe('');
    expect(MAX_STORED_ALARM_NAME).toBeLessThanOrEqual(1024);
  });
});
