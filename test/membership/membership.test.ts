import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { admissionTx, Membership, readAdmission } from '../../actors/membership.ts';
import { loadMembership } from '../../actors/membership-loader.ts';
import {
  type CertificateAuthority,
  createCertificateAuthority,
  issueNodeCertificate,
} from '../../adapters/pki/certificate-authority.ts';
import { ChainStore } from '../../adapters/store/chain-store.ts';
import type { Block } from '../../domain/block.ts';
import { generateIdentity, type Identity, KeyRing, signerOf } from '../../domain/identity.ts';
import { signTransaction } from '../../domain/transaction.ts';
import { validateTransaction } from '../../domain/validation.ts';
import { createChainFixture } from '../support/chain-fixture.ts';

// SPEC §4 Membership: a `membership` tx admits a node whose certificate the genesis CA issued; every
// node applies it alike when its block commits (judged at the block's time), and from then on the
// node's signed txs verify; at start the key ring is rebuilt from the stored chain.

const DAY = 24 * 60 * 60 * 1000;
let ca: CertificateAuthority;
let otherCa: CertificateAuthority;

beforeAll(async () => {
  ca = await createCertificateAuthority({ organization: 'members', networkId: 'test-net' });
  otherCa = await createCertificateAuthority({ organization: 'strangers', networkId: 'test-net' });
});

async function newcomer(issuer = ca, now?: Date): Promise<{ identity: Identity; certificate: string }> {
  const identity = generateIdentity();
  const { certificatePem } = await issueNodeCertificate(issuer, identity.publicKey, { now });
  return { identity, certificate: certificatePem };
}

/** A block holding `txs` after the fixture's genesis, at `timestamp`. */
function blockWith(
  fixture: ReturnType<typeof createChainFixture>,
  txs: Block['txs'],
  timestamp = Date.now(),
) {
  return fixture.nextBlock(fixture.genesis, [...txs], { timestamp });
}

describe('membership txs', () => {
  it('a membership tx for a node with a certificate of the genesis CA admits it: its txs verify from then on', async () => {
    const fixture = createChainFixture();
    const keys = new KeyRing();
    const membership = new Membership(keys, ca.certificatePem, fixture.validatorIds);
    const joiner = await newcomer();
    const ownTx = signTransaction(
      {
        kind: 'invoke',
        icodeId: 'kv',
        function: 'put',
        args: ['k', 'v'],
        timestamp: Date.now(),
        signer: joiner.identity.nodeId,
        nonce: 'n1',
      },
      signerOf(joiner.identity),
    );
    expect(() => validateTransaction(ownTx, keys)).toThrow(/unknown signer/);
    expect(membership.isMember(joiner.identity.nodeId)).toBe(false);

    const admit = admissionTx(
      { nodeId: joiner.identity.nodeId, certificate: joiner.certificate },
      signerOf(fixture.validators[0]!),
      Date.now(),
    );
    const outcomes = membership.applyBlock(blockWith(fixture, [admit]));

    expect(outcomes).toMatchObject([{ status: 'admitted', member: { nodeId: joiner.identity.nodeId } }]);
    expect(membership.isMember(joiner.identity.nodeId)).toBe(true);
    expect(() => validateTransaction(ownTx, keys)).not.toThrow();
  });

  it('a certificate from another CA admits nobody: the tx commits as a no-op and says why', async () => {
    const fixture = createChainFixture();
    const keys = new KeyRing();
    const membership = new Membership(keys, ca.certificatePem, fixture.validatorIds);
    const stranger = await newcomer(otherCa);
    const admit = admissionTx(
      { nodeId: stranger.identity.nodeId, certificate: stranger.certificate },
      signerOf(fixture.validators[1]!),
      Date.now(),
    );
    const [outcome] = membership.applyBlock(blockWith(fixture, [admit]));
    expect(outcome).toMatchObject({ status: 'refused' });
    expect(outcome?.status === 'refused' && outcome.reason).toMatch(/not signed by the network CA/);
    expect(keys.has(stranger.identity.nodeId)).toBe(false);
  });

  it('a certificate of one node cannot admit another node ID', async () => {
    const fixture = createChainFixture();
    const membership = new Membership(new KeyRing(), ca.certificatePem, fixture.validatorIds);
    const real = await newcomer();
    const claimed = generateIdentity().nodeId;
    const admit = admissionTx(
      { nodeId: claimed, certificate: real.certificate },
      signerOf(fixture.validators[0]!),
      Date.now(),
    );
    const [outcome] = membership.applyBlock(blockWith(fixture, [admit]));
    expect(outcome?.status === 'refused' && outcome.reason).toMatch(/is node .*'s, not/);
    expect(membership.isMember(claimed)).toBe(false);
    expect(membership.isMember(real.identity.nodeId)).toBe(false);
  });

  it("the certificate is judged at the block's timestamp, so every node decides alike whenever it applies the block", async () => {
    const fixture = createChainFixture();
    const issuedAt = new Date(Date.now() + 10 * DAY);
    const early = await newcomer(ca, issuedAt);
    const admit = admissionTx(
      { nodeId: early.identity.nodeId, certificate: early.certificate },
      signerOf(fixture.validators[0]!),
      Date.now(),
    );
    const before = new Membership(new KeyRing(), ca.certificatePem, fixture.validatorIds);
    const [refused] = before.applyBlock(blockWith(fixture, [admit], issuedAt.getTime() - DAY));
    expect(refused?.status === 'refused' && refused.reason).toMatch(/not valid before/);
    const after = new Membership(new KeyRing(), ca.certificatePem, fixture.validatorIds);
    const [admitted] = after.applyBlock(blockWith(fixture, [admit], issuedAt.getTime() + DAY));
    expect(admitted?.status).toBe('admitted');
  });

  it('admitting a member again, or a genesis validator, changes nothing', async () => {
    const fixture = createChainFixture();
    const membership = new Membership(new KeyRing(), ca.certificatePem, fixture.validatorIds);
    const joiner = await newcomer();
    const admit = () =>
      admissionTx(
        { nodeId: joiner.identity.nodeId, certificate: joiner.certificate },
        signerOf(fixture.validators[2]!),
        Date.now(),
      );
    const outcomes = membership.applyBlock(blockWith(fixture, [admit(), admit()]));
    expect(outcomes.map((o) => o.status)).toEqual(['admitted', 'already-member']);
    expect(membership.members()).toHaveLength(1);
    const validatorTx = admissionTx(
      { nodeId: fixture.validatorIds[3]!, certificate: joiner.certificate },
      signerOf(fixture.validators[0]!),
      Date.now(),
    );
    expect(membership.applyBlock(blockWith(fixture, [validatorTx]))[0]?.status).toBe('already-member');
  });

  it('only membership.admit [nodeId, certificatePem] is a membership tx', () => {
    const fixture = createChainFixture();
    const malformed = fixture.tx({ kind: 'membership', args: ['only-one'] });
    expect(readAdmission(malformed)).toMatch(/membership tx is membership.admit, not kv.put/);
    expect(readAdmission(fixture.tx())).toMatch(/not a membership tx/);
  });

  it('a node that cannot reach the key ring the store verifies with admits nobody', async () => {
    const fixture = createChainFixture();
    const membership = new Membership(null, ca.certificatePem, fixture.validatorIds);
    const joiner = await newcomer();
    const admit = admissionTx(
      { nodeId: joiner.identity.nodeId, certificate: joiner.certificate },
      signerOf(fixture.validators[0]!),
      Date.now(),
    );
    expect(membership.canAdmit).toBe(false);
    expect(membership.applyBlock(blockWith(fixture, [admit]))[0]?.status).toBe('refused');
  });
});

describe('members after a restart', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the key ring is rebuilt from the stored chain: members admitted before the restart verify again', async () => {
    dir = await mkdtemp(join(tmpdir(), 'itchain-membership-'));
    const fixture = createChainFixture();
    const genesis = { ...fixture.genesisFile, caCertificate: ca.certificatePem };
    const storeKeys = new KeyRing();
    for (const v of fixture.validators) storeKeys.add(v.publicKey);
    const store = await ChainStore.open(join(dir, 'data'), {
      networkId: fixture.networkId,
      keys: storeKeys,
      validatorsAt: () => fixture.validatorIds,
    });
    try {
      await store.initGenesis(fixture.genesisFile);
      const first = await newcomer();
      const second = await newcomer();
      // Block times now: the certificates are judged at them.
      const at = Date.now();
      const b1 = fixture.nextBlock(fixture.genesis, fixture.txs(2), { timestamp: at });
      const b2 = fixture.nextBlock(
        b1,
        [
          admissionTx(
            { nodeId: first.identity.nodeId, certificate: first.certificate },
            signerOf(fixture.validators[0]!),
            Date.now(),
          ),
        ],
        { timestamp: at + 1 },
      );
      const b3 = fixture.nextBlock(
        b2,
        [
          ...fixture.txs(1),
          admissionTx(
            { nodeId: second.identity.nodeId, certificate: second.certificate },
            signerOf(fixture.validators[1]!),
            Date.now(),
          ),
        ],
        { timestamp: at + 2 },
      );
      for (const block of [b1, b2, b3]) await store.append(block, fixture.certify(block));

      const keys = new KeyRing();
      const { membership, outcomes } = await loadMembership(store, genesis, keys);
      expect(outcomes.map((o) => o.status)).toEqual(['admitted', 'admitted']);
      expect(membership.members().map((m) => [m.nodeId, m.height])).toEqual([
        [first.identity.nodeId, 2],
        [second.identity.nodeId, 3],
      ]);
      expect(keys.has(first.identity.nodeId) && keys.has(second.identity.nodeId)).toBe(true);
    } finally {
      await store.close();
    }
  });
});
