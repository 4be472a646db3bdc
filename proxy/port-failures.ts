// A listening port that could not be bound, as data: the engine's apply stays atomic (a config
// with such a port is refused whole), but the refusal says which ports failed and why, so that
// the caller (standalone, the operator via the proxy's NACK) can leave just those listeners out
// and serve the rest.

export interface PortFailure {
  /** `namespace/name` of the Gateway whose config wants the port. */
  gateway: string;
  /** The port as written in the config (the listener port, before any port offset). */
  port: number;
  /** The address and port the proxy tried to listen on. */
  address: string;
  listenPort: number;
  /** The errno code (EADDRINUSE, EACCES, …), or 'UNKNOWN'. */
  code: string;
  /** The whole sentence, e.g. `proxy config ns/gw: ports[0].port: cannot listen on 0.0.0.0:443: EACCES`. */
  message: string;
}

/** One port that could not be bound (thrown while binding, collected into PortsUnavailableError). */
export class PortBindError extends Error {
  constructor(readonly failure: PortFailure) {
    super(failure.message);
    this.name = 'PortBindError';
  }
}

/** A config refused because some of its ports cannot be bound; nothing was changed. */
export class PortsUnavailableError extends Error {
  constructor(readonly failures: PortFailure[]) {
    super(failures.map((f) => f.message).join('; '));
    this.name = 'PortsUnavailableError';
  }
}

/** The port failures an apply error carries; null when it failed for another reason. */
export function portFailuresOf(error: unknown): PortFailure[] | null {
  if (error instanceof PortsUnavailableError && error.failures.length > 0) return error.failures;
  if (error instanceof PortBindError) return [error.failure];
  return null;
}

/** `cannot listen on 0.0.0.0:443: EACCES`: the part of a failure that a status message shows. */
export function describePortFailure(failure: Pick<PortFailure, 'address' | 'listenPort' | 'code'>): string {
  const host = failure.address.includes(':') ? `[${failure.address}]` : failure.address;
  return `cannot listen on ${host}:${failure.listenPort}: ${failure.code}`;
}
