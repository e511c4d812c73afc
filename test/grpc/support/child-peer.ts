import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { PeerProcessConfig } from './peer-process.ts';

const SCRIPT = fileURLToPath(new URL('./peer-process.ts', import.meta.url));

export interface ChildPeer {
  readonly process: ChildProcess;
  readonly port: number;
}

/** Starts peer-process.ts under tsx and resolves once it listens. */
export function spawnPeer(config: PeerProcessConfig, timeoutMs = 15_000): Promise<ChildPeer> {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the peer process did not start in time'));
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the peer process exited early (${code ?? signal})`));
    });
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve({ process: child, port: (JSON.parse(line) as { port: number }).port });
    });
  });
}

/** Sends a signal and, for a kill, waits until the process is gone. */
export function killPeer(peer: ChildPeer, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (peer.process.exitCode !== null || peer.process.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    peer.process.once('exit', () => resolve());
    peer.process.kill(signal);
  });
}
