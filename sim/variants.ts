import { assign } from 'xstate';
import type { PeerMessage } from '../actors/replica/messages.ts';
import type { ReplicaMachines } from '../actors/replica/replica.ts';
import { electionMachine } from '../machines/election.ts';
import { currentProposal, pbftRoundMachine } from '../machines/pbft-round.ts';
import { countFor } from '../machines/quorum.ts';
import type { Wiring } from './replica.ts';
import { type ItchainWiringOptions, itchainWiring } from './wiring.ts';

// Deliberately broken protocols, to show that the simulator's checker bites: each undoes one of the
// fixes over the 2018 original (SPEC §9) through the machines' own hooks — machine.provide for a
// guard, the PBFT round's documented `quorum` input — never a global switch. The tests in
// test/sim/checks-bite.test.ts assert that fast-check finds each one and shrinks it to a short trace.

export const VARIANT_NAMES = ['original-quorum', 'no-locking', 'no-election-quorum'] as const;
export type VariantName = (typeof VARIANT_NAMES)[number];

export interface BuggyVariant {
  name: VariantName;
  description: string;
  machines: ReplicaMachines;
}

export const BUGGY_VARIANTS: Readonly<Record<VariantName, BuggyVariant>> = {
  'original-quorum': {
    name: 'original-quorum',
    description: 'PBFT decides with ⌊n/3⌋+1 matching votes, as the original did, instead of 2f+1',
    machines: { pbftQuorum: (n) => Math.floor(n / 3) + 1 },
  },
  'no-locking': {
    name: 'no-locking',
    description:
      'a node that PreCommits a block is not locked on it: in a later round it prevotes any valid ' +
      "proposal (it still remembers the block as its valid block, Tendermint's liveness rule)",
    machines: {
      pbft: pbftRoundMachine.provide({
        actions: {
          lockOnBlock: assign(({ context }) => {
            const block = currentProposal(context)?.block ?? null;
            return { validRound: context.round, validBlockHash: block?.seal ?? null, validBlock: block };
          }),
        },
        guards: { lockAllowsProposal: () => true },
      }),
    },
  },
  'no-election-quorum': {
    name: 'no-election-quorum',
    description: 'a candidate wins its election with a single vote (its own) instead of 2f+1',
    machines: {
      election: electionMachine.provide({
        guards: { hasQuorumOfVotes: ({ context }) => countFor(context.votes, context.self) >= 1 },
      }),
    },
  },
};

/** The real replica with one bug put back. */
export function variantWiring(
  name: VariantName,
  options: Omit<ItchainWiringOptions, 'machines' | 'name'> = {},
): Wiring<PeerMessage> {
  return itchainWiring({ ...options, name: `itchain(${name})`, machines: BUGGY_VARIANTS[name].machines });
}
