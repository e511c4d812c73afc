import { afterAll, describe, expect, it } from 'vitest';
import { BlockState } from '../../adapters/icode/block-state.ts';
import { MemoryState } from '../../adapters/icode/memory-state.ts';
import { QuickJsRuntime } from '../../adapters/icode/quickjs/quickjs-runtime.ts';
import { invokeOnce } from '../../adapters/icode/runtime.ts';
import type { Canonical } from '../../domain/canonical.ts';
import { bundleOf, txContext } from './fixtures.ts';

const SOURCE = `
export const describe = (ctx, ...rest) => ({ icodeId: ctx.icodeId, fn: ctx.fn, args: ctx.args, rest, tx: ctx.tx, signer: ctx.signer });
export const readOwnWrites = (ctx) => { ctx.put('a', 1); ctx.del('b'); return [ctx.get('a'), ctx.get('b')]; };
export const scan = (ctx, query) => ctx.range(query);
export const scanAfterWrites = (ctx) => { ctx.put('p/2', 'new'); ctx.del('p/1'); return ctx.range('p/').map((e) => e.key); };
export const bump = (ctx, key) => { const v = (ctx.get(key) ?? 0) + 1; ctx.put(key, v); return v; };
export const bumpThenFail = (ctx, key) => { ctx.put(key, 1000); throw new Error('changed my mind'); };
export const later = async (ctx) => { await null; return ctx.get('a'); };
export const nothing = () => undefined;
export const fraction = () => 0.5;
export const loop = (ctx, n) => { let s = 0; for (let i = 0; i < n; i++) s += i; return s; };
export const talk = () => { console.log('hello', 42); return 1; };
`;
const bundle = bundleOf(SOURCE);
const runtime = new QuickJsRuntime({ log: (id, level, message) => logged.push([id, level, message]) });
const logged: [string, string, string][] = [];
afterAll(() => runtime.close());

function invoke(fn: string, args: Canonical[], state = new MemoryState(), gasLimit?: number) {
  return invokeOnce(runtime, { icodeId: 'rt', bundle, fn, args, tx: txContext(42), state, gasLimit });
}

describe('what an iCode function sees (the SDK contract)', () => {
  it('ctx carries icodeId, fn, args, tx and signer; args also follow ctx as parameters', async () => {
    const tx = txContext(7);
    const r = await invokeOnce(runtime, {
      icodeId: 'rt',
      bundle,
      fn: 'describe',
      args: [1, 'two', { three: 3 }],
      tx,
      state: new MemoryState(),
    });
    expect(r.result).toEqual({
      icodeId: 'rt',
      fn: 'describe',
      args: [1, 'two', { three: 3 }],
      rest: [1, 'two', { three: 3 }],
      tx,
      signer: tx.signer,
    });
  });

  it('a query has no tx and no signer', async () => {
    const r = await runtime.query({
      icodeId: 'rt',
      bundle,
      fn: 'describe',
      args: [],
      state: new MemoryState(),
    });
    expect(r.result).toMatchObject({ tx: null, signer: null });
  });

  it('a call reads its own writes and deletes; the writes come back sorted, one per key', async () => {
    const state = new MemoryState([['b', '2']]);
    const r = await invoke('readOwnWrites', [], state);
    expect(r.result).toEqual([1, null]);
    expect(r.writes).toEqual([
      { key: 'a', value: '1' },
      { key: 'b', value: null },
    ]);
    expect(state.get('b')).toBe('2'); // nothing is committed by the runtime itself
  });

  it('range by prefix, by bounds, with a limit, in key order', async () => {
    const state = new MemoryState([
      ['p/3', '3'],
      ['p/1', '1'],
      ['q', '0'],
      ['p/2', '2'],
    ]);
    expect((await invoke('scan', ['p/'], state)).result).toEqual([
      { key: 'p/1', value: 1 },
      { key: 'p/2', value: 2 },
      { key: 'p/3', value: 3 },
    ]);
    expect((await invoke('scan', [{ from: 'p/2', to: 'q' }], state)).result).toEqual([
      { key: 'p/2', value: 2 },
      { key: 'p/3', value: 3 },
    ]);
    expect((await invoke('scan', [{ prefix: 'p/', limit: 1 }], state)).result).toEqual([
      { key: 'p/1', value: 1 },
    ]);
    expect((await invoke('scan', [{ limit: 0 }], state)).error?.code).toBe('bad-state-access');
    expect((await invoke('scanAfterWrites', [], state)).result).toEqual(['p/2', 'p/3']);
  });

  it('async functions are awaited', async () => {
    expect((await invoke('later', [], new MemoryState([['a', '"A"']]))).result).toBe('A');
  });

  it('undefined is a null result; a fraction is bad-result', async () => {
    expect((await invoke('nothing', [])).result).toBeNull();
    expect((await invoke('fraction', [])).error?.code).toBe('bad-result');
  });

  it('console output goes to the runtime log, tagged with the iCode', async () => {
    await invoke('talk', []);
    expect(logged).toContainEqual(['rt', 'info', 'hello 42']);
  });

  it('code that does not compile fails every call with bad-code', async () => {
    const r = await invokeOnce(runtime, {
      icodeId: 'broken',
      bundle: bundleOf('export function ('),
      fn: 'f',
      args: [],
      tx: txContext(),
      state: new MemoryState(),
    });
    expect(r).toMatchObject({ status: 'error', error: { code: 'bad-code' }, gasUsed: 0, writes: [] });
  });
});

describe('gas', () => {
  it('is one per loop iteration on top of a fixed cost', async () => {
    const a = (await invoke('loop', [1000])).gasUsed;
    const b = (await invoke('loop', [2000])).gasUsed;
    const c = (await invoke('loop', [3000])).gasUsed;
    expect(c - b).toBe(b - a);
    expect(b - a).toBeGreaterThanOrEqual(1000);
    expect(b - a).toBeLessThanOrEqual(3000);
  });

  it('a per-call gas limit below the runtime limit applies', async () => {
    const r = await invoke('loop', [100_000], new MemoryState(), 5000);
    expect(r).toMatchObject({ status: 'error', error: { code: 'out-of-gas' }, gasUsed: 5000 });
  });
});

describe('blocks', () => {
  it("a block's later tx sees the earlier txs' writes; a failed tx changes nothing", async () => {
    const committed = new MemoryState([['n', '10']]);
    const blockState = new BlockState(() => committed);
    const block = runtime.beginBlock();
    const run = async (fn: string) => {
      const r = await block.invoke({
        icodeId: 'rt',
        bundle,
        fn,
        args: ['n'],
        tx: txContext(),
        state: blockState.view('rt'),
      });
      if (r.status === 'ok') blockState.apply('rt', r.writes);
      return r;
    };
    expect((await run('bump')).result).toBe(11);
    expect((await run('bumpThenFail')).status).toBe('error');
    expect((await run('bump')).result).toBe(12);
    await block.end();
    expect(blockState.writes()).toEqual([{ icodeId: 'rt', key: 'n', value: '12' }]);
    expect(committed.get('n')).toBe('10');
    await expect(async () =>
      block.invoke({ icodeId: 'rt', bundle, fn: 'bump', args: ['n'], tx: txContext(), state: committed }),
    ).rejects.toThrow(/ended/);
  });

  it('after forget, a new bundle under the same ID is compiled afresh', async () => {
    const state = new MemoryState();
    const v1 = bundleOf('export const v = () => 1;');
    const v2 = bundleOf('export const v = () => 2;');
    expect((await runtime.query({ icodeId: 'versioned', bundle: v1, fn: 'v', args: [], state })).result).toBe(
      1,
    );
    await runtime.forget('versioned');
    expect((await runtime.query({ icodeId: 'versioned', bundle: v2, fn: 'v', args: [], state })).result).toBe(
      2,
    );
  });
});
