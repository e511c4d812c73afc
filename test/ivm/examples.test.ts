import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchIcode } from '../../adapters/git/fetch-icode.ts';
import { LocalIcode } from '../../sdk/local-icode.ts';
import { exampleRepo, tempDir } from './fixtures.ts';

// The examples as a user gets them: copied out, made a git repository, deployed from git, run.
let work: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  work = await tempDir();
});
afterAll(() => work.cleanup());

async function deployExample(name: string): Promise<LocalIcode> {
  const repo = await exampleRepo(name, work.path);
  const fetched = await fetchIcode(`file://${repo.path}`, { tempRoot: work.path });
  return new LocalIcode(fetched.bundle, { icodeId: fetched.icodeId });
}

describe('examples/bank', () => {
  let bank: LocalIcode;
  beforeAll(async () => {
    bank = await deployExample('bank');
  });
  afterAll(() => bank.close());

  it('mint adds to a balance and balance reads it as a number', async () => {
    expect((await bank.invoke('mint', 'alice', 100)).result).toBe(100);
    expect((await bank.invoke('mint', 'alice', '25')).result).toBe(125);
    expect(await bank.query('balance', 'alice')).toMatchObject({ status: 'ok', result: 125 });
    expect((await bank.query('balance', 'nobody')).result).toBe(0);
  });

  it('transfer moves funds between accounts', async () => {
    const receipt = await bank.invoke('transfer', 'alice', 'bob', 40);
    expect(receipt).toMatchObject({ status: 'ok', result: { from: 'alice', to: 'bob', amount: 40 } });
    expect(receipt.writes).toEqual([
      { key: 'balance/alice', value: '85' },
      { key: 'balance/bob', value: '40' },
    ]);
    expect((await bank.query('balance', 'bob')).result).toBe(40);
  });

  it('transfer fails on insufficient funds: error receipt, no writes, balances unchanged', async () => {
    const receipt = await bank.invoke('transfer', 'bob', 'carol', 41);
    expect(receipt.status).toBe('error');
    expect(receipt.error).toEqual({
      code: 'icode-error',
      message: 'insufficient funds: bob has 40, needs 41',
    });
    expect(receipt.writes).toEqual([]);
    expect(receipt.gasUsed).toBeGreaterThan(0);
    expect((await bank.query('balance', 'bob')).result).toBe(40);
    expect((await bank.query('balance', 'carol')).result).toBe(0);
  });

  it('bad arguments fail the tx with the reason', async () => {
    expect((await bank.invoke('mint', 'alice', -5)).error?.message).toMatch(/bad amount/);
    expect((await bank.invoke('mint', 'alice', 1.5)).error?.message).toMatch(/bad amount/);
    expect((await bank.invoke('transfer', 'alice', 'alice', 1)).error?.message).toMatch(/same account/);
  });

  it('accounts lists every account with its balance, sorted', async () => {
    expect((await bank.query('accounts')).result).toEqual([
      { account: 'alice', balance: 85 },
      { account: 'bob', balance: 40 },
    ]);
  });

  it('an unknown function is no-such-function', async () => {
    expect((await bank.invoke('steal', 'alice')).error?.code).toBe('no-such-function');
  });
});

describe('examples/counter', () => {
  it('increment, get and reset', async () => {
    const counter = await deployExample('counter');
    try {
      expect((await counter.invoke('increment')).result).toBe(1);
      expect((await counter.invoke('increment', 5)).result).toBe(6);
      expect((await counter.invoke('increment', '2')).result).toBe(8);
      expect((await counter.query('get')).result).toBe(8);
      expect((await counter.invoke('increment', 0)).status).toBe('error');
      expect((await counter.invoke('reset')).result).toBe(0);
      expect((await counter.query('get')).result).toBe(0);
      expect(counter.state.size).toBe(0);
    } finally {
      await counter.close();
    }
  });
});
