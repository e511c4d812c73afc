// One iCode's container: a hardened, long-running `node runner.cjs` that holds the iCode's compiled
// code and runs its calls one at a time, talking JSON lines over the attached stdin/stdout. The
// container is removed when it exits (AutoRemove) and exits when the host detaches (StdinOnce), so a
// host that dies leaves nothing running behind.

import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import {
  type CallMessage,
  encodeLine,
  FrameDecoder,
  LineDecoder,
  type LoadMessage,
  type ReplyMessage,
  type RunnerMessage,
} from './protocol.ts';

export interface ContainerSpec {
  image: string;
  /** The node binary's path inside the image. */
  node: string;
  runner: string;
  /** Memory of the whole container (cgroup); going over it kills the container (exit 137). */
  memoryBytes: number;
  /** V8's old-space limit for the iCode's heap; going over it aborts node. */
  heapBytes: number;
  stackBytes: number;
  pidsLimit: number;
  labels: Record<string, string>;
}

/** How a call ended, seen from the container's side. */
export type CallEnd =
  | { kind: 'done'; out: string }
  | { kind: 'pending' }
  | { kind: 'timeout' }
  | { kind: 'crashed'; exitCode: number | undefined; outOfMemory: boolean };

/** Answers the runner's state requests during a call: a reply for get/range, nothing otherwise. */
export type RequestHandler = (message: RunnerMessage) => ReplyMessage | undefined;

const STDERR_KEPT = 4096;

export class ContainerStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContainerStartError';
  }
}

/** The load failed: the bundle cannot run (a `bad-code` receipt), not a Docker problem. */
export class BrokenCode extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BrokenCode';
  }
}

export function createOptions(spec: ContainerSpec): Docker.ContainerCreateOptions {
  const mib = (bytes: number) => Math.max(1, Math.floor(bytes / (1024 * 1024)));
  return {
    Image: spec.image,
    Entrypoint: [
      spec.node,
      `--max-old-space-size=${mib(spec.heapBytes)}`,
      `--stack-size=${Math.max(64, Math.floor(spec.stackBytes / 1024))}`,
      spec.runner,
    ],
    Cmd: [],
    User: '65534:65534',
    WorkingDir: '/tmp',
    Env: [],
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    OpenStdin: true,
    StdinOnce: true,
    Tty: false,
    NetworkDisabled: true,
    Labels: spec.labels,
    HostConfig: {
      NetworkMode: 'none',
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': 'rw,noexec,nosuid,nodev,size=16m' },
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      PidsLimit: spec.pidsLimit,
      Memory: spec.memoryBytes,
      MemorySwap: spec.memoryBytes, // no swap: an overrun is killed, not slowed down
      // docker-init as PID 1: node then gets default signal handling (an abort ends the process).
      Init: true,
      AutoRemove: true,
    },
  };
}

export class IcodeContainer {
  private readonly lines: LineDecoder;
  private readonly frames: FrameDecoder;
  private stderrTail = '';
  private current: { handler: RequestHandler; resolve: (end: CallEnd) => void; id: number } | undefined;
  private readyWaiter: ((m: RunnerMessage | undefined) => void) | undefined;
  private exited = false;
  private killedByUs = false;
  private nextId = 1;
  private readonly exit: Promise<number | undefined>;

  private constructor(
    private readonly container: Docker.Container,
    private readonly stream: Duplex,
    wait: Promise<{ StatusCode?: number }>,
  ) {
    this.lines = new LineDecoder(
      (line) => this.onLine(line),
      () => this.protocolError(),
    );
    this.frames = new FrameDecoder(
      (bytes) => this.lines.push(bytes),
      (bytes) => {
        this.stderrTail = (this.stderrTail + bytes.toString('utf8')).slice(-STDERR_KEPT);
      },
    );
    this.exit = wait.then(
      (r) => r.StatusCode,
      () => undefined,
    );
    stream.on('data', (bytes: Buffer) => this.frames.push(bytes));
    stream.on('error', () => this.onExit());
    stream.on('close', () => this.onExit());
    stream.on('end', () => this.onExit());
  }

  /** Creates and starts the container and loads the iCode into it. */
  static async start(
    docker: Docker,
    spec: ContainerSpec,
    load: LoadMessage,
    timeoutMs: number,
  ): Promise<IcodeContainer> {
    const container = await docker.createContainer(createOptions(spec));
    let self: IcodeContainer | undefined;
    try {
      const wait = container.wait({ condition: 'next-exit' });
      const stream = (await container.attach({
        stream: true,
        stdin: true,
        stdout: true,
        stderr: true,
        hijack: true,
      })) as Duplex;
      self = new IcodeContainer(container, stream, wait);
      await container.start();
      const ready = await self.handshake(load, timeoutMs);
      if (ready?.t === 'ready') return self;
      if (ready?.t === 'broken') throw new BrokenCode(ready.message);
      throw new ContainerStartError(
        ready === undefined
          ? `the iCode container did not start: ${self.stderrTail.trim().split('\n').pop() ?? 'no output'}`
          : `the iCode container answered ${ready.t} to load`,
      );
    } catch (e) {
      if (self) await self.remove();
      else await container.remove({ force: true }).catch(() => undefined);
      throw e;
    }
  }

  get alive(): boolean {
    return !this.exited;
  }

  get id(): string {
    return this.container.id;
  }

  /** Runs one call; the handler answers its state requests. Never rejects. */
  run(call: Omit<CallMessage, 't' | 'id'>, handler: RequestHandler, timeoutMs: number): Promise<CallEnd> {
    if (this.current) throw new Error('a call is already running in this container');
    if (this.exited) return Promise.resolve({ kind: 'crashed', exitCode: undefined, outOfMemory: false });
    const id = this.nextId++;
    return new Promise<CallEnd>((resolve) => {
      const timer = setTimeout(() => {
        this.killedByUs = true;
        this.end({ kind: 'timeout' });
        void this.kill();
      }, timeoutMs);
      this.current = {
        id,
        handler,
        resolve: (end) => {
          clearTimeout(timer);
          resolve(end);
        },
      };
      this.send({ t: 'call', id, ...call });
    });
  }

  /** Stops and removes the container (it is removed on exit; force covers one that never started). */
  async remove(): Promise<void> {
    this.killedByUs = true;
    this.stream.destroy();
    await this.container.remove({ force: true }).catch(() => undefined);
    this.onExit();
  }

  /** The last lines the runner wrote to stderr (node's own fatal errors land there). */
  get stderr(): string {
    return this.stderrTail;
  }

  private async kill(): Promise<void> {
    await this.container.kill().catch(() => undefined);
  }

  private handshake(load: LoadMessage, timeoutMs: number): Promise<RunnerMessage | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.readyWaiter = undefined;
        resolve(undefined);
      }, timeoutMs);
      this.readyWaiter = (m) => {
        clearTimeout(timer);
        this.readyWaiter = undefined;
        resolve(m);
      };
      this.send(load);
    });
  }

  private send(message: LoadMessage | CallMessage | ReplyMessage): void {
    if (!this.exited) this.stream.write(encodeLine(message));
  }

  private onLine(line: string): void {
    let message: RunnerMessage;
    try {
      message = JSON.parse(line) as RunnerMessage;
      if (typeof message !== 'object' || message === null) throw new TypeError('not a message');
    } catch {
      this.protocolError();
      return;
    }
    if (this.readyWaiter) {
      this.readyWaiter(message);
      return;
    }
    const current = this.current;
    if (!current || (message.t === 'done' && message.id !== current.id)) {
      this.protocolError();
      return;
    }
    if (message.t === 'done') {
      if ('out' in message && typeof message.out !== 'string') this.protocolError();
      else this.end('out' in message ? { kind: 'done', out: message.out } : { kind: 'pending' });
      return;
    }
    let reply: ReplyMessage | undefined;
    try {
      reply = current.handler(message);
    } catch {
      // Only a message of a shape the runner never sends gets here (a runner the iCode took over).
      this.protocolError();
      return;
    }
    if (reply) this.send(reply);
  }

  /** The runner said something it never says: it cannot be trusted any more. */
  private protocolError(): void {
    this.end({ kind: 'crashed', exitCode: undefined, outOfMemory: false });
    void this.remove();
  }

  private end(end: CallEnd): void {
    const current = this.current;
    this.current = undefined;
    current?.resolve(end);
  }

  private onExit(): void {
    if (this.exited) return;
    this.exited = true;
    this.readyWaiter?.(undefined);
    if (!this.current) return;
    const killedByUs = this.killedByUs;
    // The exit code comes from `wait`, a moment after the stream ends.
    const exitCode = Promise.race([
      this.exit,
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 2000)),
    ]);
    void exitCode.then((code) => {
      const heap = /heap out of memory|Reached heap limit/.test(this.stderrTail);
      // 137 = SIGKILL: the cgroup's OOM killer, unless we killed it; 134 = abort, V8's heap limit.
      const outOfMemory = heap || (code === 137 && !killedByUs);
      this.end({ kind: 'crashed', exitCode: code, outOfMemory });
    });
  }
}
