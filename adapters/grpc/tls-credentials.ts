import { type ChannelCredentials, credentials, experimental, type ServerCredentials } from '@grpc/grpc-js';
import type { NodeCredentials } from '../pki/node-credentials.ts';

// Mutual TLS for peer streams. TLS encrypts and proves that each side holds the private key of the
// certificate it presents; whether that certificate is one of ours (signed by the network CA, for the
// node ID claimed) is decided per stream in peer-admission.ts. TLS-level rejection is switched off on
// both ends because it gives the refused side only a vague UNAVAILABLE and the refusing side nothing to
// log; checked per stream, both sides can log and report the exact reason.

export interface PeerServerCredentials {
  readonly credentials: ServerCredentials;
  /**
   * Settles once the TLS server holds the certificates. grpc-js subscribes to the provider while it
   * builds the server and only applies updates that arrive after it subscribed, so they are delivered
   * on the next turn; until then it drops connections. Await this after binding, before peers dial.
   */
  readonly ready: Promise<void>;
}

/** Server side: asks every client for its certificate but leaves judging it to the stream handler. */
export function peerServerCredentials(node: NodeCredentials): PeerServerCredentials {
  let delivered = 0;
  let markReady = (): void => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  const deliver = <T>(listener: (update: T) => void, update: T): void => {
    setImmediate(() => {
      listener(update);
      if (++delivered === 2) markReady();
    });
  };
  const provider: experimental.CertificateProvider = {
    addCaCertificateListener: (listener) => deliver(listener, { caCertificate: node.caCertificate }),
    removeCaCertificateListener: () => {},
    addIdentityCertificateListener: (listener) =>
      deliver(listener, { certificate: node.certificate, privateKey: node.privateKey }),
    removeIdentityCertificateListener: () => {},
  };
  return {
    credentials: experimental.createCertificateProviderServerCredentials(provider, provider, false),
    ready,
  };
}

/** Client side: presents the node certificate; the server's is judged when its handshake arrives. */
export function peerChannelCredentials(node: NodeCredentials): ChannelCredentials {
  return credentials.createSsl(node.caCertificate, node.privateKey, node.certificate, {
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined,
  });
}
