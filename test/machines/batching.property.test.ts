// Properties of tx batching under any sequence of submissions (valid, forged, duplicate), commits from
// this or another leader, failed rounds, timer firings and leader changes. A small host model plays
// the chain: it answers "already committed" for a committed tx, as the real TxPool actor does.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import type { Transaction } from '../../domain/transaction.ts';
import { validateTransaction } from '../../domain/validation.ts';
import { type BatchingEffect, batchingMachine, POOL_FULL, type TxVerdict } from '../../machines/batching.ts';
import { pooledIds } from '../../machines/tx-pool.ts';
import { createChainFixture } from '../support/chain-fixture.ts';

const fixture = createChainFixture();
const NODES = fixture.validatorIds.slice(0, 3);
const SELF = NODES[0] as string;
const TXS = fixture.txs(12);
const FORGED = TXS.map((tx, i) => ({
  ...tx,
  signature: (TXS[(i + 1) % TXS.length] as Transaction).signature,
}));
const MAX_BATCH = 3;
const MAX_POOL = 6;

type Command =
  | { kind: 'submit'; tx: number; forged: boolean; origin: number | null }
  | { kind: 'commitBatch' }
  | { kind: 'commitOther'; mask: number }
  | { kind: 'failBatch' }
  | { kind: 'failStale' }
  | { kind: 'timer' }
  | { kind: 'leader'; who: number | null };

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('submit' as const),
      tx: fc.nat(TXS.length - 1),
      forged: fc.nat(6).map((n) => n === 0),
      origin: fc.option(fc.nat(NODES.length - 1), { nil: null }),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'commitBatch' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('commitOther' as const), mask: fc.nat(4095) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'failBatch' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'failStale' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'timer' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('leader' as const),
      who: fc.option(fc.nat(NODES.length - 1), { nil: null }),
    }),
  },
);

function verdictOf(tx: Transaction, committed: ReadonlySet<string>): TxVerdict {
  if (committed.has(tx.id)) return { ok: false, reason: 'already committed' };
  try {
    validateTransaction(tx, fixture.keys);
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
}

/** Runs the commands, checking the invariants after every step; returns the host model for more checks. */
function run(commands: readonly Command[]) {
  const actor = createActor(batchingMachine, {
    input: { self: SELF, leader: null, maxBatchTxs: MAX_BATCH, batchIntervalMs: 100, maxPoolTxs: MAX_POOL },
  });
  const committed = new Map<string, number>(); // tx id -> times committed
  const accepted = new Set<string>();
  let inFlight: { batchId: number; ids: string[] } | null = null;
  let timerArmed = false;
  let lastBatchId = 0;
  let leader: string | null = null;
  const pending = () => [...accepted].filter((id) => !committed.has(id));

  actor.on('*', (effect: BatchingEffect) => {
    switch (effect.type) {
      case 'tx.accepted':
        expect(pending().length, 'accepted into a full pool').toBeLessThan(MAX_POOL);
        accepted.add(effect.id);
        break;
      case 'tx.rejected':
        if (effect.reason === POOL_FULL) expect(pending().length).toBe(MAX_POOL);
        break;
      case 'batch.ready': {
        expect(inFlight, 'a second batch while one is in flight').toBeNull();
        expect(leader).toBe(SELF);
        const batchIds = effect.txs.map((tx) => tx.id);
        expect(batchIds.length).toBeGreaterThan(0);
        expect(batchIds.length).toBeLessThanOrEqual(MAX_BATCH);
        expect(new Set(batchIds).size).toBe(batchIds.length);
        for (const id of batchIds) {
          expect(committed.has(id), 'proposed a committed tx').toBe(false);
          expect(accepted.has(id), 'proposed a tx never accepted').toBe(true);
        }
        expect(effect.batchId).toBeGreaterThan(lastBatchId);
        lastBatchId = effect.batchId;
        inFlight = { batchId: effect.batchId, ids: batchIds };
        break;
      }
      case 'timer.arm':
        timerArmed = true;
        break;
      case 'timer.cancel':
        timerArmed = false;
        break;
      default:
        break;
    }
  });
  actor.start();

  const commit = (ids: readonly string[]) => {
    for (const id of ids) committed.set(id, (committed.get(id) ?? 0) + 1);
    inFlight = null; // the height is decided: the batch in flight is over either way
    actor.send({ type: 'BLOCK_COMMITTED', height: 0, txIds: ids });
  };

  const step = (c: Command) => {
    switch (c.kind) {
      case 'submit': {
        const tx = (c.forged ? FORGED : TXS)[c.tx] as Transaction;
        const origin = c.origin === null ? {} : { origin: NODES[c.origin] as string };
        actor.send({
          type: 'TX_SUBMITTED',
          tx,
          verdict: verdictOf(tx, new Set(committed.keys())),
          ...origin,
        });
        break;
      }
      case 'commitBatch':
        if (inFlight) commit(inFlight.ids);
        break;
      case 'commitOther':
        commit(pending().filter((_, i) => (c.mask >> i) & 1));
        break;
      case 'failBatch':
        if (inFlight) {
          const { batchId } = inFlight;
          inFlight = null;
          actor.send({ type: 'BATCH_FAILED', batchId });
        }
        break;
      case 'failStale':
        actor.send({ type: 'BATCH_FAILED', batchId: lastBatchId - 1 });
        break;
      case 'timer':
        if (timerArmed) {
          timerArmed = false;
          actor.send({ type: 'BATCH_TIMEOUT' });
        }
        break;
      case 'leader': {
        const next = c.who === null ? null : (NODES[c.who] as string);
        if (next !== leader) inFlight = null; // a new leader voids the batch in flight
        leader = next;
        actor.send({ type: 'LEADER_CHANGED', leader: next });
        break;
      }
    }
    // Every accepted tx is committed (once) or still in the pool, never both, never neither.
    const pool = actor.getSnapshot().context.pool;
    expect(pooledIds(pool).sort()).toEqual(pending().sort());
    for (const times of committed.values()) expect(times).toBe(1);
  };

  for (const c of commands) step(c);
  return {
    actor,
    step,
    pending,
    committed,
    accepted,
    inFlight: () => inFlight,
    timerArmed: () => timerArmed,
  };
}

describe('tx batching properties', () => {
  it('every submitted tx is either committed once or still in the pool, and no tx is in two batches', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 60 }), (commands) => {
        run(commands);
      }),
      { numRuns: 300 },
    );
  });

  it('once this node leads and its rounds commit, every pending tx is committed exactly once', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 60 }), (commands) => {
        const model = run(commands);
        model.step({ kind: 'leader', who: 0 });
        for (let i = 0; i < 2 * MAX_POOL && model.pending().length > 0; i++) {
          model.step({ kind: 'timer' });
          model.step({ kind: 'commitBatch' });
        }
        expect(model.pending()).toEqual([]);
        expect([...model.committed.keys()].sort()).toEqual([...model.accepted].sort());
        expect(model.actor.getSnapshot().value).toEqual({ leading: 'idle' });
      }),
      { numRuns: 300 },
    );
  });
});
