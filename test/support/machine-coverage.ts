// Which states and transitions of a machine the tests reached. Pass `coverage.inspect` as the
// `inspect` option of every actor a test file creates (createActor(machine, { input, inspect })),
// then check `coverage.report()` in the file's last test. It counts microsteps, so eventless
// transitions and transient states count too, and it works for machines changed with
// machine.provide(...) (transitions are matched by state id and position, not by object).
//
// Totals come from docs/statecharts/outline.ts, the same walk the diagrams are drawn from.

import { type AnyStateMachine, type AnyStateNode, type InspectionEvent, isMachineSnapshot } from 'xstate';
import {
  activeStateIds,
  type MachineOutline,
  outlineOf,
  type TransitionOutline,
  transitionKey,
} from '../../docs/statecharts/outline.ts';

export interface CoverageReport {
  machine: string;
  states: { reached: number; total: number; missing: string[] };
  transitions: { reached: number; total: number; missing: string[] };
}

/** One line per transition, as a reader finds it in the machine file. */
export function describeTransition(t: TransitionOutline, rootId: string): string {
  const local = (id: string): string => (id === rootId ? '(any state)' : id.slice(rootId.length + 1));
  const guard = t.guard ? ` [${t.guard}]` : '';
  const actions = t.actions.length ? ` / ${t.actions.join(', ')}` : '';
  const to = t.targetIds.length ? t.targetIds.map(local).join(', ') : '(stays)';
  return `${local(t.sourceId)} --${t.event}${guard}${actions}--> ${to}`;
}

export class MachineCoverage {
  readonly outline: MachineOutline;
  private readonly reachedStates = new Set<string>();
  private readonly reachedTransitions = new Set<string>();

  constructor(machine: AnyStateMachine) {
    this.outline = outlineOf(machine);
  }

  /** The inspection observer: createActor(machine, { inspect: coverage.inspect }). */
  readonly inspect = (event: InspectionEvent): void => {
    if (event.type !== '@xstate.microstep' && event.type !== '@xstate.snapshot') return;
    const snapshot = event.snapshot;
    if (!isMachineSnapshot(snapshot) || snapshot.machine.id !== this.outline.id) return;
    for (const id of activeStateIds(this.outline.rootId, snapshot.value)) this.reachedStates.add(id);
    if (event.type === '@xstate.microstep') {
      for (const transition of event._transitions) {
        this.reachedTransitions.add(transitionKey(transition));
        // A state left within the step that entered it (an initial transient state) shows in no
        // snapshot, but a transition taken from it proves it was active.
        for (let node: AnyStateNode | undefined = transition.source; node?.parent; node = node.parent) {
          this.reachedStates.add(node.id);
        }
      }
    }
  };

  report(): CoverageReport {
    const states = this.outline.states.map((s) => s.id);
    const transitions = this.outline.transitions;
    const missingStates = states.filter((id) => !this.reachedStates.has(id));
    const missingTransitions = transitions.filter((t) => !this.reachedTransitions.has(t.key));
    return {
      machine: this.outline.id,
      states: {
        reached: states.length - missingStates.length,
        total: states.length,
        missing: missingStates,
      },
      transitions: {
        reached: transitions.length - missingTransitions.length,
        total: transitions.length,
        missing: missingTransitions.map((t) => describeTransition(t, this.outline.rootId)),
      },
    };
  }

  /** "batching: states 7/7, transitions 27/27" and the missing ones, one per line. */
  describe(): string {
    const r = this.report();
    const lines = [
      `${r.machine}: states ${r.states.reached}/${r.states.total}, transitions ${r.transitions.reached}/${r.transitions.total}`,
      ...r.states.missing.map((id) => `  state not reached: ${id}`),
      ...r.transitions.missing.map((t) => `  transition not taken: ${t}`),
    ];
    return lines.join('\n');
  }
}
