// Tx batching (SPEC §4), rule by rule: the batching machine driven through createActor with real signed
// txs and real validation verdicts, asserting on the effects it emits. The last test checks that these
// tests together reach every state and transition of the machine.

import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { ValidationError } from '../../domain/errors.ts';
import type { Transaction } from '../../domain/transaction.ts';
import { validateTransaction } from '../../domain/validation.ts';
import {
  type BatchingEffect,
  type BatchingInput,
  batchingMachine,
  POOL_FULL,
  type TxVerdict,
} from '../../machines/batching.ts';
import { pooledIds, poolSize, waitingCount } from '../../machines/tx-pool.ts';
import { createChainFixture } from '../support/chain-fixture.ts';
import { MachineCoverage } from '../support/machine-coverage.ts';

const fixture = createChainFixture();
const [SELF, OTHER, THIRD] = fixture.validatorIds as [string, string, string];
const coverage = new MachineCoverage(batchingMachine);

/** The host's validation, as the TxPool actor does it: a verdict, not an exception. */
function verdictOf(tx: Transaction): TxVerdict {
  try {
    validateTransaction(tx, fixture.keys);
    return { ok: true };
  } catch (err) {
    if (err instanceof ValidationError) return { ok: false, reason: err.message };
    throw err;
  }
}

function startBatcher(input: Partial<BatchingInput> = {}) {
  const actor = createActor(batchingMachine, {
    input: { self: SELF, leader: null, maxBatchTxs: 3, batchIntervalMs: 200, maxPoolTxs: 100, ...input },
    inspect: coverage.inspect,
  });
  const effects: BatchingEffect[] = [];
  actor.on('*', (effect) => effects.push(effect));
  actor.start();
  const host = {
    actor,
    effects,
    submit(tx: Transaction, origin?: string) {
      actor.send({ type: 'TX_SUBMITTED', tx, verdict: verdictOf(tx), ...(origin ? { origin } : {}) });
    },
    commit(txs: readonly Transaction[], height = 1) {
      actor.send({ type: 'BLOCK_COMMITTED', height, txIds: txs.map((tx) => tx.id) });
    },
    /** Effects of one type emitted since the last `clear()`. */
    emitted<T extends BatchingEffect['type']>(type: T): Extract<BatchingEffect, { type: T }>[] {
      return effects.filter((e): e is Extract<BatchingEffect, { type: T }> => e.type === type);
    },
    batches() {
      return host.emitted('batch.ready');
    },
    pool() {
      return actor.getSnapshot().context.pool;
    },
    state() {
      return actor.getSnapshot().value;
    },
    clear() {
      effects.length = 0;
    },
  };
  return host;
}

const ids = (txs: readonly Transaction[]) => txs.map((tx) => tx.id);

describe('tx pool: validation and admission', () => {
  it('a valid tx is stored and acknowledged, and the pool reports that work is pending', () => {
    const host = startBatcher();
    const [tx] = fixture.txs(1) as [Transaction];
    host.submit(tx);
    expect(host.effects).toEqual([
      { type: 'tx.accepted', id: tx.id, origin: null },
      { type: 'pool.changed', size: 1, waiting: 1 },
      { type: 'work.pending', size: 1 },
    ]);
    expect(poolSize(host.pool())).toBe(1);
  });

  it('a tx whose signature does not verify is rejected with the reason and not stored', () => {
    const host = startBatcher();
    const [tx, other] = fixture.txs(2) as [Transaction, Transaction];
    const forged = { ...tx, signature: other.signature };
    host.submit(forged);
    expect(host.effects).toEqual([
      { type: 'tx.rejected', id: tx.id, reason: expect.stringContaining('does not verify'), origin: null },
    ]);
    expect(poolSize(host.pool())).toBe(0);
  });

  it('duplicates are ignored: the pool keeps one copy and says it was a duplicate', () => {
    const host = startBatcher();
    const [tx] = fixture.txs(1) as [Transaction];
    host.submit(tx);
    host.clear();
    host.submit(tx, OTHER);
    expect(host.effects).toEqual([{ type: 'tx.duplicate', id: tx.id, origin: OTHER }]);
    expect(poolSize(host.pool())).toBe(1);
  });

  it('a full pool rejects with "pool full" and never silently drops a tx', () => {
    const host = startBatcher({ maxPoolTxs: 2 });
    const [a, b, c] = fixture.txs(3) as [Transaction, Transaction, Transaction];
    host.submit(a);
    host.submit(b);
    host.clear();
    host.submit(c, OTHER);
    expect(host.effects).toEqual([{ type: 'tx.rejected', id: c.id, reason: POOL_FULL, origin: OTHER }]);
    expect(pooledIds(host.pool())).toEqual(ids([a, b]));
  });

  it('a duplicate is still just a duplicate when the pool is full', () => {
    const host = startBatcher({ maxPoolTxs: 1 });
    const [a] = fixture.txs(1) as [Transaction];
    host.submit(a);
    host.clear();
    host.submit(a);
    expect(host.emitted('tx.duplicate')).toHaveLength(1);
    expect(host.emitted('tx.rejected')).toHaveLength(0);
  });

  it('a full pool takes txs again once a commit makes room', () => {
    const host = startBatcher({ maxPoolTxs: 1 });
    const [a, b] = fixture.txs(2) as [Transaction, Transaction];
    host.submit(a);
    host.commit([a]);
    host.clear();
    host.submit(b);
    expect(host.emitted('tx.accepted')).toEqual([{ type: 'tx.accepted', id: b.id, origin: null }]);
  });
});

describe('tx pool: members forward to the leader', () => {
  it('starts as leader, member or leaderless from the leader it is given', () => {
    expect(startBatcher({ leader: SELF }).state()).toEqual({ leading: 'idle' });
    expect(startBatcher({ leader: OTHER }).state()).toBe('following');
    expect(startBatcher({ leader: null }).state()).toBe('leaderless');
  });

  it('a member stores each tx and forwards it to the leader', () => {
    const host = startBatcher({ leader: OTHER });
    const [tx] = fixture.txs(1) as [Transaction];
    host.submit(tx);
    expect(host.emitted('tx.forward')).toEqual([{ type: 'tx.forward', to: OTHER, txs: [tx] }]);
    expect(poolSize(host.pool())).toBe(1);
  });

  it('a member never forwards a tx back to the leader it came from (no echo)', () => {
    const host = startBatcher({ leader: OTHER });
    const [fromLeader, fromPeer] = fixture.txs(2) as [Transaction, Transaction];
    host.submit(fromLeader, OTHER);
    host.submit(fromPeer, THIRD);
    expect(host.emitted('tx.forward')).toEqual([{ type: 'tx.forward', to: OTHER, txs: [fromPeer] }]);
    expect(poolSize(host.pool())).toBe(2);
  });

  it('a node without a leader keeps txs and forwards all of them once a leader is known', () => {
    const host = startBatcher({ leader: null });
    const txs = fixture.txs(2);
    for (const tx of txs) host.submit(tx);
    expect(host.emitted('tx.forward')).toEqual([]);
    host.actor.send({ type: 'LEADER_CHANGED', leader: OTHER });
    expect(host.emitted('tx.forward')).toEqual([{ type: 'tx.forward', to: OTHER, txs }]);
  });

  it('a new leader gets every pending tx forwarded, the ones sent to the old leader included', () => {
    const host = startBatcher({ leader: OTHER });
    const txs = fixture.txs(2);
    for (const tx of txs) host.submit(tx);
    host.clear();
    host.actor.send({ type: 'LEADER_CHANGED', leader: THIRD });
    expect(host.emitted('tx.forward')).toEqual([{ type: 'tx.forward', to: THIRD, txs }]);
  });

  it('a re-announced leader changes nothing (no second forward, no lost batch)', () => {
    const member = startBatcher({ leader: OTHER });
    member.submit(fixture.tx());
    member.clear();
    member.actor.send({ type: 'LEADER_CHANGED', leader: OTHER });
    expect(member.effects).toEqual([]);

    const leader = startBatcher({ leader: SELF, maxBatchTxs: 1 });
    leader.submit(fixture.tx());
    leader.actor.send({ type: 'LEADER_CHANGED', leader: SELF });
    expect(leader.state()).toEqual({ leading: 'proposing' });
    expect(leader.pool().proposed.size).toBe(1);
  });

  it('losing the leader keeps the txs and waits for the next one', () => {
    const host = startBatcher({ leader: OTHER });
    host.submit(fixture.tx());
    host.actor.send({ type: 'LEADER_CHANGED', leader: null });
    expect(host.state()).toBe('leaderless');
    expect(poolSize(host.pool())).toBe(1);
  });

  it('txs committed in a block from any leader leave the pool', () => {
    const host = startBatcher({ leader: OTHER });
    const [a, b] = fixture.txs(2) as [Transaction, Transaction];
    host.submit(a);
    host.submit(b);
    host.clear();
    host.commit([a]);
    expect(pooledIds(host.pool())).toEqual([b.id]);
    expect(host.effects).toEqual([{ type: 'pool.changed', size: 1, waiting: 1 }]);
  });
});

describe("batching: the leader's batcher", () => {
  it('cuts a batch at maxBatchTxs', () => {
    const host = startBatcher({ leader: SELF, maxBatchTxs: 3 });
    const txs = fixture.txs(3);
    for (const tx of txs) host.submit(tx);
    expect(host.batches()).toEqual([{ type: 'batch.ready', batchId: 1, txs }]);
    expect(host.state()).toEqual({ leading: 'proposing' });
  });

  it('cuts a one-tx batch at once when maxBatchTxs is 1', () => {
    const host = startBatcher({ leader: SELF, maxBatchTxs: 1 });
    const [tx] = fixture.txs(1) as [Transaction];
    host.submit(tx);
    expect(host.batches()).toEqual([{ type: 'batch.ready', batchId: 1, txs: [tx] }]);
    expect(host.emitted('timer.arm')).toEqual([]);
  });

  it('cuts on batchIntervalMs with txs waiting', () => {
    const host = startBatcher({ leader: SELF, maxBatchTxs: 10, batchIntervalMs: 250 });
    const txs = fixture.txs(2);
    for (const tx of txs) host.submit(tx);
    expect(host.emitted('timer.arm')).toEqual([{ type: 'timer.arm', timer: 'batch', ms: 250 }]);
    expect(host.batches()).toEqual([]);
    host.actor.send({ type: 'BATCH_TIMEOUT' });
    expect(host.batches()).toEqual([{ type: 'batch.ready', batchId: 1, txs }]);
  });

  it('arms the batch timer when the first tx starts waiting, not again for later ones', () => {
    const host = startBatcher({ leader: SELF, maxBatchTxs: 10 });
    for (const tx of fixture.txs(4)) host.submit(tx);
    expect(host.emitted('timer.arm')).toHaveLength(1);
  });

  it('cancels the batch timer when a full batch is cut before it fires', () => {
    const host = startBatcher({ leader: SELF, maxBatchTxs: 2 });
    for (const tx of fixture.txs(2)) host.submit(tx);
    const kinds = host.effects.map((e) => e.type).filter((t) => t.startsWith('timer') || t === 'batch.ready');
    expect(kinds).toEqual(['timer.arm', 'timer.cancel', 'batch.ready']);
  });

  it('a tx leaves the pool only when committed, not when proposed', () => {
    const host = startBatcher({ leader: SELF, maxBatchTxs: 2 });
    const txs = fixture.txs(2);
    for (const tx of txs) host.submit(tx);
    expect(host.batches()).toHaveLength(1);
    expect(poolSize(host.pool())).toBe(2);
    host.clear();
    host.commit(txs);
    expect(poolSize(host.pool())).toBe(0);
    expect(host.effects).toEqual([{ type: 'pool.changed', size: 0, waiting: 0 }, { type: 'work.done' }]);
    expect(host.state()).toEqual({ leading: 'idle' });
  });

  it('txs in a proposal that does not commit are proposed again', () => {
    const host = startBatcher({ leader: SELF, maxBatchTxs: 2 });
    const txs = fixture.txs(2);
    for (const tx of txs) host.submit(tx);
    host.actor.send({ type: 'BATCH_FAILED', batchId: 1 });
    expect(host.batches()).toEqual([
      { type: 'batch.ready', batchId: 1, txs },
      { type: 'batch.ready', batchId: 2, txs },
    ]);
  });

  it('txs of a failed round that no longer fill a batch wait for the interval again', () => {
    const host = startBatcher({ leader: SELF, maxBatchTxs: 3 });
    const txs = fixture.txs(2);
    for (const tx of txs) host.submit(tx);
    host.actor.send({ type: 'BATCH_TIMEOUT' });
    host.clear();
    host.actor.send({ type: 'BATCH_FAILED', batchId: 1 });
    expect(host.state()).toEqual({ leading: 'collecting' });
    expect(host.emitted('timer.arm')).toHaveLength(1);
    host.actor.send({ type: 'BATCH_TIMEOUT' });
    expect(host.batches()).toEqual([{ type: 'batch.ready', batchId: 2, txs }]);
  });

  it('a late BATCH_FAILED for an older batch leaves the batch in flight alone', () => {
    const host = startBatcher({ leader: SELF, maxBatchTxs: 1 });
    host.submit(fixture.tx());
    host.actor.send({ type: 'BATCH_FAILED', batchId: 1 });
    host.clear();
    host.actor.send({ type: 'BATCH_FAILED', batchId: 1 });
    expect(host.effects).toEqual([]);
    expect(host.actor.getSnapshot().context.batchInFlight).toBe(2);
  });

  it('never hands out a tx that is in the batch in flight: txs arriving meanwhile wait for the next batch', () => {
    const host = startBatcher({ leader: SELF, maxBatchTxs: 2 });
    const [a, b, c, d] = fixture.txs(4) as [Transaction, Transaction, Transaction, Transaction];
    for (const tx of [a, b, c, d]) host.submit(tx);
    expect(host.batches()).toEqual([{ type: 'batch.ready', batchId: 1, txs: [a, b] }]);
    expect(waitingCount(host.pool())).toBe(2);
    host.commit([a, b]);
    expect(host.batches()).toEqual([
      { type: 'batch.ready', batchId: 1, txs: [a, b] },
      { type: 'batch.ready', batchId: 2, txs: [c, d] },
    ]);
  });

  it('after a commit, txs that waited during the round are collected for the next batch', () => {
    const host = startBatcher({ leader: SELF, maxBatchTxs: 2 });
    const [a, b, c] = fixture.txs(3) as [Transaction, Transaction, Transaction];
    for (const tx of [a, b, c]) host.submit(tx);
    host.clear();
    host.commit([a, b]);
    expect(host.state()).toEqual({ leading: 'collecting' });
    expect(host.emitted('timer.arm')).toHaveLength(1);
  });

  it('txs of the batch left out of the committed block wait again', () => {
    const host = startBatcher({ leader: SELF, maxBatchTxs: 2 });
    const [a, b] = fixture.txs(2) as [Transaction, Transaction];
    host.submit(a);
    host.submit(b);
    host.commit([a]);
    expect(pooledIds(host.pool())).toEqual([b.id]);
    expect(waitingCount(host.pool())).toBe(1);
  });

  it("another leader's block that takes every waiting tx stops the batch timer", () => {
    const host = startBatcher({ leader: SELF, maxBatchTxs: 10 });
    const txs = fixture.txs(2);
    for (const tx of txs) host.submit(tx);
    host.clear();
    host.commit(txs);
    expect(host.state()).toEqual({ leading: 'idle' });
    expect(host.emitted('timer.cancel')).toHaveLength(1);
  });

  it('a commit that leaves txs waiting keeps the batch timer running', () => {
    const host = startBatcher({ leader: SELF, maxBatchTxs: 10 });
    const [a, b] = fixture.txs(2) as [Transaction, Transaction];
    host.submit(a);
    host.submit(b);
    host.clear();
    host.commit([a]);
    expect(host.state()).toEqual({ leading: 'collecting' });
    expect(host.effects.filter((e) => e.type.startsWith('timer'))).toEqual([]);
  });

  it('becoming leader with a full batch waiting cuts it at once', () => {
    const host = startBatcher({ leader: OTHER, maxBatchTxs: 2 });
    const txs = fixture.txs(2);
    for (const tx of txs) host.submit(tx);
    host.actor.send({ type: 'LEADER_CHANGED', leader: SELF });
    expect(host.batches()).toEqual([{ type: 'batch.ready', batchId: 1, txs }]);
  });

  it('becoming leader with fewer txs than a batch starts the batch timer', () => {
    const host = startBatcher({ leader: null, maxBatchTxs: 5 });
    host.submit(fixture.tx());
    host.actor.send({ type: 'LEADER_CHANGED', leader: SELF });
    expect(host.state()).toEqual({ leading: 'collecting' });
    expect(host.emitted('timer.arm')).toHaveLength(1);
  });

  it('a leader that loses leadership returns its batch to the pool and forwards it to the new leader', () => {
    const host = startBatcher({ leader: SELF, maxBatchTxs: 2 });
    const txs = fixture.txs(3);
    for (const tx of txs) host.submit(tx);
    host.clear();
    host.actor.send({ type: 'LEADER_CHANGED', leader: OTHER });
    expect(host.emitted('tx.forward')).toEqual([{ type: 'tx.forward', to: OTHER, txs }]);
    expect(host.pool().proposed.size).toBe(0);
    expect(host.actor.getSnapshot().context.batchInFlight).toBeNull();
  });
});

it('coverage is counted, not assumed: an actor that only starts reaches only its start', () => {
  const lone = new MachineCoverage(batchingMachine);
  createActor(batchingMachine, {
    input: { self: SELF, leader: null, maxBatchTxs: 1, batchIntervalMs: 1, maxPoolTxs: 1 },
    inspect: lone.inspect,
  }).start();
  const report = lone.report();
  expect(report.states.total - report.states.missing.length).toBe(2); // starting, leaderless
  expect(report.transitions.reached).toBe(1); // starting -> leaderless
});

it('every state and transition of the batching machine is reached by these tests', () => {
  const report = coverage.report();
  console.info(coverage.describe());
  expect(report.states.missing).toEqual([]);
  expect(report.transitions.missing).toEqual([]);
});
