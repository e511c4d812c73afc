import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { runJson, stepJson, summaryJson } from './json-lines.ts';
import type { PresentedRun } from './run.ts';
import { type SimStep, stepAbout } from './steps.ts';
import { headerLines, layoutOf, stepLines, summaryLines, TextPainter, watchesMachines } from './text.ts';

// Plays a run in the terminal: the header, the steps (text or JSON lines), the summary. Pacing is
// for people watching: `speed` spaces the steps out by their virtual time, `step` waits for Enter
// after each step — both only when stdout is a TTY (and `step` only when stdin is one too), so a run
// piped into a file or another program comes out at once, and the same every time.

export interface Terminal {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface KeyboardInput extends NodeJS.ReadableStream {
  readonly isTTY?: boolean;
}

export interface PlayOptions {
  json: boolean;
  brief: boolean;
  color: boolean;
  /** Show only what happens to these nodes (null: every node). */
  nodes: ReadonlySet<string> | null;
  /** Show only the steps from this virtual time on / up to it (the summary covers the whole run). */
  fromMs: number | null;
  untilMs: number | null;
  /** Virtual ms per wall ms (1: real time); null: no pacing. */
  speed: number | null;
  step: boolean;
  replay: string;
  out: Terminal;
  input: KeyboardInput;
}

/** Waits for Enter; `c` runs on without stopping, `q` skips to the summary. */
class StepGate {
  private readonly lines: AsyncIterator<string>;
  private readonly close: () => void;

  constructor(input: KeyboardInput) {
    const rl = createInterface({ input, terminal: false });
    this.lines = rl[Symbol.asyncIterator]();
    this.close = () => rl.close();
  }

  async next(): Promise<'next' | 'continue' | 'quit'> {
    const line = await this.lines.next();
    if (line.done) return 'continue';
    const answer = line.value.trim().toLowerCase();
    return answer === 'q' ? 'quit' : answer === 'c' ? 'continue' : 'next';
  }

  end(): void {
    this.close();
  }
}

function visible(step: SimStep, options: PlayOptions): boolean {
  return (
    (options.fromMs === null || step.timeMs >= options.fromMs) &&
    (options.untilMs === null || step.timeMs <= options.untilMs)
  );
}

export async function playRun(run: PresentedRun, options: PlayOptions): Promise<void> {
  const { out } = options;
  const painter = new TextPainter(options.color);
  const layout = layoutOf(run);
  const roles = !watchesMachines(run);
  const tty = out.isTTY === true;
  const pace = tty && options.speed !== null ? options.speed : null;
  let gate = tty && options.step && options.input.isTTY === true ? new StepGate(options.input) : null;
  const paced = pace !== null || gate !== null;

  // Unpaced output is gathered and written in large pieces: one write per step is slow on a pipe.
  let buffer = '';
  const emit = (text: string) => {
    buffer += text;
    if (paced || buffer.length > 1 << 16) {
      out.write(buffer);
      buffer = '';
    }
  };

  emit(options.json ? `${runJson(run)}\n` : `${headerLines(run, painter).join('\n')}\n`);
  const shown = run.steps.filter((s) => visible(s, options));
  let lastTime = shown[0]?.timeMs ?? 0;
  try {
    for (const [i, whole] of shown.entries()) {
      const step = options.nodes === null ? whole : stepAbout(whole, options.nodes);
      if (step === null) continue;
      const lines = options.json
        ? [stepJson(step)]
        : stepLines(step, layout, painter, { brief: options.brief, roles });
      if (lines.length === 0) continue;
      if (pace !== null && step.timeMs > lastTime) await sleep((step.timeMs - lastTime) / pace);
      lastTime = step.timeMs;
      emit(`${lines.join('\n')}\n`);
      if (gate !== null && i < shown.length - 1) {
        out.write(
          painter.paint(
            `── step ${step.step} of ${run.result.steps} · Enter: next · c: run on · q: summary `,
            'dim',
          ),
        );
        const answer = await gate.next();
        out.write('\u001b[1A\r\u001b[K');
        if (answer === 'quit') break;
        if (answer === 'continue') {
          gate.end();
          gate = null;
        }
      }
    }
  } finally {
    gate?.end();
  }
  emit(
    options.json
      ? `${summaryJson(run, options.replay)}\n`
      : `${summaryLines(run, painter, options.replay).join('\n')}\n`,
  );
  out.write(buffer);
}
