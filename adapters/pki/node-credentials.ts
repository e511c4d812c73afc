import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOME_FILES } from '../../config/home-layout.ts';
import { identityFromPrivatePem, type NodeId } from '../../domain/identity.ts';
import { peerNodeIdFromCertificate } from './peer-certificate.ts';

// What the gRPC gateway needs for mutual TLS, read from a node home: the node's PKCS#8 key, its
// certificate and the network CA certificate, as Buffers (the form grpc-js takes). They are checked
// together on load, so a node with a mismatched key, an expired certificate or the wrong CA stops at
// start with the reason, instead of failing every handshake later.

export interface NodeCredentialFiles {
  readonly keyFile: string;
  readonly certFile: string;
  readonly caFile: string;
}

export interface NodeCredentials {
  readonly nodeId: NodeId;
  readonly privateKey: Buffer;
  readonly certificate: Buffer;
  readonly caCertificate: Buffer;
}

export class NodeCredentialsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NodeCredentialsError';
  }
}

/** The credential files of a home laid out as `itchain testnet` / `itchain init` write it. */
export function credentialFilesOf(home: string): NodeCredentialFiles {
  return {
    keyFile: join(home, HOME_FILES.privateKey),
    certFile: join(home, HOME_FILES.certificate),
    caFile: join(home, HOME_FILES.caCertificate),
  };
}

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    throw new NodeCredentialsError(`cannot read the ${what} ${path} (${reason})`);
  }
}

/** Loads and cross-checks a node's credentials, from a home directory or from the config's node section. */
export function loadNodeCredentials(
  from: string | NodeCredentialFiles,
  now: Date = new Date(),
): NodeCredentials {
  const files = typeof from === 'string' ? credentialFilesOf(from) : from;
  const privateKey = read(files.keyFile, 'node key');
  const certificate = read(files.certFile, 'node certificate');
  const caCertificate = read(files.caFile, 'CA certificate');

  let keyNodeId: NodeId;
  try {
    keyNodeId = identityFromPrivatePem(privateKey.toString()).nodeId;
  } catch (error) {
    throw new NodeCredentialsError(
      `${files.keyFile} is not an Ed25519 private key: ${(error as Error).message}`,
    );
  }
  let certificateNodeId: NodeId;
  try {
    certificateNodeId = peerNodeIdFromCertificate(certificate, caCertificate, now);
  } catch (error) {
    throw new NodeCredentialsError(
      `${files.certFile} (checked against ${files.caFile}): ${(error as Error).message}`,
    );
  }
  if (certificateNodeId !== keyNodeId) {
    throw new NodeCredentialsError(
      `${files.certFile} is for node ${certificateNodeId} but ${files.keyFile} is the key of node ${keyNodeId}`,
    );
  }
  return { nodeId: keyNodeId, privateKey, certificate, caCertificate };
}
