import { fileURLToPath } from 'node:url';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

// proto/peer.proto loaded at runtime, and the decoded shapes of its messages. proto3 leaves out fields
// that hold their default, so every field is optional here and the gateway checks what it relies on.

export const PROTOCOL_VERSION = 1;

export const PROTO_FILE = fileURLToPath(new URL('../../proto/peer.proto', import.meta.url));

export interface WireHandshake {
  protocolVersion?: number;
  nodeId?: string;
  networkId?: string;
  genesisSeal?: string;
  listenAddress?: string;
  height?: number;
  certificate?: Buffer;
}

export interface WireMessage {
  type?: string;
  payload?: Buffer;
  requestId?: number;
  replyTo?: number;
}

export interface WireEnvelope {
  from?: string;
  seq?: number;
  messages?: readonly WireMessage[];
  signature?: Buffer;
}

export type CloseKind = 'REFUSED' | 'DISCONNECTED' | 'SHUTDOWN';

export interface WireClose {
  kind?: CloseKind | 'KIND_UNSPECIFIED';
  reason?: string;
}

export interface WireFrame {
  handshake?: WireHandshake;
  envelope?: WireEnvelope;
  close?: WireClose;
}

const definition = loadSync(PROTO_FILE, {
  keepCase: false,
  longs: Number, // seq and ids stay far below 2^53
  enums: String,
  defaults: false, // filling defaults costs time on every frame; absent fields are handled instead
  oneofs: false,
});

function connectMethodOf(): MethodDefinition<object, object> {
  const service = definition['itchain.peer.v1.Peer'];
  const method = service && 'Connect' in service ? service.Connect : undefined;
  if (!method || !('requestStream' in method) || typeof method.requestSerialize !== 'function') {
    throw new Error(`${PROTO_FILE} does not define itchain.peer.v1.Peer/Connect`);
  }
  return method;
}

const connect = connectMethodOf();

export const CONNECT_PATH = connect.path;

export function serializeFrame(frame: WireFrame): Buffer {
  return connect.requestSerialize(frame);
}

export function deserializeFrame(bytes: Buffer): WireFrame {
  // The decoder yields only the fields declared in the .proto, with their declared types.
  return connect.requestDeserialize(bytes) as WireFrame;
}

/** The service as grpc-js takes it, with frames typed. */
export const peerService: ServiceDefinition<{ Connect: MethodDefinition<WireFrame, WireFrame> }> = {
  Connect: {
    path: CONNECT_PATH,
    requestStream: true,
    responseStream: true,
    requestSerialize: serializeFrame,
    requestDeserialize: deserializeFrame,
    responseSerialize: serializeFrame,
    responseDeserialize: deserializeFrame,
  },
};
