import type { Level } from './levels.ts';

// The table `npm run bench` prints: one row per level of the rate search, then the figures.

const HEADER = [
  'offered/s',
  'acked/s',
  'commit/s',
  'blocks/s',
  'p50 ms',
  'p99 ms',
  'backlog/s',
  'cores',
  'ms/tx',
  'ok',
];
const WIDTHS = [9, 8, 8, 8, 7, 7, 9, 5, 6, 3];

function row(cells: readonly (string | number | null)[]): string {
  return cells.map((cell, i) => String(cell ?? '—').padStart(WIDTHS[i]!)).join('  ');
}

export function table(report: { title: string; levels: readonly Level[]; lines: readonly string[] }): string {
  const rows = report.levels.map((l) =>
    row([
      l.offeredPerSec,
      l.ackedPerSec,
      l.committedPerSec,
      l.blocksPerSec,
      l.p50Ms,
      l.p99Ms,
      l.backlogGrowthPerSec,
      l.nodeCores,
      l.cpuMsPerTx,
      l.sustainable ? 'yes' : 'no',
    ]),
  );
  return ['', report.title, '', row(HEADER), ...rows, '', ...report.lines, ''].join('\n');
}
