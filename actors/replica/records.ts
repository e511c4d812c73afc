// The small durable record of a replica: what it voted for and signed, so that a restarted node
// never signs two conflicting messages. Written through host.persist before the message that needs
// it leaves the node; handed back to the Replica constructor (`restored`) after a restart. The
// chain itself is not here: it lives in the Ledger.
//
//   consensus/election  {term, votedFor}                          machines/election.ts ElectionRecord
//   consensus/pbft      {height, round, lastSigned, lock, valid}  machines/pbft-round.ts PbftRecord
//   consensus/signed    {height, round, messages}                 the proposal and votes this node
//                       signed in that round, re-sent (and counted again) after a restart
//   consensus/blocks    {height, entries: [{block, round, prevotes}]}   the bodies of the blocks the
//                       pbft record is locked on / holds as valid, with the 2f+1 prevotes of their
//                       polka: a restarted proposer can re-propose its locked block, justified

import type { Block } from '../../domain/block.ts';
import type { NodeId } from '../../domain/identity.ts';
import type { Vote } from '../../domain/vote.ts';
import type { ElectionRecord } from '../../machines/election.ts';
import type { PbftRecord, SignedStep } from '../../machines/pbft-round.ts';
import type { PeerMessage } from './messages.ts';

export const RECORD_KEYS = {
  election: 'consensus/election',
  pbft: 'consensus/pbft',
  signed: 'consensus/signed',
  blocks: 'consensus/blocks',
} as const;

export type RecordKey = (typeof RECORD_KEYS)[keyof typeof RECORD_KEYS];

/** What this node signed in one round, in order. */
export interface SignedMessages {
  height: number;
  round: number;
  messages: Extract<PeerMessage, { type: 'Proposal' | 'Vote' }>[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isRound = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= -1;
const isHashOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';
const STEPS: readonly SignedStep[] = ['none', 'proposal', 'prevote', 'precommit'];

/** A locked or valid block kept across a restart, with the polka (2f+1 prevotes) that made it so. */
export interface KeptBlock {
  block: Block;
  round: number;
  prevotes: Vote[];
}

export interface KeptBlocks {
  height: number;
  entries: KeptBlock[];
}

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

export function readPbftRecord(value: unknown): PbftRecord | null {
  if (value === undefined) return null;
  const corrupt = () => new Error(`${RECORD_KEYS.pbft} is corrupt`);
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

/** The signed messages as this node wrote them (its own disk: only the outline is checked). */
export function readSignedMessages(value: unknown): SignedMessages | null {
  if (value === undefined) return null;
  const corrupt = () => new Error(`${RECORD_KEYS.signed} is corrupt`);
  if (!isObject(value)) throw corrupt();
  const { height, round, messages } = value;
  if (!isCount(height) || !isCount(round) || !Array.isArray(messages)) throw corrupt();
  if (!messages.every((m) => isObject(m) && (m.type === 'Proposal' || m.type === 'Vote'))) throw corrupt();
  return { height, round, messages: messages as SignedMessages['messages'] };
}

/** The kept locked / valid blocks as this node wrote them (its own disk: only the outline is checked). */
export function readKeptBlocks(value: unknown): KeptBlocks | null {
  if (value === undefined) return null;
  const corrupt = () => new Error(`${RECORD_KEYS.blocks} is corrupt`);
  if (!isObject(value)) throw corrupt();
  const { height, entries } = value;
  if (!isCount(height) || !Array.isArray(entries)) throw corrupt();
  const ok = entries.every(
    (e) => isObject(e) && isObject(e.block) && isCount(e.round) && Array.isArray(e.prevotes),
  );
  if (!ok) throw corrupt();
  return { height, entries: entries as KeptBlock[] };
}
