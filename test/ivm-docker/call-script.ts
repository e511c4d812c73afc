// Runs a fixed sequence of calls against one runtime the way a node does (each block over committed
// state with its earlier invokes' writes on top, writes committed at the block's end), so two
// runtimes can be compared step by step.

import { BlockState } from '../../adapters/icode/block-state.ts';
import { MemoryState } from '../../adapters/icode/memory-state.ts';
import type { IcodeRuntime, StateEntry } from '../../adapters/icode/runtime.ts';
import type { Canonical } from '../../domain/canonical.ts';
import type { IcodeBundle, TxContext } from '../../domain/icode.ts';

export type Call = [fn: string, ...args: Canonical[]];

export type Step = { invoke: Call } | { query: Call } | { block: Call[] };

/** A receipt without gas, which the runtimes count differently (adapters/icode/docker/gas.ts). */
export interface Seen {
  step: string;
  status: 'ok' | 'error';
  result?: Canonical;
  error?: { code: string; message: string };
  writes?: { key: string; value: string | null }[];
}

export interface ScriptRun {
  seen: Seen[];
  gas: number[];
  state: StateEntry[];
}

function seen(step: string, r: { status: 'ok' | 'error'; result?: Canonical; error?: Seen['error'] }): Seen {
  const out: Seen = { step, status: r.status };
  if (r.result !== undefined) out.result = r.result;
  if (r.error !== undefined) out.error = r.error;
  return out;
}

/** The n-th tx of a script: the same in every run, so results that show ctx.tx compare equal. */
function txOf(n: number): TxContext {
  return {
    id: n.toString(16).padStart(64, '0'),
    signer: 'ab'.repeat(20),
    timestamp: 1_767_225_600_000 + n * 1000,
  };
}

export async function runScript(
  runtime: IcodeRuntime,
  icodeId: string,
  bundle: IcodeBundle,
  steps: readonly Step[],
): Promise<ScriptRun> {
  const committed = new MemoryState();
  const out: ScriptRun = { seen: [], gas: [], state: [] };
  let txs = 0;
  const runBlock = async (calls: readonly Call[]) => {
    const blockState = new BlockState(() => committed);
    const block = runtime.beginBlock();
    try {
      for (const [fn, ...args] of calls) {
        const r = await block.invoke({
          icodeId,
          bundle,
          fn,
          args,
          state: blockState.view(icodeId),
          tx: txOf(++txs),
        });
        if (r.status === 'ok') blockState.apply(icodeId, r.writes);
        out.seen.push({ ...seen(`invoke ${fn}`, r), writes: r.writes });
        out.gas.push(r.gasUsed);
      }
    } finally {
      await block.end();
    }
    committed.apply(blockState.writes());
  };
  for (const step of steps) {
    if ('invoke' in step) await runBlock([step.invoke]);
    else if ('block' in step) await runBlock(step.block);
    else {
      const [fn, ...args] = step.query;
      const r = await runtime.query({ icodeId, bundle, fn, args, state: committed });
      out.seen.push(seen(`query ${fn}`, r));
      out.gas.push(r.gasUsed);
    }
  }
  out.state = committed.entries();
  return out;
}
