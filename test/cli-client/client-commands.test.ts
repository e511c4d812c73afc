import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiHarness, type StandInDeployer } from '../api/support/api-harness.ts';
import { type Run, runItchain } from '../cli/run-itchain.ts';

// The client commands of SPEC §7 as real processes (`node bin/itchain.js … --api <url>`) against an
// API gateway in this test, with a core stand-in that cuts a block every 30 ms.

const ENV: NodeJS.ProcessEnv = { ...process.env };
delete ENV.ITCHAIN_CLIENT_API;
delete ENV.ITCHAIN_CLIENT_TOKEN;

function itchain(args: readonly string[], env: NodeJS.ProcessEnv = ENV): Promise<Run> {
  return runItchain(args, env);
}

function expectFailure(run: Run, reason: RegExp): void {
  expect(run.code).toBe(1);
  expect(run.stdout).toBe('');
  const lines = run.stderr.split('\n').filter((line) => line !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^itchain: /);
  expect(lines[0]).toMatch(reason);
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

describe('itchain client commands against an API with a core stand-in', () => {
  let api: ApiHarness;
  let flags: string[];
  beforeAll(async () => {
    api = await ApiHarness.start({ core: { blockIntervalMs: 30 } });
    flags = ['--api', api.url];
  });
  afterAll(() => api.close());

  it('status --json prints GET /status exactly (API from ITCHAIN_CLIENT_API); without --json a summary', async () => {
    const [json, human] = await Promise.all([
      itchain(['status', '--json'], { ...ENV, ITCHAIN_CLIENT_API: api.url }),
      itchain(['status', ...flags]),
    ]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual((await api.get('/status')).json);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(api.nodeId);
    expect(human.stdout).toMatch(/role\s+follower \(leader [0-9a-f]{40}, term 1\)/);
  });

  it('tx submit --wait waits for the commit; tx get, icode query and icode invoke; args are JSON when they parse', async () => {
    const put = await itchain([
      'tx',
      'submit',
      'kv',
      'put',
      'color',
      '{"r":255}',
      ...flags,
      '--wait',
      '--json',
    ]);
    expect(put.code).toBe(0);
    const tx = JSON.parse(put.stdout) as { id: string; status: string; height: number };
    expect(tx).toMatchObject({ status: 'committed', result: null });
    expect(api.core.submitted.find((t) => t.id === tx.id)?.args).toEqual(['color', { r: 255 }]);

    const [get, query, invoke] = await Promise.all([
      itchain(['tx', 'get', tx.id, ...flags, '--json']),
      itchain(['icode', 'query', 'kv', 'get', 'color', ...flags, '--json']),
      itchain(['icode', 'invoke', 'kv', 'put', 'n', '5', 'hello', 'true', ...flags, '--wait']),
    ]);
    expect(JSON.parse(get.stdout)).toEqual((await api.get(`/transactions/${tx.id}`)).json);
    expect(JSON.parse(query.stdout)).toEqual({ result: { r: 255 } });
    expect(invoke.code).toBe(0);
    expect(invoke.stdout).toMatch(
      /^submitted tx [0-9a-f]{64}\ntx [0-9a-f]{64} committed at height \d+\nresult null\n$/,
    );
    expect(api.core.submitted[api.core.submitted.length - 1]!.args).toEqual(['n', 5, 'hello', true]);
  });

  it('block get prints the Block JSON exactly; block list --from --limit a table', async () => {
    const [genesis, table] = await Promise.all([
      itchain(['block', 'get', '0', ...flags, '--json']),
      itchain(['block', 'list', '--from', '0', '--limit', '2', ...flags]),
    ]);
    expect(JSON.parse(genesis.stdout)).toEqual(api.fixture.genesis);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^HEIGHT\s+SEAL\s+TXS\s+TIME\s+CREATOR$/);
    expect(lines.slice(1).map((line) => line.split(/\s+/)[0])).toEqual(['0', '1']);
  });

  it('icode deploy resolves a local path to an absolute one; list and undeploy go through the API', async () => {
    const deploy = await itchain(['icode', 'deploy', 'examples/counter', ...flags, '--wait', '--json']);
    expect(deploy.code).toBe(0);
    const deployer = api.deployer as StandInDeployer;
    expect(deployer.asked[deployer.asked.length - 1]).toBe(resolve('examples/counter'));
    expect(JSON.parse(deploy.stdout)).toMatchObject({ status: 'committed' });
    const list = await itchain(['icode', 'list', ...flags, '--json']);
    const icodes = JSON.parse(list.stdout) as { id: string; gitUrl: string }[];
    const deployed = icodes.find((i) => i.gitUrl === resolve('examples/counter'));
    expect(deployed).toBeDefined();
    const undeploy = await itchain(['icode', 'undeploy', deployed!.id, ...flags, '--wait']);
    expect(undeploy.code).toBe(0);
    expect(undeploy.stdout).toMatch(
      /^undeploying iCode [0-9a-f]{64} \(tx [0-9a-f]{64}\)\ntx [0-9a-f]{64} committed/,
    );
  });

  it('peer dial, list and disconnect', async () => {
    const peerId = api.fixture.validatorIds[3]!;
    const dial = await itchain(['peer', 'dial', `${peerId}@127.0.0.1:5003`, ...flags]);
    expect(dial.stdout).toBe(`connected to ${peerId}@127.0.0.1:5003 (peer ${peerId})\n`);
    const list = await itchain(['peer', 'list', ...flags, '--json']);
    expect(JSON.parse(list.stdout)).toEqual([
      { id: peerId, address: `${peerId}@127.0.0.1:5003`, outbound: true },
    ]);
    const disconnect = await itchain(['peer', 'disconnect', peerId, ...flags]);
    expect(disconnect.stdout).toBe(`disconnected ${peerId}\n`);
  });

  it('failures exit 1 with one line: unreachable API, unknown id, a call that failed, a bad --api', async () => {
    const port = await closedPort();
    const [unreachable, unknownTx, failedCall, badApi] = await Promise.all([
      itchain(['status', '--api', `http://127.0.0.1:${port}`]),
      itchain(['tx', 'get', 'f'.repeat(64), ...flags]),
      itchain(['tx', 'submit', 'kv', 'explode', ...flags, '--wait']),
      itchain(['status', '--api', 'ftp://example']),
    ]);
    expectFailure(
      unreachable,
      new RegExp(`^itchain: cannot reach http://127\\.0\\.0\\.1:${port}: connection refused$`),
    );
    expectFailure(unknownTx, /^itchain: transaction f{64} not found$/);
    expect(failedCall.code).toBe(1);
    expect(failedCall.stderr).toMatch(
      /^itchain: tx [0-9a-f]{64} committed at height \d+ but failed: no-such-function: kv has no function explode\n$/,
    );
    expectFailure(badApi, /--api must be an http:\/\/ or https:\/\/ URL/);
  });
});

describe('itchain client commands against an API with api.token set (core stand-in)', () => {
  it('a mutating command needs --token or ITCHAIN_CLIENT_TOKEN', async () => {
    const api = await ApiHarness.start({ token: 'tok-123' });
    try {
      const args = ['tx', 'submit', 'kv', 'put', 'a', '1', '--api', api.url];
      const [without, withFlag, withEnv] = await Promise.all([
        itchain(args),
        itchain([...args, '--token', 'tok-123']),
        itchain(['icode', 'invoke', 'kv', 'put', 'b', '2', '--api', api.url], {
          ...ENV,
          ITCHAIN_CLIENT_TOKEN: 'tok-123',
        }),
      ]);
      expectFailure(without, /^itchain: this call needs Authorization: Bearer <api\.token>$/);
      expect(withFlag.code).toBe(0);
      expect(withFlag.stdout).toMatch(/^submitted tx [0-9a-f]{64}\n$/);
      expect(withEnv.code).toBe(0);
    } finally {
      await api.close();
    }
  });
});
