import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AnyStateMachine } from 'xstate';
import { outlineOf } from '../../docs/statecharts/outline.ts';
import { electionMachine } from '../../machines/election.ts';
import { pbftRoundMachine } from '../../machines/pbft-round.ts';
import { excerptsOf, refreshExcerpts } from '../../sim/present/doc-excerpts.ts';
import { REPO } from './run-sim.ts';

// The tutorial and the walk-throughs teach from real runs and real names: every excerpt of
// `itchain sim` output in the tutorial is what the command prints now, every page it links exists,
// and every guard, action, event or state the walk-throughs name in backticks is in the machine.

const TUTORIAL = join(REPO, 'docs/pbft-and-raft-from-the-diagrams.md');
const REFRESH = 'npx tsx sim/present/doc-excerpts.ts docs/pbft-and-raft-from-the-diagrams.md';

describe('docs/pbft-and-raft-from-the-diagrams.md', () => {
  const markdown = readFileSync(TUTORIAL, 'utf8');

  it('quotes runs of both protocols, with the block and the election seeds', () => {
    const commands = excerptsOf(markdown).map((e) => e.args);
    expect(commands.some((c) => c.startsWith('--scenario calm --seed 1'))).toBe(true);
    expect(commands.some((c) => c.startsWith('--scenario leader-crash --seed 4'))).toBe(true);
  });

  it('shows exactly what `itchain sim` prints for each excerpt (stale: run the refresh command)', async () => {
    const { stale } = await refreshExcerpts(markdown);
    expect(stale, `stale excerpts; refresh with \`${REFRESH}\` and reread the prose around them`).toEqual([]);
  });

  it('links only to pages that exist', () => {
    const links = [...markdown.matchAll(/\]\(([^)#]+\.md)\)/g)].map((m) => m[1]!);
    expect(links).toEqual(
      expect.arrayContaining([
        'statecharts/election.md',
        'statecharts/pbft-round.md',
        'statecharts/batching.md',
      ]),
    );
    for (const link of links) expect(existsSync(join(dirname(TUTORIAL), link)), link).toBe(true);
  });
});

/** Every name a reader can look up in the machine: guards, actions, events, states. */
function namesIn(machine: AnyStateMachine): Set<string> {
  const outline = outlineOf(machine);
  const names = new Set<string>([
    ...Object.keys(machine.implementations.guards),
    ...Object.keys(machine.implementations.actions),
  ]);
  for (const t of outline.transitions) {
    names.add(t.event);
    for (const part of (t.guard ?? '').split(/ and | or |not /)) if (part) names.add(part.trim());
  }
  for (const s of outline.states) {
    names.add(s.path.join('.'));
    names.add(s.path.at(-1)!);
  }
  return names;
}

const WALK_THROUGHS: [string, AnyStateMachine, string[]][] = [
  // Names from outside the machine's definition: its context and effects, other machines' events.
  ['election', electionMachine, ['votedFor', 'UpdateLeader']],
  ['pbft-round', pbftRoundMachine, ['height', 'round', 'pbft.commit', 'pbft.equivocation']],
];

describe.each(WALK_THROUGHS)('docs/statecharts/prose/%s.md', (name, machine, outside) => {
  it('names only guards, actions, events and states the machine has', () => {
    const prose = readFileSync(join(REPO, `docs/statecharts/prose/${name}.md`), 'utf8');
    const known = namesIn(machine);
    const named = [...prose.matchAll(/`([A-Za-z_.]+)`/g)].map((m) => m[1]!);
    const unknown = named.filter((n) => !known.has(n) && !outside.includes(n) && !n.includes('/'));
    expect(unknown).toEqual([]);
    expect(named.length).toBeGreaterThan(15);
  });
});
