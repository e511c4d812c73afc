import { randomUUID } from 'node:crypto';
import { type Block, buildBlock } from '../../domain/block.ts';
import type { Canonical } from '../../domain/canonical.ts';
import type { CommitCertificate } from '../../domain/commit-certificate.ts';
import { type GenesisFile, genesisBlock } from '../../domain/genesis.ts';
import {
  generateIdentity,
  type Identity,
  identityFromPrivatePem,
  KeyRing,
  type NodeId,
  signerOf,
} from '../../domain/identity.ts';
import { signTransaction, type Transaction, type TxKind } from '../../domain/transaction.ts';
import { signVote } from '../../domain/vote.ts';

// A small network for tests: four validators (n = 3f+1 with f = 1, quorum 3) with real Ed25519 keys,
// their genesis, and helpers that make signed txs, linked blocks and commit certificates signed by
// real PreCommits. A fixture can be written to JSON and rebuilt in another process (crash tests).

export interface ChainFixture {
  readonly networkId: string;
  readonly validators: readonly Identity[];
  readonly validatorIds: readonly NodeId[];
  /** Public keys of every validator, imported once. */
  readonly keys: KeyRing;
  readonly genesisFile: GenesisFile;
  readonly genesis: Block;
  /** A signed invoke tx of the built-in kv iCode, accepted by validator `by` (default: round robin). */
  tx(options?: { by?: number; kind?: TxKind; args?: Canonical[] }): Transaction;
  txs(count: number): Transaction[];
  /** The block after `prev` holding `txs`, proposed by validator `creator` (default 0). */
  nextBlock(prev: Block, txs?: Transaction[], options?: { creator?: number; timestamp?: number }): Block;
  /** PreCommits for `block` from the validators at `signers` (default: all). */
  certify(block: Block, options?: { signers?: readonly number[]; round?: number }): CommitCertificate;
  /** `count` blocks after `prev`, each with `txsPerBlock` txs and a certificate. */
  extend(prev: Block, count: number, txsPerBlock: number): { blocks: Block[]; certs: CommitCertificate[] };
  /** Everything needed to rebuild this fixture elsewhere (private keys included: tests only). */
  secrets(): FixtureSecrets;
}

export interface FixtureSecrets {
  genesisFile: GenesisFile;
  privateKeysPem: string[];
}

const TEST_CA = '-----BEGIN CERTIFICATE-----\ntest fixture: no CA\n-----END CERTIFICATE-----\n';
const GENESIS_TIME = Date.UTC(2025, 0, 1);

export function createChainFixture(options: { validators?: number; networkId?: string } = {}): ChainFixture {
  const identities = Array.from({ length: options.validators ?? 4 }, () => generateIdentity());
  const genesisFile: GenesisFile = {
    organization: 'it-chain tests',
    networkId: options.networkId ?? 'test-net',
    creator: identities[0]!.nodeId,
    timestamp: GENESIS_TIME,
    caCertificate: TEST_CA,
    validators: identities.map((id) => ({
      nodeId: id.nodeId,
      publicKey: id.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    })),
  };
  return fixtureOf(identities, genesisFile);
}

export function chainFixtureFromSecrets(secrets: FixtureSecrets): ChainFixture {
  return fixtureOf(secrets.privateKeysPem.map(identityFromPrivatePem), secrets.genesisFile);
}

function fixtureOf(identities: Identity[], genesisFile: GenesisFile): ChainFixture {
  const keys = new KeyRing();
  for (const id of identities) keys.add(id.publicKey);
  const networkId = genesisFile.networkId;
  let txCount = 0;

  const identityAt = (i: number): Identity => {
    const id = identities[i];
    if (!id) throw new Error(`no validator ${i} in a fixture of ${identities.length}`);
    return id;
  };

  const fixture: ChainFixture = {
    networkId,
    validators: identities,
    validatorIds: identities.map((id) => id.nodeId),
    keys,
    genesisFile,
    genesis: genesisBlock(genesisFile),

    tx({ by, kind = 'invoke', args } = {}) {
      const n = txCount++;
      const signer = identityAt(by ?? n % identities.length);
      return signTransaction(
        {
          kind,
          icodeId: 'kv',
          function: 'put',
          args: args ?? [`key-${n}`, `value-${n}`],
          timestamp: GENESIS_TIME + n,
          signer: signer.nodeId,
          nonce: randomUUID(),
        },
        signerOf(signer),
      );
    },

    txs(count) {
      return Array.from({ length: count }, () => fixture.tx());
    },

    nextBlock(prev, txs = [], { creator = 0, timestamp } = {}) {
      return buildBlock({
        height: prev.height + 1,
        prevSeal: prev.seal,
        stateRoot: prev.stateRoot,
        timestamp: timestamp ?? prev.timestamp + 1,
        creator: identityAt(creator).nodeId,
        txs,
      });
    },

    certify(block, { signers, round = 0 } = {}) {
      const voters = signers ?? identities.map((_, i) => i);
      return {
        height: block.height,
        round,
        blockHash: block.seal,
        precommits: voters.map((i) => {
          const voter = identityAt(i);
          return signVote(
            {
              type: 'precommit',
              networkId,
              height: block.height,
              round,
              blockHash: block.seal,
              voter: voter.nodeId,
            },
            signerOf(voter),
          );
        }),
      };
    },

    extend(prev, count, txsPerBlock) {
      const blocks: Block[] = [];
      const certs: CommitCertificate[] = [];
      let last = prev;
      for (let i = 0; i < count; i++) {
        last = fixture.nextBlock(last, fixture.txs(txsPerBlock));
        blocks.push(last);
        certs.push(fixture.certify(last));
      }
      return { blocks, certs };
    },

    secrets() {
      return {
        genesisFile,
        privateKeysPem: identities.map((id) =>
          id.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
        ),
      };
    },
  };
  return fixture;
}
