import { appendFile, copyFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestnet, type Testnet } from '../../cli/setup/testnet.ts';
import { runItchain } from '../cli/run-itchain.ts';
import { PORTS } from '../support/network.ts';

// `itchain start` refuses to run a node it cannot run safely: one line on stderr, exit code 1.

let dir: string;
let first: Testnet;
let other: Testnet;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'itchain-start-'));
  first = await createTestnet({
    dir: join(dir, 'a'),
    nodes: 2,
    basePort: PORTS.startCommand,
    networkId: 'net-a',
    organization: 'a',
  });
  other = await createTestnet({
    dir: join(dir, 'b'),
    nodes: 1,
    basePort: PORTS.startCommand + 10,
    networkId: 'net-a',
    organization: 'b',
  });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const env = (extra: Record<string, string> = {}) => ({ ...process.env, ...extra });

function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^itchain: /);
  return lines[0]!;
}

describe('itchain start refuses, with one line and exit code 1', () => {
  it('an unknown config key, naming the file and the key', async () => {
    const home = first.nodes[0]!.home;
    await appendFile(join(home, 'config.yaml'), 'txpool:\n  maxBatchTx: 5\n');
    const run = await runItchain(['start', '--home', home], env());
    expect(run.code).toBe(1);
    expect(oneLine(run.stderr)).toMatch(/config\.yaml: txpool\.maxBatchTx: unknown key$/);
  });

  it('a bad ITCHAIN_* override, naming the variable', async () => {
    const run = await runItchain(
      ['start', '--home', first.nodes[1]!.home],
      env({ ITCHAIN_API_PORT: 'eighty' }),
    );
    expect(run.code).toBe(1);
    expect(oneLine(run.stderr)).toMatch(/ITCHAIN_API_PORT/);
  });

  it('a genesis file of another network (same id, another CA), before it touches the store', async () => {
    const home = first.nodes[1]!.home;
    await copyFile(join(other.dir, 'genesis.json'), join(home, 'genesis.json'));
    const run = await runItchain(['start', '--home', home], env());
    expect(run.code).toBe(1);
    expect(oneLine(run.stderr)).toMatch(/not the CA pinned in the genesis file/);
  });

  it('a port another process holds, saying which', async () => {
    const home = other.nodes[0]!.home;
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(other.nodes[0]!.apiPort, '127.0.0.1', resolve));
    try {
      const run = await runItchain(['start', '--home', home], env());
      expect(run.code).toBe(1);
      expect(oneLine(run.stderr)).toMatch(/cannot listen on 127\.0\.0\.1:\d+: the address is in use/);
    } finally {
      blocker.close();
    }
  });
});
