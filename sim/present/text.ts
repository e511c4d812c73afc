import { describeScenario } from '../scenario.ts';
import { short } from '../trace.ts';
import type { PresentedRun } from './run.ts';
import type { SimStep, StepEvent } from './steps.ts';

// A run as terminal text: a header, then each step — its number and virtual time, then one line per
// thing that happened in it, each with the node it happened to — and a summary. Plain text unless
// `color` is set (the command sets it only when stdout is a TTY), and nothing in it depends on the
// wall clock or the terminal, so the same seed prints the same bytes.
//
//   #23   100ms  n0  ← client   tx 08bc8c
//                n0  pbft       idle → round.propose · h1 r0
//                n0  → all      proposal h1 r0 ec3585 [1 txs] by n0
//                n0  → n2 ✗     prevote h1 r0 ec3585 by n0 (loss)

const ESC = '\u001b[';
const RESET = `${ESC}0m`;
type Tone = 'dim' | 'bold' | 'red' | 'green' | 'yellow' | 'blue' | 'magenta' | 'cyan' | 'alarm';
const TONES: Record<Tone, string> = {
  dim: '2',
  bold: '1',
  red: '1;31',
  green: '1;32',
  yellow: '33',
  blue: '34',
  magenta: '1;35',
  cyan: '36',
  alarm: '1;97;41',
};
/** Each node keeps one colour for its name, so a reader can follow it down the page. */
const NODE_TONES = ['36', '35', '33', '34', '96', '95', '93', '94', '32', '91'];

export class TextPainter {
  constructor(private readonly color: boolean) {}

  paint(text: string, tone: Tone | null): string {
    if (!this.color || tone === null || text === '') return text;
    return `${ESC}${TONES[tone]}m${text}${RESET}`;
  }

  node(name: string, width: number): string {
    const padded = name.padEnd(width);
    const index = Number(name.slice(1));
    if (!this.color || !/^n\d+$/.test(name)) return padded;
    return `${ESC}${NODE_TONES[index % NODE_TONES.length]}m${padded}${RESET}`;
  }
}

interface Line {
  node: string;
  verb: string;
  detail: string;
  tone: Tone | null;
  /** Tone of the verb when it differs from the line's. */
  verbTone?: Tone | null;
}

/** What brief mode shows: the events that change a node, the network or the verdict. */
export const NOTABLE_KINDS: ReadonlySet<StepEvent['kind']> = new Set([
  'start',
  'machines',
  'transition',
  'commit',
  'leader',
  'crash',
  'restart',
  'fault',
  'liveness',
  'violation',
  'byzantine',
]);

/** Whether brief mode shows an event: a silent node's "sent nothing" is only noise. */
export function isNotable(event: StepEvent): boolean {
  return NOTABLE_KINDS.has(event.kind) && !(event.kind === 'byzantine' && event.to === null);
}

/** What makes a step happen; brief mode shows it above what changed. */
const CAUSE_KINDS: ReadonlySet<StepEvent['kind']> = new Set([
  'deliver',
  'timer',
  'client',
  'crash',
  'restart',
  'fault',
  'liveness',
  'start',
]);

/** Fault lines by their words: what the verb column calls them, and the rest. */
const FAULT_WORDS: readonly [RegExp, string, (m: RegExpExecArray) => string][] = [
  [/^partition heals: (.*)$/, 'HEALED', (m) => `partition ${m[1]}`],
  [/^partition: (.*)$/, 'PARTITION', (m) => m[1]!],
  [/^heal: (.*)$/, 'HEAL', (m) => m[1]!],
  [/^link (.*)$/, 'LINK', (m) => m[1]!],
  [/^crash \S+: (.*)$/, 'CRASH', (m) => m[1]!],
  [/^restored height.*$/, 'RESTART', (m) => m[0]],
];

function faultLine(event: StepEvent & { kind: 'fault' }): Line {
  const node = event.node ?? '';
  const rest =
    event.node !== null && event.text.startsWith(`${event.node} `)
      ? event.text.slice(node.length + 1)
      : event.text;
  for (const [regex, verb, detail] of FAULT_WORDS) {
    const m = regex.exec(rest);
    if (m !== null) return { node, verb, detail: detail(m), tone: 'red' };
  }
  return { node, verb: 'CRASH', detail: rest, tone: 'red' };
}

function lineOf(event: StepEvent): Line {
  switch (event.kind) {
    case 'start':
      return { node: '', verb: 'start', detail: event.text.slice('start '.length), tone: 'bold' };
    case 'machines':
      return {
        node: event.node,
        verb: 'starts',
        detail: event.machines.map((m) => `${m.machine} ${m.state} (${m.facts})`).join(' · '),
        tone: 'dim',
      };
    case 'transition':
      return {
        node: event.node,
        verb: event.machine,
        // The same state again: a new term, round or height (a re-entered candidate, a later round).
        detail:
          event.from === event.to
            ? `stays ${event.to} · ${event.facts}`
            : `${event.from} → ${event.to} · ${event.facts}`,
        tone: 'yellow',
        verbTone: 'bold',
      };
    case 'role':
      return {
        node: event.node,
        verb: 'election',
        detail: `${event.from || '(start)'} → ${event.to} · t${event.term}`,
        tone: 'yellow',
      };
    case 'send':
      return { node: event.node, verb: `→ ${event.to}`, detail: event.message, tone: null, verbTone: 'blue' };
    case 'deliver':
      return {
        node: event.node,
        verb: `← ${event.from}`,
        detail: event.message,
        tone: null,
        verbTone: 'cyan',
      };
    case 'drop':
      return {
        node: event.node,
        verb: `→ ${event.to} ✗`,
        detail: `${event.message} (${event.reason})`,
        tone: 'dim',
        verbTone: 'red',
      };
    case 'byzantine':
      return {
        node: event.node,
        verb: event.to === null ? 'byzantine' : `⇢ ${event.to} byz`,
        detail: event.message,
        tone: 'magenta',
      };
    case 'timer':
      return { node: event.node, verb: 'timer', detail: event.timer, tone: 'yellow' };
    case 'client':
      return {
        node: event.node,
        verb: '← client',
        detail: event.tx === null ? 'refused: the node is down' : `tx ${event.tx}`,
        tone: null,
        verbTone: 'dim',
      };
    case 'commit':
      return {
        node: event.node,
        verb: 'COMMIT',
        detail: `h${event.height} ${event.block} · ${event.txs} tx${event.txs === 1 ? '' : 's'}`,
        tone: 'green',
      };
    case 'leader':
      return {
        node: event.node,
        verb: 'leader',
        detail: `${event.leader} leads term ${event.term}`,
        tone: 'magenta',
      };
    case 'crash':
      return {
        node: event.node,
        verb: 'CRASH',
        detail: event.height === null ? 'down' : `down at height ${event.height}: only its disk survives`,
        tone: 'red',
      };
    case 'restart':
      return {
        node: event.node,
        verb: 'RESTART',
        detail: `incarnation ${event.incarnation}${event.height === null ? '' : `, height ${event.height} read back from its disk`}`,
        tone: 'red',
      };
    case 'fault':
      return faultLine(event);
    case 'liveness':
      return { node: '', verb: 'liveness', detail: event.text.replace(/^liveness:? ?/, ''), tone: 'cyan' };
    case 'violation':
      return { node: '!!', verb: 'VIOLATION', detail: `${event.invariant}: ${event.message}`, tone: 'alarm' };
    case 'log':
      return { node: event.node, verb: '', detail: event.text.slice(event.node.length + 1), tone: 'dim' };
    case 'note':
      return { node: '', verb: '', detail: event.text, tone: 'dim' };
  }
}

/** Column widths, from the whole run, so every step lines up with every other. */
export interface TextLayout {
  step: number;
  time: number;
  node: number;
}

const VERB_WIDTH = 10;

export function layoutOf(run: PresentedRun): TextLayout {
  const last = run.steps.at(-1);
  return {
    step: `#${last?.step ?? 0}`.length,
    time: `${Math.max(run.result.virtualTimeMs, last?.timeMs ?? 0)}ms`.length,
    node: Math.max(2, ...run.nodeNames.map((n) => n.length)),
  };
}

/**
 * The lines of one step, or none when brief mode has nothing to show for it. `roles`: show the
 * replica's own election log lines (only when no machine transitions are being watched).
 */
export function stepLines(
  step: SimStep,
  layout: TextLayout,
  painter: TextPainter,
  options: { brief: boolean; roles: boolean },
): string[] {
  let events = step.events.filter((e) => e.kind !== 'role' || options.roles);
  if (options.brief) {
    if (!events.some(isNotable)) return [];
    const cause = events.find((e) => CAUSE_KINDS.has(e.kind)) ?? events[0];
    events = events.filter((e) => e === cause || isNotable(e));
  }
  const head = `${`#${step.step}`.padEnd(layout.step)} ${`${step.timeMs}ms`.padStart(layout.time)}`;
  const blank = ' '.repeat(head.length);
  return events.map((event, i) => {
    const line = lineOf(event);
    const verbTone = line.verbTone === undefined ? line.tone : line.verbTone;
    const verb = painter.paint(line.verb.padEnd(VERB_WIDTH), verbTone);
    const lead = i === 0 ? painter.paint(head, 'dim') : blank;
    return `${lead}  ${painter.node(line.node, layout.node)}  ${verb} ${painter.paint(line.detail, line.tone)}`.trimEnd();
  });
}

/** Whether a run shows machine transitions (the watched real wiring) rather than role log lines. */
export function watchesMachines(run: PresentedRun): boolean {
  return run.steps.some((s) => s.events.some((e) => e.kind === 'machines' || e.kind === 'transition'));
}

export function headerLines(run: PresentedRun, painter: TextPainter): string[] {
  const s = run.scenario;
  return [
    painter.paint(
      `itchain sim · scenario ${s.name} · seed ${run.seed} · ${s.nodes} nodes · wiring ${run.result.wiring}`,
      'bold',
    ),
    ...(s.description ? [`  ${s.description}`] : []),
    painter.paint(`  ${describeScenario(s)}`, 'dim'),
    '',
  ];
}

function plural(n: number, word: string, words = `${word}s`): string {
  return `${n} ${n === 1 ? word : words}`;
}

function blocksText(run: PresentedRun): string {
  const blocks = run.result.blocks;
  if (blocks.length === 0) return 'none committed';
  const one = (b: (typeof blocks)[number]) =>
    `h${b.height} ${short(b.blockHash)} (${plural(b.txIds.length, 'tx')})`;
  const shown =
    blocks.length <= 6
      ? blocks.map(one)
      : [...blocks.slice(0, 3).map(one), '…', ...blocks.slice(-2).map(one)];
  const txs = blocks.reduce((n, b) => n + b.txIds.length, 0);
  return `${blocks.length} committed, ${plural(txs, 'tx')}: ${shown.join(' · ')}`;
}

function nodesText(run: PresentedRun): string {
  return run.result.nodes
    .map((n) => {
      const byz = n.honest ? '' : ' byzantine';
      if (n.status === null) return `${n.name}${byz} down`;
      const role = n.status.role ? ` ${n.status.role}` : '';
      const term = n.status.term === undefined ? '' : ` t${n.status.term}`;
      return `${n.name}${byz} h${n.status.height}${role}${term}`;
    })
    .join(' · ');
}

function networkText(run: PresentedRun): string {
  const net = run.result.stats.network;
  const dropped = Object.values(net.dropped).reduce((a, b) => a + b, 0);
  const reasons = Object.entries(net.dropped)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${reason} ${n}`);
  return (
    `${net.sent} sent · ${net.delivered} delivered · ${net.duplicated} duplicated · ${dropped} dropped` +
    (reasons.length ? ` (${reasons.join(', ')})` : '')
  );
}

function livenessText(run: PresentedRun): string {
  const probe = run.result.liveness;
  if (probe === null) {
    return run.result.violations.length > 0
      ? 'not probed: the run stopped at the violation'
      : 'not probed (no tx reached an honest node after the heal)';
  }
  const broke = run.result.violations.some((v) => v.invariant === 'liveness');
  const verdict = broke ? 'not met' : probe.checked ? 'met' : 'not reached (the run stopped first)';
  return `tx ${short(probe.txId)} sent to n${probe.to} at ${probe.submittedAt}ms must be committed by every honest node by ${probe.deadline}ms: ${verdict}`;
}

export function summaryLines(run: PresentedRun, painter: TextPainter, replay: string): string[] {
  const r = run.result;
  const row = (label: string, text: string, tone: Tone | null = null) =>
    `${painter.paint(label.padEnd(13), 'bold')}${painter.paint(text, tone)}`;
  const violations =
    r.violations.length === 0
      ? [row('violations', 'none', 'green')]
      : r.violations.map((v, i) =>
          row(
            i === 0 ? 'violations' : '',
            `✗ ${v.invariant} at step ${v.step} (${v.timeMs}ms): ${v.message}`,
            'red',
          ),
        );
  return [
    '',
    painter.paint(`── summary: ${run.scenario.name}, seed ${run.seed} ──`, 'bold'),
    row('blocks', blocksText(run), r.blocks.length > 0 ? 'green' : null),
    row('nodes', nodesText(run)),
    row('network', networkText(run)),
    row(
      'faults',
      `${plural(r.stats.crashes, 'crash', 'crashes')} · ${plural(r.stats.restarts, 'restart')} · ` +
        `${plural(r.stats.byzantineRewrites, 'byzantine rewrite')} · ${r.stats.txsSubmitted} txs submitted, ${r.stats.txsRefused} refused`,
    ),
    row('liveness', livenessText(run)),
    row('run', `${r.virtualTimeMs}ms virtual · ${r.steps} steps · trace sha256 ${r.traceHash.slice(0, 16)}`),
    ...violations,
    row('replay', replay),
  ];
}
