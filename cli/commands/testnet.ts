import { relative } from 'node:path';
import type { Command } from 'commander';
import { CA_FILES, HOME_FILES } from '../../config/home-layout.ts';
import { listing } from '../listing.ts';
import { integerOption, networkIdOption, organizationOption } from '../option-checks.ts';
import { DEFAULT_BASE_PORT, MAX_TESTNET_NODES, maxBasePort } from '../setup/testnet-ports.ts';

interface TestnetFlags {
  nodes: string;
  dir: string;
  basePort?: string;
  networkId: string;
  organization: string;
  force?: boolean;
}

export function registerTestnet(program: Command): void {
  program
    .command('testnet')
    .description('write a local network: CA, genesis and one node home per node (DIR/node0 … DIR/node{N-1})')
    .option('--nodes <n>', `number of nodes, 1 to ${MAX_TESTNET_NODES}`, '4')
    .requiredOption('--dir <dir>', 'directory to write the network into')
    .option(
      '--base-port <port>',
      `node i gets API port P+i and gRPC port P+1000+i (default ${DEFAULT_BASE_PORT}: API 4000+i, gRPC 5000+i)`,
    )
    .option('--network-id <id>', 'network ID', 'itchain-testnet')
    .option('--organization <name>', 'organization named in the CA and the genesis file', 'it-chain')
    .option('--force', 'replace an existing testnet in DIR')
    .action(async (flags: TestnetFlags) => {
      const nodes = integerOption('--nodes', flags.nodes, 1, MAX_TESTNET_NODES);
      const basePort =
        flags.basePort === undefined
          ? undefined
          : integerOption('--base-port', flags.basePort, 1, maxBasePort(nodes));
      // Loaded on use, so other commands do not pay for the X.509 and crypto modules at start.
      const { createTestnet } = await import('../setup/testnet.ts');
      const testnet = await createTestnet({
        dir: flags.dir,
        nodes,
        basePort,
        networkId: networkIdOption('--network-id', flags.networkId),
        organization: organizationOption('--organization', flags.organization),
        force: flags.force === true,
      });
      const at = (path: string) => relative(testnet.dir, path);
      const lines = [
        `Wrote the ${nodes}-node testnet "${testnet.genesis.networkId}" in ${testnet.dir}`,
        ...listing([
          [
            `${at(testnet.caDir)}/`,
            `network CA: ${CA_FILES.certificate}, ${CA_FILES.privateKey} (mode 0600; it admits new nodes, keep it private)`,
          ],
          [HOME_FILES.genesis, `genesis: ${testnet.genesis.validators.length} validators, CA pinned`],
          ...testnet.nodes.map((n): [string, string] => [
            `${at(n.home)}/`,
            `node ${n.nodeId}  API http://127.0.0.1:${n.apiPort}  gRPC 127.0.0.1:${n.grpcPort}`,
          ]),
        ]),
        `Each home holds ${HOME_FILES.privateKey} (mode 0600), ${HOME_FILES.certificate}, ${HOME_FILES.caCertificate}, ${HOME_FILES.genesis} and ${HOME_FILES.config}.`,
        `Start a node with: itchain start --home ${testnet.nodes[0]!.home}`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
