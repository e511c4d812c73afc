import { Command, CommanderError } from 'commander';
import { registerBlock } from './commands/block.ts';
import { registerIcode } from './commands/icode.ts';
import { registerInit } from './commands/init.ts';
import { registerPeer } from './commands/peer.ts';
import { registerSim } from './commands/sim.ts';
import { registerStart } from './commands/start.ts';
import { registerStatus } from './commands/status.ts';
import { registerTestnet } from './commands/testnet.ts';
import { registerTx } from './commands/tx.ts';
import { registerUp } from './commands/up.ts';

// The `itchain` command. Each command lives in cli/commands/<name>.ts and exports a function that adds
// itself to the program; to add a command, write that file and list its function here. A command
// imports its heavy modules (crypto, storage, network) inside its action, so `itchain <other>` and
// `--help` do not load them.
const COMMANDS: ReadonlyArray<(program: Command) => void> = [
  registerUp,
  registerTestnet,
  registerInit,
  registerStart,
  registerStatus,
  registerBlock,
  registerTx,
  registerIcode,
  registerPeer,
  registerSim,
];

// Every failure is one line on stderr, `itchain: <reason>`, and exit code 1.
function oneLine(text: string): string {
  return text
    .replace(/^error: /, '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join(' ');
}

const program = new Command('itchain')
  .description('it-chain: a lightweight CA-based private blockchain node for small communities')
  .version('0.1.0')
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(`itchain: ${oneLine(text)}\n`) });

for (const register of COMMANDS) register(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has already printed its message (or the help/version text).
    process.exitCode = error.exitCode;
  } else {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`itchain: ${oneLine(message)}\n`);
    if (process.env.ITCHAIN_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    process.exitCode = 1;
  }
}
