// An ssh private key handed over for one clone: written to a 0600 file in the clone's own temp folder
// (removed with it), and the GIT_SSH_COMMAND that uses it and nothing else. ssh never prompts
// (BatchMode); without a known_hosts file it trusts the host key it sees first, for this clone only.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface SshOptions {
  /** PEM/OpenSSH private key text. */
  sshKey?: string;
  /** A known_hosts file to check the host key against (StrictHostKeyChecking=yes). */
  knownHostsFile?: string;
  /** The ssh program (default "ssh"). */
  sshCommand?: string;
}

function quoted(arg: string): string {
  return `'${arg.replaceAll("'", "'\\''")}'`;
}

/** Writes the key (if any) under `dir` and returns the GIT_SSH_COMMAND for the clone. */
export async function prepareSsh(dir: string, options: SshOptions): Promise<string> {
  const args = [options.sshCommand ?? 'ssh', '-o', 'BatchMode=yes'];
  if (options.knownHostsFile) {
    args.push('-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${options.knownHostsFile}`);
  } else {
    args.push(
      '-o',
      'StrictHostKeyChecking=accept-new',
      '-o',
      `UserKnownHostsFile=${join(dir, 'known_hosts')}`,
    );
  }
  if (options.sshKey) {
    const keyFile = join(dir, 'id_key');
    const text = options.sshKey.endsWith('\n') ? options.sshKey : `${options.sshKey}\n`;
    await writeFile(keyFile, text, { mode: 0o600, flag: 'wx' });
    args.push('-i', keyFile, '-o', 'IdentitiesOnly=yes');
  }
  return args.map(quoted).join(' ');
}
