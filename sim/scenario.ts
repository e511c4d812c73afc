import { z } from 'zod';
import { maxFaulty } from '../domain/quorum.ts';

// A scenario is data: who is Byzantine and how, who crashes when, which partitions form and heal,
// how lossy the network is, when clients submit transactions, and for how long to run. The same
// JSON drives `npm run sim`, the property tests and `itchain sim --scenario …`.
//
// Nodes are named by index (0 … nodes-1, shown as n0 … in traces). Times are virtual milliseconds
// from the start of the run. Every fault ends by `healAt`; from then on the network delivers every
// message (delays stay), and the liveness check starts with the first transaction submitted to an
// honest node at or after `healAt`: every honest node must commit it within `livenessBoundMs`.

export const BYZANTINE_BEHAVIOURS = [
  /** As leader, proposes two different blocks at one height, one to each half of the peers. */
  'equivocating-leader',
  /** Signs two conflicting votes for the same height and round. */
  'double-vote',
  /** Votes for a block hash that no honest node has seen. */
  'unknown-hash-vote',
  /** Sends votes claiming another node as the signer (the signature cannot verify). */
  'forged-vote',
  /** Sends nothing at all. */
  'silent',
] as const;

export type ByzantineBehaviour = (typeof BYZANTINE_BEHAVIOURS)[number];

const time = z.number().int().min(0);
const nodeIndex = z.number().int().min(0);
const rate = z.number().min(0).max(1);

const byzantineNode = z.strictObject({
  node: nodeIndex,
  behaviours: z.array(z.enum(BYZANTINE_BEHAVIOURS)).min(1),
});

const crash = z.strictObject({
  /** A node index, or 'leader': the node most recently reported leader by an honest node at `at`. */
  node: z.union([nodeIndex, z.literal('leader')]),
  at: time,
  /** null: the node stays down for the rest of the run (it then counts towards f). */
  restartAt: time.nullable(),
  /**
   * A torn crash lands inside the node's next step after `at`: only the first k (0–7) of that
   * step's sends, writes and reports happen. It catches a replica that sends before it persists.
   */
  torn: z.boolean().default(false),
});

const partition = z.strictObject({
  /** Nodes in different groups cannot talk; nodes listed in no group form one more group. */
  groups: z.array(z.array(nodeIndex).min(1)).min(1),
  from: time,
  until: time,
});

const linkBlock = z.strictObject({
  /** One way only: messages from `from` to `to` are lost while the block holds. */
  from: nodeIndex,
  to: nodeIndex,
  at: time,
  until: time,
});

const networkFaults = z.strictObject({
  dropRate: rate,
  duplicateRate: rate,
  minDelayMs: time,
  maxDelayMs: time,
});

const txSubmission = z.strictObject({
  at: time,
  count: z.number().int().min(1),
  /** The node a client submits to, or 'random': a node picked by the run's seed per tx. */
  to: z.union([nodeIndex, z.literal('random')]),
  /** Spacing between the txs of this submission. */
  intervalMs: time.default(0),
});

export const scenarioSchema = z
  .strictObject({
    name: z.string().min(1),
    description: z.string().default(''),
    nodes: z.number().int().min(1).max(100),
    byzantine: z.array(byzantineNode).default([]),
    crashes: z.array(crash).default([]),
    partitions: z.array(partition).default([]),
    linkBlocks: z.array(linkBlock).default([]),
    /** The network until `healAt`; after it, no loss and no duplication, same delays. */
    network: networkFaults,
    txs: z.array(txSubmission).default([]),
    healAt: time,
    livenessBoundMs: z.number().int().min(1),
    durationMs: z.number().int().min(1),
  })
  .superRefine((s, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message });
    const inRange = (node: number, path: (string | number)[]) => {
      if (node >= s.nodes) issue(path, `node ${node} does not exist (nodes: ${s.nodes})`);
    };
    const seen = new Set<number>();
    s.byzantine.forEach((b, i) => {
      inRange(b.node, ['byzantine', i, 'node']);
      if (seen.has(b.node)) issue(['byzantine', i, 'node'], `node ${b.node} is listed twice`);
      seen.add(b.node);
    });
    const permanentlyDown = new Set<number>();
    s.crashes.forEach((c, i) => {
      if (c.node !== 'leader') inRange(c.node, ['crashes', i, 'node']);
      if (c.restartAt === null) {
        if (c.node === 'leader') issue(['crashes', i, 'restartAt'], 'the leader must restart');
        else if (!seen.has(c.node)) permanentlyDown.add(c.node);
      } else {
        if (c.restartAt <= c.at) issue(['crashes', i, 'restartAt'], 'restart must come after the crash');
        if (c.restartAt > s.healAt) issue(['crashes', i, 'restartAt'], 'restart comes after healAt');
      }
    });
    const faulty = s.byzantine.length + permanentlyDown.size;
    if (faulty > maxFaulty(s.nodes)) {
      issue(['byzantine'], `${faulty} faulty nodes, at most ${maxFaulty(s.nodes)} tolerated with ${s.nodes}`);
    }
    s.partitions.forEach((p, i) => {
      const listed = new Set<number>();
      p.groups.forEach((group, g) => {
        group.forEach((node, k) => {
          inRange(node, ['partitions', i, 'groups', g, k]);
          if (listed.has(node)) issue(['partitions', i, 'groups', g, k], `node ${node} is in two groups`);
          listed.add(node);
        });
      });
      if (p.until <= p.from) issue(['partitions', i, 'until'], 'a partition must end after it starts');
      if (p.until > s.healAt) issue(['partitions', i, 'until'], 'the partition heals after healAt');
    });
    s.linkBlocks.forEach((b, i) => {
      inRange(b.from, ['linkBlocks', i, 'from']);
      inRange(b.to, ['linkBlocks', i, 'to']);
      if (b.from === b.to) issue(['linkBlocks', i, 'to'], 'a node always reaches itself');
      if (b.until <= b.at) issue(['linkBlocks', i, 'until'], 'a block must end after it starts');
      if (b.until > s.healAt) issue(['linkBlocks', i, 'until'], 'the block ends after healAt');
    });
    if (s.network.maxDelayMs < s.network.minDelayMs) {
      issue(['network', 'maxDelayMs'], 'maxDelayMs is below minDelayMs');
    }
    s.txs.forEach((t, i) => {
      if (t.to !== 'random') inRange(t.to, ['txs', i, 'to']);
    });
    if (s.durationMs < s.healAt) issue(['durationMs'], 'the run ends before healAt');
  });

/** A scenario as written (defaults may be left out). */
export type ScenarioInput = z.input<typeof scenarioSchema>;
/** A validated scenario with every field present. */
export type Scenario = z.output<typeof scenarioSchema>;
export type ByzantineNode = Scenario['byzantine'][number];
export type CrashSpec = Scenario['crashes'][number];
export type PartitionSpec = Scenario['partitions'][number];
export type LinkBlockSpec = Scenario['linkBlocks'][number];
export type TxSubmission = Scenario['txs'][number];

export class ScenarioError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioError';
  }
}

/** Validates a scenario; the error names each offending field (`crashes.1.restartAt: …`). */
export function defineScenario(input: ScenarioInput): Scenario {
  const parsed = scenarioSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const name = typeof input === 'object' && input !== null && 'name' in input ? String(input.name) : '?';
  const lines = parsed.error.issues.map((i) => `${i.path.join('.') || '(scenario)'}: ${i.message}`);
  throw new ScenarioError(`scenario ${name} is invalid:\n  ${lines.join('\n  ')}`);
}

/** The nodes the scenario does not make Byzantine. */
export function honestNodes(s: Scenario): number[] {
  const byzantine = new Set(s.byzantine.map((b) => b.node));
  return Array.from({ length: s.nodes }, (_, i) => i).filter((i) => !byzantine.has(i));
}

/** A one-line summary for logs: `equivocation n=4 byz=[n0:equivocating-leader] crashes=0 …`. */
export function describeScenario(s: Scenario): string {
  const byz = s.byzantine.map((b) => `n${b.node}:${b.behaviours.join('+')}`).join(',');
  const crashes = s.crashes
    .map((c) => `${c.node === 'leader' ? 'leader' : `n${c.node}`}@${c.at}-${c.restartAt ?? '∞'}`)
    .join(',');
  const parts = s.partitions
    .map((p) => `${p.groups.map((g) => g.map((n) => `n${n}`).join('+')).join('|')}@${p.from}-${p.until}`)
    .join(',');
  const txs = s.txs.reduce((sum, t) => sum + t.count, 0);
  const net = s.network;
  return (
    `${s.name} n=${s.nodes} byz=[${byz}] crashes=[${crashes}] partitions=[${parts}]` +
    ` links=${s.linkBlocks.length} drop=${net.dropRate} dup=${net.duplicateRate}` +
    ` delay=${net.minDelayMs}-${net.maxDelayMs}ms txs=${txs} heal=${s.healAt}ms run=${s.durationMs}ms`
  );
}
