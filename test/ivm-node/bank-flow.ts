import { expect } from 'vitest';
import { eventually, type TestNetwork, type TxView } from '../support/network.ts';
import { itchain, itchainOk } from './itchain-cli.ts';

// The bank example on a running 4-node network, driven with the `itchain` client exactly as a user
// would: deploy through node 0, mint and transfer through node 1, query every node. Shared by the
// QuickJS and the Docker runs (the same SDK must give the same results in both).

export interface IcodeListed {
  id: string;
  gitUrl?: string;
  commit?: string;
  builtin?: boolean;
}

const ALL = [0, 1, 2, 3];

/** Deploys the repository at `repo` through node `via` with `itchain icode deploy`; waits until every node lists it. */
export async function deployWithCli(net: TestNetwork, repo: string, via = 0): Promise<string> {
  const out = await itchainOk(['icode', 'deploy', repo, '--api', net.apiUrl(via), '--json']);
  const { id, txId } = JSON.parse(out) as { id: string; txId: string };
  const [view] = await net.waitCommitted(txId, ALL, 30_000);
  expect(view?.error).toBeUndefined();
  expect(view?.result).toEqual({ icodeId: id });
  await eventually(`iCode ${id.slice(0, 8)} listed on every node`, async () => {
    const lists = await Promise.all(ALL.map((i) => net.get<IcodeListed[]>(i, '/icodes')));
    return lists.every((l) => l.body.some((icode) => icode.id === id)) ? true : undefined;
  });
  return id;
}

/** `itchain icode invoke … --wait --json` through node `via`: the committed tx view. */
export async function invokeWithCli(
  net: TestNetwork,
  via: number,
  id: string,
  fn: string,
  args: string[],
): Promise<TxView> {
  const out = await itchainOk([
    'icode',
    'invoke',
    id,
    fn,
    ...args,
    '--api',
    net.apiUrl(via),
    '--wait',
    '--json',
  ]);
  return JSON.parse(out) as TxView;
}

/** `itchain icode query <id> <fn> <args>` on every node: what each prints. */
export async function queryAll(net: TestNetwork, id: string, fn: string, args: string[]): Promise<string[]> {
  return Promise.all(
    ALL.map(async (i) =>
      (await itchainOk(['icode', 'query', id, fn, ...args, '--api', net.apiUrl(i)])).trim(),
    ),
  );
}

/**
 * Mint 100 to alice and transfer 30 to bob through node 1; every node answers the same balances.
 * A transfer beyond bob's funds commits with an error receipt, and the chain goes on.
 */
export async function bankFlow(net: TestNetwork, id: string): Promise<void> {
  const minted = await invokeWithCli(net, 1, id, 'mint', ['alice', '100']);
  expect(minted).toMatchObject({ status: 'committed', result: 100 });
  const moved = await invokeWithCli(net, 1, id, 'transfer', ['alice', 'bob', '30']);
  expect(moved).toMatchObject({ status: 'committed', result: { from: 'alice', to: 'bob', amount: 30 } });
  await net.waitCommitted(moved.id, ALL);
  expect(await queryAll(net, id, 'balance', ['alice'])).toEqual(['70', '70', '70', '70']);
  expect(await queryAll(net, id, 'balance', ['bob'])).toEqual(['30', '30', '30', '30']);

  // Too little money: the tx commits, its receipt says why, nothing changes, and the next tx commits.
  const submitted = await itchain(
    ['icode', 'invoke', id, 'transfer', 'bob', 'alice', '1000'].concat(['--api', net.apiUrl(1), '--json']),
  );
  expect(submitted.code).toBe(0);
  const { id: failedTx } = JSON.parse(submitted.stdout) as { id: string };
  const views = await net.waitCommitted(failedTx, ALL);
  for (const view of views) {
    expect(view).toMatchObject({
      status: 'committed',
      error: { code: 'icode-error', message: expect.stringContaining('insufficient funds') },
    });
  }
  expect(new Set(views.map((v) => v.height)).size).toBe(1);
  const next = await invokeWithCli(net, 2, id, 'transfer', ['alice', 'bob', '5']);
  expect(next.status).toBe('committed');
  expect(next.height).toBeGreaterThanOrEqual(views[0]!.height ?? 0);
  await net.waitCommitted(next.id, ALL);
  expect(await queryAll(net, id, 'balance', ['bob'])).toEqual(['35', '35', '35', '35']);
  expect(await queryAll(net, id, 'accounts', [])).toEqual(
    Array(4).fill('[{"account":"alice","balance":65},{"account":"bob","balance":35}]'),
  );
}
