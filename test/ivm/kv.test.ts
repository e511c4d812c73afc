import { afterAll, describe, expect, it } from 'vitest';
import { builtinBundle, isBuiltinIcode } from '../../adapters/icode/builtin.ts';
import { MemoryState } from '../../adapters/icode/memory-state.ts';
import { QuickJsRuntime } from '../../adapters/icode/quickjs/quickjs-runtime.ts';
import { invokeOnce } from '../../adapters/icode/runtime.ts';
import type { Canonical } from '../../domain/canonical.ts';
import { BUILTIN_KV_ID } from '../../domain/icode.ts';
import { txContext } from './fixtures.ts';

const runtime = new QuickJsRuntime();
afterAll(() => runtime.close());

describe('the built-in kv iCode (SPEC §6), present without a deploy', () => {
  it('is known by its fixed ID and ships as an ordinary bundle', async () => {
    expect(isBuiltinIcode(BUILTIN_KV_ID)).toBe(true);
    expect(isBuiltinIcode('toString')).toBe(false);
    expect(builtinBundle('nope')).toBeUndefined();
    const bundle = await builtinBundle(BUILTIN_KV_ID);
    expect(bundle?.entry).toBe('index.js');
  });

  it('put key value, get key, del key', async () => {
    const bundle = (await builtinBundle(BUILTIN_KV_ID))!;
    const state = new MemoryState();
    const invoke = async (fn: string, ...args: Canonical[]) => {
      const r = await invokeOnce(runtime, {
        icodeId: BUILTIN_KV_ID,
        bundle,
        fn,
        args,
        tx: txContext(),
        state,
      });
      if (r.status === 'ok') state.apply(r.writes);
      return r;
    };
    expect((await invoke('put', 'greeting', 'hello')).writes).toEqual([
      { key: 'greeting', value: '"hello"' },
    ]);
    expect((await invoke('put', 'config', { retries: 3, hosts: ['a', 'b'] })).status).toBe('ok');
    expect((await invoke('get', 'greeting')).result).toBe('hello');
    expect(
      (await runtime.query({ icodeId: BUILTIN_KV_ID, bundle, fn: 'get', args: ['config'], state })).result,
    ).toEqual({
      hosts: ['a', 'b'],
      retries: 3,
    });
    expect((await invoke('del', 'greeting')).writes).toEqual([{ key: 'greeting', value: null }]);
    expect((await invoke('get', 'greeting')).result).toBeNull();
    expect((await invoke('put', '', 'x')).error?.code).toBe('bad-state-access');
  });
});
