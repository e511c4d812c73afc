import { createHash, type KeyObject, verify } from 'node:crypto';
import type { NodeId, Signer } from '../../domain/identity.ts';

// The envelope signature (proto/peer.proto states the byte layout). It is computed from the raw field
// bytes — payloads are hashed as they came off the wire, never parsed or re-encoded — and binds the
// messages to sender, receiver and position on the stream, so an envelope cannot be replayed to another
// node or later on the same stream.

const SIGNATURE_TAG = Buffer.from('itchain/peer-envelope/v1');
const EMPTY = Buffer.alloc(0);
const ED25519_SIGNATURE_BYTES = 64;

export interface SignedMessage {
  readonly type: string;
  readonly payload: Buffer;
  readonly requestId: number;
  readonly replyTo: number;
}

export interface EnvelopeFields {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly seq: number;
  readonly messages: readonly {
    readonly type?: string;
    readonly payload?: Buffer;
    readonly requestId?: number;
    readonly replyTo?: number;
  }[];
}

// One scratch buffer for the fixed-size parts: the hash copies what it is given, so reuse is safe.
const scratch = Buffer.alloc(4096);

function writeU64(buffer: Buffer, value: number, offset: number): number {
  buffer.writeUInt32BE(Math.floor(value / 0x1_0000_0000), offset);
  buffer.writeUInt32BE(value >>> 0, offset + 4);
  return offset + 8;
}

function writeString(buffer: Buffer, text: string, offset: number): number {
  const length = buffer.write(text, offset + 4, 'utf8');
  buffer.writeUInt32BE(length, offset);
  return offset + 4 + length;
}

/** The scratch buffer, or a new one when the fields are longer (only a misbehaving peer sends those). */
function room(bytes: number): Buffer {
  return bytes <= scratch.length ? scratch : Buffer.alloc(bytes);
}

/** SHA-256 over the envelope's signing bytes. */
export function envelopeDigest(envelope: EnvelopeFields): Buffer {
  const hash = createHash('sha256');
  const head = room(Buffer.byteLength(envelope.from) + Buffer.byteLength(envelope.to) + 20);
  let at = writeString(head, envelope.from, 0);
  at = writeString(head, envelope.to, at);
  at = writeU64(head, envelope.seq, at);
  head.writeUInt32BE(envelope.messages.length, at);
  hash.update(head.subarray(0, at + 4));
  for (const message of envelope.messages) {
    const type = message.type ?? '';
    const payload = message.payload ?? EMPTY;
    const header = room(Buffer.byteLength(type) + 24);
    let end = writeString(header, type, 0);
    end = writeU64(header, message.requestId ?? 0, end);
    end = writeU64(header, message.replyTo ?? 0, end);
    header.writeUInt32BE(payload.length, end);
    hash.update(header.subarray(0, end + 4));
    hash.update(payload);
  }
  return hash.digest();
}

function signedBytes(envelope: EnvelopeFields): Buffer {
  return Buffer.concat([SIGNATURE_TAG, envelopeDigest(envelope)]);
}

export function signEnvelope(signer: Signer, envelope: EnvelopeFields): Buffer {
  return Buffer.from(signer.sign(signedBytes(envelope)), 'base64');
}

export function verifyEnvelope(publicKey: KeyObject, envelope: EnvelopeFields, signature: Buffer): boolean {
  if (signature.length !== ED25519_SIGNATURE_BYTES) return false;
  try {
    return verify(null, signedBytes(envelope), publicKey, signature);
  } catch {
    return false;
  }
}
