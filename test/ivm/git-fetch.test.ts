import { chmod, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { simpleGit } from 'simple-git';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fetchIcode } from '../../adapters/git/fetch-icode.ts';
import { prepareDeploy } from '../../adapters/icode/prepare-deploy.ts';
import { icodeIdOf } from '../../domain/icode.ts';
import { IcodeSourceError } from '../../domain/icode-errors.ts';
import { exampleRepo, isEmptyDir, repoWith, tempDir } from './fixtures.ts';
import { type GitHttpServer, startGitHttpServer } from './git-http-server.ts';

let work: Awaited<ReturnType<typeof tempDir>>;
let clones: Awaited<ReturnType<typeof tempDir>>;
let bank: { path: string; commit: string };

beforeAll(async () => {
  work = await tempDir();
  bank = await exampleRepo('bank', work.path);
});
afterAll(() => work.cleanup());

// Every fetch gets its own temp root, which must be empty again afterwards, whatever happened.
beforeEach(async () => {
  clones = await tempDir('itchain-clones-');
});
afterEach(async () => {
  expect(await isEmptyDir(clones.path)).toBe(true);
  await clones.cleanup();
});

async function sourceError(promise: Promise<unknown>): Promise<IcodeSourceError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(IcodeSourceError);
  return error as IcodeSourceError;
}

describe('deploy from git: where the code comes from', () => {
  it('a local path gives the HEAD commit, ID = hash(URL, commit) and the sorted bundle', async () => {
    const fetched = await fetchIcode(bank.path, { tempRoot: clones.path });
    expect(fetched.commit).toBe(bank.commit);
    expect(fetched.gitUrl).toBe(bank.path);
    expect(fetched.icodeId).toBe(icodeIdOf(bank.path, bank.commit));
    expect(fetched.bundle.entry).toBe('index.js');
    expect(fetched.bundle.files.map((f) => f.path)).toEqual(['accounts.js', 'icode.json', 'index.js']);
    expect(fetched.bundle.files[2]!.content).toBe(await readFile(join(bank.path, 'index.js'), 'utf8'));
  });

  it('a relative path is made absolute, so the ID does not depend on where the node runs', async () => {
    const fetched = await fetchIcode(relative(work.path, bank.path), {
      tempRoot: clones.path,
      cwd: work.path,
    });
    expect(fetched.gitUrl).toBe(bank.path);
    expect(fetched.icodeId).toBe(icodeIdOf(bank.path, bank.commit));
  });

  it('a file:// URL is recorded as given, so it has its own ID for the same commit', async () => {
    const url = pathToFileURL(bank.path).href;
    const fetched = await fetchIcode(url, { tempRoot: clones.path });
    expect(fetched.gitUrl).toBe(url);
    expect(fetched.commit).toBe(bank.commit);
    expect(fetched.icodeId).toBe(icodeIdOf(url, bank.commit));
    expect(fetched.icodeId).not.toBe(icodeIdOf(bank.path, bank.commit));
  });

  it('a new commit gives a new iCode ID', async () => {
    const repo = await repoWith(work.path, 'versions', { 'index.js': 'export function v() { return 1; }' });
    const first = await fetchIcode(repo.path, { tempRoot: clones.path });
    await writeFile(join(repo.path, 'index.js'), 'export function v() { return 2; }');
    const git = simpleGit(repo.path, { config: ['user.name=t', 'user.email=t@t.invalid'] });
    await git.add('.').commit('v2');
    const second = await fetchIcode(repo.path, { tempRoot: clones.path });
    expect(second.commit).not.toBe(first.commit);
    expect(second.icodeId).not.toBe(first.icodeId);
  });

  describe('over http (a real git smart-HTTP server on 127.0.0.1)', () => {
    let server: GitHttpServer;
    beforeAll(async () => {
      await simpleGit(work.path).clone(bank.path, join(work.path, 'served', 'bank.git'), ['--bare']);
      server = await startGitHttpServer(join(work.path, 'served'));
    });
    afterAll(() => server.close());

    it('clones the HEAD commit through the network', async () => {
      const fetched = await fetchIcode(`${server.url}/bank.git`, { tempRoot: clones.path });
      expect(fetched.commit).toBe(bank.commit);
      expect(fetched.gitUrl).toBe(`${server.url}/bank.git`);
    });

    it('a repository the server does not have is repo-not-found', async () => {
      const error = await sourceError(fetchIcode(`${server.url}/missing.git`, { tempRoot: clones.path }));
      expect(error.code).toBe('repo-not-found');
    });
  });

  describe('over ssh (with a local stand-in for the ssh program)', () => {
    let standIn: string;
    let log: string;
    beforeAll(async () => {
      // The stand-in does what sshd would: it runs the remote command (git-upload-pack) here. It
      // notes the mode and text of the key file it was given.
      log = join(work.path, 'ssh.log');
      standIn = join(work.path, 'bin', 'ssh');
      await mkdir(join(work.path, 'bin'));
      await writeFile(
        standIn,
        `#!/bin/sh
key=""
while [ $# -gt 0 ]; do
  case "$1" in
    -G) exit 0 ;;
    -i) key="$2"; shift 2 ;;
    -o|-p|-l) shift 2 ;;
    -*) shift ;;
    *) shift; break ;;
  esac
done
if [ -n "$key" ]; then stat -c '%a' "$key" > '${log}'; cat "$key" >> '${log}'; fi
exec sh -c "$*"
`,
      );
      await chmod(standIn, 0o755);
    });

    it('uses the private key from a 0600 file that is gone afterwards', async () => {
      const url = `ssh://git@localhost${bank.path}`;
      const fetched = await fetchIcode(url, {
        tempRoot: clones.path,
        sshCommand: standIn,
        sshKey: 'FAKE KEY',
      });
      expect(fetched.commit).toBe(bank.commit);
      expect(fetched.gitUrl).toBe(url);
      expect(await readFile(log, 'utf8')).toBe('600\nFAKE KEY\n');
    });

    it('an scp-like URL (git@host:path) is ssh too', async () => {
      const url = `git@localhost:${bank.path}`;
      const fetched = await fetchIcode(url, { tempRoot: clones.path, sshCommand: standIn });
      expect(fetched.gitUrl).toBe(url);
      expect(fetched.commit).toBe(bank.commit);
    });

    it('a failing ssh connection is repo-not-found and still removes the key file', async () => {
      const error = await sourceError(
        fetchIcode('ssh://git@localhost/no/such/repo', {
          tempRoot: clones.path,
          sshCommand: standIn,
          sshKey: 'K',
        }),
      );
      expect(error.code).toBe('repo-not-found');
    });
  });
});

describe('deploy from git: errors name the cause and leave nothing behind', () => {
  it.each([
    ['ftp://example.com/repo.git', /not accepted/],
    ['ext::sh -c touch% /tmp/pwned', /remote helpers/],
    ['https://user:secret@example.com/repo.git', /credentials/],
    ['https://token@example.com/repo.git', /credentials/],
    ['http://example.com/repo.git', /https/],
    ['--upload-pack=touch /tmp/pwned', /cannot start with/],
    ['  ', /empty/],
  ])('%s is a bad URL', async (url, reason) => {
    const error = await sourceError(fetchIcode(url, { tempRoot: clones.path }));
    expect(error.code).toBe('bad-url');
    expect(error.message).toMatch(reason);
  });

  it('a path with no repository is repo-not-found', async () => {
    const error = await sourceError(fetchIcode(join(work.path, 'nothing-here'), { tempRoot: clones.path }));
    expect(error.code).toBe('repo-not-found');
  });

  it('an ssh key with a non-ssh URL is a bad URL', async () => {
    const error = await sourceError(fetchIcode(bank.path, { tempRoot: clones.path, sshKey: 'K' }));
    expect(error.code).toBe('bad-url');
  });

  it('a repository without commits is empty-repo', async () => {
    const path = join(work.path, 'empty');
    await simpleGit(work.path).init(['--initial-branch=main', path]);
    const error = await sourceError(fetchIcode(path, { tempRoot: clones.path }));
    expect(error.code).toBe('empty-repo');
  });

  it('no index.js (and no icode.json naming another entry) is no-entry', async () => {
    const repo = await repoWith(work.path, 'no-entry', { 'main.js': 'export function f() {}' });
    const error = await sourceError(fetchIcode(repo.path, { tempRoot: clones.path }));
    expect(error.code).toBe('no-entry');
    expect(error.message).toMatch(/index\.js/);
  });

  it('icode.json can name another entry file', async () => {
    const repo = await repoWith(work.path, 'main-entry', {
      'icode.json': '{"entry": "src/main.js"}',
      'src/main.js': 'export function f() { return 1; }',
    });
    const fetched = await fetchIcode(repo.path, { tempRoot: clones.path });
    expect(fetched.bundle.entry).toBe('src/main.js');
  });

  it('an icode.json that is not JSON is bad-manifest', async () => {
    const repo = await repoWith(work.path, 'bad-manifest', { 'icode.json': '{entry:', 'index.js': '' });
    const error = await sourceError(fetchIcode(repo.path, { tempRoot: clones.path }));
    expect(error.code).toBe('bad-manifest');
  });

  it('a bundle over the size limit is too-large', async () => {
    const repo = await repoWith(work.path, 'big', {
      'index.js': 'export function f() {}',
      'data.json': JSON.stringify({ blob: 'x'.repeat(10_000) }),
    });
    const error = await sourceError(fetchIcode(repo.path, { tempRoot: clones.path, maxBundleBytes: 5_000 }));
    expect(error.code).toBe('too-large');
  });

  it('a symlinked source file is refused (it could point anywhere on the node)', async () => {
    const dir = join(work.path, 'linked');
    await repoWith(work.path, 'linked', { 'index.js': 'export function f() {}' });
    await symlink('/etc/hostname', join(dir, 'secret.json'));
    await simpleGit(dir, { config: ['user.name=t', 'user.email=t@t.invalid'] })
      .add('.')
      .commit('link');
    const error = await sourceError(fetchIcode(dir, { tempRoot: clones.path }));
    expect(error.code).toBe('bad-file');
    expect(error.message).toMatch(/secret\.json/);
  });

  it('source that does not compile is refused before any tx exists', async () => {
    const repo = await repoWith(work.path, 'broken', {
      'index.js': "import fs from 'fs';\nexport function f() {}",
    });
    const error = await sourceError(prepareDeploy(repo.path, { tempRoot: clones.path }));
    expect(error.code).toBe('compile');
    expect(error.message).toMatch(/"fs"/);
  });
});
