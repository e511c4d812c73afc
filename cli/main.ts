import { Command } from 'commander';

const program = new Command('itchain')
  .description('it-chain: a lightweight CA-based private blockchain node for small communities')
  .version('0.1.0');

await program.parseAsync(process.argv);
