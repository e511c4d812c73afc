import type { Command } from 'commander';
import { parseCallArgs } from '../client/call-args.ts';
import { type ClientFlags, clientOf, withClientOptions } from '../client/client-options.ts';
import { finishSubmit, reportTx, type WaitFlags, withWaitOptions } from '../client/tx-wait.ts';

// `itchain tx submit <icodeId> <function> [args...] [--wait]` and `itchain tx get <id>`.

export function registerTx(program: Command): void {
  const tx = program.command('tx').description('submit transactions and read their status');

  withWaitOptions(
    withClientOptions(
      tx
        .command('submit <icodeId> <function> [args...]')
        .description(
          'submit an invoke tx; each arg is parsed as JSON when it parses, else kept as a string ' +
            '(put args starting with "-" after --)',
        ),
    ),
  ).action(async (icodeId: string, fn: string, args: string[], flags: ClientFlags & WaitFlags) => {
    const client = clientOf(flags);
    const response = await client.post('/transactions', { icodeId, function: fn, args: parseCallArgs(args) });
    await finishSubmit(client, response, flags, (id) => `submitted tx ${id}`);
  });

  withClientOptions(tx.command('get <id>').description("show a tx's status")).action(
    async (id: string, flags: ClientFlags) => {
      const response = await clientOf(flags).get(`/transactions/${encodeURIComponent(id)}`);
      reportTx(response, flags.json === true, false);
    },
  );
}
