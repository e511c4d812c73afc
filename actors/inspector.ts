import { createServer } from 'node:net';
import type { InspectionEvent, Observer } from 'xstate';

// --inspect: the node's actor system (the root machine, its component actors, the timer actor) and
// the replica's four protocol machines stream every event and snapshot to the Stately inspector
// (@statelyai/inspect) over a WebSocket. Without a URL the node starts the package's local bridge
// (an HTTP + WebSocket server): open its page in a browser, which shows the inspector UI (loaded
// from stately.ai) fed by this node. `itchain up --inspect` runs one bridge and points every node
// at it.

export const DEFAULT_INSPECT_PORT = 8080;

export interface NodeInspector {
  observer: Observer<InspectionEvent>;
  /** Where a person opens the inspector (when this process runs the bridge). */
  pageUrl: string | null;
  /** Where the events go. */
  wsUrl: string;
  close(): void;
}

/** A bridge page + WebSocket relay on `port` (127.0.0.1), as `@statelyai/inspect/server` makes it. */
export async function startInspectorBridge(
  port: number,
): Promise<{ wsUrl: string; pageUrl: string; stop(): void }> {
  const { createInspectorServer } = await import('@statelyai/inspect/server');
  const server = createInspectorServer({ port, autoOpen: false });
  return { wsUrl: `ws://localhost:${port}`, pageUrl: `http://localhost:${port}`, stop: () => server.stop() };
}

/**
 * How often the running actors are announced again. The bridge keeps only the last 200 events for a
 * browser that connects later, and a busy node sends that many in a second, so a page opened after
 * start would never hear which actors exist; re-announcing them makes every actor appear within this.
 */
const REANNOUNCE_MS = 5_000;

/** True when nothing listens on the port yet (the bridge's server reports a clash nowhere we can catch). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, () => probe.close(() => resolve(true)));
  });
}

/**
 * Streams to `wsUrl`, or to a bridge of its own on `port` when no URL is given; when that port is
 * taken (another node's bridge, say), it streams to what listens there.
 */
export async function openInspector(options: { wsUrl?: string; port?: number }): Promise<NodeInspector> {
  const { createWebSocketInspector } = await import('@statelyai/inspect');
  const port = options.port ?? DEFAULT_INSPECT_PORT;
  const ownBridge = options.wsUrl === undefined && (await portFree(port));
  const bridge = ownBridge ? await startInspectorBridge(port) : null;
  const wsUrl = options.wsUrl ?? bridge?.wsUrl ?? `ws://localhost:${port}`;
  const inspector = createWebSocketInspector({ url: wsUrl });
  const actors = new Map<string, InspectionEvent>();
  const reannounce = setInterval(() => {
    for (const [sessionId, registration] of actors) {
      if (registration.actorRef.getSnapshot().status !== 'active') actors.delete(sessionId);
      else inspector.inspect.next?.(registration);
    }
  }, REANNOUNCE_MS);
  reannounce.unref();
  return {
    observer: {
      next: (event) => {
        if (event.type === '@xstate.actor') actors.set(event.actorRef.sessionId, event);
        inspector.inspect.next?.(event);
      },
    },
    pageUrl: bridge?.pageUrl ?? null,
    wsUrl,
    close: () => {
      clearInterval(reannounce);
      inspector.stop();
      bridge?.stop();
    },
  };
}
