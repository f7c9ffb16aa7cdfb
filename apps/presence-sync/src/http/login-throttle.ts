export interface LoginThrottleOptions {
  /** Failed logins a client may make within `windowMs` before it is refused (429). */
  maxFailures: number;
  /** The window that starts with a client's first failed login (ms); the refusal ends with it. */
  windowMs: number;
  /** Clients remembered at most; the oldest are forgotten first, so a flood of addresses cannot grow memory. */
  maxClients: number;
}

/** 10 guesses per 5 minutes per client: a typing admin never notices, a guesser gets 120 tries an hour. */
export const LOGIN_THROTTLE: LoginThrottleOptions = { maxFailures: 10, windowMs: 5 * 60_000, maxClients: 10_000 };

interface Window {
  since: number;
  failures: number;
}

/**
 * Counts failed logins per client (the address the request came from) in a fixed window, and tells when a client
 * has to wait. A successful login clears the client's count. In memory, per replica.
 */
export class LoginThrottle {
  private readonly clients = new Map<string, Window>();

  constructor(readonly options: LoginThrottleOptions = LOGIN_THROTTLE, private readonly now: () => number = Date.now) {}

  /** How long `client` must wait before its next try (ms); 0 when it may try now. */
  retryAfterMs(client: string): number {
    const w = this.current(client);
    return w && w.failures >= this.options.maxFailures ? w.since + this.options.windowMs - this.now() : 0;
  }

  /** Records a failed login; returns the client's failures in the current window. */
  failed(client: string): number {
    let w = this.current(client);
    if (!w) {
      this.makeRoom();
      w = { since: this.now(), failures: 0 };
      this.clients.set(client, w);
    }
    return ++w.failures;
  }

  succeeded(client: string): void {
    this.clients.delete(client);
  }

  private current(client: string): Window | undefined {
    const w = this.clients.get(client);
    if (w && this.now() >= w.since + this.options.windowMs) {
      this.clients.delete(client);
      return undefined;
    }
    return w;
  }

  private makeRoom(): void {
    if (this.clients.size < this.options.maxClients) return;
    // Insertion order is age order: the oldest window goes first.
    const oldest = this.clients.keys().next();
    if (!oldest.done) this.clients.delete(oldest.value);
  }
}
