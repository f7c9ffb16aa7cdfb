import type { IncomingMessage } from 'node:http';
import type { BayeuxClientEngine } from './bayeux-client.engine';
import type { SessionCheck } from './emulator-oauth.service';
import type { BayeuxMessage, FayeCallback, FayeServerExtension } from './faye.types';
import type { LoggedEvent, ReplayStart } from './streaming-event.log';

export interface SalesforceBayeuxDeps {
  engine: BayeuxClientEngine;
  /** Checks the request's `Authorization` header. */
  check(authorization: string | undefined): SessionCheck;
  /** Whether a PushTopic (`/topic/Name`) or StreamingChannel (`/u/Name`) of that name exists. */
  channelExists(channel: string): boolean;
  /** The retained events a subscription of that client starting at `from` gets first (already filtered for the client). */
  replay(channel: string, from: number, clientId: string): ReplayStart;
  /** Queues replayed events for one client. */
  deliverReplay(clientId: string, channel: string, events: LoggedEvent[]): void;
}

export const HANDSHAKE_DENIED = '403::Handshake denied';
export const AUTHENTICATION_INVALID = '401::Authentication invalid';
export const REQUEST_REQUIRES_AUTHENTICATION = '401::Request requires authentication';
export const UNKNOWN_CLIENT = '403::Unknown client';

export function invalidReplayIdError(replayId: unknown): string {
  return `400::The replayId {${String(replayId)}} you provided was invalid.  Please provide a valid ID, -1 to replay all new events, or -2 to replay all events.`;
}

export function unknownChannelError(channel: string): string {
  return `400::The channel you requested to subscribe to does not exist {${channel}}`;
}

/** `-1`, `-2` or a replay id (an integer, as the replay extension documents it), else undefined. */
function replayFrom(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= -2 && value !== 0 ? value : undefined;
}

function subscriptions(message: BayeuxMessage): string[] {
  const s = message.subscription;
  return s === undefined ? [] : Array.isArray(s) ? s : [s];
}

/**
 * The Salesforce behaviour of the CometD endpoint, as a faye server extension:
 * - every request is authenticated by its `Authorization` header; a failed handshake answers
 *   `403::Handshake denied` with `ext.sfdc.failureReason` (`401::Authentication invalid`, or
 *   `401::Request requires authentication` without a token); a failed connect/subscribe answers
 *   `401::Authentication invalid`; both with `advice.reconnect = 'none'`;
 * - a client the server forgot gets `403::Unknown client` with `advice.reconnect = 'handshake'`;
 * - the handshake offers only `long-polling` and announces `ext: { replay: true, 'payload.format': true }`;
 * - subscriptions need an existing channel and honour `ext.replay = { '<channel>': -1 | -2 | replayId }`,
 *   failing with `400::The replayId {N} you provided was invalid…` for an unknown or expired id; replayed
 *   events go to that subscriber only.
 * Errors and advice are written on the way out: faye's server rewrites the advice of every failed
 * handshake/connect reply to `reconnect: 'handshake'` after the incoming stage.
 */
export class SalesforceBayeuxExtension implements FayeServerExtension {
  /** Replays validated on the way in, to deliver once the subscribe succeeded (key: client id + message id). */
  private readonly pendingReplays = new Map<string, { channel: string; events: LoggedEvent[] }[]>();
  /** Client of a connect refused for authentication: faye drops `clientId` from failed connect replies, Salesforce keeps it. */
  private readonly refusedConnects = new WeakMap<IncomingMessage, string>();

  constructor(private readonly deps: SalesforceBayeuxDeps) {}

  incoming(message: BayeuxMessage, request: IncomingMessage | null, callback: FayeCallback): void {
    const auth = this.deps.check(request?.headers.authorization);
    switch (message.channel) {
      case '/meta/handshake':
        if (!auth.ok) message.error = HANDSHAKE_DENIED;
        break;
      case '/meta/connect':
        if (!auth.ok) {
          message.error = auth.reason === 'missing' ? REQUEST_REQUIRES_AUTHENTICATION : AUTHENTICATION_INVALID;
          if (request && message.clientId) this.refusedConnects.set(request, message.clientId);
        } else if (message.connectionType !== 'long-polling') message.error = `400::Invalid connection type {${String(message.connectionType)}}`;
        break;
      case '/meta/subscribe':
        if (!auth.ok) message.error = auth.reason === 'missing' ? REQUEST_REQUIRES_AUTHENTICATION : AUTHENTICATION_INVALID;
        else this.checkSubscribe(message);
        break;
      case '/meta/unsubscribe':
        if (!auth.ok) message.error = auth.reason === 'missing' ? REQUEST_REQUIRES_AUTHENTICATION : AUTHENTICATION_INVALID;
        break;
      case '/meta/disconnect':
        // A client may always leave, even with a revoked token.
        break;
      default:
        // Streaming API channels are fed by the server (record changes, the push REST resource), never by clients.
        if (!message.channel.startsWith('/meta/')) message.error = `403::Publishing to ${message.channel} is not allowed`;
    }
    callback(message);
  }

  private checkSubscribe(message: BayeuxMessage): void {
    const clientId = message.clientId;
    // An unknown client is answered by faye itself (and rewritten on the way out).
    if (!clientId || !this.deps.engine.get(clientId)) return;
    const requested = subscriptions(message);
    const replayMap = (message.ext?.replay ?? {}) as Record<string, unknown>;
    const replays: { channel: string; events: LoggedEvent[] }[] = [];
    for (const channel of requested) {
      if (!this.deps.channelExists(channel)) {
        message.error = unknownChannelError(channel);
        return;
      }
      const raw = typeof replayMap === 'object' && replayMap !== null && channel in replayMap ? replayMap[channel] : -1;
      const from = replayFrom(raw);
      const start = from === undefined ? undefined : this.deps.replay(channel, from, clientId);
      if (!start || !start.ok) {
        message.error = invalidReplayIdError(raw);
        return;
      }
      replays.push({ channel, events: start.events });
    }
    this.pendingReplays.set(`${clientId}\u0000${message.id ?? ''}`, replays);
  }

  outgoing(message: BayeuxMessage, request: IncomingMessage | null, callback: FayeCallback): void {
    if (message.error !== undefined && /^401:[^:]*:Unknown client$/.test(message.error)) {
      // faye says `401:<id>:Unknown client`; Salesforce says 403 and asks for a new handshake.
      message.error = UNKNOWN_CLIENT;
      message.advice = { reconnect: 'handshake', interval: 0 };
    }
    switch (message.channel) {
      case '/meta/handshake':
        this.handshakeReply(message, request);
        break;
      case '/meta/connect':
      case '/meta/subscribe':
      case '/meta/unsubscribe':
        if (message.error?.startsWith('401::')) message.advice = { reconnect: 'none', interval: 0 };
        if (message.channel === '/meta/connect') this.afterRefusedConnect(message, request);
        if (message.channel === '/meta/subscribe') this.afterSubscribe(message);
        break;
      default:
        break;
    }
    callback(message);
  }

  private handshakeReply(message: BayeuxMessage, request: IncomingMessage | null): void {
    if (message.error === HANDSHAKE_DENIED) {
      const auth = this.deps.check(request?.headers.authorization);
      const failureReason = !auth.ok && auth.reason === 'missing' ? REQUEST_REQUIRES_AUTHENTICATION : AUTHENTICATION_INVALID;
      delete message.supportedConnectionTypes;
      delete message.version;
      message.ext = { sfdc: { failureReason }, replay: true, 'payload.format': true };
      message.advice = { reconnect: 'none' };
      return;
    }
    if (!message.successful || !message.clientId) return;
    message.supportedConnectionTypes = ['long-polling'];
    message.minimumVersion = '1.0';
    message.ext = { replay: true, 'payload.format': true };
    const auth = this.deps.check(request?.headers.authorization);
    if (auth.ok) this.deps.engine.bind(message.clientId, auth.session.userId, auth.session.token);
  }

  private afterRefusedConnect(message: BayeuxMessage, request: IncomingMessage | null): void {
    const clientId = request ? this.refusedConnects.get(request) : undefined;
    if (!clientId || !message.error?.startsWith('401::')) return;
    this.refusedConnects.delete(request as IncomingMessage);
    message.clientId = clientId;
    // The session behind the client is gone; the client must authenticate again and build a new one.
    this.deps.engine.destroyClient(clientId);
  }

  private afterSubscribe(message: BayeuxMessage): void {
    const key = `${message.clientId ?? ''}\u0000${message.id ?? ''}`;
    const replays = this.pendingReplays.get(key);
    this.pendingReplays.delete(key);
    if (!message.successful || !replays || !message.clientId) return;
    for (const { channel, events } of replays) if (events.length > 0) this.deps.deliverReplay(message.clientId, channel, events);
  }
}
