import { X509Certificate } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  createCertificateAuthority,
  issueNodeCertificate,
  publicKeyPem,
} from '../../adapters/pki/certificate-authority.ts';
import { readCaDirectory, writeCaDirectory } from '../../adapters/pki/pki-files.ts';
import { CA_DIRECTORY, HOME_FILES } from '../../config/home-layout.ts';
import type { GenesisFile } from '../../domain/genesis.ts';
import { generateIdentity, type NodeId } from '../../domain/identity.ts';
import { hasEntries, writeDirectoryAtomically } from './atomic-directory.ts';
import { formatGenesisFile, readGenesisFile } from './genesis-file.ts';
import { nodeConfig, writeNodeHome } from './node-home.ts';

// One node home. On its own (no CA given) it is a one-node network: a CA of its own in HOME/ca and a
// genesis naming this node the only validator. Given an existing network's CA directory and genesis
// file, it is a node that will join that network: its certificate is issued by that CA, its genesis is
// the network's, and it is no validator — admission is a membership transaction, later.

export interface InitOptions {
  readonly home: string;
  readonly force?: boolean;
  readonly apiPort: number;
  readonly grpcPort: number;
  readonly bootstrapPeers: readonly string[];
  /** For a network of its own; a joining node takes these from the genesis file. */
  readonly networkId: string;
  readonly organization: string;
  /** An existing network's CA directory and genesis file: both, or neither. */
  readonly join?: { readonly caDir: string; readonly genesisFile: string };
}

export interface InitializedNode {
  readonly home: string;
  readonly nodeId: NodeId;
  readonly networkId: string;
  readonly apiPort: number;
  readonly grpcPort: number;
  /** The CA directory this node's certificate came from (HOME/ca for a network of its own). */
  readonly caDir: string;
  readonly validator: boolean;
}

function sameCertificate(a: string, b: string): boolean {
  return new X509Certificate(a).raw.equals(new X509Certificate(b).raw);
}

async function networkToJoin(join: { caDir: string; genesisFile: string }) {
  const ca = await readCaDirectory(join.caDir);
  const { genesis, text } = await readGenesisFile(join.genesisFile);
  if (!sameCertificate(ca.certificatePem, genesis.caCertificate)) {
    throw new Error(`the CA in ${join.caDir} is not the CA pinned in ${join.genesisFile}`);
  }
  return { ca, genesis, genesisText: text };
}

export async function initNode(options: InitOptions): Promise<InitializedNode> {
  const identity = generateIdentity();
  const now = new Date();
  const joining = options.join ? await networkToJoin(options.join) : null;
  const ca =
    joining?.ca ??
    (await createCertificateAuthority({
      organization: options.organization,
      networkId: options.networkId,
      now,
    }));
  const organization = joining?.genesis.organization ?? options.organization;
  const networkId = joining?.genesis.networkId ?? options.networkId;
  const { certificatePem } = await issueNodeCertificate(ca, identity.publicKey, { organization, now });
  const genesis: GenesisFile = joining?.genesis ?? {
    organization,
    networkId,
    creator: identity.nodeId,
    timestamp: now.getTime(),
    caCertificate: ca.certificatePem,
    validators: [{ nodeId: identity.nodeId, publicKey: publicKeyPem(identity) }],
  };

  const home = await writeDirectoryAtomically(
    {
      target: options.home,
      force: options.force ?? false,
      kind: 'node home',
      isOurs: hasEntries(HOME_FILES.config),
    },
    async (temporary) => {
      await mkdir(temporary, { recursive: true });
      if (!joining) await writeCaDirectory(join(temporary, CA_DIRECTORY), ca);
      await writeNodeHome(temporary, {
        identity,
        certificatePem,
        caCertificatePem: ca.certificatePem,
        genesisText: joining?.genesisText ?? formatGenesisFile(genesis),
        config: nodeConfig({
          networkId,
          apiPort: options.apiPort,
          grpcPort: options.grpcPort,
          bootstrapPeers: [...options.bootstrapPeers],
        }),
        configHeader: [
          joining
            ? `it-chain node config: a node joining the network "${networkId}", written by \`itchain init\`.`
            : `it-chain node config: the only node of the network "${networkId}", written by \`itchain init\`.`,
          'Fields left out take their defaults (config/default.yaml, docs/config.md);',
          'ITCHAIN_* environment variables override any field.',
        ].join('\n'),
      });
    },
  );
  return {
    home,
    nodeId: identity.nodeId,
    networkId,
    apiPort: options.apiPort,
    grpcPort: options.grpcPort,
    caDir: options.join ? resolve(options.join.caDir) : join(home, CA_DIRECTORY),
    validator: !joining,
  };
}
