// The Docker iCode runtime (SPEC §5): the original's runtime, kept as an option next to QuickJS. One
// long-running container per iCode, from a locally built image (image.ts), with no network, a
// read-only root, no capabilities, no privilege gain, memory and pids limits and a non-root user
// (container.ts). Inside, the iCode runs in a node:vm realm hardened by the QuickJS prelude, and every
// state operation goes through the host's StateAccess, so the SDK and the results are the same as in
// QuickJS. Gas is not (gas.ts): interpreter steps are not counted and compute time is bounded by a
// wall-clock limit.
//
// Sandbox lifetimes follow QuickJS: each block gets a fresh realm per iCode (the container stays, the
// realm inside it is new), queries share one realm per iCode; the realm's built-ins are frozen and its
// global refuses changes, so no call leaves anything for the next. A call that kills its container
// (memory overrun, time limit) gets an error receipt; the next call starts a new container.

import type Docker from 'dockerode';
import { hashOf } from '../../../domain/hash.ts';
import type { IcodeBundle, ReceiptError, TxContext } from '../../../domain/icode.ts';
import { type CompiledIcode, CompileError, compileBundle } from '../compile.ts';
import { DEFAULT_IVM_LIMITS, type IvmLimits } from '../limits.ts';
import { PRELUDE } from '../quickjs/prelude.ts';
import type {
  BlockExecution,
  CallRequest,
  IcodeRuntime,
  InvokeRequest,
  InvokeResult,
  QueryRequest,
  QueryResult,
} from '../runtime.ts';
import { CallSession, type LogLine } from './call-session.ts';
import { BrokenCode, type CallEnd, type ContainerSpec, IcodeContainer } from './container.ts';
import { dockerClient, dockerSocketPath } from './engine.ts';
import { ensureIcodeImage, icodeImageTag, nodeBinary, RUNNER_PATH } from './image.ts';

export interface DockerRuntimeOptions {
  /** The same limits as QuickJS; memoryBytes bounds V8's heap, stackBytes its stack. */
  limits?: Partial<IvmLimits>;
  /** An engine client; default: one for socketPath. */
  docker?: Docker;
  /** Default: dockerSocketPath() ($ITCHAIN_DOCKER_SOCKET, else $ITCHAIN_DOCKER_DIR/docker.sock). */
  socketPath?: string;
  /** Image tag; default icodeImageTag(), built from the host's node on first use if missing. */
  image?: string;
  /** Wall-clock limit of one call; past it the container is killed and the call is out of gas. */
  callTimeoutMs?: number;
  /** How long a new container may take to start and load the iCode. */
  startTimeoutMs?: number;
  /** Memory of one container (cgroup limit, no swap). */
  containerMemoryBytes?: number;
  pidsLimit?: number;
  /** Where an iCode's console.* lines go (default: nowhere). */
  log?: (icodeId: string, level: string, message: string) => void;
}

export const DOCKER_RUNTIME_DEFAULTS = {
  callTimeoutMs: 1_000,
  startTimeoutMs: 15_000,
  containerMemoryBytes: 256 * 1024 * 1024,
  pidsLimit: 64,
} as const;

type Compiled = CompiledIcode | ReceiptError;

/** Runs async steps one at a time, in the order they were asked for. */
class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(step: () => Promise<T>): Promise<T> {
    const next = this.tail.then(step, step);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

interface Slot {
  bundle: IcodeBundle;
  hash: string;
  compiled: Promise<Compiled>;
  container: IcodeContainer | undefined;
  /** Calls of this iCode, one at a time: its container runs one call at a time. */
  serial: Serial;
}

function isCompiled(c: Compiled): c is CompiledIcode {
  return 'factory' in c;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class DockerRuntime implements IcodeRuntime {
  readonly kind = 'docker' as const;
  readonly limits: IvmLimits;
  readonly callTimeoutMs: number;
  private readonly docker: Docker;
  private readonly slots = new Map<string, Slot>();
  private readonly spec: Omit<ContainerSpec, 'image' | 'labels'>;
  private readonly startTimeoutMs: number;
  private readonly instance = `${process.pid}-${Date.now().toString(36)}`;
  private image: Promise<string> | undefined;
  private blocks = 0;
  private closed = false;

  constructor(private readonly options: DockerRuntimeOptions = {}) {
    this.limits = { ...DEFAULT_IVM_LIMITS, ...options.limits };
    this.docker = options.docker ?? dockerClient(options.socketPath ?? dockerSocketPath());
    this.callTimeoutMs = options.callTimeoutMs ?? DOCKER_RUNTIME_DEFAULTS.callTimeoutMs;
    this.startTimeoutMs = options.startTimeoutMs ?? DOCKER_RUNTIME_DEFAULTS.startTimeoutMs;
    this.spec = {
      node: nodeBinary(),
      runner: RUNNER_PATH,
      memoryBytes: options.containerMemoryBytes ?? DOCKER_RUNTIME_DEFAULTS.containerMemoryBytes,
      heapBytes: this.limits.memoryBytes,
      stackBytes: this.limits.stackBytes,
      pidsLimit: options.pidsLimit ?? DOCKER_RUNTIME_DEFAULTS.pidsLimit,
    };
  }

  /** Labels on every container of this runtime (tests and operators find them by these). */
  get labels(): Record<string, string> {
    return { 'org.itchain.icode-runtime': this.instance };
  }

  beginBlock(): BlockExecution {
    this.assertOpen();
    return new DockerBlock(this, `b${++this.blocks}`);
  }

  async query(request: QueryRequest): Promise<QueryResult> {
    this.assertOpen();
    const { writes: _, ...outcome } = await this.call(request, 'q', null);
    return outcome;
  }

  /**
   * Runs one call in the iCode's container (starting one if needed) in the realm `sandbox`; a call
   * without a tx is a query, which is read-only.
   */
  call(request: CallRequest, sandbox: string, tx: TxContext | null): Promise<InvokeResult> {
    const slot = this.slotFor(request.icodeId, request.bundle);
    return slot.serial.run(async () => {
      const gasLimit = Math.min(request.gasLimit ?? this.limits.gasLimit, this.limits.gasLimit);
      const compiled = await slot.compiled;
      if (!isCompiled(compiled)) return { status: 'error', error: compiled, gasUsed: 0, writes: [] };
      const container = await this.containerOf(slot, request.icodeId, compiled);
      if ('code' in container) return { status: 'error', error: container, gasUsed: 0, writes: [] };
      const log = this.logFor(request.icodeId);
      const session = new CallSession(
        request.state,
        this.limits,
        tx === null,
        gasLimit,
        this.callTimeoutMs,
        log,
      );
      const settle = (end: CallEnd): InvokeResult => {
        const outcome = session.outcome(end);
        return { ...outcome, writes: outcome.status === 'ok' ? session.writes() : [] };
      };
      // A gas limit below the call cost: out of gas without running (outcome checks gas first).
      if (session.meter.exhausted) return settle({ kind: 'pending' });
      // The same request as quickjs/sandbox.ts hands the prelude.
      const call = {
        sandbox,
        request: JSON.stringify({ fn: request.fn, args: request.args, tx, icodeId: request.icodeId }),
      };
      const end = await container.run(call, session.handle, this.callTimeoutMs);
      if (end.kind === 'timeout' || end.kind === 'crashed' || !container.alive) {
        slot.container = undefined;
        await container.remove();
      }
      return settle(end);
    });
  }

  async forget(icodeId: string): Promise<void> {
    const slot = this.slots.get(icodeId);
    if (!slot) return;
    await slot.serial.run(async () => {
      this.slots.delete(icodeId);
      await slot.container?.remove();
      slot.container = undefined;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.slots.keys()].map((id) => this.forget(id)));
  }

  /** IDs of the containers running now, by iCode. */
  containers(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [icodeId, slot] of this.slots) if (slot.container?.alive) out.set(icodeId, slot.container.id);
    return out;
  }

  private slotFor(icodeId: string, bundle: IcodeBundle): Slot {
    const known = this.slots.get(icodeId);
    if (known && (known.bundle === bundle || known.hash === hashOf(bundle))) {
      known.bundle = bundle;
      return known;
    }
    const compiled = compileBundle(bundle).catch(
      (e: unknown): ReceiptError => ({
        code: 'bad-code',
        message: e instanceof CompileError ? e.message : message(e),
      }),
    );
    const slot: Slot = {
      bundle,
      hash: hashOf(bundle),
      compiled,
      container: undefined,
      serial: known?.serial ?? new Serial(),
    };
    if (known?.container) {
      // Same ID, other code (only in tests and tools): the old container must not run it.
      const old = known.container;
      void slot.serial.run(() => old.remove());
    }
    this.slots.set(icodeId, slot);
    return slot;
  }

  private async containerOf(
    slot: Slot,
    icodeId: string,
    compiled: CompiledIcode,
  ): Promise<IcodeContainer | ReceiptError> {
    if (slot.container?.alive) return slot.container;
    slot.container = undefined;
    try {
      const image = await this.imageTag();
      const spec: ContainerSpec = {
        ...this.spec,
        image,
        labels: { ...this.labels, 'org.itchain.icode': icodeId },
      };
      const load = {
        t: 'load' as const,
        prelude: PRELUDE,
        factory: compiled.factory,
        maxResultChars: this.limits.maxResultBytes,
        maxLogChars: this.limits.maxErrorChars,
      };
      slot.container = await IcodeContainer.start(this.docker, spec, load, this.startTimeoutMs);
      return slot.container;
    } catch (e) {
      // The same receipt as QuickJS's for code that does not evaluate.
      if (e instanceof BrokenCode)
        return { code: 'bad-code', message: 'the compiled iCode did not evaluate' };
      return {
        code: 'unavailable',
        message: `the Docker runtime could not start the iCode's container: ${message(e)}`,
      };
    }
  }

  private imageTag(): Promise<string> {
    if (this.options.image) return Promise.resolve(this.options.image);
    if (!this.image) {
      this.image = ensureIcodeImage(this.docker, icodeImageTag());
      this.image.catch(() => {
        this.image = undefined; // try again on the next call: the engine may be back
      });
    }
    return this.image;
  }

  private logFor(icodeId: string): LogLine | undefined {
    const log = this.options.log;
    return log && ((level, text) => log(icodeId, level, text));
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the Docker runtime is closed');
  }
}

class DockerBlock implements BlockExecution {
  private readonly serial = new Serial();
  private ended = false;

  constructor(
    private readonly runtime: DockerRuntime,
    private readonly sandbox: string,
  ) {}

  invoke(request: InvokeRequest): Promise<InvokeResult> {
    if (this.ended) throw new Error('this block has ended');
    return this.serial.run(() => this.runtime.call(request, this.sandbox, request.tx));
  }

  async end(): Promise<void> {
    // The realm of this block is replaced when the next block's first call reaches the container.
    this.ended = true;
    await this.serial.run(async () => undefined);
  }
}
