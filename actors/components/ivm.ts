import type { GatewayTopic, GatewayTopics, QueryOutcome } from '../../adapters/api/api-topics.ts';
import type { Subscription } from '../../adapters/bus/event-bus.ts';
import type { StoredBlock } from '../node-ledger.ts';
import type { CoreParts } from '../node-parts.ts';
import { type Component, errorText } from './component.ts';

// IVM: runs iCode. Committed blocks are executed by the ledger through the executor
// (icode-executor.ts: QuickJS or Docker, per ivm.runtime); this component
//   - answers read-only queries (query.requested → query.answered) against committed state;
//   - announces deploys and undeploys once their block is on disk (icode.created / icode.deleted),
//     which the API's read model lists as GET /icodes;
//   - when the node stops (after consensus: no block is appended any more), lets the block that runs
//     finish and reach the disk, then closes the runtime; the store closes after the components.

export const IVM_ID = 'ivm';

export class IvmComponent implements Component {
  private readonly subscriptions: Subscription[] = [];
  private readonly log;
  private stopped = false;

  constructor(private readonly parts: CoreParts) {
    this.log = parts.logger.child({ component: 'ivm' });
  }

  async start(): Promise<void> {
    const { topics, executor, ledger } = this.parts;
    ledger.onStored((stored) => this.announce(stored));
    this.subscriptions.push(
      await topics.on('query.requested', async ({ requestId, icodeId, function: fn, args }) => {
        let outcome: QueryOutcome;
        try {
          outcome = await executor.query(icodeId, fn, args);
        } catch (error) {
          outcome = {
            status: 'error',
            error: { code: 'unavailable', message: errorText(error) },
            gasUsed: 0,
          };
        }
        this.publish('query.answered', { requestId, outcome });
      }),
    );
    this.log.info(
      { runtime: executor.runtime.kind, icodes: executor.installed().size, keys: executor.keys },
      'IVM ready',
    );
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(this.subscriptions.splice(0).map((s) => s.unsubscribe()));
    await this.parts.ledger.idle();
    await this.parts.writes.drained();
    await this.parts.executor.runtime.close();
  }

  private announce({ block, icodes }: StoredBlock): void {
    for (const change of icodes) {
      const height = block.height;
      if (change.type === 'created') {
        const { id, gitUrl, commit, txId } = change;
        this.log.info({ icode: id, gitUrl, commit, height }, 'iCode deployed');
        this.publish('icode.created', { id, gitUrl, commit, txId, height });
      } else {
        this.log.info({ icode: change.id, height }, 'iCode undeployed');
        this.publish('icode.deleted', { id: change.id, txId: change.txId, height });
      }
    }
  }

  private publish<T extends GatewayTopic>(topic: T, payload: GatewayTopics[T]): void {
    if (this.stopped) return;
    this.parts.topics.publish(topic, payload).catch((error: unknown) => {
      this.log.warn({ topic, err: errorText(error) }, 'bus publish failed');
    });
  }
}
