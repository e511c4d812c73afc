// Test fixtures for the IVM: real git repositories made from folders (examples/ or files written on
// the spot) in temp folders, and the small values every test needs.

import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { simpleGit } from 'simple-git';
import type { IcodeBundle, TxContext } from '../../domain/icode.ts';

export const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));

/** A temp folder removed by the returned cleanup. */
export async function tempDir(
  prefix = 'itchain-ivm-',
): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

export async function isEmptyDir(path: string): Promise<boolean> {
  return (await readdir(path)).length === 0;
}

/** Makes `dir` a git repository with everything in it committed; returns the commit hash. */
export async function commitAll(dir: string, message = 'iCode'): Promise<string> {
  const git = simpleGit(dir, { config: ['user.name=itchain test', 'user.email=test@itchain.invalid'] });
  await git.init(['--initial-branch=main']);
  await git.add('.');
  await git.commit(message);
  return (await git.revparse(['HEAD'])).trim();
}

/** Copies an example (examples/<name>) into `parent` and commits it as a new repository. */
export async function exampleRepo(name: string, parent: string): Promise<{ path: string; commit: string }> {
  const path = join(parent, name);
  await cp(join(EXAMPLES, name), path, { recursive: true });
  return { path, commit: await commitAll(path) };
}

/** Writes files (path → text) under parent/name and commits them as a new repository. */
export async function repoWith(
  parent: string,
  name: string,
  files: Record<string, string>,
): Promise<{ path: string; commit: string }> {
  const path = join(parent, name);
  for (const [file, text] of Object.entries(files)) {
    await mkdir(dirname(join(path, file)), { recursive: true });
    await writeFile(join(path, file), text);
  }
  return { path, commit: await commitAll(path) };
}

/** A one-file bundle with `source` as index.js. */
export function bundleOf(source: string): IcodeBundle {
  return { entry: 'index.js', files: [{ path: 'index.js', content: source }] };
}

let txCount = 0;
export function txContext(timestamp = 1_767_225_600_000): TxContext {
  txCount++;
  return { id: txCount.toString(16).padStart(64, '0'), signer: 'ab'.repeat(20), timestamp };
}
