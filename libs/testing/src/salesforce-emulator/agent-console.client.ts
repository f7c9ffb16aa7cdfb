import { createFayeClient } from './faye.loader';
import type { BayeuxMessage, FayeCallback, FayeClient } from './faye.types';
import { looksLikeId, sameId } from './salesforce-id.util';
import type { CommandDropReason, ConsoleCommand, ConsoleStats } from './salesforce-emulator.types';

/** What the console can do to the agent's Omni-Channel presence (the omniToolkitAPI of the emulated org). */
export interface OmniToolkit {
  currentStatusId(userId: string): string | undefined;
  statusExists(statusId: string): boolean;
  /** Whether the user was given access to the status through its profile or a permission set. */
  hasStatusAccess(userId: string, statusId: string): boolean;
  setServicePresenceStatus(userId: string, statusId: string): 'changed' | 'unchanged';
  logout(userId: string): 'changed' | 'unchanged';
}

export interface AgentConsoleOptions {
  userId: string;
  /** The CometD endpoint, `<instance>/cometd/<version>`. */
  endpoint: string;
  /** The agent's Lightning session. */
  token: string;
  channel: string;
  now: () => number;
  toolkit: OmniToolkit;
  onApplied(command: ConsoleCommand, outcome: 'changed' | 'unchanged'): void;
  onDropped(reason: CommandDropReason, payload: unknown): void;
  /** The toolkit refused the command; `message` is what the relay logs. */
  onFailed(command: ConsoleCommand, message: string): void;
  /** Counters to add to (kept by the emulator across reopenings of the console). */
  stats: ConsoleStats;
}

/** How many applied command ids a console remembers to refuse re-sends. */
const REMEMBERED_IDS = 200;
const OPEN_TIMEOUT_MS = 10_000;

export function emptyConsoleStats(): ConsoleStats {
  return { received: 0, applied: 0, unchanged: 0, failed: 0, dropped: { malformed: 0, version: 0, foreign: 0, expired: 0, duplicate: 0, 'unknown-status': 0 } };
}

type Checked = { ok: true; command: ConsoleCommand } | { ok: false; reason: CommandDropReason };

function check(payload: unknown): Checked {
  if (typeof payload !== 'string') return { ok: false, reason: 'malformed' };
  let body: unknown;
  try {
    body = JSON.parse(payload);
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, reason: 'malformed' };
  const c = body as Record<string, unknown>;
  if (c.v !== undefined && c.v !== 1) return { ok: false, reason: 'version' };
  const typed = c.v === 1 && (c.type === 'setStatus' || c.type === 'logout')
    && typeof c.commandId === 'string' && c.commandId !== ''
    && typeof c.userId === 'string' && looksLikeId(c.userId)
    && typeof c.expiresAt === 'number' && Number.isFinite(c.expiresAt)
    && (c.type === 'logout' || (typeof c.statusId === 'string' && looksLikeId(c.statusId)));
  if (!typed) return { ok: false, reason: 'malformed' };
  return { ok: true, command: c as unknown as ConsoleCommand };
}

/**
 * An agent's Lightning console with the presence-sync relay utility open, as docs/salesforce-command-protocol.md
 * describes it: a real CometD client (on the agent's own session) subscribed to the command channel with
 * replay -1, which applies `setStatus`/`logout` commands for its own user to the Omni-Channel presence and
 * drops malformed, foreign, expired and repeated ones. It never answers: the effect is the new presence row.
 */
export class AgentConsole {
  private readonly applied: string[] = [];
  private client?: FayeClient;

  constructor(private readonly options: AgentConsoleOptions) {}

  get stats(): ConsoleStats {
    return this.options.stats;
  }

  /** Connects and subscribes; resolves once the subscription is acknowledged. */
  async open(): Promise<void> {
    const { endpoint, token, channel } = this.options;
    // A short retry keeps a refused console from holding a 5 s timer (faye's default) after the emulator stops.
    const client = createFayeClient(endpoint, token, { retry: 1 });
    this.client = client;
    // empApi subscribes with a replay id; the relay asks for new events only.
    client.addExtension({
      outgoing: (message: BayeuxMessage, callback: FayeCallback) => {
        if (message.channel === '/meta/subscribe') message.ext = { ...message.ext, replay: { [channel]: -1 } };
        callback(message);
      },
    });
    const subscription = client.subscribe(channel, (data) => this.receive(data));
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        new Promise<void>((resolve, reject) => {
          void subscription.then(() => resolve(), (reason) => reject(new Error(`console of ${this.options.userId}: subscribe failed: ${typeof reason === 'string' ? reason : reason.message ?? 'unknown'}`)));
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`console of ${this.options.userId}: no subscription within ${OPEN_TIMEOUT_MS} ms`)), OPEN_TIMEOUT_MS);
        }),
      ]);
    } catch (error) {
      await this.close();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Disconnects (the server forgets the client at once, so the user shows as offline to pushes). */
  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    const leaving = client?.disconnect();
    if (!leaving) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => void leaving.then(() => resolve(), () => resolve())),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 2_000);
      }),
    ]);
    clearTimeout(timer);
  }

  private receive(data: unknown): void {
    this.stats.received++;
    const payload = typeof data === 'object' && data !== null ? (data as { payload?: unknown }).payload : undefined;
    const checked = check(payload);
    if (!checked.ok) return this.drop(checked.reason, payload);
    const { command } = checked;
    const { userId, toolkit } = this.options;
    if (!sameId(command.userId, userId)) return this.drop('foreign', payload);
    if (command.expiresAt < this.options.now()) return this.drop('expired', payload);
    if (this.applied.includes(command.commandId)) return this.drop('duplicate', payload);
    let outcome: 'changed' | 'unchanged';
    if (command.type === 'setStatus') {
      const statusId = command.statusId as string;
      if (!toolkit.statusExists(statusId)) return this.drop('unknown-status', payload);
      // The Console Developer Guide (setServicePresenceStatus) requires that the agent has access to the status
      // through its profile or a permission set; the emulated toolkit refuses any other (its promise rejects),
      // and the relay reports the command `failed` and does not remember it, so the daemon's re-send is tried again.
      if (!toolkit.hasStatusAccess(userId, statusId)) return this.fail(command, 'the agent has no access to this presence status (Service Presence Status Access in a profile or permission set)');
      outcome = sameId(toolkit.currentStatusId(userId), statusId) ? 'unchanged' : toolkit.setServicePresenceStatus(userId, statusId);
    } else {
      outcome = toolkit.currentStatusId(userId) === undefined ? 'unchanged' : toolkit.logout(userId);
    }
    this.applied.push(command.commandId);
    if (this.applied.length > REMEMBERED_IDS) this.applied.shift();
    this.stats.applied++;
    if (outcome === 'unchanged') this.stats.unchanged++;
    this.options.onApplied(command, outcome);
  }

  private fail(command: ConsoleCommand, message: string): void {
    this.stats.failed++;
    this.options.onFailed(command, message);
  }

  private drop(reason: CommandDropReason, payload: unknown): void {
    this.stats.dropped[reason]++;
    this.options.onDropped(reason, payload);
  }
}
