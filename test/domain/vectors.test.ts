import { createHash, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  computeVectors,
  type EncodingVectors,
  JSON_PATH,
  MD_PATH,
  vectorsJson,
  withVectors,
} from '../../docs/encoding-vectors.ts';
import { blockCodec, certificateCodec, genesisCodec, txCodec, voteCodec } from '../../domain/codec.ts';
import { genesisBlock } from '../../domain/genesis.ts';
import { KeyRing } from '../../domain/identity.ts';
import { validateNextBlock } from '../../domain/validation.ts';

const STALE = 'docs are stale: run `npx tsx docs/encoding-vectors.ts --write` and review the diff';

const stored: EncodingVectors = JSON.parse(readFileSync(JSON_PATH, 'utf8'));
const sha256 = (...parts: (Uint8Array | string)[]) => {
  const h = createHash('sha256');
  for (const part of parts) h.update(part);
  return h.digest();
};
const bytes = (encoding: { hex: string }) => Buffer.from(encoding.hex, 'hex');
const publicKeyOf = (rawHex: string) =>
  createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(rawHex, 'hex').toString('base64url') },
    format: 'jwk',
  });

describe('docs/encoding-vectors.json and docs/encoding.md are what the code computes', () => {
  it('the JSON vectors match the code', () => {
    expect(readFileSync(JSON_PATH, 'utf8'), STALE).toBe(vectorsJson(computeVectors()));
  });

  it('the vectors shown in the md match the code', () => {
    const md = readFileSync(MD_PATH, 'utf8');
    expect(md, STALE).toBe(withVectors(md, computeVectors()));
  });
});

// The checks below read only the stored vectors and recompute them with plain SHA-256 and Ed25519,
// so a reader who implements the encoding from the docs can trust every number on the page.
describe('the vectors are consistent with the rules in docs/encoding.md', () => {
  it('keys: RFC 8032 seeds give RFC 8032 public keys, and node ID = first 40 hex of SHA-256(raw key)', () => {
    expect(stored.keys.map((k) => k.publicKey)).toEqual([
      'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', // RFC 8032 TEST 1
      '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c', // TEST 2
      'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025', // TEST 3
      '278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e', // TEST 1024
    ]);
    for (const k of stored.keys) {
      expect(k.pkcs8).toBe(`302e020100300506032b657004220420${k.seed}`);
      expect(k.nodeId).toBe(sha256(Buffer.from(k.publicKey, 'hex')).toString('hex').slice(0, 40));
    }
    // The PKCS#8 wrapping is the RFC's key: it signs the empty message as RFC 8032 TEST 1 says.
    const key = createPrivateKey({
      key: Buffer.from(stored.keys[0]!.pkcs8, 'hex'),
      format: 'der',
      type: 'pkcs8',
    });
    expect(sign(null, Buffer.alloc(0), key).toString('hex')).toBe(
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    );
  });

  it('every hex vector is the UTF-8 of its canonical text', () => {
    const encodings = [
      stored.transaction.body,
      stored.transaction.signingBytes,
      stored.transaction.encoded,
      stored.block.header,
      stored.block.encoded,
      stored.vote.signingBytes,
      stored.vote.encoded,
      stored.certificate.encoded,
      stored.genesis.file,
      stored.genesis.header,
    ];
    for (const e of encodings) expect(bytes(e).toString('utf8')).toBe(e.text);
  });

  it('transaction: id = SHA-256(body), signature = Ed25519 over {"domain":"itchain/tx/v1","id":…}', () => {
    const t = stored.transaction;
    expect(t.id).toBe(sha256(bytes(t.body)).toString('hex'));
    expect(t.signingBytes.text).toBe(`{"domain":"itchain/tx/v1","id":"${t.id}"}`);
    expect(
      verify(
        null,
        bytes(t.signingBytes),
        publicKeyOf(stored.keys[0]!.publicKey),
        Buffer.from(t.signature, 'base64'),
      ),
    ).toBe(true);
    const tx = txCodec.decode(bytes(t.encoded));
    expect([tx.id, tx.signature]).toEqual([t.id, t.signature]);
  });

  it('Merkle: leaf = SHA-256(0x00 || id), node = SHA-256(0x01 || left || right), split at the largest power of two', () => {
    const m = stored.merkle;
    const leaf = (id: string) => sha256(Buffer.from([0]), id);
    const root = (ids: string[]): Buffer => {
      if (ids.length === 0) return sha256();
      if (ids.length === 1) return leaf(ids[0]!);
      let k = 1;
      while (k * 2 < ids.length) k *= 2;
      return sha256(Buffer.from([1]), root(ids.slice(0, k)), root(ids.slice(k)));
    };
    expect(m.leafHashes).toEqual(m.ids.map((id) => leaf(id).toString('hex')));
    expect(m.emptyRoot).toBe(root([]).toString('hex'));
    for (const { n, root: r } of m.rootsOfFirst) expect(r).toBe(root(m.ids.slice(0, n)).toString('hex'));
    expect(stored.block.txRoot).toBe(root(stored.block.txIds).toString('hex'));
  });

  it('block: seal = SHA-256(header) with height and creator in the header', () => {
    const b = stored.block;
    expect(b.seal).toBe(sha256(bytes(b.header)).toString('hex'));
    const header = JSON.parse(b.header.text);
    expect(Object.keys(header)).toEqual([
      'creator',
      'height',
      'prevSeal',
      'stateRoot',
      'timestamp',
      'txRoot',
    ]);
    expect(header.prevSeal).toBe(stored.genesis.seal);
    expect(header.txRoot).toBe(b.txRoot);
  });

  it('vote: Ed25519 over {"domain":"itchain/vote/v1", type, networkId, height, round, blockHash, voter}', () => {
    const v = stored.vote;
    expect(JSON.parse(v.signingBytes.text)).toEqual({
      ...JSON.parse(v.encoded.text),
      domain: 'itchain/vote/v1',
      signature: undefined,
    });
    expect(
      verify(
        null,
        bytes(v.signingBytes),
        publicKeyOf(stored.keys[0]!.publicKey),
        Buffer.from(v.signature, 'base64'),
      ),
    ).toBe(true);
    expect(voteCodec.decode(bytes(v.encoded)).signature).toBe(v.signature);
  });

  it('genesis: stateRoot = SHA-256(file), seal = SHA-256(header of the height-0 block)', () => {
    const g = stored.genesis;
    expect(g.stateRoot).toBe(sha256(bytes(g.file)).toString('hex'));
    expect(g.seal).toBe(sha256(bytes(g.header)).toString('hex'));
    expect(JSON.parse(g.header.text)).toMatchObject({
      height: 0,
      prevSeal: '0'.repeat(64),
      stateRoot: g.stateRoot,
    });
    expect(genesisBlock(genesisCodec.decode(bytes(g.file))).seal).toBe(g.seal);
  });

  it('the block and its commit certificate verify against the validators of the genesis file', () => {
    const file = genesisCodec.decode(bytes(stored.genesis.file));
    const keys = new KeyRing();
    for (const v of file.validators) keys.add(v.publicKey);
    const cert = certificateCodec.decode(bytes(stored.certificate.encoded));
    expect(cert.precommits).toHaveLength(stored.certificate.quorumSize);
    expect(() =>
      validateNextBlock(blockCodec.decode(bytes(stored.block.encoded)), cert, {
        networkId: file.networkId,
        last: genesisBlock(file),
        validators: file.validators.map((v) => v.nodeId),
        keys,
      }),
    ).not.toThrow();
  });
});
