import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../ivm/fixtures.ts';
import { eventually } from '../support/network.ts';
import { IVM_NODE_PORTS } from './ports.ts';

// docs/icode-tutorial.md, followed step by step: its code blocks are the files written here, and its
// commands run as `itchain` processes in a stand-in for the checkout, against `itchain up`. The only
// changes: the network's ports (--base-port, and ITCHAIN_CLIENT_API for the client's default), and
// the tutorial's `./sdk/index.ts` import pointing at this checkout's SDK.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/itchain.js');
const TSX = join(ROOT, 'node_modules/.bin/tsx');
const API = `http://127.0.0.1:${IVM_NODE_PORTS.tutorial}`;

let work: Awaited<ReturnType<typeof tempDir>>;
let up: ChildProcess | undefined;
let upOutput = '';

const env = {
  ...process.env,
  ITCHAIN_CLIENT_API: API,
  GIT_AUTHOR_NAME: 'tutorial',
  GIT_AUTHOR_EMAIL: 'tutorial@itchain.invalid',
  GIT_COMMITTER_NAME: 'tutorial',
  GIT_COMMITTER_EMAIL: 'tutorial@itchain.invalid',
};

/** One command of the tutorial, run in the checkout (or `cwd`); its stdout, or a failure with its stderr. */
async function run(command: string, args: string[], cwd = work.path): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(command, args, { cwd, env, timeout: 60_000 });
    return stdout;
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${stderr || stdout || String(error)}`);
  }
}

const itchain = (...args: string[]) => run(process.execPath, [BIN, ...args]);

/** The code block of `lang` that follows `heading` in the tutorial (the n-th one, default the first). */
function codeBlock(doc: string, heading: string, lang: string, n = 0): string {
  const section = doc.slice(doc.indexOf(heading));
  const blocks = [...section.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))];
  const block = blocks[n]?.[1];
  if (block === undefined) throw new Error(`no ${lang} block after "${heading}" in the tutorial`);
  return block;
}

beforeAll(async () => {
  work = await tempDir('itchain-tutorial-');
  // The checkout is an ES module package: the tutorial's try-counter.ts uses top-level await.
  await writeFile(join(work.path, 'package.json'), '{ "type": "module" }\n');
});

afterAll(async () => {
  if (up && up.exitCode === null) {
    up.kill('SIGKILL');
    await new Promise((resolve) => up?.once('exit', resolve));
  }
  await work?.cleanup();
});

describe('docs/icode-tutorial.md, step by step', () => {
  it('writes, tries, commits, deploys, invokes, queries and undeploys the counter on `itchain up`', async () => {
    const doc = await readFile(join(ROOT, 'docs/icode-tutorial.md'), 'utf8');
    const icode = join(work.path, 'my-icode');

    // 1. Write the counter.
    await mkdir(icode);
    await writeFile(join(icode, 'index.js'), codeBlock(doc, '## 1. Write the counter', 'js'));
    await writeFile(join(icode, 'icode.json'), codeBlock(doc, '## 1. Write the counter', 'json'));

    // 2. Try it on your machine.
    const tryCounter = codeBlock(doc, '## 2. Try it', 'ts').replace(
      "'./sdk/index.ts'",
      JSON.stringify(join(ROOT, 'sdk/index.ts')),
    );
    await writeFile(join(work.path, 'try-counter.ts'), tryCounter);
    const tried = await run(TSX, ['try-counter.ts']);
    expect(tried).toMatch(/status: 'ok',\s+result: 5/);
    expect(tried).toContain("code: 'icode-error'");

    // 3. Make it a git repository.
    await run('git', ['init'], icode);
    await run('git', ['add', '.'], icode);
    await run('git', ['commit', '-m', 'counter'], icode);

    // 4. Start a network.
    up = spawn(process.execPath, [BIN, 'up', '--base-port', String(IVM_NODE_PORTS.tutorial)], {
      cwd: work.path,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    up.stdout?.on('data', (chunk: Buffer) => {
      upOutput += chunk.toString();
    });
    up.stderr?.on('data', (chunk: Buffer) => {
      upOutput += chunk.toString();
    });
    await eventually(
      'itchain up',
      () => (upOutput.includes('The network is up: 4 nodes') ? true : undefined),
      90_000,
      200,
    );

    // 5. Deploy.
    const deployed = await itchain('icode', 'deploy', './my-icode', '--wait');
    const [, id, txId] = /deploying iCode ([0-9a-f]{64}) \(tx ([0-9a-f]{64})\)/.exec(deployed) ?? [];
    expect(id, deployed).toBeDefined();
    expect(deployed).toContain(`tx ${txId} committed at height`);
    expect(deployed).toContain(`result {"icodeId":"${id}"}`);
    expect(await itchain('icode', 'list')).toContain(id!);

    // 6. Invoke.
    const submitted = await itchain('icode', 'invoke', id!, 'increment', '5');
    const [, invokeTx] = /submitted tx ([0-9a-f]{64})/.exec(submitted) ?? [];
    expect(invokeTx, submitted).toBeDefined();
    const got = await eventually('the invoke committed', async () => {
      const out = await itchain('tx', 'get', invokeTx!);
      return out.includes('committed at height') ? out : undefined;
    });
    expect(got).toContain('result 5');

    // 7. Query, on every node.
    expect(await itchain('icode', 'query', id!, 'get')).toBe('5\n');
    for (const i of [1, 2, 3]) {
      const api = `http://127.0.0.1:${IVM_NODE_PORTS.tutorial + i}`;
      expect(await itchain('icode', 'query', id!, 'get', '--api', api)).toBe('5\n');
    }

    // 8. Undeploy.
    await itchain('icode', 'undeploy', id!, '--wait');
    await eventually('the iCode gone from the list', async () =>
      (await itchain('icode', 'list')).includes(id!) ? undefined : true,
    );

    // The built-in kv.
    await itchain('icode', 'invoke', 'kv', 'put', 'greeting', 'hello', '--wait');
    expect(await itchain('icode', 'query', 'kv', 'get', 'greeting')).toBe('"hello"\n');

    // Ctrl-C stops every node.
    const exited = new Promise<number | null>((resolve) => up?.once('exit', (code) => resolve(code)));
    up.kill('SIGINT');
    expect(await exited).toBe(0);
  }, 240_000);
});
