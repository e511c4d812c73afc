// The payload of `deploy` txs: how an IcodeDeployment is put into a tx's args and read back from an
// untrusted tx, with the rules every node checks before it installs the code.

import type { Canonical } from './canonical.ts';
import { canonicalJson } from './canonical.ts';
import { arrayOf, boundedString, child, fail, item, objectWith, text } from './decode.ts';
import type { IcodeBundle, IcodeDeployment, IcodeFile } from './icode.ts';

/** The tx `function` of a deploy tx; its icodeId is icodeIdOf(gitUrl, commit). */
export const DEPLOY_FUNCTION = 'deploy';
/** The tx `function` of an undeploy tx. */
export const UNDEPLOY_FUNCTION = 'undeploy';

export const MAX_BUNDLE_FILES = 256;
export const MAX_BUNDLE_PATH_LENGTH = 200;
export const MAX_GIT_URL_LENGTH = 1024;
/**
 * Default cap on a bundle's canonical JSON encoding, in bytes. It keeps a deploy tx inside the default
 * maxTxBytes (64 KiB, domain/validation.ts) with room for the rest of the tx; raise both together.
 */
export const DEFAULT_MAX_BUNDLE_BYTES = 56 * 1024;

const SOURCE_EXTENSIONS = ['.js', '.mjs', '.cjs'];
const BUNDLE_EXTENSIONS = [...SOURCE_EXTENSIONS, '.json'];
// Each segment: letters, digits and . _ - @ + only, so a path is the same on every file system.
const PATH_SEGMENT = /^[A-Za-z0-9_@+-][A-Za-z0-9._@+-]*$/;

export function isSourcePath(path: string): boolean {
  return SOURCE_EXTENSIONS.some((ext) => path.endsWith(ext));
}

export function isBundlePath(path: string): boolean {
  return BUNDLE_EXTENSIONS.some((ext) => path.endsWith(ext));
}

/** Why a relative file path cannot be part of a bundle, or undefined when it can. */
export function bundlePathProblem(path: string): string | undefined {
  if (path.length === 0 || path.length > MAX_BUNDLE_PATH_LENGTH) {
    return `a path must have 1-${MAX_BUNDLE_PATH_LENGTH} characters`;
  }
  const segments = path.split('/');
  if (segments.some((s) => !PATH_SEGMENT.test(s) || s === '.' || s === '..')) {
    return 'a path is relative, /-separated, of letters, digits and . _ - @ + (no . or .. segments)';
  }
  if (!isBundlePath(path)) return 'only .js, .mjs, .cjs and .json files can be bundled';
  return undefined;
}

/** Bytes of the bundle's canonical JSON encoding: the size that counts against the cap. */
export function bundleBytes(bundle: IcodeBundle): number {
  return Buffer.byteLength(canonicalJson(bundle));
}

/** Why a bundle is malformed (path rules, order, entry, size), or undefined when it is fine. */
export function bundleProblem(bundle: IcodeBundle, maxBytes = DEFAULT_MAX_BUNDLE_BYTES): string | undefined {
  if (bundle.files.length === 0) return 'the bundle has no files';
  if (bundle.files.length > MAX_BUNDLE_FILES) return `the bundle has more than ${MAX_BUNDLE_FILES} files`;
  for (let i = 0; i < bundle.files.length; i++) {
    const path = bundle.files[i]!.path;
    const problem = bundlePathProblem(path);
    if (problem) return `${path}: ${problem}`;
    if (i > 0 && !(bundle.files[i - 1]!.path < path)) return 'files must be sorted by path, without repeats';
  }
  if (!isSourcePath(bundle.entry)) return `the entry ${bundle.entry} is not a .js, .mjs or .cjs file`;
  if (!bundle.files.some((f) => f.path === bundle.entry)) return `the entry file ${bundle.entry} is missing`;
  const size = bundleBytes(bundle);
  if (size > maxBytes) return `the bundle is ${size} bytes, over the limit of ${maxBytes}`;
  return undefined;
}

/** The args of a deploy tx: one object {gitUrl, commit, bundle}. */
export function deploymentArgs(deployment: IcodeDeployment): Canonical[] {
  const { gitUrl, commit, bundle } = deployment;
  const files = bundle.files.map(({ path, content }) => ({ path, content }));
  return [{ gitUrl, commit, bundle: { entry: bundle.entry, files } }];
}

const DEPLOYMENT_KEYS = new Set(['gitUrl', 'commit', 'bundle']);
const BUNDLE_KEYS = new Set(['entry', 'files']);
const FILE_KEYS = new Set(['path', 'content']);
const COMMIT = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

function readFile(value: unknown, path: string): IcodeFile {
  const o = objectWith(value, path, FILE_KEYS);
  return {
    path: text(o.path, child(path, 'path'), MAX_BUNDLE_PATH_LENGTH),
    content: boundedString(o.content, child(path, 'content'), DEFAULT_MAX_BUNDLE_BYTES * 4),
  };
}

/**
 * Reads the deployment out of an untrusted deploy tx's args, or throws ValidationError naming the
 * field: every node checks the same rules before it installs anything.
 */
export function readDeployment(
  args: readonly unknown[],
  maxBundleBytes = DEFAULT_MAX_BUNDLE_BYTES,
): IcodeDeployment {
  if (args.length !== 1) fail('args', 'a deploy tx has exactly one argument {gitUrl, commit, bundle}');
  const at = item('args', 0);
  const o = objectWith(args[0], at, DEPLOYMENT_KEYS);
  const gitUrl = text(o.gitUrl, child(at, 'gitUrl'), MAX_GIT_URL_LENGTH);
  const commit = text(o.commit, child(at, 'commit'), 64);
  if (!COMMIT.test(commit)) fail(child(at, 'commit'), 'expected 40 or 64 lower-case hex characters');
  const b = objectWith(o.bundle, child(at, 'bundle'), BUNDLE_KEYS);
  const bundle: IcodeBundle = {
    entry: text(b.entry, child(at, 'bundle.entry'), MAX_BUNDLE_PATH_LENGTH),
    files: arrayOf(b.files, child(at, 'bundle.files'), readFile),
  };
  const problem = bundleProblem(bundle, maxBundleBytes);
  if (problem) fail(child(at, 'bundle'), problem);
  return { gitUrl, commit, bundle };
}
