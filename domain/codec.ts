// Strict codecs between domain objects and bytes or JSON from outside the node (peers, disk, API,
// genesis files). A decoder checks the size first, then every field's type and shape, refuses
// unknown keys, and throws only ValidationError('field' | 'size', path, reason), the path naming the
// field (`txs[3].signer`). Encoders give the canonical bytes of docs/encoding.md.

import { createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { TextDecoder } from 'node:util';
import type { Block } from './block.ts';
import type { BlockRecord } from './block-record.ts';
import { canonicalBytes, canonicalJson } from './canonical.ts';
import type { CommitCertificate } from './commit-certificate.ts';
import {
  arrayOf,
  boundedString,
  child,
  fail,
  hash,
  item,
  jsonValue,
  nodeId,
  nullable,
  objectWith,
  oneOf,
  signature,
  text,
  token,
  uint,
} from './decode.ts';
import { ValidationError } from './errors.ts';
import type { GenesisFile } from './genesis.ts';
import { nodeIdOf } from './identity.ts';
import { type Transaction, TX_KINDS } from './transaction.ts';
import { DEFAULT_LIMITS } from './validation.ts';
import type { Vote, VoteType } from './vote.ts';

export interface Codec<T> {
  /** Names the whole object in errors: 'tx', 'block', 'vote', 'certificate', 'genesis', 'record'. */
  readonly name: string;
  /** Default size limit in bytes, checked before anything is parsed. */
  readonly maxBytes: number;
  /** The canonical bytes (docs/encoding.md). */
  encode(value: T): Uint8Array;
  /** The canonical encoding as a string (the bytes are its UTF-8). */
  encodeText(value: T): string;
  /** From stored or peer bytes: they must be exactly the canonical encoding of a well-formed value. */
  decode(bytes: Uint8Array, maxBytes?: number): T;
  /** From JSON text written by anyone (any key order, white space, escapes): same checks on the fields. */
  parse(json: string | Uint8Array, maxBytes?: number): T;
  /** From a value already parsed elsewhere; its canonical encoding must fit in maxBytes. */
  fromValue(value: unknown, maxBytes?: number): T;
}

type Read<T> = (value: unknown, path: string) => T;

// ignoreBOM keeps a byte-order mark in the text, so it fails the canonical comparison instead of
// being dropped silently; a hand-written file (parse) may carry one.
const canonicalUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const anyUtf8 = new TextDecoder('utf-8', { fatal: true });

function codec<T>(name: string, maxBytes: number, read: Read<T>): Codec<T> {
  const readRoot = (value: unknown): T => {
    try {
      return read(value, '');
    } catch (err) {
      // Readers name the root ''; here it gets the object's name.
      if (err instanceof ValidationError && err.field === '')
        throw new ValidationError(err.code, name, err.reason);
      throw err;
    }
  };
  const checkSize = (size: number, limit: number): void => {
    if (size > limit) throw new ValidationError('size', name, `${size} bytes, the limit is ${limit}`);
  };
  const utf8 = (decoder: TextDecoder, bytes: Uint8Array): string => {
    try {
      return decoder.decode(bytes);
    } catch {
      return fail(name, 'not valid UTF-8');
    }
  };
  const json = (source: string): unknown => {
    try {
      return JSON.parse(source);
    } catch (err) {
      return fail(name, `not JSON (${err instanceof Error ? err.message : String(err)})`);
    }
  };
  const fromValue = (value: unknown, limit = maxBytes): T => {
    const out = readRoot(value);
    checkSize(Buffer.byteLength(canonicalJson(out)), limit);
    return out;
  };
  return {
    name,
    maxBytes,
    encode: (value) => canonicalBytes(value),
    encodeText: (value) => canonicalJson(value),
    decode(bytes, limit = maxBytes) {
      checkSize(bytes.byteLength, limit);
      const source = utf8(canonicalUtf8, bytes);
      const out = readRoot(json(source));
      // The readers rebuilt the value from known keys only, so equal text means the input was exactly
      // canonical: one value, one byte string, and no flipped bit can decode to the same value.
      if (canonicalJson(out) !== source) fail(name, 'not the canonical encoding (docs/encoding.md)');
      return out;
    },
    parse(input, limit = maxBytes) {
      checkSize(typeof input === 'string' ? Buffer.byteLength(input) : input.byteLength, limit);
      const source = typeof input === 'string' ? input : utf8(anyUtf8, input);
      // A file saved by an editor may start with a byte-order mark; JSON.parse would refuse it.
      return fromValue(json(source.charCodeAt(0) === 0xfeff ? source.slice(1) : source), limit);
    },
    fromValue,
  };
}

const keys = (...names: string[]): ReadonlySet<string> => new Set(names);

const TX_KEYS = keys(
  'kind',
  'icodeId',
  'function',
  'args',
  'timestamp',
  'signer',
  'nonce',
  'id',
  'signature',
);

export function readTransaction(value: unknown, path: string): Transaction {
  const o = objectWith(value, path, TX_KEYS);
  return {
    kind: oneOf(o.kind, child(path, 'kind'), TX_KINDS),
    icodeId: token(o.icodeId, child(path, 'icodeId')),
    function: token(o.function, child(path, 'function')),
    args: arrayOf(o.args, child(path, 'args'), (arg, at) => jsonValue(arg, at)),
    timestamp: uint(o.timestamp, child(path, 'timestamp')),
    signer: nodeId(o.signer, child(path, 'signer')),
    nonce: token(o.nonce, child(path, 'nonce')),
    id: hash(o.id, child(path, 'id')),
    signature: signature(o.signature, child(path, 'signature')),
  };
}

const BLOCK_KEYS = keys('height', 'prevSeal', 'txRoot', 'stateRoot', 'timestamp', 'creator', 'seal', 'txs');

export function readBlock(value: unknown, path: string): Block {
  const o = objectWith(value, path, BLOCK_KEYS);
  return {
    height: uint(o.height, child(path, 'height')),
    prevSeal: hash(o.prevSeal, child(path, 'prevSeal')),
    txRoot: hash(o.txRoot, child(path, 'txRoot')),
    stateRoot: hash(o.stateRoot, child(path, 'stateRoot')),
    timestamp: uint(o.timestamp, child(path, 'timestamp')),
    creator: nodeId(o.creator, child(path, 'creator')),
    seal: hash(o.seal, child(path, 'seal')),
    txs: arrayOf(o.txs, child(path, 'txs'), readTransaction),
  };
}

const VOTE_KEYS = keys('type', 'networkId', 'height', 'round', 'blockHash', 'voter', 'signature');
const VOTE_TYPES: readonly VoteType[] = ['prevote', 'precommit'];
const nullableHash = nullable(hash);

export function readVote(value: unknown, path: string): Vote {
  const o = objectWith(value, path, VOTE_KEYS);
  return {
    type: oneOf(o.type, child(path, 'type'), VOTE_TYPES),
    networkId: token(o.networkId, child(path, 'networkId')),
    height: uint(o.height, child(path, 'height')),
    round: uint(o.round, child(path, 'round')),
    blockHash: nullableHash(o.blockHash, child(path, 'blockHash')),
    voter: nodeId(o.voter, child(path, 'voter')),
    signature: signature(o.signature, child(path, 'signature')),
  };
}

const CERT_KEYS = keys('height', 'round', 'blockHash', 'precommits');

export function readCommitCertificate(value: unknown, path: string): CommitCertificate {
  const o = objectWith(value, path, CERT_KEYS);
  return {
    height: uint(o.height, child(path, 'height')),
    round: uint(o.round, child(path, 'round')),
    blockHash: hash(o.blockHash, child(path, 'blockHash')),
    precommits: arrayOf(o.precommits, child(path, 'precommits'), readVote),
  };
}

const RECORD_KEYS = keys('block', 'cert');
const nullableCertificate = nullable(readCommitCertificate);

export function readBlockRecord(value: unknown, path: string): BlockRecord {
  const o = objectWith(value, path, RECORD_KEYS);
  return {
    block: readBlock(o.block, child(path, 'block')),
    cert: nullableCertificate(o.cert, child(path, 'cert')),
  };
}

// One PEM object and nothing else around it: Node's parsers would accept trailing text, a second
// certificate, or (for createPublicKey) a private key or a certificate in place of a public key.
const CERTIFICATE_PEM =
  /^-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\r?\n?$/;
const PUBLIC_KEY_PEM = /^-----BEGIN PUBLIC KEY-----\r?\n[A-Za-z0-9+/=\r\n]+-----END PUBLIC KEY-----\r?\n?$/;

function caCertificate(value: unknown, path: string): string {
  const pem = boundedString(value, path, 16 * 1024);
  if (!CERTIFICATE_PEM.test(pem)) fail(path, 'expected one PEM certificate');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    return fail(path, 'the PEM does not hold a valid X.509 certificate');
  }
  if (!cert.ca) fail(path, 'not a CA certificate (basicConstraints CA:TRUE is missing)');
  return pem;
}

const VALIDATOR_KEYS = keys('nodeId', 'publicKey');

function readValidator(value: unknown, path: string): GenesisFile['validators'][number] {
  const o = objectWith(value, path, VALIDATOR_KEYS);
  const id = nodeId(o.nodeId, child(path, 'nodeId'));
  const keyPath = child(path, 'publicKey');
  const pem = boundedString(o.publicKey, keyPath, 4096);
  if (!PUBLIC_KEY_PEM.test(pem)) fail(keyPath, 'expected one PEM public key (SPKI)');
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    return fail(keyPath, 'the PEM does not hold a valid public key');
  }
  if (key.asymmetricKeyType !== 'ed25519') fail(keyPath, 'expected an Ed25519 key');
  if (nodeIdOf(key) !== id) fail(child(path, 'nodeId'), 'is not the node ID of publicKey (docs/encoding.md)');
  return { nodeId: id, publicKey: pem };
}

const GENESIS_KEYS = keys('organization', 'networkId', 'creator', 'timestamp', 'caCertificate', 'validators');

export function readGenesisFile(value: unknown, path: string): GenesisFile {
  const o = objectWith(value, path, GENESIS_KEYS);
  const file: GenesisFile = {
    organization: text(o.organization, child(path, 'organization'), 256),
    networkId: token(o.networkId, child(path, 'networkId')),
    creator: nodeId(o.creator, child(path, 'creator')),
    timestamp: uint(o.timestamp, child(path, 'timestamp')),
    caCertificate: caCertificate(o.caCertificate, child(path, 'caCertificate')),
    validators: arrayOf(o.validators, child(path, 'validators'), readValidator),
  };
  const at = child(path, 'validators');
  if (file.validators.length === 0) fail(at, 'a network needs at least one validator');
  const seen = new Set<string>();
  for (const [i, validator] of file.validators.entries()) {
    if (seen.has(validator.nodeId)) fail(child(item(at, i), 'nodeId'), 'appears twice');
    seen.add(validator.nodeId);
  }
  return file;
}

const MiB = 1024 * 1024;

export const txCodec: Codec<Transaction> = codec('tx', DEFAULT_LIMITS.maxTxBytes, readTransaction);
export const blockCodec: Codec<Block> = codec('block', DEFAULT_LIMITS.maxBlockBytes, readBlock);
export const voteCodec: Codec<Vote> = codec('vote', 1024, readVote);
export const certificateCodec: Codec<CommitCertificate> = codec('certificate', MiB, readCommitCertificate);
export const blockRecordCodec: Codec<BlockRecord> = codec(
  'record',
  DEFAULT_LIMITS.maxBlockBytes + MiB,
  readBlockRecord,
);
export const genesisCodec: Codec<GenesisFile> = codec('genesis', MiB, readGenesisFile);
