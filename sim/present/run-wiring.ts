import { existsSync } from 'node:fs';
import type { Wiring } from '../replica.ts';
import { loadWiring } from '../run-seeds.ts';
import { VARIANT_NAMES, type VariantName, variantWiring } from '../variants.ts';
import { watchedItchainWiring } from './machine-watch.ts';

// The protocol a shown run simulates: by default the real replica (sim/wiring.ts) with its machines
// watched, so the run shows every state change; one of the buggy variants (sim/variants.ts: a fix
// over the 2018 original undone), watched the same way; or any wiring module, as `npm run sim
// --wiring` takes (the toy protocol: test/sim/support/toy-replica.ts), shown with what it logs.

export interface RunWiringChoice {
  /** A buggy variant of the real replica. */
  variant?: string;
  /** A module exporting `wiring`. */
  module?: string;
}

function isVariant(name: string): name is VariantName {
  return (VARIANT_NAMES as readonly string[]).includes(name);
}

export async function loadRunWiring(choice: RunWiringChoice = {}): Promise<Wiring<object>> {
  if (choice.variant !== undefined && choice.module !== undefined) {
    throw new Error('--variant and --wiring do not combine: a variant is the real replica with one bug');
  }
  if (choice.variant !== undefined) {
    const name = choice.variant;
    if (!isVariant(name)) {
      throw new Error(`no variant named "${name}"; known: ${VARIANT_NAMES.join(', ')}`);
    }
    return watchedItchainWiring((options) => variantWiring(name, options));
  }
  if (choice.module === undefined) return watchedItchainWiring();
  if (!existsSync(choice.module)) throw new Error(`--wiring ${choice.module}: no such file`);
  return loadWiring(choice.module);
}
