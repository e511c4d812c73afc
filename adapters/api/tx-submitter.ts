import { randomUUID } from 'node:crypto';
import { canonicalJson } from '../../domain/canonical.ts';
import type { Signer } from '../../domain/identity.ts';
import { signTransaction, type Transaction, type TxBody } from '../../domain/transaction.ts';
import type { BusLogger, Subscription } from '../bus/event-bus.ts';
import { ApiError } from './api-error.ts';
import type { GatewayBus, TxVerdict } from './api-topics.ts';
import type { ApiMetrics } from './metrics.ts';
import type { ReadModel } from './read-model.ts';

// The accepting node's half of a tx (SPEC §2): it builds the body from the client's call, signs it
// with the node key, publishes tx.submitted and waits (bounded) for the TxPool's verdict, so a full
// pool or a duplicate is the client's answer, not a silent drop.

/** What became of one submitted tx; 'unanswered' means no verdict came in time (it stays pending). */
export type Admission =
  | { status: 'accepted' | 'unanswered' }
  | { status: 'rejected'; code: string; message: string };

export interface TxSubmitterOptions {
  maxTxBytes: number;
  /** How long a submit waits for the TxPool's verdict (default 2000 ms). */
  verdictTimeoutMs?: number;
  logger: BusLogger;
  now?: () => number;
}

export type TxCall = Pick<TxBody, 'kind' | 'icodeId' | 'function' | 'args'>;

export class TxSubmitter {
  private readonly waiting = new Map<string, (verdict: TxVerdict) => void>();
  private subscription: Subscription | undefined;

  constructor(
    private readonly bus: GatewayBus,
    private readonly signer: Signer,
    private readonly readModel: ReadModel,
    private readonly metrics: ApiMetrics,
    private readonly options: TxSubmitterOptions,
  ) {}

  async start(): Promise<void> {
    this.subscription = await this.bus.on('tx.verdict', ({ verdicts }) => {
      for (const verdict of verdicts) this.waiting.get(verdict.txId)?.(verdict);
    });
  }

  async stop(): Promise<void> {
    await this.subscription?.unsubscribe();
  }

  /** Signs the call as this node; a tx over maxTxBytes is a 413 naming the size (`path` names it). */
  sign(call: TxCall, path = 'body'): Transaction {
    const tx = signTransaction(
      {
        ...call,
        timestamp: (this.options.now ?? Date.now)(),
        signer: this.signer.nodeId,
        nonce: randomUUID(),
      },
      this.signer,
    );
    const size = Buffer.byteLength(canonicalJson(tx));
    if (size > this.options.maxTxBytes) {
      const what = path === 'body' ? 'the transaction' : `the transaction at ${path}`;
      throw new ApiError(
        413,
        'payload_too_large',
        `${what} is ${size} bytes encoded, over txpool.maxTxBytes (${this.options.maxTxBytes})`,
      );
    }
    return tx;
  }

  /** Publishes the txs and waits for their verdicts; the result is in the order of `txs`. */
  async submit(txs: readonly Transaction[]): Promise<Admission[]> {
    const admissions: (Admission | undefined)[] = txs.map(() => undefined);
    let left = txs.length;
    let allAnswered!: () => void;
    const answered = new Promise<void>((resolve) => {
      allAnswered = resolve;
    });
    const settle = (index: number, admission: Admission): void => {
      if (admissions[index] !== undefined) return;
      admissions[index] = admission;
      left -= 1;
      if (left === 0) allAnswered();
    };
    txs.forEach((tx, index) => {
      this.waiting.set(tx.id, (verdict) =>
        settle(
          index,
          verdict.status === 'accepted'
            ? { status: 'accepted' }
            : { status: 'rejected', code: verdict.code, message: verdict.message },
        ),
      );
      this.readModel.notePending(tx.id);
    });
    const timeoutMs = this.options.verdictTimeoutMs ?? 2_000;
    const timer = setTimeout(allAnswered, timeoutMs);
    try {
      const published = await Promise.allSettled(txs.map((tx) => this.bus.publish('tx.submitted', { tx })));
      published.forEach((result, index) => {
        if (result.status === 'fulfilled') return;
        const tx = txs[index]!;
        this.readModel.dropPending(tx.id);
        this.options.logger.warn({ txId: tx.id, err: String(result.reason) }, 'tx.submitted not published');
        settle(index, {
          status: 'rejected',
          code: 'unavailable',
          message: `the event bus refused the tx: ${errorText(result.reason)}`,
        });
      });
      await answered;
    } finally {
      clearTimeout(timer);
      for (const tx of txs) this.waiting.delete(tx.id);
    }
    const out = admissions.map((admission) => admission ?? { status: 'unanswered' as const });
    this.metrics.countSubmitted(out.filter((a) => a.status !== 'rejected').length);
    return out;
  }
}

const ADMISSION_STATUS: Readonly<Record<string, number>> = {
  pool_full: 503,
  duplicate: 409,
  invalid: 400,
  unavailable: 503,
};

/** The HTTP answer to a refused tx: pool full 503, duplicate 409, invalid 400, bus down 503. */
export function admissionError(admission: Admission & { status: 'rejected' }): ApiError {
  const status = ADMISSION_STATUS[admission.code] ?? 400;
  const code = admission.code === 'invalid' ? 'invalid_tx' : admission.code;
  return new ApiError(status, code, admission.message);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
