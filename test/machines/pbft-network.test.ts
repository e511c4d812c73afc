// Four real PBFT machines (and, once, the election machines) on a synchronous in-process loopback
// network, signed with real Ed25519 keys: a block commits and its certificate verifies. The
// adversarial simulator is elsewhere (sim/); this is the smallest end-to-end check of the round.
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyCommitCertificate } from '../../domain/commit-certificate.ts';
import { generateIdentity, type Identity, KeyRing } from '../../domain/identity.ts';
import type { PbftEffect } from '../../machines/pbft-round.ts';
import { ElectionCluster } from './election-harness.ts';
import { LoopbackNetwork, NETWORK } from './pbft-harness.ts';

let ids: Identity[];
let keys: KeyRing;

beforeAll(() => {
  ids = [0, 1, 2, 3].map(() => generateIdentity());
  keys = new KeyRing();
  for (const id of ids) keys.add(id.publicKey);
});

const validators = () => ids.map((i) => i.nodeId);

function expectAgreementAt(net: LoopbackNetwork, height: number): string {
  const hashes = new Set<string>();
  for (const node of net.nodes) {
    const commit = node.commits.find((c) => c.height === height);
    expect(commit, `${node.identity.nodeId} committed height ${height}`).toBeDefined();
    hashes.add(commit!.blockHash);
    verifyCommitCertificate(
      commit!.certificate,
      { height, blockHash: commit!.blockHash, networkId: NETWORK },
      validators(),
      keys,
    );
  }
  expect(hashes.size).toBe(1);
  return [...hashes][0]!;
}

/** Every message a node sends is preceded by the persist of the record that covers it. */
function expectPersistBeforeSend(effects: readonly PbftEffect[]): void {
  effects.forEach((effect, i) => {
    if (effect.type !== 'pbft.broadcastVote' && effect.type !== 'pbft.broadcastProposal') return;
    const before = effects[i - 1];
    expect(before?.type).toBe('pbft.persist');
    if (before?.type !== 'pbft.persist') return;
    const signedRound = effect.type === 'pbft.broadcastVote' ? effect.vote.round : effect.proposal.round;
    const step = effect.type === 'pbft.broadcastVote' ? effect.vote.type : 'proposal';
    expect(before.record).toMatchObject({ round: signedRound, lastSigned: step });
  });
}

describe('pbft: four nodes on a loopback network', () => {
  it('with no transactions the network stays quiet: no timers, no messages', () => {
    const net = new LoopbackNetwork(ids, { leader: ids[0]!.nodeId });
    expect(net.run()).toBe(0);
    for (const node of net.nodes) expect(node.effects).toEqual([]);
  });

  it('four nodes commit one block through Propose, PreVote and PreCommit', () => {
    const leader = ids[0]!.nodeId;
    const net = new LoopbackNetwork(ids, { leader });
    net.nodes[0]!.actor.send({ type: 'TXS_WAITING' }); // only the leader's host knows of work
    net.run();
    const hash = expectAgreementAt(net, 1);
    for (const node of net.nodes) {
      const commit = node.commits[0]!;
      expect(commit.block?.seal).toBe(hash);
      expect(commit.block?.creator).toBe(leader);
      expect(node.actor.getSnapshot().value).toBe('idle'); // back to idle at height 2: no work
      expect(node.actor.getSnapshot().context.height).toBe(2);
    }
  });

  it('persist is emitted before send, on every node', () => {
    const net = new LoopbackNetwork(ids, { leader: ids[0]!.nodeId });
    net.tell({ type: 'TXS_WAITING' });
    net.run();
    for (const node of net.nodes) expectPersistBeforeSend(node.effects);
  });

  it('commits five heights in a row, a different block each', () => {
    const net = new LoopbackNetwork(ids, { leader: ids[1]!.nodeId });
    for (let height = 1; height <= 5; height++) {
      net.tell({ type: 'TXS_WAITING' });
      net.run();
    }
    const hashes = [1, 2, 3, 4, 5].map((height) => expectAgreementAt(net, height));
    expect(new Set(hashes).size).toBe(5);
  });

  it('commits with f nodes down', () => {
    const net = new LoopbackNetwork(ids, { leader: ids[0]!.nodeId, downNodes: [ids[3]!.nodeId] });
    net.tell({ type: 'TXS_WAITING' });
    net.run();
    expect(net.nodes).toHaveLength(3);
    expectAgreementAt(net, 1);
  });

  it('a silent leader: round 0 times out and the next proposer’s block commits', () => {
    const silentLeader = ids[0]!.nodeId;
    const net = new LoopbackNetwork(ids, { leader: silentLeader, silentNodes: [silentLeader] });
    net.tell({ type: 'TXS_WAITING' });
    for (let i = 0; i < 10 && net.nodes.some((n) => n.commits.length === 0); i++) {
      net.run();
      net.fireTimers();
    }
    net.run();
    const [commit] = net.nodes[1]!.commits;
    expect(commit).toMatchObject({ height: 1, round: 1 });
    expect(commit?.block?.creator).toBe(ids[1]!.nodeId); // round 1's proposer: the next validator
    const honest = net.nodes.filter((n) => n.identity.nodeId !== silentLeader);
    expect(new Set(honest.map((n) => n.commits[0]?.blockHash)).size).toBe(1);
  });

  it('the leader the election machines elect proposes round 0', () => {
    const cluster = new ElectionCluster(validators());
    cluster.fire(ids[2]!.nodeId, 'election');
    cluster.settle();
    const [announcement] = cluster.announcements();
    expect(announcement?.leader).toBe(ids[2]!.nodeId);

    const net = new LoopbackNetwork(ids);
    net.tell({ type: 'LEADER_CHANGED', leader: announcement!.leader, term: announcement!.term });
    net.tell({ type: 'TXS_WAITING' });
    net.run();
    expectAgreementAt(net, 1);
    expect(net.nodes[0]!.commits[0]?.block?.creator).toBe(ids[2]!.nodeId);
  });
});
