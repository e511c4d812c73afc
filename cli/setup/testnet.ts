import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createCertificateAuthority,
  issueNodeCertificate,
  publicKeyPem,
} from '../../adapters/pki/certificate-authority.ts';
import { writeCaDirectory } from '../../adapters/pki/pki-files.ts';
import { CA_DIRECTORY, HOME_FILES } from '../../config/home-layout.ts';
import { formatPeerAddress } from '../../config/peer-address.ts';
import type { GenesisFile } from '../../domain/genesis.ts';
import { generateIdentity, type Identity, type NodeId } from '../../domain/identity.ts';
import { hasEntries, writeDirectoryAtomically } from './atomic-directory.ts';
import { formatGenesisFile } from './genesis-file.ts';
import { nodeConfig, writeNodeHome } from './node-home.ts';
import { DEFAULT_BASE_PORT, GRPC_PORT_OFFSET, MAX_TESTNET_NODES, maxBasePort } from './testnet-ports.ts';

// A whole local network in one directory: the CA (D/ca), the genesis file every node shares
// (D/genesis.json) and one home per node (D/node0 … D/node{N-1}), each ready for `itchain start --home`.

export interface TestnetOptions {
  readonly dir: string;
  readonly nodes: number;
  readonly basePort?: number;
  readonly networkId: string;
  readonly organization: string;
  readonly force?: boolean;
}

export interface TestnetNode {
  readonly index: number;
  readonly nodeId: NodeId;
  readonly home: string;
  readonly apiPort: number;
  readonly grpcPort: number;
}

export interface Testnet {
  readonly dir: string;
  readonly caDir: string;
  readonly genesisFile: string;
  readonly genesis: GenesisFile;
  readonly nodes: readonly TestnetNode[];
}

export function nodeDirName(index: number): string {
  return `node${index}`;
}

export async function createTestnet(options: TestnetOptions): Promise<Testnet> {
  const basePort = options.basePort ?? DEFAULT_BASE_PORT;
  if (!Number.isInteger(options.nodes) || options.nodes < 1 || options.nodes > MAX_TESTNET_NODES) {
    throw new Error(`a testnet has 1 to ${MAX_TESTNET_NODES} nodes, not ${options.nodes}`);
  }
  if (!Number.isInteger(basePort) || basePort < 1 || basePort > maxBasePort(options.nodes)) {
    throw new Error(`the base port must be an integer from 1 to ${maxBasePort(options.nodes)}`);
  }
  const now = new Date();
  const ca = await createCertificateAuthority({
    organization: options.organization,
    networkId: options.networkId,
    now,
  });
  const members = await Promise.all(
    Array.from({ length: options.nodes }, async (_, index) => {
      const identity: Identity = generateIdentity();
      const { certificatePem } = await issueNodeCertificate(ca, identity.publicKey, {
        organization: options.organization,
        now,
      });
      return {
        index,
        identity,
        certificatePem,
        apiPort: basePort + index,
        grpcPort: basePort + GRPC_PORT_OFFSET + index,
      };
    }),
  );
  const genesis: GenesisFile = {
    organization: options.organization,
    networkId: options.networkId,
    creator: members[0]!.identity.nodeId,
    timestamp: now.getTime(),
    caCertificate: ca.certificatePem,
    validators: members.map((m) => ({ nodeId: m.identity.nodeId, publicKey: publicKeyPem(m.identity) })),
  };
  const genesisText = formatGenesisFile(genesis);

  const dir = await writeDirectoryAtomically(
    {
      target: options.dir,
      force: options.force ?? false,
      kind: 'testnet',
      isOurs: hasEntries(HOME_FILES.genesis, CA_DIRECTORY),
    },
    async (temporary) => {
      await writeCaDirectory(join(temporary, CA_DIRECTORY), ca);
      await writeFile(join(temporary, HOME_FILES.genesis), genesisText);
      for (const member of members) {
        const others = members.filter((m) => m !== member);
        const home = join(temporary, nodeDirName(member.index));
        await mkdir(home);
        await writeNodeHome(home, {
          identity: member.identity,
          certificatePem: member.certificatePem,
          caCertificatePem: ca.certificatePem,
          genesisText,
          config: nodeConfig({
            networkId: options.networkId,
            apiPort: member.apiPort,
            grpcPort: member.grpcPort,
            bootstrapPeers: others.map((m) =>
              formatPeerAddress({ nodeId: m.identity.nodeId, host: '127.0.0.1', port: m.grpcPort }),
            ),
          }),
          configHeader: [
            `it-chain node config: ${nodeDirName(member.index)} of the ${options.nodes}-node testnet "${options.networkId}",`,
            'written by `itchain testnet`. Fields left out take their defaults (config/default.yaml,',
            'docs/config.md); ITCHAIN_* environment variables override any field.',
          ].join('\n'),
        });
      }
    },
  );

  return {
    dir,
    caDir: join(dir, CA_DIRECTORY),
    genesisFile: join(dir, HOME_FILES.genesis),
    genesis,
    nodes: members.map((m) => ({
      index: m.index,
      nodeId: m.identity.nodeId,
      home: join(dir, nodeDirName(m.index)),
      apiPort: m.apiPort,
      grpcPort: m.grpcPort,
    })),
  };
}
