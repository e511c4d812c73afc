import {
  type CommittedBlock,
  type CommittedReceipt,
  type GatewayBus,
  gatewayBus,
  type TxVerdict,
} from '../../../adapters/api/api-topics.ts';
import type { EventBus, Subscription } from '../../../adapters/bus/event-bus.ts';
import { parseDialAddress } from '../../../adapters/grpc/dial-address.ts';
import type { Block } from '../../../domain/block.ts';
import type { Canonical } from '../../../domain/canonical.ts';
import { readDeployment } from '../../../domain/icode-deployment.ts';
import type { NodeId } from '../../../domain/identity.ts';
import type { Transaction } from '../../../domain/transaction.ts';
import { validateTransaction } from '../../../domain/validation.ts';
import type { ChainFixture } from '../../support/chain-fixture.ts';

// A stand-in for the node's core in API tests: it plays the TxPool (verdicts), the Blockchain (real
// blocks with real commit certificates from the chain fixture, replays), the IVM (the built-in kv
// iCode, deploy/undeploy, queries), Consensus (leader.updated) and the gRPC gateway (peer commands)
// on the bus, the way the real components will. Faults are switched on explicitly, per test.

export interface CoreStandInOptions {
  maxPoolTxs?: number;
  /** Cut a block every this many ms while txs wait (0: only when commitPending() is called). */
  blockIntervalMs?: number;
  /** Index of the fixture validator that leads. */
  leader?: number;
  /** Fault: ignore this many replay requests (the Blockchain is not up yet). */
  dropReplays?: number;
}

export class CoreStandIn {
  readonly chain: CommittedBlock[] = [];
  readonly pool = new Map<string, Transaction>();
  readonly submitted: Transaction[] = [];
  readonly kv = new Map<string, Canonical>();
  readonly icodes = new Map<string, { gitUrl: string; commit: string }>();
  readonly peers = new Map<NodeId, string>();
  readonly replayRequests: number[] = [];
  /** Faults: answer no verdicts at all; answer the next submits as duplicates. */
  silentPool = false;
  duplicateNext = 0;
  private readonly committedIds = new Set<string>();
  private readonly subscriptions: Subscription[] = [];
  private readonly bus: GatewayBus;
  private timer: NodeJS.Timeout | undefined;
  private term = 1;

  constructor(
    rawBus: EventBus,
    private readonly fixture: ChainFixture,
    private readonly options: CoreStandInOptions = {},
  ) {
    this.bus = gatewayBus(rawBus);
    this.chain.push({ block: fixture.genesis, certificate: null });
  }

  get height(): number {
    return this.chain.length - 1;
  }

  get leaderId(): NodeId {
    return this.fixture.validatorIds[this.options.leader ?? 1]!;
  }

  async start(): Promise<void> {
    const on = this.bus.on.bind(this.bus);
    this.subscriptions.push(
      await on('tx.submitted', ({ tx }) => this.onSubmitted(tx)),
      await on('replay.requested', (request) => this.onReplay(request.requestId, request.fromHeight)),
      await on('status.requested', ({ requestId }) =>
        this.bus.publish('status.reported', {
          requestId,
          leader: { leader: this.leaderId, term: this.term },
          poolSize: this.pool.size,
          round: { height: this.height + 1, round: 0 },
          peers: [...this.peers].map(([peerId, address]) => ({ peerId, address, outbound: true })),
        }),
      ),
      await on('query.requested', ({ requestId, icodeId, function: fn, args }) =>
        this.bus.publish('query.answered', { requestId, outcome: this.query(icodeId, fn, args) }),
      ),
      await on('peer.requested', ({ requestId, command }) => this.onPeerCommand(requestId, command)),
    );
    await this.bus.publish('leader.updated', { leader: this.leaderId, term: this.term });
    if (this.options.blockIntervalMs) {
      this.timer = setInterval(() => void this.commitPending(), this.options.blockIntervalMs);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.subscriptions.map((s) => s.unsubscribe()));
  }

  async electLeader(index: number): Promise<void> {
    this.term += 1;
    this.options.leader = index;
    await this.bus.publish('leader.updated', { leader: this.leaderId, term: this.term });
  }

  /** Cuts a block from every waiting tx (if any), runs it, and publishes block.committed. */
  async commitPending(): Promise<Block | undefined> {
    if (this.pool.size === 0) return undefined;
    const txs = [...this.pool.values()];
    this.pool.clear();
    const entry = this.buildBlock(txs);
    await this.publishCommitted(entry);
    return entry.block;
  }

  /** Appends a block to the chain without telling anyone (the API is down, or the message is lost). */
  commitUnannounced(txs: Transaction[] = this.fixture.txs(2)): CommittedBlock {
    return this.buildBlock(txs);
  }

  async publishCommitted(entry: CommittedBlock): Promise<void> {
    await this.bus.publish('block.committed', entry);
    for (const tx of entry.block.txs) {
      if (tx.kind === 'deploy' && entry.receipts?.[tx.id]?.status === 'ok') {
        const { gitUrl, commit } = this.icodes.get(tx.icodeId)!;
        await this.bus.publish('icode.created', {
          id: tx.icodeId,
          gitUrl,
          commit,
          txId: tx.id,
          height: entry.block.height,
        });
      }
      if (tx.kind === 'undeploy' && entry.receipts?.[tx.id]?.status === 'ok') {
        await this.bus.publish('icode.deleted', { id: tx.icodeId, txId: tx.id, height: entry.block.height });
      }
    }
  }

  private buildBlock(txs: Transaction[]): CommittedBlock {
    const prev = this.chain[this.chain.length - 1]!.block;
    const block = this.fixture.nextBlock(prev, txs, { timestamp: Date.now() });
    const receipts: Record<string, CommittedReceipt> = {};
    for (const tx of txs) {
      receipts[tx.id] = this.run(tx);
      this.committedIds.add(tx.id);
    }
    const entry: CommittedBlock = { block, certificate: this.fixture.certify(block), receipts };
    this.chain.push(entry);
    return entry;
  }

  private async onSubmitted(tx: Transaction): Promise<void> {
    this.submitted.push(tx);
    if (this.silentPool) return;
    const verdict = this.admit(tx);
    await this.bus.publish('tx.verdict', { verdicts: [verdict] });
  }

  private admit(tx: Transaction): TxVerdict {
    if (this.duplicateNext > 0) {
      this.duplicateNext -= 1;
      return {
        txId: tx.id,
        status: 'rejected',
        code: 'duplicate',
        message: `tx ${tx.id} is already pending`,
      };
    }
    if (this.pool.has(tx.id) || this.committedIds.has(tx.id)) {
      return { txId: tx.id, status: 'rejected', code: 'duplicate', message: `tx ${tx.id} is known` };
    }
    if (this.pool.size >= (this.options.maxPoolTxs ?? 10_000)) {
      return {
        txId: tx.id,
        status: 'rejected',
        code: 'pool_full',
        message: 'the tx pool is full: retry later',
      };
    }
    try {
      validateTransaction(tx, this.fixture.keys);
    } catch (error) {
      return { txId: tx.id, status: 'rejected', code: 'invalid', message: String(error) };
    }
    this.pool.set(tx.id, tx);
    return { txId: tx.id, status: 'accepted' };
  }

  /** The IVM's part: kv put/get/del, deploy and undeploy. */
  private run(tx: Transaction): CommittedReceipt {
    const fail = (code: 'no-such-function' | 'not-deployed', message: string): CommittedReceipt => ({
      status: 'error',
      error: { code, message },
      gasUsed: 1,
    });
    if (tx.kind === 'deploy') {
      const deployment = readDeployment(tx.args);
      this.icodes.set(tx.icodeId, { gitUrl: deployment.gitUrl, commit: deployment.commit });
      return { status: 'ok', gasUsed: 1 };
    }
    if (tx.kind === 'undeploy') {
      return this.icodes.delete(tx.icodeId)
        ? { status: 'ok', gasUsed: 1 }
        : fail('not-deployed', `no iCode ${tx.icodeId}`);
    }
    if (tx.icodeId !== 'kv') {
      return this.icodes.has(tx.icodeId)
        ? { status: 'ok', result: `ran ${tx.function}`, gasUsed: 5 }
        : fail('not-deployed', `no iCode ${tx.icodeId}`);
    }
    const [key, value] = tx.args;
    switch (tx.function) {
      case 'put':
        this.kv.set(String(key), value ?? null);
        return { status: 'ok', result: null, gasUsed: 3 };
      case 'get':
        return { status: 'ok', result: this.kv.get(String(key)) ?? null, gasUsed: 2 };
      case 'del':
        this.kv.delete(String(key));
        return { status: 'ok', result: null, gasUsed: 2 };
      default:
        return fail('no-such-function', `kv has no function ${tx.function}`);
    }
  }

  private query(icodeId: string, fn: string, args: Canonical[]) {
    if (icodeId !== 'kv') {
      return this.icodes.has(icodeId)
        ? { status: 'ok' as const, result: `queried ${fn}`, gasUsed: 1 }
        : {
            status: 'error' as const,
            error: { code: 'not-deployed' as const, message: `no iCode ${icodeId}` },
            gasUsed: 0,
          };
    }
    if (fn !== 'get') {
      return {
        status: 'error' as const,
        error: { code: 'no-such-function' as const, message: `kv has no query ${fn}` },
        gasUsed: 0,
      };
    }
    return { status: 'ok' as const, result: this.kv.get(String(args[0])) ?? null, gasUsed: 1 };
  }

  private async onReplay(requestId: string, fromHeight: number): Promise<void> {
    this.replayRequests.push(fromHeight);
    if ((this.options.dropReplays ?? 0) >= this.replayRequests.length) return;
    const entries = this.chain.slice(fromHeight);
    const chunk = 3;
    for (let i = 0; i < entries.length; i += chunk) {
      const done = i + chunk >= entries.length;
      await this.bus.publish('replay.delivered', { requestId, entries: entries.slice(i, i + chunk), done });
    }
    if (entries.length === 0)
      await this.bus.publish('replay.delivered', { requestId, entries: [], done: true });
  }

  private async onPeerCommand(
    requestId: string,
    command: { type: 'dial' | 'join'; address: string } | { type: 'disconnect'; peerId: NodeId },
  ): Promise<void> {
    if (command.type === 'disconnect') {
      if (!this.peers.delete(command.peerId)) {
        await this.bus.publish('peer.answered', {
          requestId,
          ok: false,
          code: 'not_found',
          message: `no peer ${command.peerId} is connected`,
        });
        return;
      }
      await this.bus.publish('connection.closed', {
        peerId: command.peerId,
        reason: 'disconnected by request',
      });
      await this.bus.publish('peer.answered', { requestId, ok: true });
      return;
    }
    const target = parseDialAddress(command.address);
    if (!target || target.port === 9) {
      await this.bus.publish('peer.answered', {
        requestId,
        ok: false,
        code: 'unreachable',
        message: `cannot reach ${command.address}: connection refused`,
      });
      return;
    }
    const peerId = target.nodeId ?? this.fixture.validatorIds[3]!;
    this.peers.set(peerId, command.address);
    await this.bus.publish('connection.created', { peerId, address: command.address, outbound: true });
    await this.bus.publish('peer.answered', { requestId, ok: true, peerId });
  }
}
