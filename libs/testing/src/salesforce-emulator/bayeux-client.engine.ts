import { randomBytes } from 'node:crypto';
import type { BayeuxMessage, FayeEngine, FayeEngineFactory, FayeEngineProxy } from './faye.types';

/** A CometD client as the emulator tracks it. */
export interface BayeuxClientState {
  id: string;
  /** Set once the handshake succeeded (the user whose token the client presented). */
  userId?: string;
  token?: string;
  channels: Set<string>;
  /** Messages waiting for the client's next `/meta/connect`. */
  queue: BayeuxMessage[];
  expiry?: NodeJS.Timeout;
}

function newClientId(): string {
  // Salesforce client ids look like `1q1ib66fvm7kli1gfoauu95i78g`: lower-case base 36.
  return Array.from(randomBytes(27), (b) => (b % 36).toString(36)).join('');
}

/**
 * A faye engine (the contract of faye's `src/engines/memory.js`) that, unlike faye's own, knows which user
 * each client belongs to and can deliver a message to one client only. Salesforce needs both: generic
 * events reach only the targeted users, and replayed events go to the subscriber that asked for them.
 * Clients never publish (Salesforce channels are server-fed), so `publish` is never reached: the server
 * extension refuses client publishes first.
 */
export class BayeuxClientEngine implements FayeEngine {
  private readonly clients = new Map<string, BayeuxClientState>();
  private proxy?: FayeEngineProxy;
  /** Called after a client subscribed to a channel (the emulator reports it as its `subscribe` event). */
  onSubscribe?: (client: BayeuxClientState, channel: string) => void;

  /**
   * @param expiryMs how long a client may go without a `/meta/connect` before it is forgotten: the connect
   *   hold time plus the reconnect grace (Salesforce: 110 s + 40 s).
   */
  constructor(private readonly expiryMs: number) {}

  /** The factory faye's `Server` calls (`engine: { type }`); it hands this instance its proxy. */
  factory(): FayeEngineFactory {
    return {
      create: (proxy) => {
        this.proxy = proxy;
        return this;
      },
    };
  }

  private get server(): FayeEngineProxy {
    if (!this.proxy) throw new Error('BayeuxClientEngine: not attached to a faye server');
    return this.proxy;
  }

  createClient(callback: (clientId: string) => void, context?: unknown): void {
    const id = newClientId();
    this.clients.set(id, { id, channels: new Set(), queue: [] });
    this.ping(id);
    this.server.trigger('handshake', id);
    callback.call(context, id);
  }

  destroyClient(clientId: string, callback?: () => void, context?: unknown): void {
    const client = this.clients.get(clientId);
    if (!client) return;
    clearTimeout(client.expiry);
    this.clients.delete(clientId);
    this.server.trigger('disconnect', clientId);
    // faye's proxy answers the client's pending /meta/connect on `close`.
    this.server.trigger('close', clientId);
    callback?.call(context);
  }

  clientExists(clientId: string, callback: (exists: boolean) => void, context?: unknown): void {
    callback.call(context, this.clients.has(clientId));
  }

  ping(clientId: string): void {
    const client = this.clients.get(clientId);
    if (!client) return;
    clearTimeout(client.expiry);
    client.expiry = setTimeout(() => this.destroyClient(clientId), this.expiryMs);
    client.expiry.unref();
  }

  subscribe(clientId: string, channel: string, callback?: (ok: boolean) => void, context?: unknown): void {
    const client = this.clients.get(clientId);
    client?.channels.add(channel);
    if (client) this.onSubscribe?.(client, channel);
    callback?.call(context, true);
  }

  unsubscribe(clientId: string, channel: string, callback?: (ok: boolean) => void, context?: unknown): void {
    this.clients.get(clientId)?.channels.delete(channel);
    callback?.call(context, true);
  }

  publish(): void {
    // Unreachable: client publishes are refused by the server extension before faye's engine sees them.
  }

  emptyQueue(clientId: string): void {
    const client = this.clients.get(clientId);
    if (!client || client.queue.length === 0 || !this.server.hasConnection(clientId)) return;
    const messages = client.queue;
    client.queue = [];
    this.server.deliver(clientId, messages);
  }

  disconnect(): void {
    for (const client of this.clients.values()) clearTimeout(client.expiry);
    this.clients.clear();
  }

  // ---- what the emulator uses ----------------------------------------------------------------------------

  get(clientId: string): BayeuxClientState | undefined {
    return this.clients.get(clientId);
  }

  all(): BayeuxClientState[] {
    return [...this.clients.values()];
  }

  /** Records whose token a client handshook with. */
  bind(clientId: string, userId: string, token: string): void {
    const client = this.clients.get(clientId);
    if (!client) return;
    client.userId = userId;
    client.token = token;
  }

  /** Queues a message for one client; it leaves with the client's pending or next `/meta/connect`. */
  deliver(clientId: string, message: BayeuxMessage): void {
    const client = this.clients.get(clientId);
    if (!client) return;
    client.queue.push(message);
    this.emptyQueue(clientId);
  }

  subscribers(channel: string): BayeuxClientState[] {
    return this.all().filter((c) => c.channels.has(channel));
  }

  /** Answers the client's pending `/meta/connect` now, so that its next request is checked again. */
  wake(clientId: string): void {
    if (this.server.hasConnection(clientId)) this.server.flushConnection(clientId);
  }
}
