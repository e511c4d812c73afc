// The small durable record of a replica: what it voted for and signed, so that a restarted node
// never signs two conflicting messages. Written through host.persist before the message that needs
// it leaves the node; handed back to the Replica constructor (`restored`) after a restart. The
// chain itself is not here: it lives in the Ledger.
//
//   consensus/election  {term, votedFor}       machines/election.ts ElectionRecord
//   consensus/pbft      {record, signed, kept} ONE write, before each message this node signs:
//     record   {height, round, lastSigned, locked…, valid…}   machines/pbft-round.ts PbftRecord
//     signed   the proposal and votes this node signed in that round, in order: sent again (and
//              counted again) after a restart
//     kept     the bodies of the blocks the record is locked on / holds as valid, with the 2f+1
//              prevotes of their polka, so a restarted proposer can still re-propose its block
//
// Why one write: a crash can land between two writes. With the record and the signed message apart,
// a node restarted believing it had PreCommitted — so it never PreCommits again in that round — yet
// without the PreCommit to send; the others, short of its vote, waited for ever (found by the
// simulator: a torn crash, seed 19487).

import type { Block } from '../../domain/block.ts';
import type { NodeId } from '../../domain/identity.ts';
import type { Vote } from '../../domain/vote.ts';
import type { ElectionRecord } from '../../machines/election.ts';
import type { PbftRecord, SignedStep } from '../../machines/pbft-round.ts';
import type { PeerMessage } from './messages.ts';

export const RECORD_KEYS = {
  election: 'consensus/election',
  pbft: 'consensus/pbft',
} as const;

export type RecordKey = (typeof RECORD_KEYS)[keyof typeof RECORD_KEYS];

/** A message this node signs in the PBFT round. */
export type OwnSigned = Extract<PeerMessage, { type: 'Proposal' | 'Vote' }>;

/** A locked or valid block kept across a restart, with the polka (2f+1 prevotes) that made it so. */
export interface KeptBlock {
  block: Block;
  round: number;
  prevotes: Vote[];
}

/** Everything the PBFT side persists, written at once. */
export interface PbftState {
  record: PbftRecord;
  /** What this node signed in record.round of record.height, in order. */
  signed: OwnSigned[];
  kept: KeptBlock[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isRound = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= -1;
const isHashOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';
const STEPS: readonly SignedStep[] = ['none', 'proposal', 'prevote', 'precommit'];

/** The stored election record, or null when there is none (a record of another shape is an error). */
export function readElectionRecord(value: unknown): ElectionRecord | null {
  if (value === undefined) return null;
  if (
    !isObject(value) ||
    !isCount(value.term) ||
    !(value.votedFor === null || typeof value.votedFor === 'string')
  ) {
    throw new Error(`${RECORD_KEYS.election} is corrupt`);
  }
  return { term: value.term, votedFor: value.votedFor as NodeId | null };
}

function readPbftRecord(value: unknown): PbftRecord {
  const corrupt = () => new Error(`${RECORD_KEYS.pbft} is corrupt (record)`);
  if (!isObject(value)) throw corrupt();
  const { height, round, lastSigned, lockedRound, lockedBlockHash, validRound, validBlockHash } = value;
  const step = STEPS.find((s) => s === lastSigned);
  if (
    !isCount(height) ||
    !isCount(round) ||
    step === undefined ||
    !isRound(lockedRound) ||
    !isHashOrNull(lockedBlockHash) ||
    !isRound(validRound) ||
    !isHashOrNull(validBlockHash)
  ) {
    throw corrupt();
  }
  return { height, round, lastSigned: step, lockedRound, lockedBlockHash, validRound, validBlockHash };
}

/**
 * The stored PBFT state, or null when there is none. Written by this node itself, so the signed
 * messages and kept blocks are only checked in outline; the record is checked field by field.
 */
export function readPbftState(value: unknown): PbftState | null {
  if (value === undefined) return null;
  const corrupt = () => new Error(`${RECORD_KEYS.pbft} is corrupt`);
  if (!isObject(value) || !Array.isArray(value.signed) || !Array.isArray(value.kept)) throw corrupt();
  const record = readPbftRecord(value.record);
  const signed = value.signed;
  if (!signed.every((m) => isObject(m) && (m.type === 'Proposal' || m.type === 'Vote'))) throw corrupt();
  const kept = value.kept;
  if (!kept.every((e) => isObject(e) && isObject(e.block) && isCount(e.round) && Array.isArray(e.prevotes))) {
    throw corrupt();
  }
  return { record, signed: signed as OwnSigned[], kept: kept as KeptBlock[] };
}
