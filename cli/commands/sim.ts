import type { Command } from 'commander';
import type { KeyboardInput, Terminal } from '../../sim/present/player.ts';
import { listing } from '../listing.ts';
import { integerOption, UsageError } from '../option-checks.ts';

// `itchain sim`: one deterministic simulated run of the real replica (the four machines, as the node
// runs them), shown step by step: virtual time, the node, messages sent, delivered and lost, each
// machine's state changes, commits, leaders, crashes and partitions, then a summary. The same seed
// prints the same bytes. `--web` shows the same run in a local page with play/step/pause.
// Exit status: 0 no violation, 1 bad options, 2 the invariant checker found a violation.

interface SimFlags {
  scenario: string;
  seed: string;
  nodes?: string;
  list?: boolean;
  brief?: boolean;
  node?: string;
  from?: string;
  until?: string;
  json?: boolean;
  speed?: string;
  step?: boolean;
  color: boolean;
  web?: boolean;
  port: string;
  wiring?: string;
  variant?: string;
}

export const VIOLATION_EXIT_CODE = 2;
const MAX_SEED = 2 ** 31 - 1;
const MAX_MS = 10_000_000;

function speedOption(text: string): number {
  const value = /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!(value >= 0.001 && value <= 1000)) {
    throw new UsageError('--speed must be a number from 0.001 to 1000 (1: virtual time plays in real time)');
  }
  return value;
}

function nodeNamesOption(text: string, count: number): Set<string> {
  const names = text.split(',').map((name) => name.trim());
  for (const name of names) {
    if (!/^n\d+$/.test(name) || Number(name.slice(1)) >= count) {
      throw new UsageError(`--node ${name}: the scenario's nodes are n0 to n${count - 1}`);
    }
  }
  return new Set(names);
}

/** Where the command reads and writes: the process's own streams, or (for doc excerpts) others. */
export interface SimIo {
  out: Terminal;
  input: KeyboardInput;
  setExitCode(code: number): void;
}

const PROCESS_IO: SimIo = {
  out: process.stdout,
  input: process.stdin,
  setExitCode: (code) => {
    process.exitCode = code;
  },
};

export function registerSim(program: Command, io: SimIo = PROCESS_IO): void {
  program
    .command('sim')
    .description('run the deterministic simulator and show the run step by step (same seed, same run)')
    .option('--scenario <name>', 'a named scenario (--list shows them), or "generated" from the seed', 'calm')
    .option('--seed <n>', `the run's seed, 0 to ${MAX_SEED}`, '1')
    .option(
      '--nodes <n>',
      "number of nodes; must match a scenario that names its nodes (default: the scenario's)",
    )
    .option('--list', 'list the scenarios, one line each, and exit')
    .option(
      '--brief',
      'only the steps that change something (states, leaders, commits, faults), each with its cause',
    )
    .option('--node <names>', 'show only what happens to these nodes, e.g. n2 or n0,n2')
    .option('--from <ms>', 'show the steps from this virtual time on')
    .option('--until <ms>', 'show the steps up to this virtual time')
    .option('--json', 'one JSON object per line: the run, every step, the summary')
    .option('--speed <x>', 'on a TTY, play at x times virtual time (1: real time; default: no pacing)')
    .option('--step', 'on a TTY, wait for Enter after each step (c: run on, q: skip to the summary)')
    .option('--no-color', 'no colours, even on a TTY')
    .option('--web', 'serve the run on 127.0.0.1 as a page with play, step and pause, until Ctrl-C')
    .option('--port <n>', 'port for --web (0: any free port)', '0')
    .option(
      '--variant <name>',
      'the real replica with one fix over the 2018 original undone: original-quorum, no-locking, no-election-quorum',
    )
    .option(
      '--wiring <module>',
      'simulate another protocol: a module exporting `wiring` (default: the real replica, sim/wiring.ts)',
    )
    .action(async (flags: SimFlags) => {
      const { scenarioList } = await import('../../sim/present/scenario-choice.ts');
      if (flags.list) {
        io.out.write(
          `${['Scenarios (itchain sim --scenario NAME --seed S):', ...listing(scenarioList())].join('\n')}\n`,
        );
        return;
      }
      const seed = integerOption('--seed', flags.seed, 0, MAX_SEED);
      const nodes = flags.nodes === undefined ? undefined : integerOption('--nodes', flags.nodes, 1, 100);
      const fromMs = flags.from === undefined ? null : integerOption('--from', flags.from, 0, MAX_MS);
      const untilMs = flags.until === undefined ? null : integerOption('--until', flags.until, 0, MAX_MS);
      const speed = flags.speed === undefined ? null : speedOption(flags.speed);
      const port = integerOption('--port', flags.port, 0, 65_535);
      if (flags.web) {
        const terminalOnly = ['json', 'step', 'speed', 'brief', 'node', 'from', 'until'] as const;
        const clash = terminalOnly.find((name) => flags[name] !== undefined);
        if (clash) throw new UsageError(`--${clash} is for the terminal; --web has its own controls`);
      }
      if (fromMs !== null && untilMs !== null && untilMs < fromMs) {
        throw new UsageError('--until must not be before --from');
      }

      const { chooseScenario } = await import('../../sim/present/scenario-choice.ts');
      const scenario = chooseScenario(flags.scenario, seed, nodes);
      const shownNodes = flags.node === undefined ? null : nodeNamesOption(flags.node, scenario.nodes);
      const { loadRunWiring } = await import('../../sim/present/run-wiring.ts');
      const wiring = await loadRunWiring({ variant: flags.variant, module: flags.wiring });
      const { presentRun, replayCommand } = await import('../../sim/present/run.ts');
      const run = presentRun(scenario, seed, wiring);
      const replay = replayCommand(run, { variant: flags.variant, module: flags.wiring });
      const violated = run.result.violations.length > 0;

      if (flags.web) {
        const { serveRun } = await import('../../sim/present/web-server.ts');
        const { summaryLines, TextPainter } = await import('../../sim/present/text.ts');
        const server = await serveRun(run, { port, replay });
        const painter = new TextPainter(flags.color && io.out.isTTY === true);
        io.out.write(
          `${[
            `itchain sim · ${scenario.name} · seed ${seed}: the run is served at ${server.url}`,
            ...summaryLines(run, painter, replay),
            '',
            `Open ${server.url} in a browser (play, step, pause). Ctrl-C stops the server.`,
          ].join('\n')}\n`,
        );
        if (violated) io.setExitCode(VIOLATION_EXIT_CODE);
        await new Promise<void>((resolve) => {
          const stop = () => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            server.close().then(resolve, resolve);
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
        return;
      }

      const { playRun } = await import('../../sim/present/player.ts');
      await playRun(run, {
        json: flags.json === true,
        brief: flags.brief === true,
        nodes: shownNodes,
        color: flags.color && io.out.isTTY === true && !process.env.NO_COLOR,
        fromMs,
        untilMs,
        speed,
        step: flags.step === true,
        replay,
        out: io.out,
        input: io.input,
      });
      if (violated) io.setExitCode(VIOLATION_EXIT_CODE);
    });
}
