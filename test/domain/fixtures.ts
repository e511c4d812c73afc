// Deterministic keys, transactions, blocks and certificates for the domain tests.

import { createHash } from 'node:crypto';
import { VECTOR_CA_CERTIFICATE } from '../../docs/encoding-vectors.ts';
import { type Block, buildBlock } from '../../domain/block.ts';
import type { Canonical } from '../../domain/canonical.ts';
import type { CommitCertificate } from '../../domain/commit-certificate.ts';
import { type GenesisFile, genesisBlock } from '../../domain/genesis.ts';
import { sha256Hex } from '../../domain/hash.ts';
import { type Identity, identityFromSeed, KeyRing, signerOf } from '../../domain/identity.ts';
import { quorumSize } from '../../domain/quorum.ts';
import { signTransaction, type Transaction, type TxKind } from '../../domain/transaction.ts';
import type { ChainContext } from '../../domain/validation.ts';
import { signVote, type Vote } from '../../domain/vote.ts';

export const NETWORK_ID = 'test-net';
export const T0 = Date.UTC(2026, 0, 1);

export function identityNumber(i: number): Identity {
  return identityFromSeed(createHash('sha256').update(`test identity ${i}`).digest());
}

/** Four validators (n = 3f + 1 with f = 1, quorum 3) and one node that is not a validator. */
export const validators: readonly Identity[] = [0, 1, 2, 3].map(identityNumber);
export const outsider: Identity = identityNumber(99);
export const validatorIds = validators.map((v) => v.nodeId);

/** Knows the validators' keys and the outsider's (a known key that is still not a validator). */
export function keyRing(): KeyRing {
  const ring = new KeyRing();
  for (const identity of [...validators, outsider]) ring.add(identity.publicKey);
  return ring;
}

export const genesisFile: GenesisFile = {
  organization: 'Test Community',
  networkId: NETWORK_ID,
  creator: validators[0]!.nodeId,
  timestamp: T0,
  caCertificate: VECTOR_CA_CERTIFICATE,
  validators: validators.map((v) => ({
    nodeId: v.nodeId,
    publicKey: v.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  })),
};

export const genesis: Block = genesisBlock(genesisFile);

export interface TxOptions {
  signer?: Identity;
  kind?: TxKind;
  args?: Canonical[];
  timestamp?: number;
}

export function makeTx(nonce: string, options: TxOptions = {}): Transaction {
  return signTransaction(
    {
      kind: options.kind ?? 'invoke',
      icodeId: 'kv',
      function: 'put',
      args: options.args ?? [`key-${nonce}`, { value: nonce, n: 1 }],
      timestamp: options.timestamp ?? T0 + 500,
      signer: (options.signer ?? validators[1]!).nodeId,
      nonce,
    },
    signerOf(options.signer ?? validators[1]!),
  );
}

export function nextBlock(last: Block, txs: Transaction[], timestamp = last.timestamp + 1000): Block {
  return buildBlock({
    height: last.height + 1,
    prevSeal: last.seal,
    stateRoot: sha256Hex(`state at ${last.height + 1}`),
    timestamp,
    creator: validators[last.height % validators.length]!.nodeId,
    txs,
  });
}

export function precommit(block: Block, voter: Identity, round = 0): Vote {
  return signVote(
    {
      type: 'precommit',
      networkId: NETWORK_ID,
      height: block.height,
      round,
      blockHash: block.seal,
      voter: voter.nodeId,
    },
    signerOf(voter),
  );
}

/** A certificate with PreCommits of the given voters (a quorum of the validators by default). */
export function certify(
  block: Block,
  voters: readonly Identity[] = validators.slice(0, quorumSize(validators.length)),
  round = 0,
): CommitCertificate {
  return {
    height: block.height,
    round,
    blockHash: block.seal,
    precommits: voters.map((v) => precommit(block, v, round)),
  };
}

export function contextAfter(last: Block, extra: Partial<ChainContext> = {}): ChainContext {
  return { networkId: NETWORK_ID, last, validators: validatorIds, keys: keyRing(), ...extra };
}
