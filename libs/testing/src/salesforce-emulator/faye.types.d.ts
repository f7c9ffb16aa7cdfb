/**
 * The part of faye 1.4.3 the Salesforce emulator uses. faye ships no types, and jsforce's bundled
 * `declare module 'faye'` lacks `NodeAdapter` and `disconnect()`; declaring the module again would merge
 * with (and fight) jsforce's declaration, so these are plain exported types and the emulator loads faye
 * with a typed `require` (see `faye.loader.ts`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** One Bayeux message, as faye passes it through extensions and over the wire. */
export interface BayeuxMessage {
  channel: string;
  id?: string;
  clientId?: string;
  data?: unknown;
  error?: string;
  successful?: boolean;
  subscription?: string | string[];
  connectionType?: string;
  supportedConnectionTypes?: string[];
  version?: string;
  minimumVersion?: string;
  advice?: { reconnect?: 'retry' | 'handshake' | 'none'; interval?: number; timeout?: number };
  ext?: Record<string, unknown>;
}

export type FayeCallback = (message: BayeuxMessage) => void;

/** A server extension; faye passes the HTTP request when the function declares three parameters. */
export interface FayeServerExtension {
  incoming?(message: BayeuxMessage, request: IncomingMessage | null, callback: FayeCallback): void;
  outgoing?(message: BayeuxMessage, request: IncomingMessage | null, callback: FayeCallback): void;
}

/** A client extension. */
export interface FayeClientExtension {
  incoming?(message: BayeuxMessage, callback: FayeCallback): void;
  outgoing?(message: BayeuxMessage, callback: FayeCallback): void;
}

/** faye's Deferrable: a thenable that settles once. */
export interface FayeDeferred<T = unknown> {
  then(onSuccess?: (value: T) => void, onFailure?: (reason: { message?: string } | string) => void): Promise<void>;
}

export interface FayeSubscription extends FayeDeferred<void> {
  cancel(): void;
}

export interface FayeClientOptions {
  /** Seconds before a request without advice times out. */
  timeout?: number;
  /** Seconds between retries of a failed request or handshake. */
  retry?: number;
  interval?: number;
}

export interface FayeClient {
  setHeader(name: string, value: string): void;
  addExtension(extension: FayeClientExtension): void;
  subscribe(channel: string, listener: (data: unknown) => void): FayeSubscription;
  /** Undefined when the client never connected. */
  disconnect(): FayeDeferred<void> | undefined;
  bind(event: 'transport:up' | 'transport:down', listener: () => void): void;
}

/**
 * What faye's engine proxy (`src/engines/proxy.js`) offers the engine it creates: the pending long-poll
 * connections, delivery into them, and the server-side event bus.
 */
export interface FayeEngineProxy {
  /** Seconds a `/meta/connect` is held open. */
  timeout: number;
  hasConnection(clientId: string): boolean;
  deliver(clientId: string, messages: BayeuxMessage[]): boolean;
  /** Answers the pending `/meta/connect` of that client now (with whatever it holds). */
  flushConnection(clientId: string, close?: boolean): void;
  trigger(event: string, ...args: unknown[]): void;
}

/** The engine contract faye's proxy calls (the same one `src/engines/memory.js` implements). */
export interface FayeEngine {
  createClient(callback: (clientId: string) => void, context?: unknown): void;
  destroyClient(clientId: string, callback?: () => void, context?: unknown): void;
  clientExists(clientId: string, callback: (exists: boolean) => void, context?: unknown): void;
  ping(clientId: string): void;
  subscribe(clientId: string, channel: string, callback?: (ok: boolean) => void, context?: unknown): void;
  unsubscribe(clientId: string, channel: string, callback?: (ok: boolean) => void, context?: unknown): void;
  publish(message: BayeuxMessage, channels: string[]): void;
  emptyQueue(clientId: string): void;
  disconnect(): void;
}

export interface FayeEngineFactory {
  create(proxy: FayeEngineProxy, options: Record<string, unknown>): FayeEngine;
}

export interface FayeNodeAdapterOptions {
  mount: string;
  /** Seconds a `/meta/connect` is held open. */
  timeout: number;
  engine: { type: FayeEngineFactory };
}

export interface FayeNodeAdapter {
  addExtension(extension: FayeServerExtension): void;
  handle(request: IncomingMessage, response: ServerResponse): void;
  close(): void;
}

export interface FayeModule {
  NodeAdapter: new (options: FayeNodeAdapterOptions) => FayeNodeAdapter;
  Client: new (endpoint: string, options?: FayeClientOptions) => FayeClient;
}
