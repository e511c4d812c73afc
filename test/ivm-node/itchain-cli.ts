import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// The `itchain` client as a user runs it: `node bin/itchain.js …`, a real process, its exit code and
// its output.

const BIN = fileURLToPath(new URL('../../bin/itchain.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function itchain(args: readonly string[], options: { cwd?: string; timeoutMs?: number } = {}) {
  return new Promise<CliResult>((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: options.cwd, timeout: options.timeoutMs ?? 60_000, env: { ...process.env } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs the command and expects exit code 0; returns its stdout. */
export async function itchainOk(args: readonly string[], options: { cwd?: string } = {}): Promise<string> {
  const result = await itchain(args, options);
  if (result.code !== 0) {
    throw new Error(`itchain ${args.join(' ')} exited ${result.code}: ${result.stderr || result.stdout}`);
  }
  return result.stdout;
}
