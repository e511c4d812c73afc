// The messages between the host and the runner in an iCode container (runner.cjs describes the
// exchange), and the two decoders the host needs to read them: Docker's multiplexed attach stream
// (8-byte frame headers) and JSON lines.

/** A guest value as the runner passes it: a string, or only its type (what QuickJS's host sees too). */
export type GuestArg = { s: string } | { type: string };

export interface LoadMessage {
  t: 'load';
  prelude: string;
  factory: string;
  maxResultChars: number;
  /** The host keeps this much of a console line; the runner sends no more. */
  maxLogChars: number;
}

export interface CallMessage {
  t: 'call';
  id: number;
  /** 'b<n>' for the n-th block's sandbox, 'q' for the query sandbox. */
  sandbox: string;
  /** The one argument of the prelude's invoke: JSON of {fn, args, tx (null for a query), icodeId}. */
  request: string;
}

export type ReplyMessage = { t: 'reply'; v: string | null } | { t: 'reply'; err: string; name: string };

export type RunnerMessage =
  | { t: 'ready' }
  | { t: 'broken'; message: string }
  | { t: 'get'; k: GuestArg }
  | { t: 'range'; q: GuestArg }
  | { t: 'put'; k: GuestArg; v: GuestArg }
  | { t: 'del'; k: GuestArg }
  | { t: 'log'; level: GuestArg; msg: GuestArg }
  | { t: 'done'; id: number; out: string }
  | { t: 'done'; id: number; pending: true };

/** What the host's StateAccess gets for a guest value: the string, undefined, or {type}. */
export function guestValue(arg: GuestArg): unknown {
  if ('s' in arg) return arg.s;
  return arg.type === 'undefined' ? undefined : { type: arg.type };
}

export function encodeLine(message: LoadMessage | CallMessage | ReplyMessage): Buffer {
  return Buffer.from(`${JSON.stringify(message)}\n`, 'utf8');
}

/**
 * The longest line the host reads from a runner. The runner's own heap (V8's limit) bounds what it
 * can send; this bounds what a runner that went wrong can make the host buffer.
 */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

/** Splits a byte stream into lines, decoding UTF-8 only at line ends (a character may span chunks). */
export class LineDecoder {
  private parts: Buffer[] = [];
  private size = 0;

  constructor(
    private readonly onLine: (line: string) => void,
    /** Called once a line grows past maxBytes; the stream is not decoded any further. */
    private readonly onOverflow: () => void = () => undefined,
    private readonly maxBytes = MAX_LINE_BYTES,
  ) {}

  push(bytes: Buffer): void {
    if (this.size > this.maxBytes) return;
    let start = 0;
    for (let nl = bytes.indexOf(10, start); nl >= 0; nl = bytes.indexOf(10, start)) {
      this.parts.push(bytes.subarray(start, nl));
      const line = Buffer.concat(this.parts).toString('utf8');
      this.parts = [];
      this.size = 0;
      start = nl + 1;
      this.onLine(line);
    }
    if (start < bytes.length) {
      this.parts.push(bytes.subarray(start));
      this.size += bytes.length - start;
      if (this.size > this.maxBytes) {
        this.parts = [];
        this.onOverflow();
      }
    }
  }
}

/**
 * Docker's attach stream without a TTY: frames of [stream type (1 stdout, 2 stderr), 0, 0, 0,
 * payload length (uint32 big-endian)] followed by the payload.
 */
export class FrameDecoder {
  private buffered = Buffer.alloc(0);

  constructor(
    private readonly onStdout: (bytes: Buffer) => void,
    private readonly onStderr: (bytes: Buffer) => void,
  ) {}

  push(bytes: Buffer): void {
    let data = this.buffered.length > 0 ? Buffer.concat([this.buffered, bytes]) : bytes;
    while (data.length >= 8) {
      const length = data.readUInt32BE(4);
      if (data.length < 8 + length) break;
      const payload = data.subarray(8, 8 + length);
      if (data[0] === 2) this.onStderr(payload);
      else this.onStdout(payload);
      data = data.subarray(8 + length);
    }
    this.buffered = Buffer.from(data);
  }
}
