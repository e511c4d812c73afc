import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';

// A directory is written whole or not at all: it is filled in a temporary directory beside the target
// (same file system, so the final rename is atomic) and renamed into place. A failure part-way leaves
// the target as it was. With `force`, an existing target is moved aside, replaced, then removed.

export interface DirectoryWrite {
  readonly target: string;
  readonly force: boolean;
  /** What the directory holds, for messages: "testnet", "node home". */
  readonly kind: string;
  /**
   * Whether an existing directory is one of ours and may be replaced with --force; a guard against
   * `--force` pointed at the wrong place (a home directory, a source tree).
   */
  readonly isOurs: (dir: string) => boolean;
}

export class DirectoryExistsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DirectoryExistsError';
  }
}

async function isEmptyDirectory(dir: string): Promise<boolean> {
  return (await readdir(dir)).length === 0;
}

async function checkReplaceable(target: string, write: DirectoryWrite): Promise<boolean> {
  const info = await stat(target).catch(() => null);
  if (info === null) return false;
  if (!info.isDirectory()) throw new DirectoryExistsError(`${target} exists and is not a directory`);
  const empty = await isEmptyDirectory(target);
  if (!empty && !write.force) {
    throw new DirectoryExistsError(`${target} already exists (use --force to replace it)`);
  }
  const fromCwd = relative(target, process.cwd());
  if (fromCwd === '' || !fromCwd.startsWith('..')) {
    throw new DirectoryExistsError(`${target} contains the working directory; refusing to replace it`);
  }
  if (!empty && !write.isOurs(target)) {
    throw new DirectoryExistsError(
      `${target} does not look like an itchain ${write.kind}; refusing to replace it`,
    );
  }
  return true;
}

/** Fills a fresh directory with `fill` and puts it at `write.target`; returns the absolute target. */
export async function writeDirectoryAtomically(
  write: DirectoryWrite,
  fill: (dir: string) => Promise<void>,
): Promise<string> {
  const target = resolve(write.target);
  const exists = await checkReplaceable(target, write);
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  const temporary = await mkdtemp(join(parent, `.${basename(target)}.tmp-`));
  try {
    await fill(temporary);
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    throw error;
  }
  if (!exists) {
    await rename(temporary, target);
    return target;
  }
  const old = `${temporary}.old`;
  await rename(target, old);
  try {
    await rename(temporary, target);
  } catch (error) {
    await rename(old, target);
    await rm(temporary, { recursive: true, force: true });
    throw error;
  }
  await rm(old, { recursive: true, force: true });
  return target;
}

export function hasEntries(...names: string[]): (dir: string) => boolean {
  return (dir) => names.every((name) => existsSync(join(dir, name)));
}
