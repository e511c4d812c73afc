// Test vectors for docs/encoding.md, computed from the domain code with fixed keys and inputs.
//   tsx docs/encoding-vectors.ts          exits 1 when docs/encoding-vectors.json or the md are stale
//   tsx docs/encoding-vectors.ts --write  rewrites both
// test/domain/vectors.test.ts runs the same comparison, so stale docs fail the test suite.

import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildBlock, headerOf } from '../domain/block.ts';
import { canonicalJson } from '../domain/canonical.ts';
import { blockCodec, certificateCodec, genesisCodec, txCodec, voteCodec } from '../domain/codec.ts';
import type { CommitCertificate } from '../domain/commit-certificate.ts';
import { type GenesisFile, genesisBlock } from '../domain/genesis.ts';
import { sha256Hex } from '../domain/hash.ts';
import { identityFromSeed, pkcs8FromSeed, rawPublicKey, signerOf } from '../domain/identity.ts';
import { leafHash, merkleRoot } from '../domain/merkle.ts';
import { quorumSize } from '../domain/quorum.ts';
import { signTransaction, txBodyOf, txSigningBytes } from '../domain/transaction.ts';
import { signVote, voteSigningBytes } from '../domain/vote.ts';

export const JSON_PATH = fileURLToPath(new URL('./encoding-vectors.json', import.meta.url));
export const MD_PATH = fileURLToPath(new URL('./encoding.md', import.meta.url));
export const BEGIN_MARK = '<!-- BEGIN GENERATED VECTORS: tsx docs/encoding-vectors.ts --write -->';
export const END_MARK = '<!-- END GENERATED VECTORS -->';

/** The secret keys (seeds) of RFC 8032 §7.1 TEST 1, 2, 3 and 1024, so the public keys can be checked there. */
export const VECTOR_SEEDS = [
  '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
  '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
  'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
  'f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5',
];

/** A fixed self-signed Ed25519 CA certificate (an input here, made once with openssl). */
export const VECTOR_CA_CERTIFICATE = `-----BEGIN CERTIFICATE-----
MIIBmDCCAUqgAwIBAgIBATAFBgMrZXAwQjEaMBgGA1UECgwRRXhhbXBsZSBDb21t
dW5pdHkxJDAiBgNVBAMMG2l0Y2hhaW4gZW5jb2RpbmcgdmVjdG9ycyBDQTAgFw0y
NjExMjUxOTU0MTJaGA8yMTI2MTEwMTE5NTQxMlowQjEaMBgGA1UECgwRRXhhbXBs
ZSBDb21tdW5pdHkxJDAiBgNVBAMMG2l0Y2hhaW4gZW5jb2RpbmcgdmVjdG9ycyBD
QTAqMAUGAytlcAMhAEZmJ9Unc8nVzabI/SjqMex7lOaKqNQuKtMaddyNJO0Ho2Mw
YTAdBgNVHQ4EFgQUQt2Qbezz4LxttOe16SKVpqsgNdIwHwYDVR0jBBgwFoAUQt2Q
bezz4LxttOe16SKVpqsgNdIwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMC
AQYwBQYDK2VwA0EADBgTkcUNdsgvKdd83hLGuhmyCehKJ7241XkW3NYNLpPEKzUt
CBW5M5JB0lhPhSXlrJHBM6y1oMdycdUmSslgBA==
-----END CERTIFICATE-----
`;

const NETWORK_ID = 'example-net';
const T0 = Date.UTC(2026, 0, 1); // 2026-01-01T00:00:00Z in ms

/** A canonical encoding shown both ways: as text to read, as hex to compare byte for byte. */
function bytesOf(text: string): { text: string; hex: string } {
  return { text, hex: Buffer.from(text, 'utf8').toString('hex') };
}

export function computeVectors() {
  const identities = VECTOR_SEEDS.map((seed) => identityFromSeed(Buffer.from(seed, 'hex')));
  const key = identities[0]!;
  const signer = signerOf(key);

  const keys = identities.map((identity, i) => {
    const raw = rawPublicKey(identity.publicKey);
    return {
      seed: VECTOR_SEEDS[i]!,
      pkcs8: pkcs8FromSeed(Buffer.from(VECTOR_SEEDS[i]!, 'hex')).toString('hex'),
      publicKey: raw.toString('hex'),
      publicKeySha256: sha256Hex(raw),
      nodeId: identity.nodeId,
      publicKeyPem: identity.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    };
  });

  const genesisFile: GenesisFile = {
    organization: 'Example Community',
    networkId: NETWORK_ID,
    creator: key.nodeId,
    timestamp: T0,
    caCertificate: VECTOR_CA_CERTIFICATE,
    validators: keys.map((k) => ({ nodeId: k.nodeId, publicKey: k.publicKeyPem })),
  };
  const genesis = genesisBlock(genesisFile);

  const tx = signTransaction(
    {
      kind: 'invoke',
      icodeId: 'kv',
      function: 'put',
      args: ['greeting', 'grüße, world'],
      timestamp: T0 + 1000,
      signer: key.nodeId,
      nonce: 'n-1',
    },
    signer,
  );
  const tx2 = signTransaction(
    {
      kind: 'invoke',
      icodeId: 'kv',
      function: 'put',
      args: ['config', { zone: 'eu', limits: [1, null, true] }],
      timestamp: T0 + 1500,
      signer: key.nodeId,
      nonce: 'n-2',
    },
    signer,
  );

  const merkleIds = [0, 1, 2, 3, 4].map((i) => sha256Hex(`example id ${i}`));

  const block = buildBlock({
    height: 1,
    prevSeal: genesis.seal,
    stateRoot: sha256Hex('example state root'),
    timestamp: T0 + 2000,
    creator: key.nodeId,
    txs: [tx, tx2],
  });

  const vote = signVote(
    {
      type: 'precommit',
      networkId: NETWORK_ID,
      height: block.height,
      round: 0,
      blockHash: block.seal,
      voter: key.nodeId,
    },
    signer,
  );
  const needed = quorumSize(identities.length);
  const cert: CommitCertificate = {
    height: block.height,
    round: 0,
    blockHash: block.seal,
    precommits: identities
      .slice(0, needed)
      .map((identity) => signVote({ ...vote, voter: identity.nodeId }, signerOf(identity))),
  };

  const textOf = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');
  return {
    about:
      'Test vectors for docs/encoding.md. Regenerate with `tsx docs/encoding-vectors.ts --write`; ' +
      'test/domain/vectors.test.ts fails when this file is stale.',
    keys,
    transaction: {
      body: bytesOf(canonicalJson(txBodyOf(tx))),
      id: tx.id,
      signingBytes: bytesOf(textOf(txSigningBytes(tx.id))),
      signature: tx.signature,
      encoded: bytesOf(txCodec.encodeText(tx)),
    },
    merkle: {
      emptyRoot: merkleRoot([]),
      ids: merkleIds,
      leafHashes: merkleIds.map((id) => leafHash(id).toString('hex')),
      rootsOfFirst: [0, 1, 2, 3, 4, 5].map((n) => ({ n, root: merkleRoot(merkleIds.slice(0, n)) })),
    },
    block: {
      txIds: block.txs.map((t) => t.id),
      txRoot: block.txRoot,
      header: bytesOf(canonicalJson(headerOf(block))),
      seal: block.seal,
      encoded: bytesOf(blockCodec.encodeText(block)),
    },
    vote: {
      signingBytes: bytesOf(textOf(voteSigningBytes(vote))),
      signature: vote.signature,
      encoded: bytesOf(voteCodec.encodeText(vote)),
    },
    certificate: {
      validators: identities.length,
      quorumSize: needed,
      encoded: bytesOf(certificateCodec.encodeText(cert)),
    },
    genesis: {
      file: bytesOf(genesisCodec.encodeText(genesisFile)),
      stateRoot: genesis.stateRoot,
      header: bytesOf(canonicalJson(headerOf(genesis))),
      seal: genesis.seal,
    },
  };
}

export type EncodingVectors = ReturnType<typeof computeVectors>;

function wrap(hex: string): string {
  return hex.match(/.{1,64}/g)?.join('\n') ?? '';
}

function shown(title: string, encoding: { text: string; hex: string }): string[] {
  return [
    `${title}, canonical text (${encoding.hex.length / 2} bytes of UTF-8):`,
    '',
    '```text',
    encoding.text,
    '```',
    '',
    'hex:',
    '',
    '```',
    wrap(encoding.hex),
    '```',
    '',
  ];
}

const code = (value: string | number): string => `\`${value}\``;

/** A markdown table with padded columns, laid out as the formatter (biome) would lay it out. */
function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, c) => Math.max(3, h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`;
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

/** The generated section of docs/encoding.md. */
export function renderVectors(v: EncodingVectors): string {
  const k0 = v.keys[0]!;
  return [
    '### Keys',
    '',
    ...table(
      ['#', 'seed (RFC 8032 secret key)', 'raw public key', 'node ID'],
      v.keys.map((k, i) => [String(i), code(k.seed), code(k.publicKey), code(k.nodeId)]),
    ),
    '',
    `Key 0 signs the transaction, the block and the vote. Its PKCS#8 DER is ${code(k0.pkcs8)};`,
    `SHA-256 of its raw public key is ${code(k0.publicKeySha256)}, and the node ID is its first 40 hex characters.`,
    '',
    '### Transaction',
    '',
    ...shown('Body', v.transaction.body),
    `id = SHA-256(body) = ${code(v.transaction.id)}`,
    '',
    ...shown('Signing bytes', v.transaction.signingBytes),
    `signature (Ed25519, key 0, base64) = ${code(v.transaction.signature)}`,
    '',
    ...shown('The signed transaction', v.transaction.encoded),
    '### Merkle tree',
    '',
    `Root of no ids: ${code(v.merkle.emptyRoot)} (SHA-256 of nothing).`,
    '',
    ...table(
      ['i', 'id', 'leaf hash'],
      v.merkle.ids.map((id, i) => [String(i), code(id), code(v.merkle.leafHashes[i]!)]),
    ),
    '',
    ...table(
      ['first n ids', 'root'],
      v.merkle.rootsOfFirst.map(({ n, root }) => [String(n), code(root)]),
    ),
    '',
    '### Block',
    '',
    'Height 1, after the genesis block below, with the transaction above and a second one.',
    `Tx ids: ${v.block.txIds.map(code).join(', ')}; txRoot = ${code(v.block.txRoot)}.`,
    '',
    ...shown('Header', v.block.header),
    `seal = SHA-256(header) = ${code(v.block.seal)}`,
    '',
    ...shown('The whole block', v.block.encoded),
    '### Vote',
    '',
    ...shown('Signing bytes of a PreCommit for the block by key 0', v.vote.signingBytes),
    `signature = ${code(v.vote.signature)}`,
    '',
    ...shown('The signed vote', v.vote.encoded),
    '### Commit certificate',
    '',
    `${v.certificate.validators} validators (keys 0-3), quorumSize(${v.certificate.validators}) = ${v.certificate.quorumSize}:`,
    `PreCommits of keys 0-${v.certificate.quorumSize - 1} for the block, round 0.`,
    '',
    ...shown('Certificate', v.certificate.encoded),
    '### Genesis',
    '',
    ...shown('Genesis file', v.genesis.file),
    `stateRoot = SHA-256(genesis file) = ${code(v.genesis.stateRoot)}`,
    '',
    ...shown('Genesis block header', v.genesis.header),
    `genesis seal = SHA-256(header) = ${code(v.genesis.seal)}`,
  ].join('\n');
}

export function vectorsJson(v: EncodingVectors): string {
  return `${JSON.stringify(v, null, 2)}\n`;
}

/** The md with its generated section replaced; throws if the markers are missing. */
export function withVectors(md: string, v: EncodingVectors): string {
  const begin = md.indexOf(BEGIN_MARK);
  const end = md.indexOf(END_MARK);
  if (begin < 0 || end < begin) throw new Error(`${MD_PATH}: the generated-vectors markers are missing`);
  return `${md.slice(0, begin + BEGIN_MARK.length)}\n\n${renderVectors(v)}\n\n${md.slice(end)}`;
}

function main(write: boolean): number {
  const v = computeVectors();
  const json = vectorsJson(v);
  const md = readFileSync(MD_PATH, 'utf8');
  const nextMd = withVectors(md, v);
  let current = '';
  try {
    current = readFileSync(JSON_PATH, 'utf8');
  } catch {
    // missing: stale
  }
  const stale = current !== json || md !== nextMd;
  if (write) {
    writeFileSync(JSON_PATH, json);
    writeFileSync(MD_PATH, nextMd);
    console.log(stale ? 'encoding vectors rewritten' : 'encoding vectors were up to date');
    return 0;
  }
  console.log(
    stale
      ? 'encoding vectors are stale: run tsx docs/encoding-vectors.ts --write'
      : 'encoding vectors are up to date',
  );
  return stale ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.includes('--write'));
}
