// Reads an iCode's folder (a git checkout, or a built-in iCode) into a bundle: icode.json's entry
// (default index.js) and every .js/.mjs/.cjs/.json file outside dot-folders and node_modules, sorted
// by path. Anything that would make the bundle differ between machines (a symlink, a name with
// spaces or backslashes, a file that is not UTF-8) is refused rather than skipped, naming the file.

import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IcodeBundle, IcodeFile } from '../../domain/icode.ts';
import {
  bundlePathProblem,
  bundleProblem,
  DEFAULT_MAX_BUNDLE_BYTES,
  isBundlePath,
  isSourcePath,
  MAX_BUNDLE_FILES,
} from '../../domain/icode-deployment.ts';
import { IcodeSourceError } from '../../domain/icode-errors.ts';

export const MANIFEST_FILE = 'icode.json';
export const DEFAULT_ENTRY = 'index.js';
const MANIFEST_KEYS = new Set(['entry', 'name', 'description']);

const utf8 = new TextDecoder('utf-8', { fatal: true });

async function readManifest(dir: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST_FILE), 'utf8');
  } catch {
    return DEFAULT_ENTRY;
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch (e) {
    throw new IcodeSourceError('bad-manifest', `${MANIFEST_FILE} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) {
    throw new IcodeSourceError(
      'bad-manifest',
      `${MANIFEST_FILE} must hold an object like {"entry": "index.js"}`,
    );
  }
  for (const key of Object.keys(manifest)) {
    if (!MANIFEST_KEYS.has(key)) {
      throw new IcodeSourceError(
        'bad-manifest',
        `${MANIFEST_FILE}: unknown key "${key}" (known: entry, name, description)`,
      );
    }
  }
  const entry = (manifest as { entry?: unknown }).entry ?? DEFAULT_ENTRY;
  if (typeof entry !== 'string' || bundlePathProblem(entry) !== undefined || !isSourcePath(entry)) {
    throw new IcodeSourceError(
      'bad-manifest',
      `${MANIFEST_FILE}: "entry" must be the relative path of a .js, .mjs or .cjs file`,
    );
  }
  return entry;
}

/** Relative paths of the files to bundle, checked and in sorted order. */
async function listFiles(root: string, maxBytes: number): Promise<string[]> {
  const found: string[] = [];
  let total = 0;
  async function walk(relative: string): Promise<void> {
    const entries = await readdir(join(root, relative), { withFileTypes: true });
    for (const entry of entries) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) {
        await walk(path);
        continue;
      }
      if (!isBundlePath(path)) continue;
      if (!entry.isFile())
        throw new IcodeSourceError(
          'bad-file',
          `${path} is a symlink or special file; only regular files can be bundled`,
        );
      const problem = bundlePathProblem(path);
      if (problem) throw new IcodeSourceError('bad-file', `${path}: ${problem}`);
      total += (await lstat(join(root, path))).size;
      if (total > maxBytes)
        throw new IcodeSourceError('too-large', `the source files are over the limit of ${maxBytes} bytes`);
      found.push(path);
      if (found.length > MAX_BUNDLE_FILES)
        throw new IcodeSourceError('too-large', `more than ${MAX_BUNDLE_FILES} files to bundle`);
    }
  }
  await walk('');
  return found.sort();
}

/** The bundle of the iCode in `dir`; throws IcodeSourceError naming what is wrong. */
export async function bundleDirectory(
  dir: string,
  maxBytes = DEFAULT_MAX_BUNDLE_BYTES,
): Promise<IcodeBundle> {
  const entry = await readManifest(dir);
  const paths = await listFiles(dir, maxBytes);
  if (!paths.includes(entry)) {
    throw new IcodeSourceError(
      'no-entry',
      `the entry file ${entry} is not in the repository (set "entry" in ${MANIFEST_FILE})`,
    );
  }
  const files: IcodeFile[] = [];
  for (const path of paths) {
    try {
      files.push({ path, content: utf8.decode(await readFile(join(dir, path))) });
    } catch {
      throw new IcodeSourceError('bad-file', `${path} is not UTF-8 text`);
    }
  }
  const bundle: IcodeBundle = { entry, files };
  const problem = bundleProblem(bundle, maxBytes);
  if (problem)
    throw new IcodeSourceError(problem.includes('over the limit') ? 'too-large' : 'bad-file', problem);
  return bundle;
}
