import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChainFixture } from '../support/chain-fixture.ts';
import { openFixtureStore, removeDir, tempDir } from './store-helpers.ts';

// SPEC §3 / issue 2: a child process appends blocks and is SIGKILLed at a random moment, five times
// on the same directory. Every reopen must find a consistent store (the audit: last_block is the
// highest height, no gaps, every index resolves, every block validates with its certificate), with
// every acknowledged append kept, the block's receipts and state writes present exactly when the
// block is, and appends continuing from there.

const WRITER = fileURLToPath(new URL('./crash-writer.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Starts the writer; resolves once it has acknowledged its first append. */
function startWriter(dir: string, secrets: string) {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', WRITER, dir, secrets], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let acknowledged = -1;
  let stderr = '';
  let buffer = '';
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('close', (_code, signal) => resolve(signal)),
  );
  const firstAppend = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        const match = /^appended (\d+)$/.exec(line);
        if (match) {
          acknowledged = Number(match[1]);
          resolve();
        }
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    void exited.then(() => reject(new Error(`writer exited before appending:\n${stderr}`)));
  });
  return { child, exited, firstAppend, acknowledged: () => acknowledged };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('crash safety: SIGKILL mid-stream leaves a consistent store', () => {
  const fixture = createChainFixture();
  let dir: string;
  let secrets: string;

  beforeAll(async () => {
    dir = await tempDir();
    secrets = join(dir, 'fixture.json');
    await writeFile(secrets, JSON.stringify(fixture.secrets()));
  });
  afterAll(async () => {
    await removeDir(dir);
  });

  it('five SIGKILLs at random moments: every reopen audits clean, keeps acknowledged blocks and continues', async () => {
    const delays = [40, 110, 190, 270, 350].map((base) => base + Math.floor(Math.random() * 60));
    const storeDir = join(dir, 'chain');
    let previousHeight = 0;

    for (const delay of delays) {
      const writer = startWriter(storeDir, secrets);
      await writer.firstAppend;
      await sleep(delay);
      writer.child.kill('SIGKILL');
      expect(await writer.exited, `delay ${delay} ms`).toBe('SIGKILL');
      const acknowledged = writer.acknowledged();

      const store = await openFixtureStore(storeDir, fixture);
      try {
        const report = await store.audit();
        const context = `killed after ${delay} ms; acknowledged ${acknowledged}, stored ${report.height}`;
        // Every acknowledged append survived; at most the one in flight went beyond it.
        expect(report.height, context).toBeGreaterThanOrEqual(acknowledged);
        expect(report.height, context).toBeLessThanOrEqual(acknowledged + 1);
        expect(report.height, context).toBeGreaterThan(previousHeight);

        // The last block's state write and receipts landed with it, not before or after.
        const last = store.lastBlock()!;
        expect(await store.getState('kv', 'height'), context).toBe(last.height);
        for (const tx of last.txs)
          expect(await store.getReceipt(tx.id), context).toEqual({ height: last.height });
        expect(await store.getSealAt(last.height + 1), context).toBeUndefined();

        // Appending continues from the recovered last block.
        const next = fixture.nextBlock(last, fixture.txs(2), { timestamp: last.timestamp + 1 });
        await store.append(next, fixture.certify(next));
        expect(store.height).toBe(last.height + 1);
        previousHeight = store.height;
      } finally {
        await store.close();
      }
    }

    const final = await openFixtureStore(storeDir, fixture);
    try {
      expect((await final.audit()).height).toBe(previousHeight);
    } finally {
      await final.close();
    }
  });
});
