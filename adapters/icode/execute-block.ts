// What the node's IVM component does with a committed block: run its txs in order and hand back
// everything that must go into the block's atomic batch (receipts, state writes, deploy and undeploy
// changes) and the state root for the next header. Deterministic given the block, the committed
// state and the installed iCodes, so every node computes the same.
//
//   invoke   → the function runs against committed state + the block's earlier writes; its receipt
//              (ok with result, or error) is kept either way; its writes only when ok.
//   deploy   → args[0] is {gitUrl, commit, bundle}; the tx's icodeId must be icodeIdOf(gitUrl, commit)
//              and the bundle must compile; then the iCode is installed (also for later txs of the
//              same block). Receipt result: {icodeId}. An ID that is installed already keeps its code
//              (already-deployed): the first deploy of an ID wins.
//   undeploy → the iCode is removed (its state stays in the store, unreachable); built-ins stay.
//   membership txs are not the IVM's: they get no receipt here.

import type { Block } from '../../domain/block.ts';
import { ValidationError } from '../../domain/errors.ts';
import {
  type IcodeBundle,
  type IcodeDeployment,
  icodeIdOf,
  type Receipt,
  type ReceiptError,
} from '../../domain/icode.ts';
import { DEFAULT_MAX_BUNDLE_BYTES, readDeployment } from '../../domain/icode-deployment.ts';
import { type BlockWrite, nextStateRoot } from '../../domain/icode-state-root.ts';
import type { Transaction } from '../../domain/transaction.ts';
import { BlockState } from './block-state.ts';
import { builtinBundle, isBuiltinIcode } from './builtin.ts';
import { CompileError, compileBundle } from './compile.ts';
import type { IcodeRuntime, StateView } from './runtime.ts';

export interface BlockInputs {
  runtime: IcodeRuntime;
  /** Committed state of an iCode before the block (synchronous: see StateView). */
  committed: (icodeId: string) => StateView;
  /** The bundle of a deployed iCode, or undefined (built-ins are found without it). */
  deployed: (icodeId: string) => IcodeBundle | undefined;
  maxBundleBytes?: number;
}

export interface ExecutedBlock {
  /** One per invoke, deploy and undeploy tx, in block order: `receipt/<txId>`. */
  receipts: Receipt[];
  /** Each changed key's final value (null = delete): `state/<icodeId>/<key>`. */
  writes: BlockWrite[];
  /** iCodes installed by the block, by ID. */
  deployed: Map<string, IcodeDeployment>;
  /** iCodes removed by the block. */
  undeployed: string[];
  /** The state root after this block, for the header of the next one. */
  stateRoot: string;
}

function failure(tx: Transaction, error: ReceiptError): Receipt {
  return { txId: tx.id, status: 'error', error, gasUsed: 0 };
}

export async function executeBlock(block: Block, inputs: BlockInputs): Promise<ExecutedBlock> {
  const state = new BlockState(inputs.committed);
  const deployed = new Map<string, IcodeDeployment>();
  const undeployed = new Set<string>();
  const receipts: Receipt[] = [];

  const bundleOf = async (icodeId: string): Promise<IcodeBundle | undefined> => {
    if (undeployed.has(icodeId)) return undefined;
    return deployed.get(icodeId)?.bundle ?? inputs.deployed(icodeId) ?? (await builtinBundle(icodeId));
  };

  const execution = inputs.runtime.beginBlock();
  try {
    for (const tx of block.txs) {
      if (tx.kind === 'membership') continue;
      if (tx.kind === 'deploy') {
        if ((await bundleOf(tx.icodeId)) !== undefined) {
          // The ID stands for one bundle forever: a second deploy cannot swap the code under it.
          const message = `iCode ${tx.icodeId} is deployed already`;
          receipts.push(failure(tx, { code: 'already-deployed', message }));
          continue;
        }
        receipts.push(
          await deploy(tx, inputs.maxBundleBytes ?? DEFAULT_MAX_BUNDLE_BYTES, deployed, undeployed),
        );
        continue;
      }
      if (tx.kind === 'undeploy') {
        if (isBuiltinIcode(tx.icodeId) || (await bundleOf(tx.icodeId)) === undefined) {
          const why = isBuiltinIcode(tx.icodeId) ? 'is built in and cannot be removed' : 'is not deployed';
          receipts.push(failure(tx, { code: 'not-deployed', message: `iCode ${tx.icodeId} ${why}` }));
          continue;
        }
        deployed.delete(tx.icodeId);
        undeployed.add(tx.icodeId);
        await inputs.runtime.forget(tx.icodeId);
        receipts.push({ txId: tx.id, status: 'ok', result: { icodeId: tx.icodeId }, gasUsed: 0 });
        continue;
      }
      const bundle = await bundleOf(tx.icodeId);
      if (!bundle) {
        receipts.push(failure(tx, { code: 'not-deployed', message: `no iCode ${tx.icodeId} is deployed` }));
        continue;
      }
      const result = await execution.invoke({
        icodeId: tx.icodeId,
        bundle,
        fn: tx.function,
        args: tx.args,
        tx: { id: tx.id, signer: tx.signer, timestamp: tx.timestamp },
        state: state.view(tx.icodeId),
      });
      if (result.status === 'ok') state.apply(tx.icodeId, result.writes);
      const { writes: _writes, ...outcome } = result;
      receipts.push({ txId: tx.id, ...outcome });
    }
  } finally {
    await execution.end();
  }
  const writes = state.writes();
  return {
    receipts,
    writes,
    deployed,
    undeployed: [...undeployed],
    stateRoot: nextStateRoot(block.stateRoot, { writes, receipts }),
  };
}

async function deploy(
  tx: Transaction,
  maxBundleBytes: number,
  deployed: Map<string, IcodeDeployment>,
  undeployed: Set<string>,
): Promise<Receipt> {
  let deployment: IcodeDeployment;
  try {
    deployment = readDeployment(tx.args, maxBundleBytes);
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    return failure(tx, { code: 'bad-code', message: e.message });
  }
  const id = icodeIdOf(deployment.gitUrl, deployment.commit);
  if (tx.icodeId !== id) {
    return failure(tx, {
      code: 'bad-code',
      message: `the iCode ID of this URL and commit is ${id}, not ${tx.icodeId}`,
    });
  }
  try {
    await compileBundle(deployment.bundle);
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    return failure(tx, { code: 'bad-code', message: e.message });
  }
  deployed.set(id, deployment);
  undeployed.delete(id);
  return { txId: tx.id, status: 'ok', result: { icodeId: id }, gasUsed: 0 };
}
