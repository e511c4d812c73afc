import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { eventually, PORTS } from '../support/network.ts';

// `itchain up` as a new user runs it: from an empty directory, four node processes, a tx through the
// API, Ctrl-C (SIGINT) stops everything with exit 0, and the next `up` continues with the data.

const BIN = fileURLToPath(new URL('../../bin/itchain.js', import.meta.url));
const BASE = PORTS.up;
let cwd: string;

interface Up {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function up(): Up {
  const child = spawn(process.execPath, [BIN, 'up', '--base-port', String(BASE)], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => text, exited };
}

const api = (i: number) => `http://127.0.0.1:${BASE + i}`;

async function json<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(5_000) });
  return { status: response.status, body: (await response.json()) as T };
}

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'itchain-up-'));
});

afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});

describe('itchain up', () => {
  it('creates and starts a 4-node network, takes a tx, stops cleanly on Ctrl-C, and resumes with its data', async () => {
    let run = up();
    onTestFailed(() => {
      run.child.kill('SIGKILL');
      process.stderr.write(run.output().split('\n').slice(-80).join('\n'));
    });
    await eventually(
      'the network to be up',
      () => (run.output().includes('The network is up') ? true : undefined),
      45_000,
    );
    const printed = run.output();
    expect(printed).toContain('Created a 4-node network');
    for (const i of [0, 1, 2, 3]) expect(printed).toContain(`API ${api(i)}`);
    expect(printed).toContain(`Live view:  ${api(0)}/`);
    expect(printed).toMatch(/node2 +│ /); // the nodes' logs, prefixed

    const submitted = await json<{ id: string }>(`${api(1)}/transactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ icodeId: 'kv', function: 'put', args: ['k', 'v'] }),
    });
    expect(submitted.status).toBe(202);
    const id = submitted.body.id;
    for (const i of [0, 1, 2, 3]) {
      await eventually(`committed on node${i}`, async () => {
        const tx = await json<{ status: string }>(`${api(i)}/transactions/${id}`);
        return tx.body.status === 'committed' ? true : undefined;
      });
    }

    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    expect(run.output()).toContain('Stopped.');
    await expect(fetch(`${api(0)}/status`)).rejects.toThrow();

    run = up();
    await eventually(
      'the network to be up again',
      () => (run.output().includes('The network is up') ? true : undefined),
      45_000,
    );
    expect(run.output()).toContain('Reusing the 4-node network');
    const again = await json<{ status: string; height: number }>(`${api(3)}/transactions/${id}`);
    expect(again.body.status).toBe('committed');
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });
});
