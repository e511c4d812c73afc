import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../config/load-config.ts';

const dir = mkdtempSync(join(tmpdir(), 'itchain-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let written = 0;
function configFile(text: string): string {
  const file = join(dir, `config-${written++}.yaml`);
  writeFileSync(file, text);
  return file;
}

function failureOf(load: () => unknown): string {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('expected the config to be refused');
}

describe('loadConfig: the file', () => {
  it('an empty file is a valid config with every default', () => {
    const config = loadConfig(configFile(''), {});
    expect(config.api).toEqual({ host: '127.0.0.1', port: 4000, token: null });
    expect(config.bus.url).toBe('memory');
    expect(config.consensus.electionTimeoutMinMs).toBe(150);
    expect(config.consensus.electionTimeoutMaxMs).toBe(300);
    expect(config.ivm.runtime).toBe('quickjs');
    expect(config.inspect).toBe(false);
  });

  it('values in the file replace the defaults and bootstrap peers are parsed', () => {
    const peer = `${'ab'.repeat(20)}@10.0.0.2:5001`;
    const config = loadConfig(
      configFile(
        `api:\n  port: 4100\n  token: s3cret\ngrpc:\n  bootstrapPeers: ["${peer}"]\ninspect: true\n`,
      ),
      {},
    );
    expect(config.api.port).toBe(4100);
    expect(config.api.token).toBe('s3cret');
    expect(config.grpc.bootstrapPeers).toEqual([{ nodeId: 'ab'.repeat(20), host: '10.0.0.2', port: 5001 }]);
    expect(config.inspect).toBe(true);
  });

  it('relative paths resolve against the home, and the home against the config file directory', () => {
    const file = configFile('node:\n  home: homes/n1\n  keyFile: keys/n.key\nstorage:\n  path: /var/lib/x\n');
    const config = loadConfig(file, {});
    expect(config.node.home).toBe(join(dir, 'homes/n1'));
    expect(config.node.keyFile).toBe(join(dir, 'homes/n1/keys/n.key'));
    expect(config.node.certFile).toBe(join(dir, 'homes/n1/node.crt'));
    expect(config.network.genesisFile).toBe(join(dir, 'homes/n1/genesis.json'));
    expect(config.storage.path).toBe('/var/lib/x');
  });

  it('an unknown key is an error naming the file and the key path', () => {
    const file = configFile('txpool:\n  maxBatchTx: 10\n');
    expect(failureOf(() => loadConfig(file, {}))).toBe(`${file}: txpool.maxBatchTx: unknown key`);
  });

  it('an unknown section is an error naming it', () => {
    const file = configFile('consensos:\n  x: 1\n');
    expect(failureOf(() => loadConfig(file, {}))).toBe(`${file}: consensos: unknown key`);
  });

  it('a bad value is an error naming the file, the key path and what was expected', () => {
    const file = configFile('txpool:\n  maxBatchTxs: 0\n');
    expect(failureOf(() => loadConfig(file, {}))).toBe(
      `${file}: txpool.maxBatchTxs: expected a positive integer`,
    );
  });

  it('every problem of a file is reported at once', () => {
    const file = configFile('api:\n  port: 70000\nlog:\n  level: loud\nivm:\n  runtime: wasm\n');
    const message = failureOf(() => loadConfig(file, {}));
    expect(message).toContain(`${file}: api.port: expected a port number from 1 to 65535`);
    expect(message).toContain(
      `${file}: log.level: expected one of fatal, error, warn, info, debug, trace, silent`,
    );
    expect(message).toContain(`${file}: ivm.runtime: expected one of quickjs, docker`);
  });

  it('a malformed bootstrap peer names its index in the list', () => {
    const file = configFile('grpc:\n  bootstrapPeers:\n    - node1@127.0.0.1:5001\n');
    expect(failureOf(() => loadConfig(file, {}))).toMatch(
      new RegExp(`^${file}: grpc\\.bootstrapPeers\\[0\\]: expected "nodeId@host:port"`),
    );
  });

  it('election timeouts must form a range and the heartbeat must be shorter', () => {
    const file = configFile('consensus:\n  electionTimeoutMinMs: 300\n  electionTimeoutMaxMs: 300\n');
    expect(failureOf(() => loadConfig(file, {}))).toBe(
      `${file}: consensus.electionTimeoutMaxMs: must be greater than consensus.electionTimeoutMinMs (300)`,
    );
    const slowBeat = configFile('consensus:\n  heartbeatIntervalMs: 200\n');
    expect(failureOf(() => loadConfig(slowBeat, {}))).toBe(
      `${slowBeat}: consensus.heartbeatIntervalMs: must be less than consensus.electionTimeoutMinMs (150)`,
    );
  });

  it('a YAML syntax error names the file, line and column', () => {
    const file = configFile('api:\n  port: [4000\n');
    expect(failureOf(() => loadConfig(file, {}))).toMatch(new RegExp(`^${file}:\\d+:\\d+: invalid YAML: `));
  });

  it('a duplicate key is a YAML error', () => {
    const file = configFile('api:\n  port: 1\n  port: 2\n');
    expect(failureOf(() => loadConfig(file, {}))).toBe(`${file}:3:3: invalid YAML: Map keys must be unique`);
  });

  it('a file that is not a mapping of sections is refused', () => {
    const file = configFile('- api\n');
    expect(failureOf(() => loadConfig(file, {}))).toBe(
      `${file}: expected a mapping of sections at the top level`,
    );
  });

  it('a missing file is an error naming it', () => {
    const file = join(dir, 'absent.yaml');
    expect(failureOf(() => loadConfig(file, {}))).toBe(`${file}: cannot read the config file (ENOENT)`);
  });
});

describe('loadConfig: ITCHAIN_* environment overrides', () => {
  it('a variable overrides the file value, converted to the field type', () => {
    const file = configFile('api:\n  port: 4100\ntxpool:\n  maxBatchTxs: 10\n');
    const config = loadConfig(file, {
      ITCHAIN_API_PORT: '4200',
      ITCHAIN_TXPOOL_MAX_BATCH_TXS: '25',
      ITCHAIN_INSPECT: 'true',
      ITCHAIN_BUS_URL: 'amqp://guest:guest@127.0.0.1:5672',
      ITCHAIN_GRPC_BOOTSTRAP_PEERS: `${'a'.repeat(40)}@127.0.0.1:5001, ${'b'.repeat(40)}@[::1]:5002`,
    });
    expect(config.api.port).toBe(4200);
    expect(config.txpool.maxBatchTxs).toBe(25);
    expect(config.inspect).toBe(true);
    expect(config.bus.url).toBe('amqp://guest:guest@127.0.0.1:5672');
    expect(config.grpc.bootstrapPeers.map((p) => `${p.host}:${p.port}`)).toEqual([
      '127.0.0.1:5001',
      '::1:5002',
    ]);
  });

  it('an empty token variable means no token', () => {
    const config = loadConfig(configFile('api:\n  token: abc\n'), { ITCHAIN_API_TOKEN: '' });
    expect(config.api.token).toBeNull();
  });

  it('a bad override is validated like the file and names the variable and the key', () => {
    const file = configFile('');
    expect(failureOf(() => loadConfig(file, { ITCHAIN_TXPOOL_MAX_BATCH_TXS: 'many' }))).toBe(
      'ITCHAIN_TXPOOL_MAX_BATCH_TXS (overrides txpool.maxBatchTxs): expected a positive integer',
    );
    expect(failureOf(() => loadConfig(file, { ITCHAIN_INSPECT: 'maybe' }))).toBe(
      'ITCHAIN_INSPECT (overrides inspect): expected true or false',
    );
  });

  it('an override that breaks a rule across fields is reported against the variable', () => {
    const file = configFile('txpool:\n  maxPoolTxs: 100\n  maxBatchTxs: 50\n');
    expect(failureOf(() => loadConfig(file, { ITCHAIN_TXPOOL_MAX_BATCH_TXS: '500' }))).toBe(
      'ITCHAIN_TXPOOL_MAX_BATCH_TXS (overrides txpool.maxBatchTxs): must not exceed txpool.maxPoolTxs (100)',
    );
  });

  it('a misspelt variable in a config section is an error; other ITCHAIN_* variables are ignored', () => {
    const file = configFile('');
    expect(failureOf(() => loadConfig(file, { ITCHAIN_API_PROT: '4000' }))).toBe(
      'ITCHAIN_API_PROT: not a config variable (the ITCHAIN_* names are listed in docs/config.md)',
    );
    expect(loadConfig(file, { ITCHAIN_DEBUG: '1', PATH: '/usr/bin' }).api.port).toBe(4000);
  });

  it('the file is checked before the overrides, so a file error names the file even when overridden', () => {
    const file = configFile('api:\n  port: nope\n');
    expect(failureOf(() => loadConfig(file, { ITCHAIN_API_PORT: '4001' }))).toBe(
      `${file}: api.port: expected a port number from 1 to 65535`,
    );
  });

  it('a relative ITCHAIN_NODE_HOME resolves against the working directory', () => {
    const config = parseConfig('', join(dir, 'c.yaml'), { ITCHAIN_NODE_HOME: 'n2' }, { cwd: '/srv' });
    expect(config.node.home).toBe('/srv/n2');
    expect(config.node.keyFile).toBe('/srv/n2/node.key');
  });
});
