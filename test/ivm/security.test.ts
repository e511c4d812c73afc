import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryState } from '../../adapters/icode/memory-state.ts';
import { QuickJsRuntime } from '../../adapters/icode/quickjs/quickjs-runtime.ts';
import { type InvokeResult, invokeOnce } from '../../adapters/icode/runtime.ts';
import { bundleOf, txContext } from './fixtures.ts';

// A hostile iCode: every export reaches for something it must not have. Each attempt must end as an
// error receipt (or a harmless result), and the runtime must keep working for the next call.
const HOSTILE = `
export const probe = () => [typeof require, typeof process, typeof fetch, typeof setTimeout, typeof setInterval,
  typeof queueMicrotask, typeof XMLHttpRequest, typeof WebAssembly, typeof std, typeof os, typeof Deno, typeof Bun];
export const useRequire = () => globalThis['req' + 'uire']('fs');
export const useProcess = () => process.exit(1);
export const useFetch = () => fetch('http://127.0.0.1:1/');
export const functionConstructor = () => (() => {}).constructor.constructor('return this')();
export const asyncFunctionConstructor = () => (async () => {}).constructor('return globalThis')();
export const generatorConstructor = () => Object.getPrototypeOf(function* () {}).constructor('yield 1')().next();
export const reflectConstruct = () => Reflect.construct(Function, ['return 1'])();
export const indirectEval = () => (0, globalThis.eval)('1 + 1');
export const dynamicImport = async () => { const name = 'fs'; return (await import(name)).default; };
export const writeGlobal = () => { globalThis.leak = 1; return 'written'; };
export const defineGlobal = () => { Object.defineProperty(globalThis, 'leak2', { value: 1 }); return 'defined'; };
export const readGlobals = () => [typeof globalThis.leak, typeof globalThis.leak2];
export const pollute = () => { Object.prototype.polluted = true; return 'polluted'; };
export const polluteArray = () => { Array.prototype.push = () => 0; return 'polluted'; };
export const polluteViaProto = (ctx) => { ctx.__proto__.polluted = true; return 'polluted'; };
export const polluteViaCtxMethod = (ctx) => { ctx.get.constructor.prototype.polluted = true; return 'polluted'; };
export const seePollution = () => [({}).polluted, [].push.length, typeof Object.prototype.polluted];
export const protoResult = () => JSON.parse('{"__proto__": {"polluted": true}}');
export const protoValue = (ctx) => { ctx.put('p', JSON.parse('{"__proto__": {"polluted": true}}')); return 1; };
export const clock = () => Date.now();
export const newDate = () => new Date().getTime();
export const random = () => Math.random();
export const weakRef = () => new WeakRef({});
export const spin = () => { for (;;) {} };
export const spinCaught = () => { try { for (;;) {} } catch (e) { return 'escaped'; } };
export const spinAsync = async () => { await null; for (;;) {} };
export const spinInErrorGetter = () => { throw { get message() { for (;;) {} } }; };
export const promiseStorm = () => { const loop = () => Promise.resolve().then(loop); loop(); return 'returned'; };
export const regexBomb = () => /(a+)+$/.test('a'.repeat(40) + 'b');
export const spinOnHostCalls = (ctx) => { const key = 'k'.repeat(400); for (;;) { try { ctx.get(key); } catch (e) {} } };
export const stringBomb = () => { const a = []; for (;;) a.push('x'.repeat(100000) + a.length); };
export const bigAllocation = () => 'x'.repeat(2 ** 29).length;
export const arrayBufferBomb = () => new ArrayBuffer(2 ** 30).byteLength;
export const caughtMemoryBomb = () => { try { const a = []; for (;;) a.push('y'.repeat(100000) + a.length); } catch (e) { return String(e); } };
export const recurse = () => { const f = (n) => f(n + 1) + 1; return f(0); };
export const deepResult = () => { let o = {}; for (let i = 0; i < 100000; i++) o = { o }; return o; };
export const hugeResult = () => 'x'.repeat(1000000);
export const hugeError = () => { throw new Error('e'.repeat(100000)); };
export const writeInQuery = (ctx) => { try { ctx.put('k', 1); } catch (e) {} return 'caught'; };
export const hugeValue = (ctx) => { ctx.put('k', 'v'.repeat(100000)); return 1; };
export const floatValue = (ctx) => { ctx.put('k', 0.5); return 1; };
export const tooManyWrites = (ctx) => { for (let i = 0; i < 20; i++) ctx.put('k' + i, 'v'.repeat(60000)); return 1; };
export const badKey = (ctx) => ctx.get('k'.repeat(1000));
export const fine = (ctx, x) => ({ ok: true, x, seen: ctx.get('seen') });
`;

const bundle = bundleOf(HOSTILE);
const LIMITS = { gasLimit: 2_000_000, memoryBytes: 32 * 1024 * 1024 };
let runtime: QuickJsRuntime;
const state = new MemoryState([['seen', '"yes"']]);

beforeAll(() => {
  runtime = new QuickJsRuntime({ limits: LIMITS });
});
afterAll(() => runtime.close());

function invoke(fn: string, ...args: number[]): Promise<InvokeResult> {
  return invokeOnce(runtime, { icodeId: 'hostile', bundle, fn, args, tx: txContext(), state });
}

/** The attempt ends as an error receipt with this code, and a normal call right after still works. */
async function stopped(fn: string, code: string, message?: RegExp): Promise<InvokeResult> {
  const receipt = await invoke(fn);
  expect(receipt.status, JSON.stringify(receipt)).toBe('error');
  expect(receipt.error?.code).toBe(code);
  if (message) expect(receipt.error?.message).toMatch(message);
  expect(receipt.writes).toEqual([]);
  expect(await invoke('fine', 7)).toMatchObject({ status: 'ok', result: { ok: true, x: 7, seen: 'yes' } });
  return receipt;
}

describe('no I/O: require, process, fetch, timers do not exist', () => {
  it('none of the usual ways out is defined', async () => {
    const receipt = await invoke('probe');
    expect(receipt.result).toEqual(Array(12).fill('undefined'));
  });
  it.each([
    ['useRequire', /not a function/],
    ['useProcess', /'process' is not defined/],
    ['useFetch', /'fetch' is not defined/],
  ])('%s fails the tx', async (fn, message) => {
    await stopped(fn, 'icode-error', message);
  });
  it('require in the source is refused when the code is installed', async () => {
    const receipt = await invokeOnce(runtime, {
      icodeId: 'requires-fs',
      bundle: bundleOf("const fs = require('fs'); export const f = () => 1;"),
      fn: 'f',
      args: [],
      tx: txContext(),
      state,
    });
    expect(receipt.error?.code).toBe('bad-code');
    expect(receipt.error?.message).toMatch(/can only import its own files/);
  });
});

describe('no code made at run time: Function constructors, eval, import()', () => {
  it.each(['functionConstructor', 'asyncFunctionConstructor', 'generatorConstructor', 'reflectConstruct'])(
    '%s fails with a clear reason',
    async (fn) => {
      await stopped(fn, 'icode-error', /Function constructor is not available/);
    },
  );
  it('indirect eval fails', async () => {
    await stopped('indirectEval', 'icode-error', /eval is not available/);
  });
  it('dynamic import fails', async () => {
    const receipt = await stopped('dynamicImport', 'icode-error');
    expect(receipt.error?.message).not.toBe('');
  });
});

describe('globalThis tricks: the realm is frozen, nothing carries over to the next call', () => {
  it('writing or defining a global fails, and a later call sees neither', async () => {
    await stopped('writeGlobal', 'icode-error', /read-only|not extensible|TypeError/);
    await stopped('defineGlobal', 'icode-error', /TypeError/);
    expect((await invoke('readGlobals')).result).toEqual(['undefined', 'undefined']);
  });
});

describe('prototype pollution', () => {
  it.each(['pollute', 'polluteArray', 'polluteViaProto', 'polluteViaCtxMethod'])(
    '%s fails inside the sandbox and a later call sees clean prototypes',
    async (fn) => {
      await stopped(fn, 'icode-error', /TypeError/);
      expect((await invoke('seePollution')).result).toEqual([null, 1, 'undefined']);
    },
  );
  it('the host side is untouched: Object.prototype has the same keys, {} has no polluted', async () => {
    const before = Object.getOwnPropertyNames(Object.prototype).sort();
    await invoke('pollute');
    await invoke('polluteViaProto');
    const result = await invoke('protoResult');
    expect(result.error?.code).toBe('bad-result');
    expect((await invoke('protoValue')).error?.code).toBe('bad-state-access');
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('nothing that differs between nodes: no clock, no randomness, no GC observation', () => {
  it.each([
    ['clock', /ctx\.tx\.timestamp/],
    ['newDate', /ctx\.tx\.timestamp/],
    ['random', /Math\.random is not available/],
    ['weakRef', /garbage collection/],
  ])('%s fails with a clear reason', async (fn, message) => {
    await stopped(fn, 'icode-error', message);
  });
});

describe('infinite loops are stopped by gas, at the same step every time', () => {
  it.each(['spin', 'spinCaught', 'spinAsync', 'spinInErrorGetter', 'regexBomb', 'spinOnHostCalls'])(
    '%s runs out of gas, using exactly the limit, twice alike',
    async (fn) => {
      const first = await stopped(fn, 'out-of-gas');
      const second = await stopped(fn, 'out-of-gas');
      expect(first.gasUsed).toBe(LIMITS.gasLimit);
      expect(second).toEqual(first);
    },
  );
});

describe('memory bombs are stopped by the memory limit', () => {
  it.each(['stringBomb', 'bigAllocation', 'arrayBufferBomb'])('%s runs out of memory', async (fn) => {
    await stopped(fn, 'out-of-memory');
  });
  it('a bomb the iCode catches still fails the tx', async () => {
    await stopped('caughtMemoryBomb', 'out-of-memory');
  });
  it('a promise chain that grows until memory runs out fails the tx', async () => {
    await stopped('promiseStorm', 'out-of-memory');
  });
});

describe('deep recursion and huge results', () => {
  it('unbounded recursion is a stack overflow', async () => {
    await stopped('recurse', 'stack-overflow');
  });
  it('a result nested too deep is refused', async () => {
    const receipt = await invoke('deepResult');
    expect(['stack-overflow', 'bad-result']).toContain(receipt.error?.code);
    expect((await invoke('fine', 1)).status).toBe('ok');
  });
  it('a result over the size cap is result-too-large', async () => {
    await stopped('hugeResult', 'result-too-large');
  });
  it('a huge error message is cut to the cap', async () => {
    const receipt = await stopped('hugeError', 'icode-error');
    expect(receipt.error!.message.length).toBeLessThanOrEqual(1001);
  });
});

describe('state access rules hold even when the iCode catches the error', () => {
  it('a put in a query fails the query', async () => {
    const result = await runtime.query({ icodeId: 'hostile', bundle, fn: 'writeInQuery', args: [], state });
    expect(result).toMatchObject({ status: 'error', error: { code: 'read-only' } });
  });
  it.each([
    ['hugeValue', /over 65536 bytes/],
    ['floatValue', /not a safe integer/],
    ['tooManyWrites', /wrote more than/],
    ['badKey', /at most 512 bytes/],
  ])('%s is bad-state-access', async (fn, message) => {
    await stopped(fn, 'bad-state-access', message);
  });
});
