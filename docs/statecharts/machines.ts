// The machines that get a page in docs/statecharts, in the order the index lists them. Add a machine
// here and write its walk-through in prose/<name>.md; `npm run diagrams` does the rest.

import { batchingMachine } from '../../machines/batching.ts';
import { electionMachine } from '../../machines/election.ts';
import { pbftRoundMachine } from '../../machines/pbft-round.ts';
import { syncMachine } from '../../machines/sync.ts';
import type { DocumentedMachine } from './render.ts';

export const documentedMachines: readonly DocumentedMachine[] = [
  { name: 'election', title: 'Leader election', source: 'machines/election.ts', machine: electionMachine },
  { name: 'pbft-round', title: 'PBFT round', source: 'machines/pbft-round.ts', machine: pbftRoundMachine },
  { name: 'sync', title: 'Sync with block pool', source: 'machines/sync.ts', machine: syncMachine },
  { name: 'batching', title: 'Tx batching', source: 'machines/batching.ts', machine: batchingMachine },
];
