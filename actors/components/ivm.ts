import type { Subscription } from '../../adapters/bus/event-bus.ts';
import type { CoreParts } from '../node-parts.ts';
import { type Component, errorText } from './component.ts';

// IVM: runs iCode. Committed blocks are executed by the ledger through the Executor (executor.ts);
// this component answers read-only queries (query.requested → query.answered) against committed
// state. Today the executor is the built-in kv; the QuickJS runtime (adapters/icode) plugs in here
// and behind the Executor interface.

export const IVM_ID = 'ivm';

export class IvmComponent implements Component {
  private readonly subscriptions: Subscription[] = [];

  constructor(private readonly parts: CoreParts) {}

  async start(): Promise<void> {
    const { topics, executor } = this.parts;
    const log = this.parts.logger.child({ component: 'ivm' });
    this.subscriptions.push(
      await topics.on('query.requested', async ({ requestId, icodeId, function: fn, args }) => {
        let outcome: ReturnType<typeof executor.query>;
        try {
          outcome = executor.query(icodeId, fn, args);
        } catch (error) {
          outcome = {
            status: 'error',
            error: { code: 'unavailable', message: errorText(error) },
            gasUsed: 0,
          };
        }
        await topics.publish('query.answered', { requestId, outcome }).catch((error: unknown) => {
          log.warn({ err: errorText(error) }, 'query answer not published');
        });
      }),
    );
    log.info({ runtime: 'builtin kv', keys: executor.size }, 'IVM ready');
  }

  async stop(): Promise<void> {
    await Promise.all(this.subscriptions.splice(0).map((s) => s.unsubscribe()));
  }
}
