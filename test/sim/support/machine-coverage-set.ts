// Coverage of the four protocol machines across simulation runs: one MachineCoverage per machine
// (test/support/machine-coverage.ts), hooked into every replica through the wiring's `inspect` option.

import type { ReplicaInspection } from '../../../actors/replica/replica.ts';
import { batchingMachine } from '../../../machines/batching.ts';
import { electionMachine } from '../../../machines/election.ts';
import { pbftRoundMachine } from '../../../machines/pbft-round.ts';
import { syncMachine } from '../../../machines/sync.ts';
import { MachineCoverage } from '../../support/machine-coverage.ts';

export class ReplicaCoverage {
  readonly election = new MachineCoverage(electionMachine);
  readonly pbft = new MachineCoverage(pbftRoundMachine);
  readonly batching = new MachineCoverage(batchingMachine);
  readonly sync = new MachineCoverage(syncMachine);

  get inspect(): ReplicaInspection {
    return {
      election: this.election.inspect,
      pbft: this.pbft.inspect,
      batching: this.batching.inspect,
      sync: this.sync.inspect,
    };
  }

  get all(): MachineCoverage[] {
    return [this.election, this.pbft, this.batching, this.sync];
  }

  /** One block of text: per machine the figures, then every state and transition not reached. */
  describe(): string {
    return this.all.map((c) => c.describe()).join('\n');
  }

  missingStates(): string[] {
    return this.all.flatMap((c) => c.report().states.missing.map((id) => `${c.outline.id}: ${id}`));
  }
}
