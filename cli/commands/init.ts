import { join } from 'node:path';
import type { Command } from 'commander';
import { CA_DIRECTORY, CA_FILES, HOME_FILES } from '../../config/home-layout.ts';
import { parsePeerAddress } from '../../config/peer-address.ts';
import { listing } from '../listing.ts';
import { integerOption, networkIdOption, organizationOption, UsageError } from '../option-checks.ts';

interface InitFlags {
  home: string;
  ca?: string;
  genesis?: string;
  apiPort: string;
  grpcPort: string;
  peer: string[];
  networkId?: string;
  organization?: string;
  force?: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerInit(program: Command): void {
  program
    .command('init')
    .description(
      'write one node home: a one-node network of its own, or (with --ca and --genesis) a node to join an existing network',
    )
    .requiredOption('--home <dir>', 'the node home to write')
    .option(
      '--ca <dir>',
      "an existing network's CA directory (with ca.key and ca.crt) to issue this node's certificate",
    )
    .option('--genesis <file>', "the existing network's genesis.json (with --ca)")
    .option('--api-port <port>', 'REST API port', '4000')
    .option('--grpc-port <port>', 'gRPC peer port', '5000')
    .option('--peer <nodeId@host:port>', 'a bootstrap peer (repeatable)', collect, [])
    .option('--network-id <id>', 'network ID of a new network (default "itchain")')
    .option('--organization <name>', 'organization of a new network (default "it-chain")')
    .option('--force', 'replace an existing node home')
    .action(async (flags: InitFlags) => {
      if ((flags.ca === undefined) !== (flags.genesis === undefined)) {
        throw new UsageError(
          '--ca and --genesis go together: both to join an existing network, neither for a new one',
        );
      }
      const joining = flags.ca !== undefined && flags.genesis !== undefined;
      if (joining && (flags.networkId !== undefined || flags.organization !== undefined)) {
        throw new UsageError(
          '--network-id and --organization come from the genesis file when joining a network',
        );
      }
      const apiPort = integerOption('--api-port', flags.apiPort, 1, 65535);
      const grpcPort = integerOption('--grpc-port', flags.grpcPort, 1, 65535);
      if (apiPort === grpcPort) throw new UsageError('--api-port and --grpc-port must differ');
      for (const peer of flags.peer) {
        if (!parsePeerAddress(peer)) throw new UsageError(`--peer must be nodeId@host:port, got "${peer}"`);
      }
      const { initNode } = await import('../setup/node-init.ts');
      const node = await initNode({
        home: flags.home,
        force: flags.force === true,
        apiPort,
        grpcPort,
        bootstrapPeers: flags.peer,
        networkId: networkIdOption('--network-id', flags.networkId ?? 'itchain'),
        organization: organizationOption('--organization', flags.organization ?? 'it-chain'),
        join: joining ? { caDir: flags.ca!, genesisFile: flags.genesis! } : undefined,
      });
      const lines = [
        `Wrote the node home ${node.home} (node ${node.nodeId}, network "${node.networkId}")`,
        ...listing([
          [HOME_FILES.privateKey, 'Ed25519 private key (mode 0600)'],
          [HOME_FILES.certificate, `certificate issued by the CA in ${node.caDir}`],
          [HOME_FILES.caCertificate, 'network CA certificate'],
          [
            HOME_FILES.genesis,
            node.validator
              ? 'genesis: this node is the only validator'
              : "the network's genesis (this node is not a validator: admission is a membership tx)",
          ],
          [HOME_FILES.config, `API http://127.0.0.1:${node.apiPort}  gRPC 127.0.0.1:${node.grpcPort}`],
          ...(node.validator
            ? [
                [
                  `${CA_DIRECTORY}/`,
                  `this network's CA: ${CA_FILES.certificate}, ${CA_FILES.privateKey} (mode 0600)`,
                ] as const,
              ]
            : []),
        ]),
        ...(node.validator
          ? [
              `Add a node to this network: itchain init --home <dir> --ca ${node.caDir} --genesis ${join(node.home, HOME_FILES.genesis)}`,
            ]
          : []),
        `Start it with: itchain start --home ${node.home}`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
