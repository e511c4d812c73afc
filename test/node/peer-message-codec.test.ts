import { describe, expect, it } from 'vitest';
import { decodePeerMessage, PEER_MESSAGE_TYPES } from '../../actors/peer-message-codec.ts';
import type { PeerMessage } from '../../actors/replica/messages.ts';
import { ValidationError } from '../../domain/errors.ts';
import { signerOf } from '../../domain/identity.ts';
import { electionVoteSigningBytes, type SignedElectionVote } from '../../machines/election-messages.ts';
import { proposalSigningBytes, type SignedProposal } from '../../machines/pbft-messages.ts';
import { createChainFixture } from '../support/chain-fixture.ts';

// Every message a peer can send decodes to exactly what was sent (after the JSON trip the gRPC
// gateway makes), and anything malformed is refused with the field named.

const fixture = createChainFixture();
const [a, b] = fixture.validators as [(typeof fixture.validators)[0], (typeof fixture.validators)[0]];
const block = fixture.nextBlock(fixture.genesis, fixture.txs(3));
const cert = fixture.certify(block);
const vote = cert.precommits[0]!;

function electionVote(): SignedElectionVote {
  const unsigned = {
    kind: 'Vote' as const,
    networkId: fixture.networkId,
    term: 4,
    candidate: a.nodeId,
    voter: b.nodeId,
    granted: true,
  };
  return { ...unsigned, signature: signerOf(b).sign(electionVoteSigningBytes(unsigned)) };
}

function proposal(): SignedProposal {
  const unsigned = {
    kind: 'Proposal' as const,
    networkId: fixture.networkId,
    height: 1,
    round: 2,
    block,
    validRound: -1,
    proposer: a.nodeId,
  };
  return { ...unsigned, signature: signerOf(a).sign(proposalSigningBytes(unsigned)) };
}

const samples: PeerMessage[] = [
  {
    type: 'RequestVote',
    request: { kind: 'RequestVote', term: 4, candidate: a.nodeId, lastCommittedHeight: 7 },
  },
  { type: 'ElectionVote', vote: electionVote() },
  {
    type: 'UpdateLeader',
    update: { kind: 'UpdateLeader', term: 4, leader: a.nodeId, votes: [electionVote()] },
  },
  { type: 'Proposal', proposal: proposal(), justification: [vote] },
  { type: 'Vote', vote },
  { type: 'Votes', votes: cert.precommits },
  { type: 'Txs', txs: block.txs },
  { type: 'StatusRequest', height: 3 },
  { type: 'Status', height: 9 },
  { type: 'BlocksRequest', requestId: 12, from: 1, to: 64 },
  { type: 'Blocks', requestId: 12, blocks: [{ block, cert }] },
  { type: 'Committed', block, cert },
];

const overJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

function refusal(value: unknown): string {
  try {
    decodePeerMessage(value);
  } catch (error) {
    if (error instanceof ValidationError) return error.message;
    throw error;
  }
  throw new Error('decoded');
}

describe('decodePeerMessage', () => {
  it('has a sample of every message type', () => {
    expect(samples.map((m) => m.type).sort()).toEqual([...PEER_MESSAGE_TYPES].sort());
  });

  it.each(samples.map((m) => [m.type, m] as const))(
    'a %s survives the trip over the wire unchanged',
    (_, message) => {
      expect(decodePeerMessage(overJson(message))).toEqual(message);
    },
  );

  it('refuses an unknown type, an unknown key and a field of the wrong type, naming the field', () => {
    expect(refusal({ type: 'Gossip' })).toMatch(/message\.type/);
    expect(refusal({ type: 'Status', height: 1, extra: true })).toMatch(/message\.extra.*unknown key/);
    expect(refusal({ type: 'Status', height: '1' })).toMatch(/message\.height/);
    expect(refusal({ type: 'Txs', txs: [{ ...block.txs[0], signer: 'nobody' }] })).toMatch(
      /message\.txs\[0\]\.signer/,
    );
    expect(
      refusal({ type: 'Proposal', proposal: { ...proposal(), validRound: -2 }, justification: [] }),
    ).toMatch(/validRound/);
    expect(refusal(null)).toMatch(/message\.type/);
  });
});
