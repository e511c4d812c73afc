import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitAll, exampleRepo, tempDir } from '../ivm/fixtures.ts';
import { dumpLogsOnFailure, TestNetwork } from '../support/network.ts';
import { bankFlow, deployWithCli, type IcodeListed, invokeWithCli } from './bank-flow.ts';
import { itchain, itchainOk } from './itchain-cli.ts';
import { IVM_NODE_PORTS } from './ports.ts';

// iCodes in a real 4-node network (QuickJS, the default runtime): real `itchain start` processes,
// real git repositories, the `itchain` client. Deploy and undeploy are txs, so every node installs
// the code from the tx; invokes run on commit in block order; queries run on any node.

let net: TestNetwork | undefined;
let work: Awaited<ReturnType<typeof tempDir>>;
/** The nodes' TMPDIR: a deploy's clone goes here and must be gone afterwards. */
let nodeTemp: string;
const ALL = [0, 1, 2, 3];

const network = (): TestNetwork => {
  if (!net) throw new Error('the network did not start');
  return net;
};

beforeAll(async () => {
  work = await tempDir('itchain-ivm-node-');
  nodeTemp = join(work.path, 'node-tmp');
  await mkdir(nodeTemp);
  net = await TestNetwork.create({ basePort: IVM_NODE_PORTS.quickjs, env: { TMPDIR: nodeTemp } });
  await net.startAll();
}, 120_000);

afterAll(async () => {
  await net?.dispose();
  await work?.cleanup();
});

async function icodeIds(index: number): Promise<string[]> {
  return (await network().get<IcodeListed[]>(index, '/icodes')).body.map((i) => i.id).sort();
}

/** A git repository of one file, `index.js`, with `source` in it. */
async function repoOf(name: string, files: Record<string, string>): Promise<string> {
  const path = join(work.path, name);
  await mkdir(path);
  for (const [file, text] of Object.entries(files)) await writeFile(join(path, file), text);
  await commitAll(path);
  return path;
}

describe('iCodes on a 4-node network (QuickJS)', () => {
  it('deploy via node 0, invoke via node 1, query all four: the same balances; a failed transfer commits with its error', async () => {
    dumpLogsOnFailure(() => net);
    const bank = await exampleRepo('bank', work.path);
    const id = await deployWithCli(network(), bank.path, 0);
    const listed = (await network().get<IcodeListed[]>(3, `/icodes/${id}`)).body;
    expect(listed).toMatchObject({ id, gitUrl: bank.path, commit: bank.commit });
    await bankFlow(network(), id);
  });

  it('an infinite loop ends with an out-of-gas receipt on every node, and the network keeps committing', async () => {
    dumpLogsOnFailure(() => net);
    const n = network();
    const repo = await repoOf('spin', { 'index.js': 'export function spin() { for (;;) {} }\n' });
    const id = await deployWithCli(n, repo, 2);
    const { stdout } = await itchain(['icode', 'invoke', id, 'spin', '--api', n.apiUrl(3), '--json']);
    const { id: txId } = JSON.parse(stdout) as { id: string };
    const views = await n.waitCommitted(txId, ALL);
    for (const view of views) expect(view.error?.code).toBe('out-of-gas');
    const height = (await n.status(0)).height;
    const put = await n.submit(1, 'kv', 'put', ['after-the-loop', 1]);
    const after = await n.waitCommitted(put, ALL);
    expect(after[0]!.height).toBeGreaterThan(height - 1);
    expect(after.every((v) => v.error === undefined)).toBe(true);

    // Undeploy is a tx too: every node drops it, and an invoke after it finds nothing.
    const undeployed = await itchainOk(['icode', 'undeploy', id, '--api', n.apiUrl(0), '--wait', '--json']);
    expect(JSON.parse(undeployed)).toMatchObject({ status: 'committed', result: { icodeId: id } });
    for (const i of ALL) {
      await expectEventually(async () => !(await icodeIds(i)).includes(id));
    }
    const late = await n.submit(2, id, 'spin', []);
    for (const view of await n.waitCommitted(late, ALL)) expect(view.error?.code).toBe('not-deployed');
  });

  it('a bad git URL, a missing repository or no entry file is a 4xx from POST /icodes; nothing deployed, no temp files', async () => {
    dumpLogsOnFailure(() => net);
    const n = network();
    const before = await Promise.all(ALL.map(icodeIds));
    const noEntry = await repoOf('no-entry', { 'lib.js': 'export const x = 1;\n' });
    const cases: [string, number, string][] = [
      ['ftp://example.com/bank.git', 400, 'bad_url'],
      [join(work.path, 'no-such-repo'), 404, 'repo_not_found'],
      [noEntry, 422, 'no_entry'],
    ];
    for (const [gitUrl, status, code] of cases) {
      const answer = await n.post<{ error: { code: string; message: string } }>(0, '/icodes', { gitUrl });
      expect({ gitUrl, status: answer.status, code: answer.body.error.code }).toEqual({
        gitUrl,
        status,
        code,
      });
      expect(answer.body.error.message.length).toBeGreaterThan(0);
    }
    // The CLI says the same in one line and exits non-zero.
    const cli = await itchain(['icode', 'deploy', noEntry, '--api', n.apiUrl(1)]);
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toMatch(/no_entry|entry/);
    // (The nodes' TypeScript loader keeps a cache folder there: not a clone.)
    expect((await readdir(nodeTemp)).filter((name) => name.startsWith('itchain-icode-'))).toEqual([]);
    // Give a wrongly submitted deploy time to commit, then check that none did.
    const put = await n.submit(0, 'kv', 'put', ['after-bad-deploys', 1]);
    await n.waitCommitted(put, ALL);
    expect(await Promise.all(ALL.map(icodeIds))).toEqual(before);
  });

  it('the built-in kv runs in the IVM on every node: put through one, query through all', async () => {
    dumpLogsOnFailure(() => net);
    const n = network();
    const put = await invokeWithCli(n, 3, 'kv', 'put', ['greeting', 'hello']);
    expect(put).toMatchObject({ status: 'committed', result: null });
    await n.waitCommitted(put.id, ALL);
    for (const i of ALL) {
      expect(await itchainOk(['icode', 'query', 'kv', 'get', 'greeting', '--api', n.apiUrl(i)])).toBe(
        '"hello"\n',
      );
    }
  });
});

async function expectEventually(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 150));
  }
}
