import { type AnyActorRef, type EventObject, fromCallback } from 'xstate';

// A component of the node (consensus, blockchain, IVM, gRPC gateway, API gateway) as an actor of the
// node's one actor system. The actor is a thin shell: it starts the component, hands it the events
// other actors send it, and tells the root machine when it is ready or has failed. Stopping is the
// root machine's job (node-machine.ts), in a fixed order, through the components registry, because
// a callback actor's cleanup cannot wait for a socket or a disk.

export interface Component<E extends EventObject = EventObject> {
  start(): Promise<void>;
  /** An event another actor sent to this component. */
  receive?(event: E): void;
  stop(): Promise<void>;
}

export type ComponentReport =
  | { type: 'component.ready'; component: string }
  | { type: 'component.failed'; component: string; error: string };

/** What a component gets from the actor system. */
export interface ActorLinks {
  /** Sends an event to another actor of the system by its system ID (dropped when it is not running). */
  sendTo<E extends EventObject>(systemId: string, event: E): void;
  /** The component cannot go on: the node stops (exit code 1) with this reason. */
  fail(error: unknown): void;
}

/** Components by name, so the root machine can stop them in order. */
export type ComponentRegistry = Map<string, Component>;

export interface ComponentInput<P> {
  parts: P;
  registry: ComponentRegistry;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The actor logic of a component: `create` builds it from the node's parts and its links. */
export function componentActor<P, E extends EventObject = EventObject>(
  name: string,
  create: (parts: P, links: ActorLinks) => Component<E>,
) {
  return fromCallback<E, ComponentInput<P>>(({ input, system, sendBack, receive }) => {
    let failed = false;
    const links: ActorLinks = {
      sendTo: (systemId, event) => {
        const target: AnyActorRef | undefined = system.get(systemId);
        target?.send(event);
      },
      fail: (error) => {
        if (failed) return;
        failed = true;
        sendBack({
          type: 'component.failed',
          component: name,
          error: errorText(error),
        } satisfies ComponentReport);
      },
    };
    const component = create(input.parts, links);
    input.registry.set(name, component as Component);
    receive((event) => component.receive?.(event));
    component.start().then(
      () => sendBack({ type: 'component.ready', component: name } satisfies ComponentReport),
      (error: unknown) => links.fail(error),
    );
  });
}
