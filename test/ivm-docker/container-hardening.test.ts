import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerRuntime } from '../../adapters/icode/docker/docker-runtime.ts';
import { nodeBinary } from '../../adapters/icode/docker/image.ts';
import { MemoryState } from '../../adapters/icode/memory-state.ts';
import { invokeOnce } from '../../adapters/icode/runtime.ts';
import { bundleOf, txContext } from '../ivm/fixtures.ts';
import { dockerEngine, ENGINE_TIMEOUT_MS } from './engine.ts';
import { probeContainer } from './exec-probe.ts';

// SPEC §5, Docker runtime: one long-running container per iCode from a locally built image, with no
// network, a read-only root, all capabilities dropped, memory and pids limits, a non-root user; a
// call that kills its container is an error receipt, and the runtime goes on with a new container.

const MiB = 1024 * 1024;
const CONTAINER_MEMORY = 160 * MiB;
// Generous, so that a memory bomb always dies of memory first even on a loaded machine; the endless
// loop runs in a runtime of its own with a short limit.
const CALL_TIMEOUT_MS = 20_000;
const SPIN_TIMEOUT_MS = 400;

const ICODE = bundleOf(`
export function inc(ctx) { const n = (ctx.get('n') ?? 0) + 1; ctx.put('n', n); return n; }
export function reach(ctx) {
  const out = {};
  try { fetch('http://1.1.1.1/'); out.fetch = 'called'; } catch (e) { out.fetch = e.name; }
  try { const load = require; load('node:net'); out.require = 'called'; } catch (e) { out.require = e.name; }
  try { process.binding('tcp_wrap'); out.process = 'called'; } catch (e) { out.process = e.name; }
  try { out.escape = typeof ctx.get.constructor.constructor('return process')(); } catch (e) { out.escape = e.name; }
  return out;
}
export function heapBomb() { const keep = []; for (;;) keep.push(new Array(100000).fill(keep.length)); }
export function bufferBomb() { const keep = []; for (;;) { const b = new Uint8Array(16 << 20); b.fill(1); keep.push(b); } }
export function spin() { for (;;) {} }
`);

let docker: Docker;
let socketPath: string;
let runtime: DockerRuntime;
const state = new MemoryState();

async function call(fn: string, icodeId = 'hardening') {
  const r = await invokeOnce(runtime, { icodeId, bundle: ICODE, fn, args: [], state, tx: txContext() });
  if (r.status === 'ok') state.apply(r.writes);
  return r;
}

function containerOf(icodeId = 'hardening'): string {
  const id = runtime.containers().get(icodeId);
  if (!id) throw new Error(`no container for ${icodeId}`);
  return id;
}

async function exists(containerId: string): Promise<boolean> {
  try {
    const info = await docker.getContainer(containerId).inspect();
    return info.State.Running;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  const engine = await dockerEngine();
  docker = engine.docker;
  socketPath = engine.socketPath;
  runtime = new DockerRuntime({
    socketPath: engine.socketPath,
    image: engine.image,
    containerMemoryBytes: CONTAINER_MEMORY,
    callTimeoutMs: CALL_TIMEOUT_MS,
  });
}, ENGINE_TIMEOUT_MS);

afterAll(async () => {
  await runtime?.close();
});

describe('the container of an iCode', () => {
  it('is created on first use and reused by later calls and blocks', async () => {
    expect((await call('inc')).result).toBe(1);
    const first = containerOf();
    expect((await call('inc')).result).toBe(2);
    expect(
      await runtime.query({ icodeId: 'hardening', bundle: ICODE, fn: 'inc', args: [], state }),
    ).toMatchObject({
      status: 'error',
      error: { code: 'read-only' },
    });
    expect(containerOf()).toBe(first);
  });

  it('runs the local image with no network, a read-only root, no capabilities, limits and user 65534', async () => {
    await call('inc');
    const info = await docker.getContainer(containerOf()).inspect();
    expect(info.Config.Image).toMatch(/^local\/itchain-icode:/);
    expect(info.Config.User).toBe('65534:65534');
    expect(info.HostConfig.NetworkMode).toBe('none');
    expect(info.HostConfig.ReadonlyRootfs).toBe(true);
    expect(info.HostConfig.CapDrop).toEqual(['ALL']);
    expect(info.HostConfig.SecurityOpt).toEqual(['no-new-privileges']);
    expect(info.HostConfig.PidsLimit).toBe(64);
    expect(info.HostConfig.Memory).toBe(CONTAINER_MEMORY);
    expect(info.HostConfig.MemorySwap).toBe(CONTAINER_MEMORY);
  });

  it('gives code that reaches its node process no network, no writable root, no capabilities, uid 65534', async () => {
    await call('inc');
    const report = await probeContainer(docker, containerOf(), nodeBinary());
    expect(report).toEqual({
      uid: 65534,
      gid: 65534,
      interfaces: ['lo'],
      capEff: '0000000000000000',
      noNewPrivs: '1',
      rootWrite: 'EROFS',
      tmpWrite: 'written',
      connect: 'ENETUNREACH',
    });
  });

  it('an iCode that tries to connect or reach node fails: none of fetch, require, process exists', async () => {
    const r = await call('reach');
    expect(r.result).toEqual({
      fetch: 'ReferenceError',
      require: 'ReferenceError',
      process: 'ReferenceError',
      escape: 'TypeError', // ctx.get's constructor is the guest's Function, which is refused
    });
  });
});

describe('a call that breaks its container', () => {
  it('a heap bomb is an out-of-memory receipt; the next call runs in a new container', async () => {
    await call('inc');
    const before = containerOf();
    const r = await call('heapBomb');
    expect(r).toMatchObject({ status: 'error', error: { code: 'out-of-memory' }, writes: [] });
    expect(r.gasUsed).toBe(runtime.limits.gasLimit);
    expect(await exists(before)).toBe(false);
    expect((await call('inc')).status).toBe('ok');
    expect(containerOf()).not.toBe(before);
  });

  it('a memory bomb past the container limit (exit 137) is an out-of-memory receipt; the runtime goes on', async () => {
    const r = await call('bufferBomb');
    expect(r).toMatchObject({ status: 'error', error: { code: 'out-of-memory' }, writes: [] });
    expect((await call('inc')).status).toBe('ok');
  });

  it('an endless loop is out of gas at the time limit, with gasUsed = the gas limit; the runtime goes on', async () => {
    const impatient = new DockerRuntime({ socketPath, callTimeoutMs: SPIN_TIMEOUT_MS });
    const run = (fn: string) =>
      invokeOnce(impatient, { icodeId: 'spin', bundle: ICODE, fn, args: [], state, tx: txContext() });
    try {
      expect((await run('inc')).status).toBe('ok');
      const started = performance.now();
      const r = await run('spin');
      expect(r).toMatchObject({
        status: 'error',
        error: { code: 'out-of-gas' },
        gasUsed: impatient.limits.gasLimit,
      });
      expect(performance.now() - started).toBeLessThan(SPIN_TIMEOUT_MS + 5000);
      expect((await run('inc')).status).toBe('ok');
    } finally {
      await impatient.close();
    }
  });
});

describe('container lifetime', () => {
  it('forget removes the iCode container; close removes all of them', async () => {
    await call('inc', 'one');
    await call('inc', 'two');
    const one = containerOf('one');
    const two = containerOf('two');
    expect(one).not.toBe(two);
    await runtime.forget('one');
    expect(await exists(one)).toBe(false);
    expect(await exists(two)).toBe(true);
    const other = new DockerRuntime({ socketPath });
    await invokeOnce(other, {
      icodeId: 'x',
      bundle: ICODE,
      fn: 'inc',
      args: [],
      state: new MemoryState(),
      tx: txContext(),
    });
    const x = other.containers().get('x') ?? '';
    await other.close();
    expect(await exists(x)).toBe(false);
  });

  it('with no engine every call is an unavailable receipt, not a crash', async () => {
    const down = new DockerRuntime({ socketPath: '/nonexistent/docker.sock' });
    try {
      const r = await invokeOnce(down, {
        icodeId: 'x',
        bundle: ICODE,
        fn: 'inc',
        args: [],
        state,
        tx: txContext(),
      });
      expect(r).toMatchObject({ status: 'error', error: { code: 'unavailable' }, gasUsed: 0, writes: [] });
    } finally {
      await down.close();
    }
  });
});
