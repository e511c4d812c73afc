import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNodeCredentials } from '../../adapters/pki/node-credentials.ts';
import { loadConfig } from '../../config/load-config.ts';
import type { GenesisFile } from '../../domain/genesis.ts';
import { identityFromPrivatePem } from '../../domain/identity.ts';
import { type Run, runItchain } from './run-itchain.ts';

const root = mkdtempSync(join(tmpdir(), 'itchain-init-'));
const solo = join(root, 'solo');
const net = join(root, 'net');
const joiner = join(root, 'joiner');
let soloRun: Run;
let joinRun: Run;

beforeAll(async () => {
  const [soloResult] = await Promise.all([
    runItchain([
      'init',
      '--home',
      solo,
      '--network-id',
      'corner-shop',
      '--api-port',
      '4100',
      '--grpc-port',
      '5100',
    ]),
    runItchain(['testnet', '--nodes', '2', '--dir', net]),
  ]);
  soloRun = soloResult;
  joinRun = await runItchain([
    'init',
    '--home',
    joiner,
    '--ca',
    join(net, 'ca'),
    '--genesis',
    join(net, 'genesis.json'),
    '--api-port',
    '4010',
    '--grpc-port',
    '5010',
    '--peer',
    `${loadNodeCredentials(join(net, 'node0')).nodeId}@127.0.0.1:5000`,
  ]);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const read = (path: string) => readFileSync(path, 'utf8');
const mode = (path: string) => statSync(path).mode & 0o777;

describe('itchain init --home D (a one-node network of its own)', () => {
  it('writes a home with its own CA and prints what it wrote', () => {
    expect(soloRun.stderr).toBe('');
    expect(soloRun.code).toBe(0);
    expect(soloRun.stdout).toContain(`Wrote the node home ${solo}`);
    expect(readdirSync(solo).sort()).toEqual([
      'ca',
      'ca.crt',
      'config.yaml',
      'genesis.json',
      'node.crt',
      'node.key',
    ]);
    expect(mode(join(solo, 'node.key'))).toBe(0o600);
    expect(mode(join(solo, 'ca/ca.key'))).toBe(0o600);
  });

  it('its certificate verifies against its CA and its genesis names it the only validator', () => {
    const nodeId = identityFromPrivatePem(read(join(solo, 'node.key'))).nodeId;
    const leaf = new X509Certificate(read(join(solo, 'node.crt')));
    expect(leaf.verify(new X509Certificate(read(join(solo, 'ca/ca.crt'))).publicKey)).toBe(true);
    expect(loadNodeCredentials(solo).nodeId).toBe(nodeId);
    const genesis: GenesisFile = JSON.parse(read(join(solo, 'genesis.json')));
    expect(genesis.networkId).toBe('corner-shop');
    expect(genesis.validators.map((v) => v.nodeId)).toEqual([nodeId]);
    expect(genesis.creator).toBe(nodeId);
  });

  it('its config loads with the chosen ports and no bootstrap peers', () => {
    const config = loadConfig(join(solo, 'config.yaml'), {});
    expect([config.api.port, config.grpc.port]).toEqual([4100, 5100]);
    expect(config.network.id).toBe('corner-shop');
    expect(config.grpc.bootstrapPeers).toEqual([]);
  });

  it('refuses an existing home without --force and replaces it with --force', async () => {
    const before = read(join(solo, 'node.key'));
    const refused = await runItchain(['init', '--home', solo]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`itchain: ${solo} already exists (use --force to replace it)\n`);
    expect(read(join(solo, 'node.key'))).toBe(before);
    const forced = await runItchain(['init', '--home', solo, '--force']);
    expect(forced.code).toBe(0);
    expect(read(join(solo, 'node.key'))).not.toBe(before);
    expect(readdirSync(root).sort()).toEqual(['joiner', 'net', 'solo']);
  });
});

describe('itchain init --home D --ca CA --genesis G (a node to join a running network)', () => {
  it('its certificate is issued by the network CA and accepted as a peer of the network', () => {
    expect(joinRun.stderr).toBe('');
    expect(joinRun.code).toBe(0);
    const nodeId = loadNodeCredentials(joiner).nodeId;
    const leaf = new X509Certificate(read(join(joiner, 'node.crt')));
    expect(leaf.verify(new X509Certificate(read(join(net, 'ca/ca.crt'))).publicKey)).toBe(true);
    expect(read(join(joiner, 'ca.crt'))).toBe(read(join(net, 'ca/ca.crt')));
    expect(leaf.subjectAltName).toBe(`DNS:${nodeId}`);
  });

  it("holds the network's genesis byte for byte, is not a validator in it, and has no CA key", () => {
    expect(read(join(joiner, 'genesis.json'))).toBe(read(join(net, 'genesis.json')));
    const genesis: GenesisFile = JSON.parse(read(join(joiner, 'genesis.json')));
    expect(genesis.validators.map((v) => v.nodeId)).not.toContain(loadNodeCredentials(joiner).nodeId);
    expect(existsSync(join(joiner, 'ca'))).toBe(false);
    expect(joinRun.stdout).toContain('not a validator');
  });

  it("its config names the network's ID, its ports and the given bootstrap peer", () => {
    const config = loadConfig(join(joiner, 'config.yaml'), {});
    expect(config.network.id).toBe('itchain-testnet');
    expect([config.api.port, config.grpc.port]).toEqual([4010, 5010]);
    expect(config.grpc.bootstrapPeers).toEqual([
      { nodeId: loadNodeCredentials(join(net, 'node0')).nodeId, host: '127.0.0.1', port: 5000 },
    ]);
  });

  it('refuses a CA that is not the one pinned in the genesis file, writing nothing', async () => {
    const target = join(root, 'mismatch');
    const run = await runItchain([
      'init',
      '--home',
      target,
      '--ca',
      join(solo, 'ca'),
      '--genesis',
      join(net, 'genesis.json'),
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `itchain: the CA in ${join(solo, 'ca')} is not the CA pinned in ${join(net, 'genesis.json')}\n`,
    );
    expect(existsSync(target)).toBe(false);
  });

  it('refuses usage mistakes with one line each', async () => {
    const target = join(root, 'never');
    const [caOnly, badPeer, samePorts] = await Promise.all([
      runItchain(['init', '--home', target, '--ca', join(net, 'ca')]),
      runItchain(['init', '--home', target, '--peer', 'node0@127.0.0.1:5000']),
      runItchain(['init', '--home', target, '--api-port', '5000']),
    ]);
    expect(caOnly.stderr).toBe(
      'itchain: --ca and --genesis go together: both to join an existing network, neither for a new one\n',
    );
    expect(badPeer.stderr).toBe('itchain: --peer must be nodeId@host:port, got "node0@127.0.0.1:5000"\n');
    expect(samePorts.stderr).toBe('itchain: --api-port and --grpc-port must differ\n');
    expect([caOnly.code, badPeer.code, samePorts.code]).toEqual([1, 1, 1]);
    expect(existsSync(target)).toBe(false);
  });
});
