// The image every iCode container runs: the host's own node binary, the shared libraries it loads and
// the container-side runner, imported as a root file system (nothing is pulled: the machines this
// runs on have no registry). The tag names the node version and a hash of the runner, so changing
// either gives a new image and an existing one is reused as is.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { type TarEntry, tarStream } from './tar.ts';

export const IMAGE_REPO = 'local/itchain-icode';
/** A label on every image built here, so that old ones can be found and removed. */
const IMAGE_LABEL = 'org.itchain.icode-image';
/** Where the runner lives inside the image. */
export const RUNNER_PATH = '/icode/runner.cjs';

const RUNNER_SOURCE_URL = new URL('./runner.cjs', import.meta.url);

export function runnerSource(): Buffer {
  return readFileSync(fileURLToPath(RUNNER_SOURCE_URL));
}

/** The node binary the containers run: the one running this process, at the same path. */
export function nodeBinary(): string {
  return process.execPath;
}

export function icodeImageTag(): string {
  const runner = createHash('sha256').update(runnerSource()).digest('hex').slice(0, 12);
  return `${IMAGE_REPO}:node${process.versions.node}-${runner}`;
}

/** Absolute paths of the shared libraries `ldd` says the binary loads (the vDSO has none). */
export function sharedLibraries(binary: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  const paths = new Set<string>();
  for (const line of out.split('\n')) {
    const m = /(\/\S+) \(0x[0-9a-f]+\)/.exec(line);
    if (m?.[1]) paths.add(m[1]);
  }
  return [...paths].sort();
}

function parents(path: string): string[] {
  const out: string[] = [];
  for (let dir = posix.dirname(path); dir !== '/'; dir = posix.dirname(dir)) out.push(dir);
  return out;
}

/** The root file system: each file at its host path (symlinks followed), /tmp, the runner. */
export function rootfsEntries(): TarEntry[] {
  const files: TarEntry[] = [];
  for (const path of [nodeBinary(), ...sharedLibraries(nodeBinary())]) {
    const real = realpathSync(path);
    const st = statSync(real);
    files.push({ kind: 'file', path, mode: st.mode & 0o755, size: st.size, source: real });
  }
  const runner = runnerSource();
  files.push({ kind: 'file', path: RUNNER_PATH, mode: 0o644, size: runner.length, source: runner });
  const dirs = new Set<string>();
  for (const f of files) for (const d of parents(f.path)) dirs.add(d);
  const dirEntries: TarEntry[] = [...dirs].sort().map((path) => ({ kind: 'dir', path, mode: 0o755 }));
  return [{ kind: 'dir', path: '/tmp', mode: 0o1777 }, ...dirEntries, ...files];
}

export async function imageExists(docker: Docker, tag: string): Promise<boolean> {
  try {
    await docker.getImage(tag).inspect();
    return true;
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return false;
    throw e;
  }
}

// Concurrent callers in one process (several runtimes, a test and the script) share one build.
const building = new Map<string, Promise<string>>();

/** Builds the image unless it exists; returns its tag. */
export function ensureIcodeImage(docker: Docker, tag = icodeImageTag()): Promise<string> {
  let pending = building.get(tag);
  if (!pending) {
    pending = build(docker, tag).finally(() => building.delete(tag));
    building.set(tag, pending);
  }
  return pending;
}

async function build(docker: Docker, tag: string): Promise<string> {
  if (await imageExists(docker, tag)) return tag;
  const [repo, version] = tag.split(':') as [string, string];
  const response = await docker.importImage(tarStream(rootfsEntries()), {
    repo,
    tag: version,
    changes: [`ENTRYPOINT ["${nodeBinary()}", "${RUNNER_PATH}"]`, `LABEL ${IMAGE_LABEL}=1`],
  });
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(response, (err: Error | null, events: { error?: string }[]) => {
      const failed = err?.message ?? events.find((e) => e.error)?.error;
      if (failed) reject(new Error(`docker import of ${tag} failed: ${failed}`));
      else resolve();
    });
  });
  if (!(await imageExists(docker, tag))) throw new Error(`docker import did not create ${tag}`);
  await removeOtherImages(docker, tag);
  return tag;
}

/**
 * Each runner or node version gives a new ~100 MB image: drop the ones of other versions (and the
 * untagged leftovers of two builds racing for one tag). An image a container still runs stays.
 */
async function removeOtherImages(docker: Docker, keep: string): Promise<void> {
  const images = await docker.listImages({ all: true, filters: { label: [IMAGE_LABEL] } }).catch(() => []);
  for (const image of images) {
    if (image.RepoTags?.includes(keep)) continue;
    await docker
      .getImage(image.Id)
      .remove()
      .catch(() => undefined);
  }
}
