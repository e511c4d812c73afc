// Renders a machine's page for docs/statecharts: the hand-written walk-through, then a Mermaid
// stateDiagram-v2 drawn from the machine definition (guards and actions on the arrows), then tables of
// states and transitions. Pure and deterministic: same machine and prose, same bytes.

import type { AnyStateMachine } from 'xstate';
import {
  ALWAYS,
  type MachineOutline,
  outlineOf,
  type StateOutline,
  type TransitionOutline,
} from './outline.ts';

export interface DocumentedMachine {
  /** File name of the page: docs/statecharts/<name>.md, prose in prose/<name>.md. */
  name: string;
  title: string;
  /** The machine's source file, from the repository root. */
  source: string;
  machine: AnyStateMachine;
}

const ANY = 'ANY';

function statesById(outline: MachineOutline): Map<string, StateOutline> {
  return new Map(outline.states.map((s) => [s.id, s]));
}

function mermaidId(outline: MachineOutline, id: string, states: Map<string, StateOutline>): string {
  if (id === outline.rootId) return ANY;
  const state = states.get(id);
  if (!state) throw new Error(`unknown state ${id}`);
  return state.path.join('_').replace(/[^A-Za-z0-9_]/g, '_');
}

/** A state's name as a reader says it: its path inside the machine. */
function localName(outline: MachineOutline, id: string, states: Map<string, StateOutline>): string {
  return id === outline.rootId ? 'any state' : (states.get(id)?.path.join('.') ?? id);
}

// Mermaid reads ';' as a statement end and '#' as an entity start; keep labels to plain text.
function plain(text: string): string {
  return text.replace(/[;#]/g, ' ').replace(/\s+/g, ' ').trim();
}

function arrowLabel(t: TransitionOutline): string {
  const parts: string[] = [];
  if (t.event !== ALWAYS) parts.push(t.event);
  if (t.guard) parts.push(`[${t.guard}]`);
  if (t.actions.length) parts.push(`/ ${t.actions.join(', ')}`);
  if (t.reenter) parts.push('(re-enters)');
  return plain(parts.join(' '));
}

function ancestorsOf(id: string, outline: MachineOutline, states: Map<string, StateOutline>): string[] {
  const chain: string[] = [];
  for (let at: string | null = id; at !== null; at = states.get(at)?.parentId ?? null) {
    chain.push(at);
    if (at === outline.rootId) break;
  }
  if (chain[chain.length - 1] !== outline.rootId) chain.push(outline.rootId);
  return chain;
}

/** The composite block an arrow is written in: the innermost one holding both of its ends. */
function scopeOf(t: TransitionOutline, outline: MachineOutline, states: Map<string, StateOutline>): string {
  if (t.sourceId === outline.rootId) return outline.rootId;
  const ends = [t.sourceId, ...t.targetIds];
  const chains = ends.map((id) => ancestorsOf(id, outline, states));
  const common =
    (chains[0] ?? []).find((id) => chains.every((chain) => chain.includes(id))) ?? outline.rootId;
  if (!ends.includes(common)) return common;
  return states.get(common)?.parentId ?? outline.rootId;
}

export function mermaidOf(outline: MachineOutline): string {
  const states = statesById(outline);
  const id = (stateId: string) => mermaidId(outline, stateId, states);
  const arrowsByScope = new Map<string, string[]>();
  for (const t of outline.transitions) {
    const scope = scopeOf(t, outline, states);
    const from = id(t.sourceId);
    const targets = t.targetIds.length ? t.targetIds : [t.sourceId];
    const arrows = arrowsByScope.get(scope) ?? [];
    const label = arrowLabel(t);
    for (const target of targets) arrows.push(`${from} --> ${id(target)}${label ? ` : ${label}` : ''}`);
    arrowsByScope.set(scope, arrows);
  }

  const lines = ['stateDiagram-v2'];
  const block = (scopeId: string, initialId: string | null, indent: string): void => {
    if (initialId) lines.push(`${indent}[*] --> ${id(initialId)}`);
    for (const child of outline.states.filter((s) => s.parentId === scopeId)) {
      const childId = id(child.id);
      if (child.type === 'compound' || child.type === 'parallel') {
        lines.push(`${indent}state ${childId} {`);
        block(child.id, child.initialId, `${indent}  `);
        lines.push(`${indent}}`);
        continue;
      }
      const key = child.path[child.path.length - 1] ?? childId;
      lines.push(key === childId ? `${indent}${childId}` : `${indent}state "${key}" as ${childId}`);
      if (child.transient) lines.push(`${indent}${childId} : decides at once`);
      if (child.entry.length) lines.push(`${indent}${childId} : entry / ${plain(child.entry.join(', '))}`);
      if (child.exit.length) lines.push(`${indent}${childId} : exit / ${plain(child.exit.join(', '))}`);
      if (child.type === 'final') lines.push(`${indent}${childId} --> [*]`);
    }
    lines.push(...(arrowsByScope.get(scopeId) ?? []).map((arrow) => `${indent}${arrow}`));
  };
  if (outline.transitions.some((t) => t.sourceId === outline.rootId))
    lines.push(`  state "any state" as ${ANY}`);
  block(outline.rootId, outline.rootInitialId, '  ');
  return lines.join('\n');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

function code(text: string): string {
  return text ? `\`${cell(text)}\`` : '';
}

export function statesTable(outline: MachineOutline): string {
  const states = statesById(outline);
  const rows = outline.states.map((s) => {
    const name = localName(outline, s.id, states);
    const notes = [s.description ?? '', s.transient ? '(Decides at once: never at rest.)' : '']
      .filter(Boolean)
      .join(' ');
    return `| ${code(name)} | ${cell(notes)} | ${s.entry.map(code).join(', ')} | ${s.exit.map(code).join(', ')} |`;
  });
  return ['| State | What it means | On entry | On exit |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

export function transitionsTable(outline: MachineOutline): string {
  const states = statesById(outline);
  const rows = outline.transitions.map((t) => {
    const from = t.sourceId === outline.rootId ? 'any state' : code(localName(outline, t.sourceId, states));
    const event = t.event === ALWAYS ? '*(eventless)*' : code(t.event);
    const to = t.targetIds.length
      ? t.targetIds.map((target) => code(localName(outline, target, states))).join(', ') +
        (t.reenter ? ' (re-entered)' : '')
      : '(stays)';
    return `| ${from} | ${event} | ${code(t.guard ?? '')} | ${t.actions.map(code).join(', ')} | ${to} |`;
  });
  return ['| From | Event | Guard | Actions | To |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

export function renderMachinePage(doc: DocumentedMachine, prose: string | null): string {
  const outline = outlineOf(doc.machine);
  const walkThrough =
    prose?.trim() ??
    `*No walk-through yet: write docs/statecharts/prose/${doc.name}.md and run \`npm run diagrams\`.*`;
  return [
    `<!-- Generated by \`npm run diagrams\` (docs/statecharts/generate.ts) from ${doc.source} and docs/statecharts/prose/${doc.name}.md. Do not edit: change those and regenerate. -->`,
    '',
    `# ${doc.title}`,
    '',
    walkThrough,
    '',
    '## Diagram',
    '',
    `Drawn from the definition in \`${doc.source}\`. An arrow reads \`EVENT [guard] / actions\`, with the`,
    'names used in the machine file; an arrow without an event is eventless (taken as soon as its guard',
    'holds). "any state" holds the transitions the machine defines at the top: they apply in every state',
    'that does not handle the event itself. A transition without a target is drawn as a loop.',
    '',
    '```mermaid',
    mermaidOf(outline),
    '```',
    '',
    '## States',
    '',
    statesTable(outline),
    '',
    '## Transitions',
    '',
    'In the order the machine tries them: for one event, the first whose guard holds is taken.',
    '',
    transitionsTable(outline),
    '',
  ].join('\n');
}

export function renderIndex(docs: readonly DocumentedMachine[]): string {
  return [
    '<!-- Generated by `npm run diagrams` (docs/statecharts/generate.ts). Do not edit. -->',
    '',
    '# Statecharts',
    '',
    'The protocols of an it-chain node, one pure XState machine each. Every page is generated from the',
    'machine definition, so the picture cannot drift from the code: `npm run diagrams` regenerates them and',
    '`npm test` fails when one is stale. The walk-throughs are written by hand in `prose/`.',
    '',
    ...docs.map((d) => `- [${d.title}](${d.name}.md) — \`${d.source}\``),
    '',
  ].join('\n');
}
