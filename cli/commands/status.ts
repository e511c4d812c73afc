import type { Command } from 'commander';
import { type ClientFlags, clientOf, withClientOptions } from '../client/client-options.ts';
import { field, print, printJson, shortHash, table } from '../client/output.ts';

// `itchain status`: GET /status.

export function registerStatus(program: Command): void {
  withClientOptions(program.command('status').description("show a node's status")).action(
    async (flags: ClientFlags) => {
      const response = await clientOf(flags).get('/status');
      if (flags.json) return printJson(response);
      const s = response.json;
      const peers = field(s, 'peers');
      const peerList = Array.isArray(peers) ? peers : [];
      const leader = field(s, 'leader');
      const term = field(s, 'term');
      const sync = field(s, 'sync');
      const seal = field(s, 'lastSeal');
      const rows = [
        ['node', String(field(s, 'nodeId'))],
        ['network', String(field(s, 'networkId'))],
        ['role', `${field(s, 'role')}${leader ? ` (leader ${leader}, term ${term})` : ` (term ${term})`}`],
        ['height', `${field(s, 'height')}  seal ${shortHash(typeof seal === 'string' ? seal : null)}`],
        [
          'peers',
          peerList.length === 0
            ? 'none'
            : peerList.map((p) => `${field(p, 'id')}@${field(p, 'address')}`).join(', '),
        ],
      ];
      if (sync) {
        const eta = field(sync, 'etaSec');
        rows.push([
          'sync',
          `height ${field(sync, 'height')} of ${field(sync, 'targetHeight')}, ` +
            `${field(sync, 'blocksPerSec')} blocks/s${eta === null || eta === undefined ? '' : `, ETA ${eta} s`}`,
        ]);
      }
      print(table(rows));
    },
  );
}
