import { describe, expect, it } from 'vitest';
import { buildBlock } from '../../domain/block.ts';
import type { CommitCertificate } from '../../domain/commit-certificate.ts';
import { DiskLedger, LEDGER_HEAD, ledgerBlockKey, simGenesis } from '../../sim/disk-ledger.ts';

// The simulator's ledger keeps exactly what was written to the simulated disk: the block first, then
// the head that points at it — so a crash between the two leaves the node one block earlier.

const validators = ['a'.repeat(40), 'b'.repeat(40)];
const genesis = simGenesis('net', validators, 1_000);

function nextBlock(ledger: DiskLedger) {
  const last = ledger.last();
  const block = buildBlock({
    height: last.height + 1,
    prevSeal: last.seal,
    stateRoot: ledger.nextStateRoot(),
    timestamp: 2_000,
    creator: validators[0]!,
    txs: [],
  });
  const cert: CommitCertificate = { height: block.height, round: 0, blockHash: block.seal, precommits: [] };
  return { block, cert };
}

describe('DiskLedger (sim/disk-ledger.ts)', () => {
  it('restores every block whose head was written, in order, with the same state roots', () => {
    const disk = new Map<string, unknown>();
    const ledger = new DiskLedger(genesis, disk, (k, v) => disk.set(k, structuredClone(v)));
    for (let i = 0; i < 3; i++) {
      const { block, cert } = nextBlock(ledger);
      ledger.append(block, cert);
    }
    const again = new DiskLedger(genesis, disk, () => {});
    expect(again.height()).toBe(3);
    expect(again.last().seal).toBe(ledger.last().seal);
    expect(again.nextStateRoot()).toBe(ledger.nextStateRoot());
    expect(again.range(2, 9).map((e) => e.block.height)).toEqual([2, 3]);
  });

  it('a crash between the block and the head leaves the node at the block before', () => {
    const disk = new Map<string, unknown>();
    let writes = 0;
    const ledger = new DiskLedger(genesis, disk, (k, v) => {
      if (writes++ < 3) disk.set(k, structuredClone(v)); // block 1, head 1, block 2 — then the crash
    });
    for (let i = 0; i < 2; i++) {
      const { block, cert } = nextBlock(ledger);
      ledger.append(block, cert);
    }
    expect(disk.has(ledgerBlockKey(2))).toBe(true);
    expect(disk.get(LEDGER_HEAD)).toBe(1);
    expect(new DiskLedger(genesis, disk, () => {}).height()).toBe(1);
  });
});
