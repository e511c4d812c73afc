import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { HOME_FILES } from '../../config/home-layout.ts';
import { listing } from '../listing.ts';
import { integerOption, UsageError } from '../option-checks.ts';
import { DEFAULT_BASE_PORT, MAX_TESTNET_NODES, maxBasePort } from '../setup/testnet-ports.ts';

// `itchain up`: the one-command demo (SPEC §7). Creates a local network on the first run (reused,
// with its data, after), starts every node as its own `itchain start` process, waits until each API
// answers, prints the API URLs and the live view, and forwards the nodes' logs prefixed by node.
// Ctrl-C (or SIGTERM) stops them all cleanly — SIGTERM to each, SIGKILL to any still running after
// STOP_TIMEOUT_MS — and exits 0. The nodes run in process groups of their own, so the terminal's
// Ctrl-C reaches only `up`, which stops them in order.

interface UpFlags {
  nodes?: string;
  dir: string;
  bus: string;
  basePort?: string;
  inspect?: boolean;
}

const BIN = fileURLToPath(new URL('../../bin/itchain.js', import.meta.url));
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

interface UpNode {
  name: string;
  home: string;
  nodeId: string;
  apiUrl: string;
  child: ChildProcess | null;
  exited: Promise<number | null> | null;
}

function nodeDirs(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => /^node\d+$/.test(name) && existsSync(join(dir, name, HOME_FILES.config)))
    .sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)));
}

async function reachable(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/status`, { signal: AbortSignal.timeout(1_000) });
    return response.ok;
  } catch {
    return false;
  }
}

export function registerUp(program: Command): void {
  program
    .command('up')
    .description(
      'run a local network, one process per node: created on the first run, reused (with its data) after; Ctrl-C stops all',
    )
    .option('--nodes <n>', `node count of a new network, 1 to ${MAX_TESTNET_NODES} (default 4)`)
    .option('--dir <dir>', 'where the network lives', '.itchain/testnet')
    .option('--bus <url>', 'the nodes\' event bus: "memory" or an amqp:// URL (RabbitMQ)', 'memory')
    .option(
      '--base-port <port>',
      `ports of a new network: API P+i, gRPC P+1000+i (default ${DEFAULT_BASE_PORT})`,
    )
    .option(
      '--inspect',
      "stream every node's actor system to the Stately inspector (prints where to open it)",
    )
    .action(async (flags: UpFlags) => {
      if (flags.bus !== 'memory' && !/^amqps?:\/\/\S+$/.test(flags.bus)) {
        throw new UsageError(`--bus must be "memory" or an amqp:// URL, got "${flags.bus}"`);
      }
      const dir = resolve(flags.dir);
      const say = (line: string) => process.stdout.write(`${line}\n`);
      const { loadConfig } = await import('../../config/load-config.ts');
      const { peerNodeIdFromCertificate } = await import('../../adapters/pki/peer-certificate.ts');
      const { readFileSync } = await import('node:fs');

      if (existsSync(join(dir, HOME_FILES.genesis))) {
        const count = nodeDirs(dir).length;
        say(`Reusing the ${count}-node network in ${dir} (its data is kept).`);
        if (flags.nodes !== undefined && Number(flags.nodes) !== count) {
          say(
            `  --nodes applies to a new network; remove ${relative(process.cwd(), dir) || dir} to start over.`,
          );
        }
      } else {
        const nodes = integerOption('--nodes', flags.nodes ?? '4', 1, MAX_TESTNET_NODES);
        const basePort =
          flags.basePort === undefined
            ? undefined
            : integerOption('--base-port', flags.basePort, 1, maxBasePort(nodes));
        const { createTestnet } = await import('../setup/testnet.ts');
        await mkdir(dirname(dir), { recursive: true });
        await createTestnet({ dir, nodes, basePort, networkId: 'itchain-testnet', organization: 'it-chain' });
        say(`Created a ${nodes}-node network in ${dir}.`);
      }

      const ca = readFileSync(join(dir, 'ca', 'ca.crt'));
      const nodes: UpNode[] = nodeDirs(dir).map((name) => {
        const home = join(dir, name);
        const config = loadConfig(join(home, HOME_FILES.config), {});
        return {
          name,
          home,
          nodeId: peerNodeIdFromCertificate(readFileSync(config.node.certFile), ca),
          apiUrl: `http://${config.api.host}:${config.api.port}`,
          child: null,
          exited: null,
        };
      });
      if (nodes.length === 0) throw new Error(`${dir} holds a genesis file but no node homes`);
      for (const node of nodes) {
        if (await reachable(node.apiUrl)) {
          throw new Error(
            `${node.apiUrl} already answers: is this network (or another) running? Stop it first`,
          );
        }
      }

      const { openInspectorBridge, prettyLines } = await helpers();
      const bridge = flags.inspect ? await openInspectorBridge() : null;
      const format = prettyLines(process.stdout.isTTY === true);
      const width = Math.max(...nodes.map((n) => n.name.length));
      let stopping = false;

      const forward = (node: UpNode, stream: NodeJS.ReadableStream | null, out: NodeJS.WriteStream) => {
        if (!stream) return;
        const lines = createInterface({ input: stream });
        lines.on('line', (line) => out.write(`${node.name.padEnd(width)} │ ${format(line)}\n`));
      };

      for (const node of nodes) {
        const args = [BIN, 'start', '--home', node.home, '--log-format', 'json'];
        if (bridge) args.push('--inspect-url', bridge.wsUrl);
        const child = spawn(process.execPath, args, {
          env: { ...process.env, ITCHAIN_BUS_URL: flags.bus },
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: true,
        });
        node.child = child;
        node.exited = new Promise((done) => child.once('exit', (code) => done(code)));
        forward(node, child.stdout, process.stdout);
        forward(node, child.stderr, process.stderr);
        void node.exited.then((code) => {
          if (!stopping) say(`${node.name} exited with code ${code}`);
        });
      }

      const stopAll = async (): Promise<void> => {
        stopping = true;
        const running = nodes.filter(
          (n) => n.child && n.child.exitCode === null && n.child.signalCode === null,
        );
        for (const node of running) node.child?.kill('SIGTERM');
        const killer = setTimeout(() => {
          for (const node of running) {
            if (node.child && node.child.exitCode === null && node.child.signalCode === null) {
              say(`${node.name} did not stop within ${STOP_TIMEOUT_MS / 1000} s: killing it`);
              node.child.kill('SIGKILL');
            }
          }
        }, STOP_TIMEOUT_MS);
        await Promise.all(running.map((n) => n.exited));
        clearTimeout(killer);
        bridge?.stop();
      };
      // If `up` itself goes away abruptly, its nodes (own process groups) must not live on.
      process.once('exit', () => {
        for (const node of nodes) if (node.child && node.child.exitCode === null) node.child.kill('SIGTERM');
      });

      let signalled: (signal: NodeJS.Signals) => void = () => {};
      const signal = new Promise<NodeJS.Signals>((done) => {
        signalled = done;
      });
      process.once('SIGINT', () => signalled('SIGINT'));
      process.once('SIGTERM', () => signalled('SIGTERM'));

      const allExited = Promise.all(nodes.map((n) => n.exited));
      const ready = Promise.all(
        nodes.map(async (node) => {
          const deadline = Date.now() + READY_TIMEOUT_MS;
          while (!(await reachable(node.apiUrl))) {
            if (node.child?.exitCode !== null || Date.now() > deadline) return false;
            await new Promise((r) => setTimeout(r, 200));
          }
          return true;
        }),
      );
      const first = await Promise.race([ready.then((ok) => ({ ok })), signal.then(() => ({ ok: null }))]);
      if (first.ok === null) {
        await stopAll();
        say('Stopped.');
        return;
      }
      if (first.ok.some((ok) => !ok)) {
        const failed = nodes.filter((_, i) => !first.ok[i]).map((n) => n.name);
        await stopAll();
        throw new Error(`${failed.join(', ')} did not start (see the log lines above)`);
      }

      const rows = nodes.map((n): [string, string] => [n.name, `${n.nodeId.slice(0, 12)}…  API ${n.apiUrl}`]);
      say('');
      say(`The network is up: ${nodes.length} nodes, bus ${flags.bus}, data in ${dir}`);
      for (const line of listing(rows)) say(line);
      say(`Live view:  ${nodes[0]!.apiUrl}/`);
      if (bridge) say(`Inspector:  ${bridge.pageUrl} (the Stately inspector, fed by every node)`);
      const api = nodes[0]!.apiUrl === 'http://127.0.0.1:4000' ? '' : ` --api ${nodes[0]!.apiUrl}`;
      say(`Try:        npx itchain tx submit kv put greeting hello --wait${api}`);
      say(`            npx itchain status${api}`);
      say('Ctrl-C stops every node (the data is kept for the next `itchain up`).');
      say('');

      const outcome = await Promise.race([
        signal.then((s) => ({ signal: s })),
        allExited.then(() => ({ signal: null })),
      ]);
      if (outcome.signal === null) {
        bridge?.stop();
        throw new Error('every node has exited');
      }
      say(`\n${outcome.signal}: stopping ${nodes.length} nodes…`);
      await stopAll();
      say('Stopped. Run `itchain up` again to continue where the network left off.');
    });
}

/** Loaded on use, so other commands do not pay for them. */
async function helpers() {
  const { startInspectorBridge, DEFAULT_INSPECT_PORT } = await import('../../actors/inspector.ts');
  const { prettyLine } = await import('../../adapters/log/logger.ts');
  return {
    openInspectorBridge: () => startInspectorBridge(DEFAULT_INSPECT_PORT),
    /** Node log lines (JSON) as pretty lines on a terminal, unchanged otherwise. */
    prettyLines: (pretty: boolean) => (pretty ? prettyLine() : (line: string) => line),
  };
}
