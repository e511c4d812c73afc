// docs/statecharts is generated from the machine definitions and must never drift from them.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { documentedMachines } from '../../docs/statecharts/machines.ts';
import { outlineOf } from '../../docs/statecharts/outline.ts';
import { expectedPages, STATECHARTS_DIR, stalePages } from '../../docs/statecharts/pages.ts';
import { mermaidOf } from '../../docs/statecharts/render.ts';
import { batchingMachine } from '../../machines/batching.ts';
import { syncMachine } from '../../machines/sync.ts';

const scratch = mkdtempSync(join(tmpdir(), 'statecharts-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function generate(...args: string[]) {
  return spawnSync(join('node_modules', '.bin', 'tsx'), ['docs/statecharts/generate.ts', ...args], {
    encoding: 'utf8',
  });
}

describe('docs/statecharts', () => {
  it('every page matches what the generator would write now', () => {
    const stale = stalePages(STATECHARTS_DIR).map((page) => `docs/statecharts/${page.file}`);
    expect(stale, 'these pages are stale: run `npm run diagrams` and commit the result').toEqual([]);
  });

  it('generates the same bytes every time', () => {
    expect(expectedPages()).toEqual(expectedPages());
  });

  it('draws every transition of the sync and batching machines with its event, guard and actions', () => {
    for (const machine of [syncMachine, batchingMachine]) {
      const outline = outlineOf(machine);
      const diagram = mermaidOf(outline);
      for (const t of outline.transitions) {
        if (t.event !== 'always') expect(diagram).toContain(t.event);
        if (t.guard) expect(diagram).toContain(`[${t.guard}]`);
        if (t.actions.length) expect(diagram).toContain(`/ ${t.actions.join(', ')}`);
      }
      expect(
        diagram.split('\n').filter((line) => line.includes('-->') && !line.includes('[*]')),
      ).toHaveLength(outline.transitions.reduce((n, t) => n + Math.max(1, t.targetIds.length), 0));
    }
  });

  it('each page includes its hand-written walk-through', () => {
    for (const name of ['sync', 'batching']) {
      const prose = readFileSync(join(STATECHARTS_DIR, 'prose', `${name}.md`), 'utf8').trim();
      const page = expectedPages().find((p) => p.file === `${name}.md`);
      expect(page?.content).toContain(prose);
    }
  });

  it('a hand-edited page counts as stale', () => {
    const pages = expectedPages(documentedMachines.filter((d) => d.name === 'sync'));
    for (const page of pages) writeFileSync(join(scratch, page.file), page.content);
    expect(stalePages(scratch, pages)).toEqual([]);
    writeFileSync(join(scratch, 'sync.md'), `${pages[1]?.content}\nedited by hand\n`);
    expect(stalePages(scratch, pages).map((p) => p.file)).toEqual(['sync.md']);
  });

  it('`diagrams --check` exits non-zero and names stale pages, and zero once they are written', () => {
    const out = join(scratch, 'out');
    const before = generate('--check', '--out', out);
    expect(before.status).toBe(1);
    expect(before.stderr).toContain('stale:');
    expect(before.stderr).toContain('npm run diagrams');
    expect(generate('--out', out).status).toBe(0);
    const after = generate('--check', '--out', out);
    expect(after.stderr).toBe('');
    expect(after.status).toBe(0);
  });
});
