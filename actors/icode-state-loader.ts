import { MemoryState } from '../adapters/icode/memory-state.ts';
import type { ChainStore } from '../adapters/store/chain-store.ts';
import { SPACES } from '../adapters/store/layout.ts';
import { canonicalJson } from '../domain/canonical.ts';
import { ValidationError } from '../domain/errors.ts';
import { type CanonicalJson, type IcodeDeployment, icodeIdOf } from '../domain/icode.ts';
import { DEFAULT_MAX_BUNDLE_BYTES, readDeployment } from '../domain/icode-deployment.ts';
import { DEPLOYMENTS_ICODE_ID } from './icode-executor.ts';

// What the IVM executor needs in memory at start, read once from the store's state space: the
// committed state of every iCode (values kept as the canonical JSON text they are stored as) and the
// installed iCodes (the `itchain.icodes` records, each checked with the same rules as a deploy tx).
// Other reserved IDs (`itchain.*`: the ledger's state root record) are not iCode state.

export interface LoadedIcodeState {
  state: Map<string, MemoryState>;
  deployments: Map<string, IcodeDeployment>;
}

const RESERVED = 'itchain.';
const utf8 = new TextDecoder('utf-8', { fatal: true });

export async function loadIcodeState(
  store: ChainStore,
  maxBundleBytes = DEFAULT_MAX_BUNDLE_BYTES,
): Promise<LoadedIcodeState> {
  const entries = new Map<string, [string, CanonicalJson][]>();
  const deployments = new Map<string, IcodeDeployment>();
  for await (const [fullKey, bytes] of store.records(SPACES.state)) {
    const slash = fullKey.indexOf('/');
    const icodeId = fullKey.slice(0, slash);
    const key = fullKey.slice(slash + 1);
    const value = canonicalText(bytes, fullKey);
    if (icodeId === DEPLOYMENTS_ICODE_ID) {
      deployments.set(key, deploymentOf(value, key, maxBundleBytes));
      continue;
    }
    if (icodeId.startsWith(RESERVED)) continue;
    const list = entries.get(icodeId) ?? [];
    if (list.length === 0) entries.set(icodeId, list);
    list.push([key, value]);
  }
  const state = new Map<string, MemoryState>();
  for (const [icodeId, list] of entries) state.set(icodeId, new MemoryState(list));
  return { state, deployments };
}

function canonicalText(bytes: Uint8Array, key: string): CanonicalJson {
  const text = utf8.decode(bytes);
  if (canonicalJson(JSON.parse(text)) !== text) {
    throw new Error(`the state record ${key} is not canonical JSON`);
  }
  return text;
}

function deploymentOf(value: CanonicalJson, icodeId: string, maxBundleBytes: number): IcodeDeployment {
  try {
    const deployment = readDeployment([JSON.parse(value)], maxBundleBytes);
    if (icodeIdOf(deployment.gitUrl, deployment.commit) !== icodeId) {
      throw new Error(`the stored deployment under ${icodeId} is of another iCode`);
    }
    return deployment;
  } catch (error) {
    if (error instanceof ValidationError) {
      throw new Error(`the stored deployment of iCode ${icodeId} is invalid: ${error.message}`);
    }
    throw error;
  }
}
