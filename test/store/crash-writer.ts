// Child process of crash.test.ts: opens the store in argv[2] with the fixture in argv[3] and appends
// signed, certified blocks (with receipts and a state write) until it is killed. After every append
// it prints `appended <height>`, so the parent knows which appends were acknowledged.
import { readFileSync } from 'node:fs';
import { chainFixtureFromSecrets, type FixtureSecrets } from '../support/chain-fixture.ts';
import { openFixtureStore } from './store-helpers.ts';

const [dir, secretsPath] = process.argv.slice(2);
if (!dir || !secretsPath) throw new Error('usage: crash-writer.ts <store dir> <fixture secrets json>');

const fixture = chainFixtureFromSecrets(JSON.parse(readFileSync(secretsPath, 'utf8')) as FixtureSecrets);
const store = await openFixtureStore(dir, fixture);
let last = store.lastBlock()!;
process.stdout.write(`ready ${last.height}\n`);

for (;;) {
  const block = fixture.nextBlock(last, fixture.txs(5), { creator: last.height % 4 });
  const cert = fixture.certify(block, { signers: [0, 1, 2] });
  await store.append(block, cert, {
    receipts: Object.fromEntries(block.txs.map((tx) => [tx.id, { height: block.height }])),
    stateWrites: [{ icodeId: 'kv', key: 'height', value: block.height }],
  });
  last = block;
  process.stdout.write(`appended ${block.height}\n`);
}
