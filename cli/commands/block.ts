import type { Command } from 'commander';
import { type ClientFlags, clientOf, withClientOptions } from '../client/client-options.ts';
import { field, print, printJson, shortHash, table, time } from '../client/output.ts';
import { integerOption } from '../option-checks.ts';

// `itchain block get <heightOrSeal>` and `itchain block list [--from N] [--limit N]`.

interface ListFlags extends ClientFlags {
  from?: string;
  limit?: string;
}

export function registerBlock(program: Command): void {
  const block = program.command('block').description('read committed blocks');

  withClientOptions(
    block.command('get <heightOrSeal>').description('show one block by height or seal'),
  ).action(async (heightOrSeal: string, flags: ClientFlags) => {
    const response = await clientOf(flags).get(`/blocks/${encodeURIComponent(heightOrSeal)}`);
    if (flags.json) return printJson(response);
    const b = response.json;
    const txs = field(b, 'txs');
    const txList = Array.isArray(txs) ? txs : [];
    print(
      table([
        ['height', String(field(b, 'height'))],
        ['seal', String(field(b, 'seal'))],
        ['prevSeal', String(field(b, 'prevSeal'))],
        ['txRoot', String(field(b, 'txRoot'))],
        ['stateRoot', String(field(b, 'stateRoot'))],
        ['time', time(Number(field(b, 'timestamp')))],
        ['creator', String(field(b, 'creator'))],
        ['txs', String(txList.length)],
        ...txList.map((tx) => [
          '',
          `${field(tx, 'id')}  ${field(tx, 'kind')} ${field(tx, 'icodeId')}.${field(tx, 'function')}`,
        ]),
      ]),
    );
  });

  withClientOptions(
    block
      .command('list')
      .description('list blocks in height order (the newest ones unless --from is given)')
      .option('--from <height>', 'first height')
      .option('--limit <n>', 'how many blocks (1-1000)', '20'),
  ).action(async (flags: ListFlags) => {
    const query = new URLSearchParams();
    if (flags.from !== undefined)
      query.set('from', String(integerOption('--from', flags.from, 0, Number.MAX_SAFE_INTEGER)));
    query.set('limit', String(integerOption('--limit', flags.limit ?? '20', 1, 1000)));
    const response = await clientOf(flags).get(`/blocks?${query}`);
    if (flags.json) return printJson(response);
    const blocks = Array.isArray(response.json) ? response.json : [];
    if (blocks.length === 0) return print('no blocks');
    print(
      table([
        ['HEIGHT', 'SEAL', 'TXS', 'TIME', 'CREATOR'],
        ...blocks.map((b) => {
          const txs = field(b, 'txs');
          return [
            String(field(b, 'height')),
            shortHash(String(field(b, 'seal'))),
            String(Array.isArray(txs) ? txs.length : 0),
            time(Number(field(b, 'timestamp'))),
            shortHash(String(field(b, 'creator'))),
          ];
        }),
      ]),
    );
  });
}
