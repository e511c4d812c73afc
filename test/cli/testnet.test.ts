import { X509Certificate } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNodeCredentials } from '../../adapters/pki/node-credentials.ts';
import { loadConfig } from '../../config/load-config.ts';
import type { GenesisFile } from '../../domain/genesis.ts';
import { identityFromPrivatePem, nodeIdOf } from '../../domain/identity.ts';
import { type Run, runItchain } from './run-itchain.ts';

const root = mkdtempSync(join(tmpdir(), 'itchain-testnet-'));
const dir = join(root, 'net');
let first: Run;

beforeAll(async () => {
  first = await runItchain(['testnet', '--nodes', '4', '--dir', dir]);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const homes = [0, 1, 2, 3].map((i) => join(dir, `node${i}`));
const mode = (path: string) => statSync(path).mode & 0o777;
const read = (path: string) => readFileSync(path, 'utf8');

describe('itchain testnet --nodes 4 --dir D', () => {
  it('succeeds and prints what it wrote', () => {
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`Wrote the 4-node testnet "itchain-testnet" in ${dir}`);
    expect(first.stdout).toContain('node3/');
  });

  it('writes the CA (key mode 0600), the genesis file and four homes, nothing else', () => {
    expect(readdirSync(dir).sort()).toEqual(['ca', 'genesis.json', 'node0', 'node1', 'node2', 'node3']);
    expect(mode(join(dir, 'ca/ca.key'))).toBe(0o600);
    expect(new X509Certificate(read(join(dir, 'ca/ca.crt'))).ca).toBe(true);
    expect(readdirSync(root)).toEqual(['net']);
  });

  it('every node certificate verifies against the CA, with CN = DNS SAN = node ID of its key', () => {
    const ca = new X509Certificate(read(join(dir, 'ca/ca.crt')));
    for (const home of homes) {
      const leaf = new X509Certificate(read(join(home, 'node.crt')));
      expect(leaf.verify(ca.publicKey)).toBe(true);
      expect(leaf.checkIssued(ca)).toBe(true);
      const nodeId = identityFromPrivatePem(read(join(home, 'node.key'))).nodeId;
      expect(nodeIdOf(leaf.publicKey)).toBe(nodeId);
      expect(leaf.subject.split('\n')).toContain(`CN=${nodeId}`);
      expect(leaf.subjectAltName).toBe(`DNS:${nodeId}`);
      expect(read(join(home, 'ca.crt'))).toBe(read(join(dir, 'ca/ca.crt')));
      expect(loadNodeCredentials(home).nodeId).toBe(nodeId);
    }
  });

  it('node keys are written with mode 0600', () => {
    for (const home of homes) expect(mode(join(home, 'node.key'))).toBe(0o600);
  });

  it('every home holds the same genesis, listing the four validators and pinning the CA', () => {
    const text = read(join(dir, 'genesis.json'));
    for (const home of homes) expect(read(join(home, 'genesis.json'))).toBe(text);
    const genesis: GenesisFile = JSON.parse(text);
    const ids = homes.map((home) => identityFromPrivatePem(read(join(home, 'node.key'))).nodeId);
    expect(genesis.validators.map((v) => v.nodeId)).toEqual(ids);
    for (const v of genesis.validators) {
      expect(
        nodeIdOf(new X509Certificate(read(join(homes[ids.indexOf(v.nodeId)]!, 'node.crt'))).publicKey),
      ).toBe(v.nodeId);
    }
    expect(genesis.networkId).toBe('itchain-testnet');
    expect(genesis.creator).toBe(ids[0]);
    expect(genesis.caCertificate).toBe(read(join(dir, 'ca/ca.crt')));
  });

  it('every config loads; node i has API 4000+i, gRPC 5000+i and the other three as bootstrap peers', () => {
    const ids = homes.map((home) => identityFromPrivatePem(read(join(home, 'node.key'))).nodeId);
    homes.forEach((home, i) => {
      const config = loadConfig(join(home, 'config.yaml'), {});
      expect(config.api.port).toBe(4000 + i);
      expect(config.grpc.port).toBe(5000 + i);
      expect(config.network.id).toBe('itchain-testnet');
      expect(config.node.keyFile).toBe(join(home, 'node.key'));
      expect(config.network.genesisFile).toBe(join(home, 'genesis.json'));
      expect(config.storage.path).toBe(join(home, 'data'));
      expect(config.grpc.bootstrapPeers.map((p) => p.nodeId)).toEqual(ids.filter((_, j) => j !== i));
      expect(config.grpc.bootstrapPeers.map((p) => p.port)).toEqual(
        [0, 1, 2, 3].filter((j) => j !== i).map((j) => 5000 + j),
      );
    });
  });
});

describe('itchain testnet on an existing directory', () => {
  it('refuses without --force, with a one-line reason and exit code 1, leaving it untouched', async () => {
    const before = read(join(dir, 'genesis.json'));
    const run = await runItchain(['testnet', '--nodes', '2', '--dir', dir]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`itchain: ${dir} already exists (use --force to replace it)\n`);
    expect(read(join(dir, 'genesis.json'))).toBe(before);
  });

  it('with --force replaces it cleanly: new CA, only the new homes, no leftovers beside it', async () => {
    const before = read(join(dir, 'ca/ca.crt'));
    const run = await runItchain(['testnet', '--nodes', '2', '--dir', dir, '--force', '--base-port', '7000']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['ca', 'genesis.json', 'node0', 'node1']);
    expect(read(join(dir, 'ca/ca.crt'))).not.toBe(before);
    expect(readdirSync(root)).toEqual(['net']);
    const config = loadConfig(join(dir, 'node1/config.yaml'), {});
    expect([config.api.port, config.grpc.port]).toEqual([7001, 8001]);
  });

  it('refuses to --force over a directory that is not a testnet, leaving it untouched', async () => {
    const other = join(root, 'precious');
    mkdirSync(other);
    writeFileSync(join(other, 'notes.txt'), 'keep me');
    const run = await runItchain(['testnet', '--nodes', '1', '--dir', other, '--force']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `itchain: ${other} does not look like an itchain testnet; refusing to replace it\n`,
    );
    expect(readdirSync(other)).toEqual(['notes.txt']);
    rmSync(other, { recursive: true });
  });
});

describe('itchain testnet option errors', () => {
  it('a bad --nodes is one line on stderr and exit code 1, and writes nothing', async () => {
    const target = join(root, 'bad');
    const runs = await Promise.all(
      ['0', '65', 'four', '2.5'].map((nodes) => runItchain(['testnet', '--nodes', nodes, '--dir', target])),
    );
    for (const run of runs) {
      expect(run.code).toBe(1);
      expect(run.stderr).toBe('itchain: --nodes must be an integer from 1 to 64\n');
    }
    expect(existsSync(target)).toBe(false);
  });

  it('a --base-port that would push gRPC ports past 65535 is refused', async () => {
    const run = await runItchain([
      'testnet',
      '--nodes',
      '4',
      '--dir',
      join(root, 'bad'),
      '--base-port',
      '64600',
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('itchain: --base-port must be an integer from 1 to 64532\n');
  });

  it('a missing --dir is one line from the option parser', async () => {
    const run = await runItchain(['testnet', '--nodes', '4']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe("itchain: required option '--dir <dir>' not specified\n");
  });
});
