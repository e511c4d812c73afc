/** Something the bus refused or could not do; the message says what and where. */
export class BusError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BusError';
  }
}

/** publish/subscribe after close(), or a publish still waiting for the broker when close() ran. */
export class BusClosedError extends BusError {
  constructor(bus: string, detail = 'the event bus is closed') {
    super(`${detail} (${bus})`);
    this.name = 'BusClosedError';
  }
}

/** The broker cannot be reached at start (refused, timed out, wrong credentials). */
export class BusUnavailableError extends BusError {
  constructor(
    readonly url: string,
    reason: string,
    cause?: unknown,
  ) {
    super(`cannot connect to the event bus broker at ${url}: ${reason}`, { cause });
    this.name = 'BusUnavailableError';
  }
}

/** The broker has been unreachable so long that the bounded queue of waiting publishes is full. */
export class BusBackpressureError extends BusError {
  constructor(
    readonly url: string,
    readonly waiting: number,
  ) {
    super(
      `the event bus is disconnected from ${url} and ${waiting} messages already wait for the reconnect; ` +
        'this one is refused, not dropped: retry later',
    );
    this.name = 'BusBackpressureError';
  }
}
