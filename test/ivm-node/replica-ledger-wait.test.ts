import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../actors/replica/config.ts';
import type { Ledger } from '../../actors/replica/ledger.ts';
import { Replica, type ReplicaReport, type ReplicaTimer } from '../../actors/replica/replica.ts';
import type { Block } from '../../domain/block.ts';
import type { CommitCertificate } from '../../domain/commit-certificate.ts';
import { signerOf } from '../../domain/identity.ts';
import { DiskLedger } from '../../sim/disk-ledger.ts';
import { createChainFixture } from '../support/chain-fixture.ts';

// The replica over a ledger that runs a block's txs after append() (the node's IVM): until the state
// root is known it reports nothing committed and starts no next height; once the ledger is ready the
// 'ledger' timer takes up what waited. One validator, so it commits on its own.

/** The simulator's ledger, with the state root withheld after each append until release(). */
class SlowLedger implements Ledger {
  private readonly inner: DiskLedger;
  private busy = false;
  private waiters: (() => void)[] = [];

  constructor(genesis: Block) {
    const disk = new Map<string, unknown>();
    this.inner = new DiskLedger(genesis, disk, (k, v) => disk.set(k, v));
  }
  height = () => this.inner.height();
  last = () => this.inner.last();
  range = (from: number, to: number) => this.inner.range(from, to);
  hasTx = (id: string) => this.inner.hasTx(id);
  append(block: Block, cert: CommitCertificate): void {
    this.inner.append(block, cert);
    this.busy = true;
  }
  nextStateRoot(): string | null {
    return this.busy ? null : this.inner.nextStateRoot();
  }
  whenReady(): Promise<void> {
    return this.busy ? new Promise((resolve) => this.waiters.push(resolve)) : Promise.resolve();
  }
  release(): void {
    this.busy = false;
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}

describe('the replica over a ledger that runs txs later', () => {
  it('holds the next height and the block.committed report until the ledger knows the state root', async () => {
    const fixture = createChainFixture({ validators: 1 });
    const self = fixture.validatorIds[0]!;
    const ledger = new SlowLedger(fixture.genesis);
    const timers = new Map<ReplicaTimer, number>();
    const reports: ReplicaReport[] = [];
    const replica = new Replica(
      { ...DEFAULT_SETTINGS, self, networkId: fixture.networkId, validators: [self] },
      {
        signer: signerOf(fixture.validators[0]!),
        verifier: fixture.keys,
        ledger,
        send: () => {},
        broadcast: () => {},
        armTimer: (timer, ms) => timers.set(timer, ms),
        cancelTimer: (timer) => timers.delete(timer),
        persist: () => {},
        now: () => fixture.genesis.timestamp + 1_000,
        random: () => 0.5,
        report: (report) => reports.push(report),
      },
    );
    const committed = () => reports.filter((r) => r.type === 'block.committed');
    replica.start();
    replica.fireTimer('election');
    expect(replica.status().leader).toBe(self);
    replica.submitTx(fixture.tx({ by: 0 }));
    replica.fireTimer('batch');

    // Decided and appended, but the block's txs still run.
    expect(ledger.height()).toBe(1);
    expect(committed()).toEqual([]);
    expect(timers.has('ledger')).toBe(false);
    replica.submitTx(fixture.tx({ by: 0 }));
    replica.fireTimer('batch');
    expect(ledger.height()).toBe(1);

    ledger.release();
    const rootAfterOne = ledger.nextStateRoot();
    await Promise.resolve();
    expect(timers.get('ledger')).toBe(0);
    replica.fireTimer('ledger');
    expect(committed().map((r) => r.type === 'block.committed' && r.block.height)).toEqual([1]);
    // The next height starts now, with the tx that waited: block 2 carries the state root after block 1.
    replica.fireTimer('batch');
    expect(ledger.height()).toBe(2);
    const [, second] = ledger.range(1, 2);
    expect(second?.block.stateRoot).toBe(rootAfterOne);
  });
});
