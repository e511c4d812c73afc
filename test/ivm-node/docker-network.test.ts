import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleRepo, tempDir } from '../ivm/fixtures.ts';
import { dockerEngine, ENGINE_TIMEOUT_MS } from '../ivm-docker/engine.ts';
import { dumpLogsOnFailure, TestNetwork } from '../support/network.ts';
import { bankFlow, deployWithCli } from './bank-flow.ts';
import { IVM_NODE_PORTS } from './ports.ts';

// The bank flow of icode-network.test.ts on a 4-node network whose nodes run iCodes in Docker
// (ivm.runtime: docker): a real engine (scripts/docker-engine.sh; CI starts it and builds the image
// before the tests), one container per iCode per node. No engine is a failure, never a skip.

let net: TestNetwork | undefined;
let work: Awaited<ReturnType<typeof tempDir>>;
let containers: () => Promise<number>;

beforeAll(async () => {
  const { docker, socketPath } = await dockerEngine();
  containers = async () =>
    (await docker.listContainers({ filters: { label: ['org.itchain.icode-runtime'] } })).length;
  work = await tempDir('itchain-ivm-docker-node-');
  net = await TestNetwork.create({
    basePort: IVM_NODE_PORTS.docker,
    env: { ITCHAIN_IVM_RUNTIME: 'docker', ITCHAIN_DOCKER_SOCKET: socketPath },
  });
  await net.startAll();
}, ENGINE_TIMEOUT_MS);

afterAll(async () => {
  // Stopped cleanly, so each node removes its containers.
  if (net) await Promise.all(net.running().map((i) => net?.stop(i)));
  await net?.dispose();
  await work?.cleanup();
});

describe('iCodes on a 4-node network (Docker runtime)', () => {
  it('the bank gives the same results as in QuickJS: deploy via node 0, invoke via node 1, query all four', async () => {
    dumpLogsOnFailure(() => net);
    if (!net) throw new Error('the network did not start');
    const bank = await exampleRepo('bank', work.path);
    const id = await deployWithCli(net, bank.path, 0);
    await bankFlow(net, id);
    // Each node runs the bank (and kv, if used) in a container of its own.
    expect(await containers()).toBeGreaterThanOrEqual(4);
  }, 180_000);
});
