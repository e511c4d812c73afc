import type { WatchedMachine } from './machine-watch.ts';
import type { MachineState, SimStep, StepEvent } from './steps.ts';

// What each node looks like after a step, folded from the steps so far: up or down, its election
// role, term and leader, its committed height, and the state of each of its machines. The web page
// draws these; nothing here reads the replicas themselves, only what the trace says about them.

export interface NodeView {
  name: string;
  honest: boolean;
  up: boolean;
  /** The election machine's state: follower, candidate, leader ('' before the node starts). */
  role: string;
  term: number;
  /** Who this node knows leads `term`. */
  leader: string | null;
  /** Committed height. */
  height: number;
  machines: Partial<Record<WatchedMachine, MachineState>>;
}

export function initialViews(names: readonly string[], byzantine: ReadonlySet<string>): NodeView[] {
  return names.map((name) => ({
    name,
    honest: !byzantine.has(name),
    up: false,
    role: '',
    term: 0,
    leader: null,
    height: 0,
    machines: {},
  }));
}

function termIn(facts: string): number | null {
  const m = /^t(\d+)/.exec(facts);
  return m === null ? null : Number(m[1]);
}

function apply(view: NodeView, event: StepEvent): NodeView {
  switch (event.kind) {
    case 'machines': {
      const machines: NodeView['machines'] = {};
      for (const m of event.machines) machines[m.machine] = m;
      const election = machines.election;
      return {
        ...view,
        up: true,
        machines,
        role: election?.state ?? view.role,
        term: (election && termIn(election.facts)) ?? view.term,
        leader: null,
      };
    }
    case 'transition': {
      const state: MachineState = { machine: event.machine, state: event.to, facts: event.facts };
      const next = { ...view, machines: { ...view.machines, [event.machine]: state } };
      if (event.machine !== 'election') return next;
      const term = termIn(event.facts) ?? view.term;
      return { ...next, role: event.to, term, leader: term === view.term ? view.leader : null };
    }
    case 'leader':
      return event.term >= view.term ? { ...view, term: event.term, leader: event.leader } : view;
    case 'commit':
      return { ...view, height: Math.max(view.height, event.height) };
    case 'crash':
      return { ...view, up: false, role: 'down', leader: null };
    case 'restart':
      return { ...view, up: true, height: event.height ?? view.height };
    default:
      return view;
  }
}

/** The views after `step`, from the views before it (unchanged views are shared, not copied). */
export function viewsAfter(before: readonly NodeView[], step: SimStep): NodeView[] {
  const views = [...before];
  const index = new Map(views.map((v, i) => [v.name, i]));
  for (const event of step.events) {
    if (!('node' in event) || event.node === null) continue;
    const i = index.get(event.node);
    if (i !== undefined) views[i] = apply(views[i]!, event);
  }
  return views;
}
