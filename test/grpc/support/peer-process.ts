// A peer gateway in a process of its own, for tests that kill or stop a peer (SIGKILL, SIGSTOP) and for
// the benchmark. Argument: JSON of PeerProcessConfig. Prints one JSON line {"port": n} once listening;
// answers "test.count" requests with how many messages it has received.
import { PeerGateway } from '../../../adapters/grpc/peer-gateway.ts';
import { loadNodeCredentials } from '../../../adapters/pki/node-credentials.ts';
import { identityFromPrivatePem, signerOf } from '../../../domain/identity.ts';

export interface PeerProcessConfig {
  readonly home: string;
  readonly port: number;
  readonly networkId: string;
  readonly genesisSeal: string;
  readonly bootstrapPeers?: string[];
}

const config = JSON.parse(process.argv[2] ?? '{}') as PeerProcessConfig;
const credentials = loadNodeCredentials(config.home);
const gateway = new PeerGateway({
  credentials,
  signer: signerOf(identityFromPrivatePem(credentials.privateKey.toString())),
  networkId: config.networkId,
  genesisSeal: config.genesisSeal,
  bootstrapPeers: config.bootstrapPeers ?? [],
  backoff: { initialMs: 50, maxMs: 400 },
});
let received = 0;
let bytes = 0;
gateway.onMessage((_from, _type, payload) => {
  received++;
  bytes += payload.bytes.length;
});
gateway.onRequest('test.count', () => ({ received, bytes }));
const { port } = await gateway.start({ host: '127.0.0.1', port: config.port });
process.stdout.write(`${JSON.stringify({ port })}\n`);
process.on('SIGTERM', () => {
  gateway.stop().then(() => process.exit(0));
});
