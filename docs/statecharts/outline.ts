// Reads an XState machine's definition into a plain outline: its states (nested, in the order the
// machine file declares them) and every transition with its event, guard and action names. The
// diagram generator draws from it and the test coverage helper counts against it, so "every
// transition" means the same thing in both places.

import { type AnyStateMachine, type AnyStateNode, type AnyTransitionDefinition, and, not, or } from 'xstate';

export interface StateOutline {
  /** XState's id: the machine id and the path, joined with dots ("batching.leading.idle"). */
  id: string;
  path: string[];
  parentId: string | null;
  type: string;
  /** Id of the initial child of a compound state. */
  initialId: string | null;
  entry: string[];
  exit: string[];
  /** Has an unguarded eventless transition: it decides at once and is never at rest. */
  transient: boolean;
  description: string | null;
}

export interface TransitionOutline {
  /** Stable name of the transition: source id, event (or "always") and its index among those. */
  key: string;
  sourceId: string;
  /** The event type; "always" for an eventless transition. */
  event: string;
  guard: string | null;
  actions: string[];
  /** Target state ids; empty when the transition stays where it is. */
  targetIds: string[];
  reenter: boolean;
}

export interface MachineOutline {
  id: string;
  rootId: string;
  rootInitialId: string | null;
  /** Every state but the root, parents before children, in declaration order. */
  states: StateOutline[];
  /** Root transitions first, then each state's, in the same order as `states`. */
  transitions: TransitionOutline[];
}

export const ALWAYS = 'always';

const AND_CHECK = (and([]) as { check?: unknown }).check;
const OR_CHECK = (or([]) as { check?: unknown }).check;
const NOT_CHECK = (not(() => true) as { check?: unknown }).check;

/** A guard as it reads in the machine file: its name, or names joined by and / or / not. */
export function guardName(guard: unknown): string | null {
  if (guard === undefined || guard === null) return null;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'object' && 'type' in guard && typeof guard.type === 'string') return guard.type;
  if (typeof guard === 'function') {
    const composite = guard as { check?: unknown; guards?: unknown[] };
    const parts = (composite.guards ?? []).map((g) => guardName(g) ?? 'inline');
    if (composite.check === AND_CHECK) return parts.join(' and ');
    if (composite.check === OR_CHECK) return `(${parts.join(' or ')})`;
    if (composite.check === NOT_CHECK) return `not ${parts[0]}`;
    return guard.name ? guard.name : 'inline';
  }
  return 'inline';
}

export function actionName(action: unknown): string {
  if (typeof action === 'string') return action;
  if (action && typeof action === 'object' && 'type' in action && typeof action.type === 'string')
    return action.type;
  if (typeof action === 'function') {
    const typed = action as { type?: unknown };
    return typeof typed.type === 'string' ? typed.type : action.name || 'inline';
  }
  return 'inline';
}

/** The outline key of a transition definition, as found in a machine or in an inspection event. */
export function transitionKey(transition: AnyTransitionDefinition): string {
  const source = transition.source;
  const isAlways = transition.eventType === '';
  const siblings = isAlways ? (source.always ?? []) : (source.transitions.get(transition.eventType) ?? []);
  return `${source.id}|${isAlways ? ALWAYS : transition.eventType}|${siblings.indexOf(transition)}`;
}

function transitionsOf(node: AnyStateNode): TransitionOutline[] {
  const defs: AnyTransitionDefinition[] = [...[...node.transitions.values()].flat(), ...(node.always ?? [])];
  return defs.map((t) => ({
    key: transitionKey(t),
    sourceId: node.id,
    event: t.eventType === '' ? ALWAYS : t.eventType,
    guard: guardName(t.guard),
    actions: t.actions.map(actionName),
    targetIds: (t.target ?? []).map((target) => target.id),
    reenter: t.reenter,
  }));
}

function stateOf(node: AnyStateNode): StateOutline {
  return {
    id: node.id,
    path: node.path,
    parentId: node.parent?.id ?? null,
    type: node.type,
    initialId: node.type === 'compound' ? (node.initial.target[0]?.id ?? null) : null,
    entry: node.entry.map(actionName),
    exit: node.exit.map(actionName),
    transient: (node.always ?? []).some((t) => t.guard === undefined),
    description: node.description ?? null,
  };
}

export function outlineOf(machine: AnyStateMachine): MachineOutline {
  const states: StateOutline[] = [];
  const transitions: TransitionOutline[] = transitionsOf(machine.root);
  const visit = (node: AnyStateNode): void => {
    for (const child of Object.values(node.states)) {
      states.push(stateOf(child));
      transitions.push(...transitionsOf(child));
      visit(child);
    }
  };
  visit(machine.root);
  return {
    id: machine.id,
    rootId: machine.root.id,
    rootInitialId: machine.root.initial.target[0]?.id ?? null,
    states,
    transitions,
  };
}

/** Ids of every state a state value says is active (ancestors included, root excluded). */
export function activeStateIds(rootId: string, value: unknown): string[] {
  if (typeof value === 'string') return [`${rootId}.${value}`];
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const id = `${rootId}.${key}`;
    return [id, ...activeStateIds(id, child)];
  });
}
