import { WATCHED_MACHINES, type WatchedMachine } from './machine-watch.ts';

// A run's trace, read back as steps. The simulator writes one line per thing that happened
// (`#23 100ms n0 → * proposal h1 r0 ec3585 [1 txs] by n0`, formats in sim/simulation.ts) and numbers
// the lines with the step that caused them: a message delivered, a timer, a client's tx, a fault.
// Here every line becomes a typed event and the lines of one step become one `SimStep`, which is
// what the terminal, `--json` and the web page show. A line no pattern knows stays a `note`.

export interface MachineState {
  machine: WatchedMachine;
  /** The state's path in the machine: 'idle', 'round.prevote'. */
  state: string;
  /** Where it stands: 't3', 'h2 r0 locked r0 9f2c1a', 'pool 4', 'h3 of 5'. */
  facts: string;
}

export type StepEvent = { text: string } & (
  | { kind: 'start' }
  | { kind: 'machines'; node: string; machines: MachineState[] }
  | { kind: 'transition'; node: string; machine: WatchedMachine; from: string; to: string; facts: string }
  /** The replica's own log of its election role; the `transition` of the election says the same. */
  | { kind: 'role'; node: string; from: string; to: string; term: number }
  | { kind: 'send'; node: string; to: string; message: string }
  | { kind: 'deliver'; node: string; from: string; message: string }
  | { kind: 'drop'; node: string; to: string; reason: string; message: string }
  | { kind: 'byzantine'; node: string; to: string | null; message: string }
  | { kind: 'timer'; node: string; timer: string }
  | { kind: 'client'; node: string; tx: string | null }
  | { kind: 'commit'; node: string; height: number; block: string; txs: number }
  | { kind: 'leader'; node: string; term: number; leader: string }
  | { kind: 'crash'; node: string; height: number | null }
  | { kind: 'restart'; node: string; incarnation: number; height: number | null }
  | { kind: 'fault'; node: string | null }
  | { kind: 'liveness' }
  | { kind: 'violation'; invariant: string; message: string }
  | { kind: 'log'; node: string }
  | { kind: 'note' }
);

export type StepEventKind = StepEvent['kind'];

export interface SimStep {
  /** The simulator's step number (0: the nodes start). */
  step: number;
  timeMs: number;
  /** The node the step happened to (the first event that names one), null for the network or clients. */
  node: string | null;
  events: StepEvent[];
}

function isWatched(name: string): name is WatchedMachine {
  return (WATCHED_MACHINES as readonly string[]).includes(name);
}

function optionalHeight(text: string | undefined): number | null {
  return text === undefined ? null : Number(text);
}

/** `election follower · t0 | pbft idle · h1 r0 | …` → the machines' states. */
function machineStates(list: string): MachineState[] | null {
  const states: MachineState[] = [];
  for (const part of list.split(' | ')) {
    const m = /^(\S+) (\S+)(?: · (.*))?$/.exec(part);
    if (m === null || !isWatched(m[1]!)) return null;
    states.push({ machine: m[1], state: m[2]!, facts: m[3] ?? '' });
  }
  return states;
}

/** The part of an event a pattern reads from its match; `text` (and `node`) are added by the reader. */
type Reading = { [K in StepEvent['kind']]: Omit<Extract<StepEvent, { kind: K }>, 'text'> }[StepEvent['kind']];
type NodeReading = Exclude<Reading, { kind: 'start' | 'liveness' | 'violation' | 'note' }>;
type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;
/** A pattern, tried in order: the first whose regular expression matches (and whose reader agrees) wins. */
type Pattern<R> = readonly [RegExp, (m: RegExpExecArray) => R | null];

/** Shapes of `<node> <rest>` lines: what the simulator and the replicas write about one node. */
const NODE_PATTERNS: readonly Pattern<DistributiveOmit<NodeReading, 'node'>>[] = [
  [/^← (\S+) (.*)$/, (m) => ({ kind: 'deliver', from: m[1]!, message: m[2]! })],
  [/^→ (\S+) (.*)$/, (m) => ({ kind: 'send', to: m[1] === '*' ? 'all' : m[1]!, message: m[2]! })],
  [/^⇢ (\S+) byzantine: (.*)$/, (m) => ({ kind: 'byzantine', to: m[1]!, message: m[2]! })],
  [/^byzantine: sent nothing$/, () => ({ kind: 'byzantine', to: null, message: 'sent nothing' })],
  [/^timer (\S+)$/, (m) => ({ kind: 'timer', timer: m[1]! })],
  [
    /^machine (\S+): (\S*) → (\S+) · (.*)$/,
    (m) =>
      isWatched(m[1]!) ? { kind: 'transition', machine: m[1], from: m[2]!, to: m[3]!, facts: m[4]! } : null,
  ],
  [
    /^machines: (.*)$/,
    (m) => {
      const machines = machineStates(m[1]!);
      return machines === null ? null : { kind: 'machines', machines };
    },
  ],
  [/^election: (\S*) → (\S+) t(\d+)$/, (m) => ({ kind: 'role', from: m[1]!, to: m[2]!, term: Number(m[3]) })],
  [
    /^commits h(\d+) (\S+) \((\d+) txs\)$/,
    (m) => ({ kind: 'commit', height: Number(m[1]), block: m[2]!, txs: Number(m[3]) }),
  ],
  [/^knows leader of term (\d+): (\S+)$/, (m) => ({ kind: 'leader', term: Number(m[1]), leader: m[2]! })],
  [/^crashes(?: at height (\d+))?$/, (m) => ({ kind: 'crash', height: optionalHeight(m[1]) })],
  [
    /^restarts \(incarnation (\d+)\)(?: at height (\d+))?$/,
    (m) => ({ kind: 'restart', incarnation: Number(m[1]), height: optionalHeight(m[2]) }),
  ],
  [/^(will crash inside its next step|torn crash:|restored height )/, () => ({ kind: 'fault' })],
];

/** Shapes of the simulator's own lines: clients, the network, faults, the checker. */
const LINE_PATTERNS: readonly Pattern<Reading>[] = [
  [/^start /, () => ({ kind: 'start' })],
  [/^✗ (\S+): (.*)$/, (m) => ({ kind: 'violation', invariant: m[1]!, message: m[2]! })],
  [/^client → (n\d+): refused/, (m) => ({ kind: 'client', node: m[1]!, tx: null })],
  [/^client → (n\d+) tx (\S+)$/, (m) => ({ kind: 'client', node: m[1]!, tx: m[2]! })],
  [
    /^drop (n\d+)→(n\d+) \((.+?)\) (.*)$/,
    (m) => ({ kind: 'drop', node: m[1]!, to: m[2]!, reason: m[3]!, message: m[4]! }),
  ],
  [
    /^(partition|partition heals|heal): |^link n\d+→n\d+ |^crash leader: /,
    () => ({ kind: 'fault', node: null }),
  ],
  [/^crash (n\d+): /, (m) => ({ kind: 'fault', node: m[1]! })],
  [/^liveness/, () => ({ kind: 'liveness' })],
];

function firstReading<R>(patterns: readonly Pattern<R>[], text: string): R | null {
  for (const [regex, read] of patterns) {
    const m = regex.exec(text);
    const reading = m === null ? null : read(m);
    if (reading !== null) return reading;
  }
  return null;
}

/** One trace line's text (after `#step time`) as an event. */
export function parseEvent(text: string): StepEvent {
  const reading = firstReading(LINE_PATTERNS, text);
  if (reading !== null) return { text, ...reading };
  const m = /^(n\d+) (.*)$/.exec(text);
  if (m === null) return { text, kind: 'note' };
  const node = m[1]!;
  const about = firstReading(NODE_PATTERNS, m[2]!);
  return about === null ? { text, kind: 'log', node } : { text, node, ...about };
}

/** The node an event is about, if any. */
export function nodeOf(event: StepEvent): string | null {
  return 'node' in event ? event.node : null;
}

/** Trace lines (`#<step> <time>ms <text>`, oldest first) as steps. */
export function stepsOf(trace: readonly string[]): SimStep[] {
  const steps: SimStep[] = [];
  let current: SimStep | null = null;
  for (const line of trace) {
    const m = /^#(\d+) (\d+(?:\.\d+)?)ms (.*)$/.exec(line);
    if (m === null) throw new Error(`not a trace line: ${line}`);
    const step = Number(m[1]);
    const event = parseEvent(m[3]!);
    if (current === null || current.step !== step) {
      current = { step, timeMs: Number(m[2]), node: null, events: [] };
      steps.push(current);
    }
    current.events.push(event);
    current.node ??= nodeOf(event);
  }
  return steps;
}

/** The step with only the events about these nodes (`--node`); null when none is left. */
export function stepAbout(step: SimStep, nodes: ReadonlySet<string>): SimStep | null {
  const events = step.events.filter((e) => {
    const node = nodeOf(e);
    return node !== null && nodes.has(node);
  });
  if (events.length === 0) return null;
  return { ...step, node: nodeOf(events[0]!), events };
}
