import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// `itchain sim` as a user runs it: the real binary in a child process, stdout as bytes.

export const BIN = fileURLToPath(new URL('../../bin/itchain.js', import.meta.url));
export const REPO = fileURLToPath(new URL('../../', import.meta.url));

export interface SimRun {
  code: number;
  stdout: Buffer;
  stderr: string;
}

export function runSim(args: readonly string[]): Promise<SimRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, 'sim', ...args],
      { cwd: REPO, encoding: 'buffer', timeout: 30_000, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr: stderr.toString('utf8') });
      },
    );
  });
}

/** `itchain sim --web …`: resolves once the server printed its URL. */
export function startWebSim(args: readonly string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BIN, 'sim', '--web', ...args], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no URL within 20 s; stdout: ${out} stderr: ${err}`));
    }, 20_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(out)?.[0];
      if (url) {
        clearTimeout(timer);
        resolve({ child, url });
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString('utf8');
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before serving; stderr: ${err}`));
    });
  });
}

/** Stops a child this test started, and waits for its exit code. */
export function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) {
      resolve(child.exitCode);
      return;
    }
    child.once('exit', (code) => resolve(code));
    child.kill(signal);
  });
}
