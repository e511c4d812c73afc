import { readBlock, readCommitCertificate, readTransaction, readVote } from '../domain/codec.ts';
import { arrayOf, child, fail, nodeId, objectWith, oneOf, signature, token, uint } from '../domain/decode.ts';
import type { CertifiedBlock } from '../machines/block-pool.ts';
import type { SignedElectionVote } from '../machines/election-messages.ts';
import type { SignedProposal } from '../machines/pbft-messages.ts';
import type { PeerMessage, PeerMessageType } from './replica/messages.ts';

// Strict decoding of what a peer sends (actors/replica/messages.ts), before it becomes a replica
// event: every field's type and shape, no unknown keys (the domain readers of domain/decode.ts and
// domain/codec.ts). A malformed message is refused here with the field named, so the machines only
// ever see well-typed values; signatures and protocol rules are the replica's to check.

/** Every message type, as a record so that a new type in messages.ts is a compile error here. */
const TYPES: Readonly<Record<PeerMessageType, true>> = {
  RequestVote: true,
  ElectionVote: true,
  UpdateLeader: true,
  Proposal: true,
  Vote: true,
  Votes: true,
  Txs: true,
  StatusRequest: true,
  Status: true,
  BlocksRequest: true,
  Blocks: true,
  Committed: true,
};

export const PEER_MESSAGE_TYPES = Object.keys(TYPES) as PeerMessageType[];

const keys = (...names: string[]): ReadonlySet<string> => new Set(names);

function bool(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') fail(path, 'expected true or false');
  return value;
}

/** A round or -1 (a proposal's validRound when it carries a fresh block). */
function roundOrNone(value: unknown, path: string): number {
  return value === -1 ? -1 : uint(value, path);
}

function literal<T extends string>(value: unknown, path: string, expected: T): T {
  return oneOf(value, path, [expected]);
}

const ELECTION_VOTE_KEYS = keys('kind', 'networkId', 'term', 'candidate', 'voter', 'granted', 'signature');

function readElectionVote(value: unknown, path: string): SignedElectionVote {
  const o = objectWith(value, path, ELECTION_VOTE_KEYS);
  return {
    kind: literal(o.kind, child(path, 'kind'), 'Vote'),
    networkId: token(o.networkId, child(path, 'networkId')),
    term: uint(o.term, child(path, 'term')),
    candidate: nodeId(o.candidate, child(path, 'candidate')),
    voter: nodeId(o.voter, child(path, 'voter')),
    granted: bool(o.granted, child(path, 'granted')),
    signature: signature(o.signature, child(path, 'signature')),
  };
}

const PROPOSAL_KEYS = keys(
  'kind',
  'networkId',
  'height',
  'round',
  'block',
  'validRound',
  'proposer',
  'signature',
);

function readProposal(value: unknown, path: string): SignedProposal {
  const o = objectWith(value, path, PROPOSAL_KEYS);
  return {
    kind: literal(o.kind, child(path, 'kind'), 'Proposal'),
    networkId: token(o.networkId, child(path, 'networkId')),
    height: uint(o.height, child(path, 'height')),
    round: uint(o.round, child(path, 'round')),
    block: readBlock(o.block, child(path, 'block')),
    validRound: roundOrNone(o.validRound, child(path, 'validRound')),
    proposer: nodeId(o.proposer, child(path, 'proposer')),
    signature: signature(o.signature, child(path, 'signature')),
  };
}

const CERTIFIED_KEYS = keys('block', 'cert');

function readCertified(value: unknown, path: string): CertifiedBlock {
  const o = objectWith(value, path, CERTIFIED_KEYS);
  return {
    block: readBlock(o.block, child(path, 'block')),
    cert: readCommitCertificate(o.cert, child(path, 'cert')),
  };
}

function typeOf(value: unknown): unknown {
  return typeof value === 'object' && value !== null && 'type' in value ? value.type : undefined;
}

/** The message in a peer's JSON; throws ValidationError naming the bad field. */
export function decodePeerMessage(value: unknown): PeerMessage {
  const path = 'message';
  const type = oneOf(typeOf(value), child(path, 'type'), PEER_MESSAGE_TYPES);
  const only = (...names: string[]) => objectWith(value, path, keys('type', ...names));
  switch (type) {
    case 'RequestVote': {
      const o = only('request');
      const at = child(path, 'request');
      const r = objectWith(o.request, at, keys('kind', 'term', 'candidate', 'lastCommittedHeight'));
      return {
        type,
        request: {
          kind: literal(r.kind, child(at, 'kind'), 'RequestVote'),
          term: uint(r.term, child(at, 'term')),
          candidate: nodeId(r.candidate, child(at, 'candidate')),
          lastCommittedHeight: uint(r.lastCommittedHeight, child(at, 'lastCommittedHeight')),
        },
      };
    }
    case 'ElectionVote':
      return { type, vote: readElectionVote(only('vote').vote, child(path, 'vote')) };
    case 'UpdateLeader': {
      const o = only('update');
      const at = child(path, 'update');
      const u = objectWith(o.update, at, keys('kind', 'term', 'leader', 'votes'));
      return {
        type,
        update: {
          kind: literal(u.kind, child(at, 'kind'), 'UpdateLeader'),
          term: uint(u.term, child(at, 'term')),
          leader: nodeId(u.leader, child(at, 'leader')),
          votes: arrayOf(u.votes, child(at, 'votes'), readElectionVote),
        },
      };
    }
    case 'Proposal': {
      const o = only('proposal', 'justification');
      return {
        type,
        proposal: readProposal(o.proposal, child(path, 'proposal')),
        justification: arrayOf(o.justification, child(path, 'justification'), readVote),
      };
    }
    case 'Vote':
      return { type, vote: readVote(only('vote').vote, child(path, 'vote')) };
    case 'Votes':
      return { type, votes: arrayOf(only('votes').votes, child(path, 'votes'), readVote) };
    case 'Txs':
      return { type, txs: arrayOf(only('txs').txs, child(path, 'txs'), readTransaction) };
    case 'StatusRequest':
    case 'Status':
      return { type, height: uint(only('height').height, child(path, 'height')) };
    case 'BlocksRequest': {
      const o = only('requestId', 'from', 'to');
      return {
        type,
        requestId: uint(o.requestId, child(path, 'requestId')),
        from: uint(o.from, child(path, 'from')),
        to: uint(o.to, child(path, 'to')),
      };
    }
    case 'Blocks': {
      const o = only('requestId', 'blocks');
      return {
        type,
        requestId: uint(o.requestId, child(path, 'requestId')),
        blocks: arrayOf(o.blocks, child(path, 'blocks'), readCertified),
      };
    }
    case 'Committed': {
      const o = only('block', 'cert');
      return {
        type,
        block: readBlock(o.block, child(path, 'block')),
        cert: readCommitCertificate(o.cert, child(path, 'cert')),
      };
    }
  }
}
