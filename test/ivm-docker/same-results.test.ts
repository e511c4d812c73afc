import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleDirectory } from '../../adapters/icode/bundle-directory.ts';
import { DockerRuntime } from '../../adapters/icode/docker/docker-runtime.ts';
import { DOCKER_GAS } from '../../adapters/icode/docker/gas.ts';
import { GAS } from '../../adapters/icode/limits.ts';
import { QuickJsRuntime } from '../../adapters/icode/quickjs/quickjs-runtime.ts';
import { bundleOf, EXAMPLES } from '../ivm/fixtures.ts';
import { runScript, type Step } from './call-script.ts';
import { dockerEngine, ENGINE_TIMEOUT_MS } from './engine.ts';

// SPEC §5: the Docker runtime runs the same SDK with the same results as QuickJS. Each script runs
// through both runtimes, block by block; every receipt (status, result, error, writes), every query
// and the final state must be equal. Only gas differs (adapters/icode/docker/gas.ts).

let docker: DockerRuntime;
let quickjs: QuickJsRuntime;

beforeAll(async () => {
  const engine = await dockerEngine();
  docker = new DockerRuntime({ socketPath: engine.socketPath, image: engine.image });
  quickjs = new QuickJsRuntime();
}, ENGINE_TIMEOUT_MS);

afterAll(async () => {
  await Promise.all([docker?.close(), quickjs?.close()]);
});

const BANK: Step[] = [
  { invoke: ['mint', 'alice', 100] },
  { invoke: ['mint', 'alice', '25'] },
  { query: ['balance', 'alice'] },
  { query: ['balance', 'nobody'] },
  { invoke: ['transfer', 'alice', 'bob', 40] },
  { invoke: ['transfer', 'bob', 'carol', 41] },
  { invoke: ['mint', 'alice', -5] },
  { invoke: ['mint', 'alice', 1.5] },
  { invoke: ['transfer', 'alice', 'alice', 1] },
  { invoke: ['steal', 'alice'] },
  // One block: later txs see the earlier ones' writes; a failed tx in the middle changes nothing.
  {
    block: [
      ['mint', 'carol', 10],
      ['transfer', 'carol', 'dave', 3],
      ['transfer', 'dave', 'erin', 5],
      ['transfer', 'carol', 'erin', 7],
      ['balance', 'erin'],
    ],
  },
  { query: ['accounts'] },
  { query: ['transfer', 'alice', 'bob', 1] },
];

const COUNTER: Step[] = [
  { invoke: ['increment'] },
  { invoke: ['increment', 5] },
  { invoke: ['increment', '2'] },
  { query: ['get'] },
  { invoke: ['increment', 0] },
  { block: [['increment', 3], ['increment', 4], ['get']] },
  { invoke: ['reset'] },
  { query: ['get'] },
];

describe('examples give the same receipts, queries and state in Docker as in QuickJS', () => {
  it('examples/bank', async () => {
    const bundle = await bundleDirectory(join(EXAMPLES, 'bank'));
    const inQuickJs = await runScript(quickjs, 'bank', bundle, BANK);
    const inDocker = await runScript(docker, 'bank', bundle, BANK);
    expect(inDocker.seen).toEqual(inQuickJs.seen);
    expect(inDocker.state).toEqual(inQuickJs.state);
    // Not equal by accident (both broken alike): the bank did what a bank does.
    expect(inDocker.seen[4]).toMatchObject({
      status: 'ok',
      result: { from: 'alice', to: 'bob', amount: 40 },
    });
    expect(inDocker.seen[5]?.error).toEqual({
      code: 'icode-error',
      message: 'insufficient funds: bob has 40, needs 41',
    });
    expect(inDocker.seen.at(-1)?.error?.code).toBe('read-only');
    expect(inDocker.state).toEqual([
      { key: 'balance/alice', value: '85' },
      { key: 'balance/bob', value: '40' },
      { key: 'balance/carol', value: '0' },
      { key: 'balance/dave', value: '3' },
      { key: 'balance/erin', value: '7' },
    ]);
  });

  it('examples/counter', async () => {
    const bundle = await bundleDirectory(join(EXAMPLES, 'counter'));
    const inQuickJs = await runScript(quickjs, 'counter', bundle, COUNTER);
    const inDocker = await runScript(docker, 'counter', bundle, COUNTER);
    expect(inDocker.seen).toEqual(inQuickJs.seen);
    expect(inDocker.state).toEqual(inQuickJs.state);
    expect(inDocker.seen.map((s) => s.result ?? s.error?.code)).toEqual([
      1,
      6,
      8,
      8,
      'icode-error',
      11,
      15,
      15,
      0,
      0,
    ]);
  });

  it('Docker gas is the call cost plus the host charges QuickJS also makes, the same on every run', async () => {
    const bundle = await bundleDirectory(join(EXAMPLES, 'counter'));
    const steps: Step[] = [{ invoke: ['increment', 2] }, { query: ['get'] }];
    const first = await runScript(docker, 'counter-gas', bundle, steps);
    const again = await runScript(docker, 'counter-gas', bundle, steps);
    expect(again.gas).toEqual(first.gas);
    // get "count" (5 key bytes, no value), then put "count" = "2" (5 + 1 bytes).
    const increment = DOCKER_GAS.call + (GAS.stateCall + 5) + (GAS.stateCall + 6);
    // get "count" = "2".
    const get = DOCKER_GAS.call + GAS.stateCall + 6;
    expect(first.gas).toEqual([increment, get]);
  });
});

// The SDK as an iCode sees it, including everything it must not have. Engine-made error messages
// (V8's and QuickJS's wording differ) are compared by code; everything the SDK says, exactly.
const SURFACE = bundleOf(`
export function context(ctx, ...args) {
  return { icodeId: ctx.icodeId, fn: ctx.fn, args: ctx.args, tx: ctx.tx, signer: ctx.signer, rest: args };
}
export function absent() {
  const names = ['require', 'process', 'fetch', 'Buffer', 'setTimeout', 'setImmediate', 'queueMicrotask',
    'XMLHttpRequest', 'WebSocket', 'WebAssembly', 'Atomics', 'Intl', 'module', 'global'];
  return names.filter((n) => typeof globalThis[n] !== 'undefined');
}
export function refused() {
  const out = {};
  const tries = { date: () => Date.now(), newDate: () => new Date(), random: () => Math.random(), eval: () => eval('1'),
    fn: () => Function('return 1')(), ctor: () => (() => 1).constructor('return 1')(),
    weak: () => new WeakRef({}) };
  for (const [k, f] of Object.entries(tries)) {
    try { f(); out[k] = 'ran'; } catch (e) { out[k] = e.message; }
  }
  return out;
}
export function readYourWrites(ctx) {
  ctx.put('a/1', { n: 1 }); ctx.put('a/2', [1, 'two']); ctx.put('b', true); ctx.del('a/1');
  return { a1: ctx.get('a/1'), a2: ctx.get('a/2'), range: ctx.range('a/'), all: ctx.range({ from: 'a', to: 'c', limit: 5 }) };
}
export async function later(ctx, x) { await null; ctx.put('later', x); return { x }; }
export function numberKey(ctx) { return ctx.get(42); }
export function fraction(ctx) { ctx.put('f', 0.5); }
export function badRange(ctx) { return ctx.range({ prefix: 'a', oops: 1 }); }
export function bigValue(ctx) { ctx.put('big', 'x'.repeat(70000)); }
export function hugeResult() { return 'y'.repeat(70000); }
export function fractionResult() { return 1.25; }
export function undefinedResult() {}
export function throwsString() { throw 'plain string'; }
export function throwsObject() { throw { message: 'an object', name: 'Custom' }; }
export function rejects() { return Promise.reject(new RangeError('no')); }
export function never() { return new Promise(() => {}); }
export function catchesViolation(ctx) { try { ctx.put(1, 2); } catch {} ctx.put('after', 1); return 'kept going'; }
export function violationThenLoop(ctx) { try { ctx.get(''); } catch {} for (;;) {} }
export function afterReturn(ctx) { Promise.resolve().then(() => ctx.put('late', 1)); return 'returned'; }
export function unhandled() { Promise.reject(new Error('nobody listens')); return 'fine'; }
export function deep() { const f = (n) => f(n + 1) + 1; return f(0); }
export function leaveGlobal() { globalThis.leak = 1; }
export function pollute() { Object.prototype.polluted = 1; }
export function seesNothingLeft() { return [typeof globalThis.leak, typeof ({}).polluted]; }
export function logs() { console.log('hello', 1); return 'logged'; }
`);

const EXACT: [fn: string, ...args: (string | number)[]][] = [
  ['context', 1, 'two'],
  ['absent'],
  ['refused'],
  ['readYourWrites'],
  ['later', 7],
  ['numberKey'],
  ['fraction'],
  ['badRange'],
  ['bigValue'],
  ['hugeResult'],
  ['fractionResult'],
  ['undefinedResult'],
  ['throwsString'],
  ['throwsObject'],
  ['rejects'],
  ['never'],
  ['catchesViolation'],
  ['violationThenLoop'],
  ['afterReturn'],
  ['unhandled'],
  ['deep'],
  ['seesNothingLeft'],
  ['logs'],
  ['missing'],
];

describe('an iCode sees the same SDK and the same realm in Docker as in QuickJS', () => {
  it('ctx, refused built-ins, state rules, results and errors are identical', async () => {
    const steps: Step[] = [...EXACT.map((call) => ({ invoke: call })), { query: ['readYourWrites'] }];
    const inQuickJs = await runScript(quickjs, 'surface', SURFACE, steps);
    const inDocker = await runScript(docker, 'surface', SURFACE, steps);
    expect(inDocker.seen).toEqual(inQuickJs.seen);
    expect(inDocker.seen[1]?.result).toEqual([]);
    expect(inDocker.seen.find((s) => s.step === 'invoke deep')?.error?.code).toBe('stack-overflow');
    // The first broken state rule decides the outcome, even if the iCode catches it and goes on.
    expect(inDocker.seen.find((s) => s.step === 'invoke catchesViolation')?.error?.code).toBe(
      'bad-state-access',
    );
    expect(inDocker.seen.find((s) => s.step === 'invoke violationThenLoop')?.error).toEqual({
      code: 'bad-state-access',
      message: 'a key must not be empty',
    });
    // Promise jobs a function leaves behind run as part of its call, as in QuickJS.
    expect(inDocker.seen.find((s) => s.step === 'invoke afterReturn')?.writes).toEqual([
      { key: 'late', value: '1' },
    ]);
    expect(inDocker.seen.find((s) => s.step === 'invoke unhandled')?.result).toBe('fine');
  });

  it('changing globals or built-in prototypes fails the call in both, and leaves nothing for the next', async () => {
    const steps: Step[] = [{ block: [['leaveGlobal'], ['pollute'], ['seesNothingLeft']] }];
    const inQuickJs = await runScript(quickjs, 'surface', SURFACE, steps);
    const inDocker = await runScript(docker, 'surface', SURFACE, steps);
    const codes = (run: typeof inDocker) => run.seen.map((s) => s.result ?? s.error?.code);
    expect(codes(inDocker)).toEqual(codes(inQuickJs));
    expect(codes(inDocker)).toEqual(['icode-error', 'icode-error', ['undefined', 'undefined']]);
  });
});
