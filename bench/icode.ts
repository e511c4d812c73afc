import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BlockState } from '../adapters/icode/block-state.ts';
import { MemoryState } from '../adapters/icode/memory-state.ts';
import { QuickJsRuntime } from '../adapters/icode/quickjs/quickjs-runtime.ts';
import type { IcodeBundle } from '../domain/icode.ts';
import { EXAMPLES, txContext } from '../test/ivm/fixtures.ts';

// `npm run bench:icode`: bank transfers per second through the QuickJS runtime on one node
// (examples/bank, blocks of 500 txs, each tx reading and writing two balances), after a warm-up block
// (compiling the bundle and the WASM module). Prints CPU-time and wall-clock rates and writes
// bench/results/icode.json. The design target is 2,000 committed transfers/s on four nodes.
const runtime = new QuickJsRuntime();

async function bankBundle(): Promise<IcodeBundle> {
  const files = await Promise.all(
    ['accounts.js', 'icode.json', 'index.js'].map(async (path) => ({
      path,
      content: await readFile(join(EXAMPLES, 'bank', path), 'utf8'),
    })),
  );
  return { entry: 'index.js', files };
}

{
  {
    const bundle = await bankBundle();
    const committed = new MemoryState([
      ['balance/alice', '1000000000'],
      ['balance/bob', '0'],
    ]);
    const tx = txContext();
    const blocks = 4;
    const perBlock = 500;
    let started = performance.now();
    let cpu = process.cpuUsage();
    for (let b = -1; b < blocks; b++) {
      if (b === 0) {
        started = performance.now();
        cpu = process.cpuUsage();
      }
      const blockState = new BlockState(() => committed);
      const block = runtime.beginBlock();
      for (let i = 0; i < perBlock; i++) {
        const r = await block.invoke({
          icodeId: 'bank',
          bundle,
          fn: 'transfer',
          args: ['alice', 'bob', 1],
          tx,
          state: blockState.view('bank'),
        });
        if (r.status !== 'ok') throw new Error(JSON.stringify(r));
        blockState.apply('bank', r.writes);
      }
      await block.end();
      committed.apply(blockState.writes());
    }
    const used = process.cpuUsage(cpu);
    const perCpuSecond = Math.round((blocks * perBlock) / ((used.user + used.system) / 1e6));
    const perSecond = Math.round((blocks * perBlock) / ((performance.now() - started) / 1000));
    console.log(
      `QuickJS, one node: ${perCpuSecond} bank transfers per CPU-second (${perSecond}/s wall clock)`,
    );
    if (committed.get('balance/bob') !== String((blocks + 1) * perBlock))
      throw new Error('wrong final balance');
    await mkdir('bench/results', { recursive: true });
    const result = {
      runtime: 'quickjs',
      nodes: 1,
      transfersPerCpuSecond: perCpuSecond,
      transfersPerSecond: perSecond,
    };
    await writeFile('bench/results/icode.json', `${JSON.stringify(result, null, 2)}\n`);
    console.table([result]);
  }
}
await runtime.close();
