import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  certifiedPeer,
  checkHandshake,
  isRefusal,
  type LocalPeer,
  unverifiedPeerRefusal,
} from '../../adapters/grpc/peer-admission.ts';
import { PROTOCOL_VERSION, type WireHandshake } from '../../adapters/grpc/peer-protocol.ts';
import { type GrpcTestnet, makeTestnet } from './support/testnet.ts';

// SPEC §2: a peer is admitted only with a certificate from the CA pinned in genesis for the node ID it
// claims, on the same network, with the same genesis seal.

let net: GrpcTestnet;
let foreign: GrpcTestnet;

beforeAll(async () => {
  [net, foreign] = await Promise.all([makeTestnet(2), makeTestnet(1, 'elsewhere')]);
});

afterAll(async () => {
  await Promise.all([net.remove(), foreign.remove()]);
});

function der(pem: Buffer): Buffer {
  return Buffer.from(
    pem
      .toString()
      .replace(/-----[^-]+-----/g, '')
      .replace(/\s+/g, ''),
    'base64',
  );
}

describe('peer admission', () => {
  const local = (): LocalPeer => ({
    nodeId: net.credentials[0]!.nodeId,
    networkId: net.testnet.genesis.networkId,
    genesisSeal: net.genesisSeal,
  });
  const peerId = () => net.credentials[1]!.nodeId;
  const handshake = (changes: Partial<WireHandshake> = {}): WireHandshake => ({
    protocolVersion: PROTOCOL_VERSION,
    nodeId: peerId(),
    networkId: net.testnet.genesis.networkId,
    genesisSeal: net.genesisSeal,
    listenAddress: '127.0.0.1:5001',
    height: 3,
    ...changes,
  });

  it('accepts a handshake for the certificate node on the same network and genesis', () => {
    expect(checkHandshake(local(), handshake(), peerId())).toBeNull();
    expect(checkHandshake(local(), handshake(), peerId(), peerId())).toBeNull();
  });

  it.each([
    ['bad-handshake', undefined, undefined],
    ['protocol-version', { protocolVersion: PROTOCOL_VERSION + 1 }, undefined],
    ['node-id-mismatch', { nodeId: 'f'.repeat(40) }, undefined],
    ['network-mismatch', { networkId: 'other' }, undefined],
    ['genesis-mismatch', { genesisSeal: 'a'.repeat(64) }, undefined],
    ['unexpected-node', {}, 'e'.repeat(40)],
  ] as const)('refuses with %s', (reason, changes, expected) => {
    const shown = reason === 'bad-handshake' ? undefined : handshake(changes ?? {});
    expect(checkHandshake(local(), shown, peerId(), expected)).toMatchObject({ reason });
  });

  it('refuses a connection to itself', () => {
    const self = local().nodeId;
    expect(checkHandshake(local(), handshake({ nodeId: self }), self)).toMatchObject({
      reason: 'self-connection',
    });
  });

  it('takes node ID and key from a certificate of the network CA, and names the problem otherwise', () => {
    const peer = certifiedPeer(der(net.credentials[1]!.certificate), net.credentials[0]!.caCertificate);
    expect(isRefusal(peer)).toBe(false);
    expect(peer).toMatchObject({ nodeId: peerId() });
    expect(
      certifiedPeer(der(foreign.credentials[0]!.certificate), net.credentials[0]!.caCertificate),
    ).toMatchObject({
      reason: 'wrong-ca',
    });
    expect(certifiedPeer(undefined, net.credentials[0]!.caCertificate)).toMatchObject({
      reason: 'no-certificate',
    });
  });

  it('explains a refusal of a certificate TLS did not verify from the certificate the handshake shows', () => {
    const ca = net.credentials[0]!.caCertificate;
    expect(unverifiedPeerRefusal(der(foreign.credentials[0]!.certificate), ca)).toMatchObject({
      reason: 'wrong-ca',
    });
    expect(unverifiedPeerRefusal(undefined, ca)).toMatchObject({ reason: 'no-certificate' });
    // A handshake showing a good certificate does not make an unverified TLS certificate acceptable.
    expect(unverifiedPeerRefusal(der(net.credentials[1]!.certificate), ca)).toMatchObject({
      reason: 'unverified-certificate',
    });
  });
});
