import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { privateKeyPem } from '../../adapters/pki/certificate-authority.ts';
import { writeCertificatePem, writePrivateKeyPem } from '../../adapters/pki/pki-files.ts';
import { formatConfigFile } from '../../config/config-file.ts';
import { HOME_FILES } from '../../config/home-layout.ts';
import type { ConfigInput } from '../../config/schema.ts';
import type { Identity } from '../../domain/identity.ts';

// A node home holds everything `itchain start --home` needs: the node's key (0600) and CA-issued
// certificate, the network CA certificate, the network's genesis file and the node's config.

export interface NodeHome {
  readonly identity: Identity;
  readonly certificatePem: string;
  readonly caCertificatePem: string;
  /** The genesis file's exact text: every home of a network holds the same bytes. */
  readonly genesisText: string;
  readonly config: ConfigInput;
  /** Comment at the top of config.yaml. */
  readonly configHeader: string;
}

export async function writeNodeHome(dir: string, home: NodeHome): Promise<void> {
  await writePrivateKeyPem(join(dir, HOME_FILES.privateKey), privateKeyPem(home.identity));
  await writeCertificatePem(join(dir, HOME_FILES.certificate), home.certificatePem);
  await writeCertificatePem(join(dir, HOME_FILES.caCertificate), home.caCertificatePem);
  await writeFile(join(dir, HOME_FILES.genesis), home.genesisText);
  await writeFile(join(dir, HOME_FILES.config), formatConfigFile(home.config, home.configHeader));
}

/** The config sections that differ between nodes; every other field keeps its default. */
export function nodeConfig(options: {
  networkId: string;
  apiPort: number;
  grpcPort: number;
  bootstrapPeers: string[];
}): ConfigInput {
  return {
    node: {
      keyFile: HOME_FILES.privateKey,
      certFile: HOME_FILES.certificate,
      caFile: HOME_FILES.caCertificate,
    },
    network: { id: options.networkId, genesisFile: HOME_FILES.genesis },
    grpc: { host: '127.0.0.1', port: options.grpcPort, bootstrapPeers: options.bootstrapPeers },
    api: { host: '127.0.0.1', port: options.apiPort },
    storage: { path: HOME_FILES.storage },
  };
}
