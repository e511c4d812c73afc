// Fetches an iCode from git for a deploy: clone (shallow) into a fresh temp folder, take the HEAD
// commit, bundle the checkout, and remove the folder again, on success or failure. Every failure is
// an IcodeSourceError naming the cause, which the API answers with a 4xx.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleGit } from 'simple-git';
import { type IcodeDeployment, icodeIdOf } from '../../domain/icode.ts';
import { DEFAULT_MAX_BUNDLE_BYTES } from '../../domain/icode-deployment.ts';
import { IcodeSourceError } from '../../domain/icode-errors.ts';
import { bundleDirectory } from '../icode/bundle-directory.ts';
import { parseGitUrl } from './git-url.ts';
import { prepareSsh, type SshOptions } from './ssh-key.ts';

export interface FetchOptions extends SshOptions {
  maxBundleBytes?: number;
  /** How long git may take, in ms (default 60 s). */
  timeoutMs?: number;
  /** Where the temp folder is made (default: the OS temp folder). */
  tempRoot?: string;
  /** What a relative local path is relative to (default: the process's working directory). */
  cwd?: string;
}

export interface FetchedIcode extends IcodeDeployment {
  icodeId: string;
}

const COMMIT = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

// Only what git needs: a node's own environment may hold variables (PAGER, GIT_CONFIG...) that
// change what git runs.
function gitEnvironment(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', ...extra };
  for (const name of ['PATH', 'HOME', 'LANG', 'TMPDIR']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

function firstLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('Cloning into'));
  return (lines.find((l) => /^(fatal|error|ERROR):/.test(l)) ?? lines[0] ?? 'git failed').slice(0, 300);
}

function cloneError(e: unknown, url: string): IcodeSourceError {
  const text = e instanceof Error ? e.message : String(e);
  if (/timed? ?out|block timeout/i.test(text))
    return new IcodeSourceError('timeout', `cloning ${url} took too long`);
  return new IcodeSourceError('repo-not-found', `cannot clone ${url}: ${firstLine(e)}`);
}

/** Clones `gitUrl`, bundles its HEAD commit, and leaves no file behind. */
export async function fetchIcode(gitUrl: string, options: FetchOptions = {}): Promise<FetchedIcode> {
  const source = parseGitUrl(gitUrl, options.cwd);
  if (options.sshKey && source.kind !== 'ssh') {
    throw new IcodeSourceError('bad-url', 'an ssh key can only be used with an ssh URL');
  }
  const temp = await mkdtemp(join(options.tempRoot ?? tmpdir(), 'itchain-icode-'));
  try {
    const extra: Record<string, string> = { GIT_ALLOW_PROTOCOL: source.protocol };
    const ssh = source.kind === 'ssh';
    if (ssh) extra.GIT_SSH_COMMAND = await prepareSsh(temp, options);
    const env = gitEnvironment(extra);
    const git = simpleGit({
      baseDir: temp,
      timeout: { block: options.timeoutMs ?? 60_000 },
      // simple-git refuses GIT_* variables it was not told about; these are ours.
      allowEnvironment: Object.keys(env).filter((name) => name.startsWith('GIT_')),
      unsafe: { allowUnsafeSshCommand: ssh },
    }).env(env);
    const checkout = join(temp, 'repo');
    try {
      await git.clone(source.cloneUrl, checkout, ['--depth', '1', '--no-tags', '--single-branch']);
    } catch (e) {
      throw cloneError(e, source.url);
    }
    let commit: string;
    try {
      commit = (await git.cwd(checkout).revparse(['HEAD'])).trim();
    } catch {
      throw new IcodeSourceError('empty-repo', `${source.url} has no commit to deploy`);
    }
    if (!COMMIT.test(commit))
      throw new IcodeSourceError('empty-repo', `${source.url} has no commit to deploy`);
    const bundle = await bundleDirectory(checkout, options.maxBundleBytes ?? DEFAULT_MAX_BUNDLE_BYTES);
    return { gitUrl: source.url, commit, bundle, icodeId: icodeIdOf(source.url, commit) };
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}
