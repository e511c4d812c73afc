import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../domain/hash.ts';
import { compareKeys, type Receipt } from '../../domain/icode.ts';
import { type BlockWrite, nextStateRoot } from '../../domain/icode-state-root.ts';

const PREV = 'ab'.repeat(32);
const writes: BlockWrite[] = [
  { icodeId: 'kv', key: 'b', value: '2' },
  { icodeId: 'bank', key: 'balance/alice', value: '85' },
  { icodeId: 'kv', key: 'a', value: null },
];
const receipts: Receipt[] = [
  { txId: '01'.repeat(32), status: 'ok', result: null, gasUsed: 500 },
  { txId: '02'.repeat(32), status: 'error', error: { code: 'icode-error', message: 'no' }, gasUsed: 300 },
];

describe('state root: a hash chained over each block’s sorted writes and its receipts', () => {
  it('is SHA-256 of the documented canonical encoding (test vector)', () => {
    const expected = sha256Hex(
      '{"domain":"itchain/state/v1","prev":"' +
        PREV +
        '","receipts":[{"gasUsed":500,"result":null,"status":"ok","txId":"' +
        '01'.repeat(32) +
        '"},{"error":{"code":"icode-error","message":"no"},"gasUsed":300,"status":"error","txId":"' +
        '02'.repeat(32) +
        '"}],"writes":[["bank","balance/alice","85"],["kv","a",null],["kv","b","2"]]}',
    );
    expect(nextStateRoot(PREV, { writes, receipts })).toBe(expected);
  });

  it('does not depend on the order the writes are given in', () => {
    const reversed = [...writes].reverse();
    expect(nextStateRoot(PREV, { writes: reversed, receipts })).toBe(
      nextStateRoot(PREV, { writes, receipts }),
    );
  });

  it('changes with the previous root, any value, a deletion, a receipt or its gas', () => {
    const base = nextStateRoot(PREV, { writes, receipts });
    expect(nextStateRoot('cd'.repeat(32), { writes, receipts })).not.toBe(base);
    expect(
      nextStateRoot(PREV, { writes: [{ ...writes[0]!, value: '3' }, ...writes.slice(1)], receipts }),
    ).not.toBe(base);
    expect(
      nextStateRoot(PREV, { writes: [...writes.slice(0, 2), { ...writes[2]!, value: '0' }], receipts }),
    ).not.toBe(base);
    expect(nextStateRoot(PREV, { writes, receipts: receipts.slice(1) })).not.toBe(base);
    expect(
      nextStateRoot(PREV, { writes, receipts: [{ ...receipts[0]!, gasUsed: 501 }, receipts[1]!] }),
    ).not.toBe(base);
  });

  it('a block that wrote nothing and has no receipts keeps the root', () => {
    expect(nextStateRoot(PREV, { writes: [], receipts: [] })).toBe(PREV);
  });

  it('refuses the same key twice (the caller must give final values)', () => {
    expect(() =>
      nextStateRoot(PREV, { writes: [...writes, { icodeId: 'kv', key: 'b', value: '9' }], receipts }),
    ).toThrow(/written twice/);
  });

  it('orders keys by code point, as LevelDB orders their UTF-8 bytes', () => {
    const keys = ['\u{1F600}', '\uFFFF', 'a', 'ab', '\uE000', 'B'];
    const byBytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect([...keys].sort(compareKeys)).toEqual(byBytes);
  });
});
