// Which git URLs an iCode can be deployed from, and the one spelling of each that goes on chain
// (the iCode ID hashes it). Accepted: https, ssh (ssh:// or scp-like user@host:path), file:// and
// local paths (made absolute), and plain http only to the loopback host (local mirrors and tests).
// Refused with a reason: credentials in the URL (they would be recorded on chain for everyone),
// other schemes (git's ext:: runs commands, git:// is unauthenticated), anything starting with '-'
// (it would reach git as an option).

import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MAX_GIT_URL_LENGTH } from '../../domain/icode-deployment.ts';
import { IcodeSourceError } from '../../domain/icode-errors.ts';

export type GitUrlKind = 'local' | 'file' | 'https' | 'http' | 'ssh';

export interface GitSource {
  kind: GitUrlKind;
  /** The URL as recorded in the deploy tx and hashed into the iCode ID. */
  url: string;
  /** What `git clone` is given. */
  cloneUrl: string;
  /** The value for GIT_ALLOW_PROTOCOL: git may use this transport and no other. */
  protocol: 'file' | 'https' | 'http' | 'ssh';
}

// user@host:path, as git and scp write it. The user part is required here, so that a local path
// with a colon in it is never taken for a host.
const SCP_LIKE = /^(?:[A-Za-z0-9._-]+@)[A-Za-z0-9.-]+:(?!\/\/).+$/;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

function bad(message: string): never {
  throw new IcodeSourceError('bad-url', message);
}

function parsed(input: string): URL {
  try {
    return new URL(input);
  } catch {
    return bad(`${input} is not a valid URL`);
  }
}

function noCredentials(url: URL, allowUser: boolean): void {
  if (url.password !== '' || (!allowUser && url.username !== '')) {
    bad('credentials in the URL would be recorded on chain for every node to read: use an ssh key');
  }
}

export function parseGitUrl(input: string, cwd = process.cwd()): GitSource {
  const raw = input.trim();
  if (raw.length === 0) bad('the git URL is empty');
  if (raw.length > MAX_GIT_URL_LENGTH) bad(`the git URL is longer than ${MAX_GIT_URL_LENGTH} characters`);
  if ([...raw].some((c) => c < ' ' || c === '\u007f')) bad('the git URL contains control characters');
  if (raw.startsWith('-')) bad('a git URL cannot start with "-"');
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(raw)?.[1]?.toLowerCase();
  if (scheme === 'https') {
    const url = parsed(raw);
    noCredentials(url, false);
    return { kind: 'https', url: url.href, cloneUrl: url.href, protocol: 'https' };
  }
  if (scheme === 'http') {
    const url = parsed(raw);
    noCredentials(url, false);
    if (!LOOPBACK.has(url.hostname))
      bad('plain http is not encrypted: use https (http is allowed for 127.0.0.1 only)');
    return { kind: 'http', url: url.href, cloneUrl: url.href, protocol: 'http' };
  }
  if (scheme === 'ssh') {
    const url = parsed(raw);
    noCredentials(url, true);
    return { kind: 'ssh', url: url.href, cloneUrl: url.href, protocol: 'ssh' };
  }
  if (scheme === 'file') {
    const url = parsed(raw);
    if (url.host !== '') bad('a file:// URL must name a local path (file:///path/to/repo)');
    return { kind: 'file', url: url.href, cloneUrl: url.href, protocol: 'file' };
  }
  if (scheme !== undefined)
    bad(`git URLs with ${scheme}:// are not accepted (use https, ssh, file:// or a local path)`);
  if (/^[A-Za-z][A-Za-z0-9+.-]*::/.test(raw)) bad('git remote helpers (like ext::) are not accepted');
  if (SCP_LIKE.test(raw)) return { kind: 'ssh', url: raw, cloneUrl: raw, protocol: 'ssh' };
  const path = isAbsolute(raw) ? resolve(raw) : resolve(cwd, raw);
  // Cloned through file:// so that a shallow clone is possible and git's local-clone shortcuts
  // (hard links into the source repository) are not taken.
  return { kind: 'local', url: path, cloneUrl: pathToFileURL(path).href, protocol: 'file' };
}
