import { describe, expect, it } from 'vitest';
import { BlockState } from '../../adapters/icode/block-state.ts';
import { MemoryState } from '../../adapters/icode/memory-state.ts';
import { QuickJsRuntime } from '../../adapters/icode/quickjs/quickjs-runtime.ts';
import type { InvokeResult } from '../../adapters/icode/runtime.ts';
import type { Canonical } from '../../domain/canonical.ts';
import type { TxContext } from '../../domain/icode.ts';
import { nextStateRoot } from '../../domain/icode-state-root.ts';
import { bundleOf } from './fixtures.ts';

// The same block on two fresh runtimes: identical receipts (results, errors, gas) and writes, hence
// the same state root; and a call's gas does not depend on what ran before it.

const SOURCE = `
let calls = 0;
export function mint(ctx, account, amount) {
  calls++;
  const balance = (ctx.get('b/' + account) ?? 0) + amount;
  ctx.put('b/' + account, balance);
  return { balance, calls };
}
export function transfer(ctx, from, to, amount) {
  const have = ctx.get('b/' + from) ?? 0;
  if (have < amount) throw new Error('insufficient funds');
  ctx.put('b/' + from, have - amount);
  ctx.put('b/' + to, (ctx.get('b/' + to) ?? 0) + amount);
  return ctx.range('b/').map((e) => e.key);
}
export function work(ctx, n) { let s = 0; for (let i = 0; i < n; i++) s += i % 7; return s; }
export function spin() { for (;;) {} }
export function bomb() { const a = []; for (;;) a.push('z'.repeat(50000) + a.length); }
export async function later(ctx) { await null; return ctx.tx.timestamp; }
export function garbage() { const a = []; for (let i = 0; i < 2000; i++) { const o = {}; o.self = o; a.push(o); } return a.length; }
`;
const bundle = bundleOf(SOURCE);

const BLOCK: [string, Canonical[]][] = [
  ['mint', ['alice', 100]],
  ['transfer', ['alice', 'bob', 30]],
  ['transfer', ['bob', 'carol', 31]],
  ['spin', []],
  ['mint', ['carol', 5]],
  ['garbage', []],
  ['bomb', []],
  ['work', [1000]],
  ['later', []],
  ['transfer', ['bob', 'carol', 30]],
];

function tx(i: number): TxContext {
  return { id: i.toString(16).padStart(64, '0'), signer: 'cd'.repeat(20), timestamp: 1_000_000 + i };
}

async function runBlock(): Promise<{ results: InvokeResult[]; root: string }> {
  const runtime = new QuickJsRuntime({ limits: { gasLimit: 500_000, memoryBytes: 24 * 1024 * 1024 } });
  const committed = new MemoryState();
  const blockState = new BlockState(() => committed);
  const block = runtime.beginBlock();
  const results: InvokeResult[] = [];
  for (const [i, [fn, args]] of BLOCK.entries()) {
    const result = await block.invoke({
      icodeId: 'det',
      bundle,
      fn,
      args,
      tx: tx(i),
      state: blockState.view('det'),
    });
    if (result.status === 'ok') blockState.apply('det', result.writes);
    results.push(result);
  }
  await block.end();
  await runtime.close();
  const receipts = results.map((r, i) => ({
    txId: tx(i).id,
    status: r.status,
    result: r.result,
    error: r.error,
    gasUsed: r.gasUsed,
  }));
  return { results, root: nextStateRoot('0'.repeat(64), { writes: blockState.writes(), receipts }) };
}

describe('determinism', () => {
  it('the same block on two fresh runtimes gives identical results, gas, writes and state root', async () => {
    const first = await runBlock();
    const second = await runBlock();
    expect(second.results).toEqual(first.results);
    expect(second.root).toBe(first.root);
    // And the block really exercised every outcome.
    expect(first.results.map((r) => r.error?.code ?? r.status)).toEqual([
      'ok',
      'ok',
      'icode-error',
      'out-of-gas',
      'ok',
      'ok',
      'out-of-memory',
      'ok',
      'ok',
      'ok',
    ]);
    expect(first.results[0]!.result).toEqual({ balance: 100, calls: 1 });
    expect(first.results[4]!.result).toEqual({ balance: 5, calls: 1 }); // module variables are per call
    expect(first.results[8]!.result).toBe(1_000_008);
  });

  it("a call's gas does not depend on what ran before it in the sandbox", async () => {
    const runtime = new QuickJsRuntime();
    const state = new MemoryState();
    const call = (block: ReturnType<QuickJsRuntime['beginBlock']>, fn: string, args: Canonical[]) =>
      block.invoke({ icodeId: 'det', bundle, fn, args, tx: tx(0), state });
    const fresh = runtime.beginBlock();
    const alone = await call(fresh, 'work', [777]);
    await fresh.end();
    const busy = runtime.beginBlock();
    for (let i = 0; i < 50; i++) await call(busy, 'work', [i * 37]);
    await call(busy, 'garbage', []);
    const afterOthers = await call(busy, 'work', [777]);
    await busy.end();
    await runtime.close();
    expect(afterOthers).toEqual(alone);
    expect(alone.gasUsed).toBeGreaterThan(1500);
  });
});
