import { describe, expect, it } from 'vitest';
import { CachingVerifier } from '../../actors/caching-verifier.ts';
import { InboundQueue } from '../../actors/inbound-queue.ts';
import type { PeerMessage } from '../../actors/replica/messages.ts';
import { txSigningBytes } from '../../domain/transaction.ts';
import { createChainFixture } from '../support/chain-fixture.ts';

// Peers' messages reach the replica in arrival order, with their txs' signatures already checked
// (cached), and a long list of forwarded txs in parts, so no single turn of the event loop is long.

const fixture = createChainFixture();
const until = (done: () => boolean) =>
  new Promise<void>((resolve) => {
    const check = () => (done() ? resolve() : setImmediate(check));
    check();
  });

describe('InboundQueue', () => {
  it('delivers in arrival order, after the txs it carries are verified into the cache', async () => {
    const verifier = new CachingVerifier(fixture.keys);
    const block = fixture.nextBlock(fixture.genesis, fixture.txs(20));
    const delivered: string[] = [];
    const queue = new InboundQueue(verifier, (from, message) => {
      // By now every tx signature of the message is a cache hit.
      const before = verifier.stats.misses;
      if (message.type === 'Committed') {
        for (const tx of message.block.txs) verifier.verify(tx.signer, txSigningBytes(tx.id), tx.signature);
      }
      expect(verifier.stats.misses).toBe(before);
      delivered.push(`${message.type} from ${from}`);
    });
    queue.push('a', { type: 'Status', height: 1 });
    queue.push('b', { type: 'Committed', block, cert: fixture.certify(block) });
    queue.push('a', { type: 'Status', height: 2 });
    expect(delivered).toEqual([]); // never from inside push
    await until(() => delivered.length === 3);
    expect(delivered).toEqual(['Status from a', 'Committed from b', 'Status from a']);
    expect(verifier.stats.misses).toBe(20);
  });

  it('hands a long list of forwarded txs to the replica in parts of at most 100', async () => {
    const txs = fixture.txs(250);
    const parts: number[] = [];
    const queue = new InboundQueue(new CachingVerifier(fixture.keys), (_, message: PeerMessage) => {
      if (message.type === 'Txs') parts.push(message.txs.length);
    });
    queue.push('a', { type: 'Txs', txs });
    await until(() => parts.length === 3);
    expect(parts).toEqual([100, 100, 50]);
  });

  it('delivers nothing after stop', async () => {
    const delivered: string[] = [];
    const queue = new InboundQueue(new CachingVerifier(fixture.keys), (_, m) => delivered.push(m.type));
    queue.push('a', { type: 'Status', height: 1 });
    queue.stop();
    queue.push('a', { type: 'Status', height: 2 });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(delivered).toEqual([]);
  });
});
