import type { Connection } from 'jsforce';
import {
  FAYE_CONNECTED, FAYE_DISCONNECTED,
  type BayeuxCallback, type BayeuxMessage, type FayeClient, type FayeClientInternals, type FayeExtension,
} from './faye-client.types';

/** Replay from the oldest retained event (24 h for PushTopics). */
export const REPLAY_ALL = -2;
/** Replay nothing: new events only. */
export const REPLAY_NEW = -1;

/**
 * The replay extension for ONE channel: every `/meta/subscribe` to it carries `ext.replay = { channel: id }`.
 * The id follows the events *received*, so when faye re-handshakes and resubscribes on its own (after
 * `403::Unknown client`) it asks for exactly the events after the last one this process took in — those are
 * in the stream's in-process pipeline, so nothing is lost and nothing arrives twice. (Two of jsforce's
 * Replay extensions on one client overwrite each other's `ext.replay`; one client per channel avoids that.)
 */
export class ReplayExtension implements FayeExtension {
  constructor(readonly channel: string, private replayFrom: number) {}

  get replayId(): number {
    return this.replayFrom;
  }

  set(replayId: number): void {
    this.replayFrom = replayId;
  }

  incoming(message: BayeuxMessage, callback: BayeuxCallback): void {
    if (message.channel === this.channel) {
      const id = (message.data as { event?: { replayId?: unknown } } | undefined)?.event?.replayId;
      if (typeof id === 'number' && id > this.replayFrom) this.replayFrom = id;
    }
    callback(message);
  }

  outgoing(message: BayeuxMessage, callback: BayeuxCallback): void {
    if (message.channel === '/meta/subscribe' && message.subscription === this.channel) {
      message.ext = { ...message.ext, replay: { [this.channel]: this.replayFrom } };
    }
    callback(message);
  }
}

/**
 * Shows every meta reply (`/meta/handshake`, `/meta/connect`, `/meta/subscribe`…) to `observe` before faye
 * acts on it, and passes it on unchanged. faye reports a failed *re*-subscribe nowhere else (it subscribes
 * again after a re-handshake with no callback), so this is where an expired replay id is noticed.
 */
export class MetaMonitorExtension implements FayeExtension {
  constructor(private readonly observe: (message: BayeuxMessage) => void) {}

  incoming(message: BayeuxMessage, callback: BayeuxCallback): void {
    if (message.channel.startsWith('/meta/')) {
      try {
        this.observe(message);
      } catch {
        // An observer's failure must not stop faye's own handling of the reply.
      }
    }
    callback(message);
  }
}

export interface StreamingClientOptions {
  connection: Connection;
  channel: string;
  replayFrom: number;
  /** Extensions that run before the replay extension (incoming messages pass them in this order). */
  extensions?: FayeExtension[];
  /** HTTP(S) proxy for the CometD long-poll (jsforce's streaming client ignores the connection's proxy). */
  proxyUrl?: string;
}

/**
 * One CometD client for one channel, built with `conn.streaming.createClient` (it targets
 * `<instance>/cometd/<version>`, sends `Authorization: OAuth <token>` and uses long-polling only) plus the
 * replay extension. The token is fixed at creation: after a new login the client must be rebuilt.
 */
export function createStreamingClient(options: StreamingClientOptions): { client: FayeClient; replay: ReplayExtension } {
  const replay = new ReplayExtension(options.channel, options.replayFrom);
  const client = options.connection.streaming.createClient([...(options.extensions ?? []), replay]) as unknown as FayeClient;
  if (options.proxyUrl) {
    // faye builds a new transport at the handshake and reads the dispatcher's proxy then.
    (client as unknown as FayeClientInternals)._dispatcher.proxy = { origin: options.proxyUrl };
  }
  return { client, replay };
}

/**
 * Shuts a client down for good: a polite `/meta/disconnect` when it is connected (so Salesforce frees the
 * CometD client slot at once), then faye is told never to reconnect and every pending request — the held
 * long-poll above all — is aborted. Safe on a client in any state, and twice.
 */
export async function closeFayeClient(client: FayeClient, disconnectWaitMs = 2000): Promise<void> {
  const internals = client as unknown as FayeClientInternals;
  if (internals._state === FAYE_CONNECTED) {
    const publication = client.disconnect();
    if (publication) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      // Bounded: a server that never answers the disconnect must not hold up a shutdown.
      await Promise.race([
        new Promise<void>((resolve) => publication.then(() => resolve(), () => resolve())),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, disconnectWaitMs);
        }),
      ]);
      clearTimeout(timer);
    }
  }
  internals._advice.reconnect = 'none';
  internals._state = FAYE_DISCONNECTED;
  const dispatcher = internals._dispatcher;
  for (const envelope of dispatcher._envelopes.values()) {
    if (envelope.timer) clearTimeout(envelope.timer);
    envelope.timer = null;
    const request = envelope.request;
    envelope.request = null;
    if (request) {
      void Promise.resolve(request).then((req) => {
        (req as { destroy?: () => void } | undefined)?.destroy?.();
      }, () => undefined);
    }
  }
  dispatcher._envelopes.clear();
  dispatcher.close();
}
