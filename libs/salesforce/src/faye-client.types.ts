/**
 * Local declarations of the faye 1.4 client surface the stream uses. jsforce's bundled faye typings are not
 * picked up by this project's compiler (so `createClient()` is untyped here) and lack `disconnect()`; these
 * describe what faye's src/protocol/client.js actually does.
 */

/** Bayeux `advice`: what the server wants the client to do after this reply. */
export interface BayeuxAdvice {
  reconnect?: 'retry' | 'handshake' | 'none';
  interval?: number;
  timeout?: number;
}

/** A Bayeux message as the client's extensions see it (meta replies and data messages alike). */
export interface BayeuxMessage {
  channel: string;
  id?: string;
  clientId?: string;
  successful?: boolean;
  error?: string;
  subscription?: string | string[];
  advice?: BayeuxAdvice;
  ext?: { [key: string]: unknown; sfdc?: { failureReason?: string } };
  data?: unknown;
}

export type BayeuxCallback = (message: BayeuxMessage) => void;

/** A faye extension: each stage gets a message and must pass it on (or drop it by not calling back). */
export interface FayeExtension {
  incoming?(message: BayeuxMessage, callback: BayeuxCallback): void;
  outgoing?(message: BayeuxMessage, callback: BayeuxCallback): void;
}

/** faye's Subscription: a deferrable (`then` settles once, with the first subscribe's outcome). */
export interface FayeSubscription {
  then(onSuccess?: () => void, onFailure?: (error: unknown) => void): unknown;
  cancel(): void;
}

/** faye's Publication, returned by `disconnect()`: settles when the server answered `/meta/disconnect`. */
export interface FayePublication {
  then(onSuccess?: () => void, onFailure?: (error: unknown) => void): unknown;
}

export interface FayeClient {
  addExtension(extension: FayeExtension): void;
  setHeader(name: string, value: string): void;
  subscribe(channel: string, listener: (data: unknown) => void): FayeSubscription;
  /** Sends `/meta/disconnect` when connected; does nothing (undefined) in any other state. */
  disconnect(): FayePublication | undefined;
  bind(event: 'transport:up' | 'transport:down', listener: () => void): void;
}

/** faye client states (client.js). */
export const FAYE_CONNECTED = 3;
export const FAYE_DISCONNECTED = 4;

/**
 * Internals touched only to shut a client down for good and to route it through a proxy: faye has no public
 * way to abort a stuck handshake (after `reconnect: none` the client stays CONNECTING forever) or to cancel
 * the pending long-poll, which would otherwise keep a socket — and the process — alive for up to 110 s.
 */
export interface FayeClientInternals {
  _state: number;
  _advice: BayeuxAdvice;
  _dispatcher: {
    proxy: { origin?: string };
    close(): void;
    _envelopes: Map<string, { timer?: ReturnType<typeof setTimeout> | null; request?: PromiseLike<unknown> | null }>;
  };
}
