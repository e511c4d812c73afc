import type { Command } from 'commander';
import { type ClientFlags, clientOf, withClientOptions } from '../client/client-options.ts';
import { field, print, printJson, table } from '../client/output.ts';

// `itchain peer list|dial <addr>|join <addr>|disconnect <id>`: the node's peer connections.

export function registerPeer(program: Command): void {
  const peer = program.command('peer').description("list and manage a node's peer connections");

  withClientOptions(peer.command('list').description('list connected peers')).action(
    async (flags: ClientFlags) => {
      const response = await clientOf(flags).get('/peers');
      if (flags.json) return printJson(response);
      const peers = Array.isArray(response.json) ? response.json : [];
      if (peers.length === 0) return print('no peers');
      print(
        table([
          ['ID', 'ADDRESS', 'DIRECTION'],
          ...peers.map((p) => [
            String(field(p, 'id')),
            String(field(p, 'address')),
            field(p, 'outbound') ? 'out' : 'in',
          ]),
        ]),
      );
    },
  );

  for (const type of ['dial', 'join'] as const) {
    const description =
      type === 'dial'
        ? 'connect to a peer (host:port or nodeId@host:port)'
        : 'join a network through a peer: connect, learn its peers, sync, then ask to be admitted';
    withClientOptions(peer.command(`${type} <address>`).description(description)).action(
      async (address: string, flags: ClientFlags) => {
        const response = await clientOf(flags).post('/peers', { type, address });
        if (flags.json) return printJson(response);
        const peerId = field(response.json, 'peerId');
        print(
          `${type === 'dial' ? 'connected to' : 'joining through'} ${address}${peerId ? ` (peer ${peerId})` : ''}`,
        );
      },
    );
  }

  withClientOptions(peer.command('disconnect <id>').description('disconnect a peer by node ID')).action(
    async (id: string, flags: ClientFlags) => {
      const response = await clientOf(flags).delete(`/peers/${encodeURIComponent(id)}`);
      if (flags.json) return printJson(response);
      print(`disconnected ${id}`);
    },
  );
}
