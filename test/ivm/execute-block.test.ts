import { afterAll, describe, expect, it } from 'vitest';
import { executeBlock } from '../../adapters/icode/execute-block.ts';
import { MemoryState } from '../../adapters/icode/memory-state.ts';
import { QuickJsRuntime } from '../../adapters/icode/quickjs/quickjs-runtime.ts';
import { buildBlock } from '../../domain/block.ts';
import type { Canonical } from '../../domain/canonical.ts';
import { type IcodeBundle, type IcodeDeployment, icodeIdOf } from '../../domain/icode.ts';
import { deploymentArgs } from '../../domain/icode-deployment.ts';
import type { Transaction, TxKind } from '../../domain/transaction.ts';
import { bundleOf } from './fixtures.ts';

const runtime = new QuickJsRuntime();
afterAll(() => runtime.close());

let n = 0;
function tx(kind: TxKind, icodeId: string, fn: string, args: Canonical[]): Transaction {
  n++;
  return {
    kind,
    icodeId,
    function: fn,
    args,
    timestamp: 1_700_000_000_000 + n,
    signer: 'ef'.repeat(20),
    nonce: String(n),
    id: n.toString(16).padStart(64, '0'),
    signature: 'A'.repeat(86) + '==',
  };
}

const counter: IcodeDeployment = {
  gitUrl: '/srv/icodes/counter',
  commit: 'c'.repeat(40),
  bundle: bundleOf(
    'export function inc(ctx) { const v = (ctx.get("n") ?? 0) + 1; ctx.put("n", v); return v; }',
  ),
};
const counterId = icodeIdOf(counter.gitUrl, counter.commit);

function block(txs: Transaction[]) {
  return buildBlock({
    height: 1,
    prevSeal: '0'.repeat(64),
    stateRoot: '1'.repeat(64),
    timestamp: 1,
    creator: 'ef'.repeat(20),
    txs,
  });
}

describe('executing a committed block', () => {
  it('deploys, invokes in block order, keeps failed receipts, and covers it all in the state root', async () => {
    const committed = new Map<string, MemoryState>();
    const view = (id: string) => committed.get(id) ?? new MemoryState();
    const txs = [
      tx('invoke', counterId, 'inc', []), // before its deploy: not-deployed
      tx('deploy', counterId, 'deploy', deploymentArgs(counter)),
      tx('invoke', counterId, 'inc', []),
      tx('invoke', counterId, 'inc', []),
      tx('invoke', counterId, 'nope', []),
      tx('invoke', 'kv', 'put', ['k', 'v']),
      tx('membership', 'membership', 'join', []),
      tx(
        'deploy',
        counterId,
        'deploy',
        deploymentArgs({ ...counter, bundle: bundleOf('export const inc = () => 666;') }),
      ),
      tx('invoke', counterId, 'inc', []),
    ];
    const executed = await executeBlock(block(txs), { runtime, committed: view, deployed: () => undefined });
    expect(executed.receipts.map((r) => r.error?.code ?? r.result)).toEqual([
      'not-deployed',
      { icodeId: counterId },
      1,
      2,
      'no-such-function',
      null,
      'already-deployed',
      3,
    ]);
    expect(executed.deployed.get(counterId)).toEqual(counter);
    expect(executed.writes).toEqual(
      expect.arrayContaining([
        { icodeId: counterId, key: 'n', value: '3' },
        { icodeId: 'kv', key: 'k', value: '"v"' },
      ]),
    );
    expect(executed.stateRoot).not.toBe('1'.repeat(64));
    const again = await executeBlock(block(txs), { runtime, committed: view, deployed: () => undefined });
    expect(again.stateRoot).toBe(executed.stateRoot);
  });

  it('refuses a deploy whose icodeId is not hash(URL, commit) or whose code does not compile', async () => {
    const broken: IcodeDeployment = {
      ...counter,
      commit: 'd'.repeat(40),
      bundle: bundleOf('export function ('),
    };
    const executed = await executeBlock(
      block([
        tx('deploy', 'e'.repeat(64), 'deploy', deploymentArgs(counter)),
        tx('deploy', icodeIdOf(broken.gitUrl, broken.commit), 'deploy', deploymentArgs(broken)),
        tx('deploy', counterId, 'deploy', [{ gitUrl: 'x' }]),
      ]),
      { runtime, committed: () => new MemoryState(), deployed: () => undefined },
    );
    expect(executed.receipts.map((r) => r.error?.code)).toEqual(['bad-code', 'bad-code', 'bad-code']);
    expect(executed.deployed.size).toBe(0);
  });

  it('undeploy removes a deployed iCode for the rest of the block; built-ins stay', async () => {
    const installed = new Map<string, IcodeBundle>([[counterId, counter.bundle]]);
    const executed = await executeBlock(
      block([
        tx('invoke', counterId, 'inc', []),
        tx('undeploy', counterId, 'undeploy', []),
        tx('invoke', counterId, 'inc', []),
        tx('undeploy', 'kv', 'undeploy', []),
      ]),
      { runtime, committed: () => new MemoryState(), deployed: (id) => installed.get(id) },
    );
    expect(executed.receipts.map((r) => r.error?.code ?? 'ok')).toEqual([
      'ok',
      'ok',
      'not-deployed',
      'not-deployed',
    ]);
    expect(executed.undeployed).toEqual([counterId]);
  });
});
