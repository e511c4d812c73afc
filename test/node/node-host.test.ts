import { describe, expect, it } from 'vitest';
import { NodeHost, recordsFrom } from '../../actors/node-host.ts';
import type { Ledger } from '../../actors/replica/ledger.ts';
import type { PeerMessage } from '../../actors/replica/messages.ts';
import { RECORD_KEYS } from '../../actors/replica/records.ts';
import { WriteQueue } from '../../actors/write-queue.ts';
import type { Canonical } from '../../domain/canonical.ts';
import { createChainFixture } from '../support/chain-fixture.ts';

// The replica's host keeps "persist, then send": a vote the replica signs after persisting its
// record leaves only once the record is on disk. The disk is a write the test completes by hand.

const fixture = createChainFixture();
const unusedLedger = {} as Ledger;

function setUp() {
  const saved: Canonical[] = [];
  const sent: string[] = [];
  let finishWrite: () => void = () => {};
  const writes = new WriteQueue(() => {});
  const host = new NodeHost({
    signer: { nodeId: fixture.validatorIds[0]!, sign: () => '' },
    verifier: fixture.keys,
    ledger: unusedLedger,
    peers: {
      send: (to, message) => sent.push(`${message.type} to ${to.slice(0, 4)}`),
      broadcast: (message) => sent.push(`${message.type} to all`),
    },
    timers: { arm: () => {}, cancel: () => {} },
    writes,
    records: new Map(),
    saveRecords: (record) =>
      new Promise<void>((resolve) => {
        saved.push(record);
        finishWrite = resolve;
      }),
    report: () => {},
  });
  return { host, writes, saved, sent, finish: () => finishWrite() };
}

const status: PeerMessage = { type: 'Status', height: 1 };

describe('NodeHost', () => {
  it('a message sent after persist leaves once the record is durable, not before', async () => {
    const { host, writes, saved, sent, finish } = setUp();
    host.persist(RECORD_KEYS.election, { term: 3, votedFor: fixture.validatorIds[1]! });
    host.broadcast(status);
    host.send(fixture.validatorIds[2]!, status);
    await new Promise((resolve) => setImmediate(resolve));
    expect(saved).toEqual([{ 'consensus/election': { term: 3, votedFor: fixture.validatorIds[1] } }]);
    expect(sent).toEqual([]);
    finish();
    await writes.drained();
    expect(sent).toEqual(['Status to all', `Status to ${fixture.validatorIds[2]!.slice(0, 4)}`]);
  });

  it('keeps every record in one value, coalesces a burst behind a running write, and erases on undefined', async () => {
    const { host, writes, saved, finish } = setUp();
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    host.persist(RECORD_KEYS.election, { term: 1, votedFor: null }); // written at once
    host.persist(RECORD_KEYS.pbft, { height: 1, round: 0 }); // waits…
    host.persist(RECORD_KEYS.election, { term: 2, votedFor: null }); // …and is replaced by this
    finish();
    await settle();
    finish();
    await writes.drained();
    host.persist(RECORD_KEYS.pbft, undefined);
    await settle();
    finish();
    await writes.drained();
    expect(saved).toEqual([
      { 'consensus/election': { term: 1, votedFor: null } },
      {
        'consensus/election': { term: 2, votedFor: null },
        'consensus/pbft': { height: 1, round: 0 },
      },
      { 'consensus/election': { term: 2, votedFor: null } },
    ]);
    expect(recordsFrom(saved[2])).toEqual(new Map([['consensus/election', { term: 2, votedFor: null }]]));
    expect(recordsFrom(undefined)).toEqual(new Map());
  });
});
