import { randomUUID } from 'node:crypto';
import {
  ChangeSource, RetryableWriteError, SALESFORCE_OFFLINE, SalesforcePort,
  type InboundSink, type PresenceCommand, type PresenceSnapshot, type PresenceWriteResult, type SalesforceChange,
  type SalesforceStatusDefinition, type SalesforceUser,
} from '@presence-sync/domain';
import { SANDBOX_STATUSES } from './sandbox-statuses';

/** Applied command ids each emulated console remembers to drop re-sends (as the console relay does). */
const REMEMBERED_COMMAND_IDS = 200;

export interface InMemorySalesforceOptions {
  statuses?: SalesforceStatusDefinition[];
  users?: SalesforceUser[];
  now?: () => number;
  /** Most recent commands kept in `commands` (older ones are dropped). Default 10,000. */
  maxCommandsKept?: number;
}

interface Presence { status: string; since: number }

/**
 * An in-memory Salesforce org behind the Salesforce ports: users, a status catalog, each user's current
 * presence, and an emulated console per user that applies the commands it receives (as the console relay
 * does) and reports every presence change on the stream, including the ones our commands caused — exactly
 * what the real presence stream does. For tests, which hand it to the daemon with `SALESFORCE_MODE=memory`
 * (the daemon never makes one up); the jsforce adapter is the production one.
 *
 * Event ids carry a random prefix per instance (`usp-<prefix>-<n>`): a new instance on the same Redis (a test
 * restarting its daemon, a second replica) never repeats an id the intake's de-duplication still remembers.
 */
export class InMemorySalesforce extends SalesforcePort implements ChangeSource {
  private readonly statuses: SalesforceStatusDefinition[];
  private readonly users = new Map<string, SalesforceUser>();
  private readonly presence = new Map<string, Presence>();
  private readonly closedConsoles = new Set<string>();
  /** Commands a slow console has received but not applied yet, per user. */
  private readonly held = new Map<string, PresenceCommand[]>();
  private readonly now: () => number;
  private sink?: InboundSink;
  private readonly eventIdPrefix = `usp-${randomUUID().replace(/-/g, '').slice(0, 12)}-`;
  private sequence = 0;
  private delivery: Promise<unknown> = Promise.resolve();
  private readonly maxCommandsKept: number;
  /** The commands received, oldest first, for assertions: the latest `maxCommandsKept`. */
  readonly commands: PresenceCommand[] = [];
  /** Commands applied by the emulated consoles. */
  applied = 0;
  /** Per user, the command ids its console applied lately (each applied at most once, as the relay does). */
  private readonly appliedCommandIds = new Map<string, string[]>();

  constructor(options: InMemorySalesforceOptions = {}) {
    super();
    this.statuses = options.statuses ?? SANDBOX_STATUSES;
    this.now = options.now ?? Date.now;
    this.maxCommandsKept = Math.max(1, options.maxCommandsKept ?? 10_000);
    for (const u of options.users ?? []) this.users.set(u.userId, u);
  }

  /** Creates one Salesforce user per e-mail (ids `005…`), as the sandbox mirrors the contact center's agents. */
  addUsersForEmails(emails: string[]): SalesforceUser[] {
    const created: SalesforceUser[] = [];
    for (const email of emails) {
      const userId = `005${String(this.users.size + 1).padStart(12, '0')}`;
      const user: SalesforceUser = { userId, username: email.toLowerCase(), email, active: true };
      this.users.set(userId, user);
      created.push(user);
    }
    return created;
  }

  async listStatuses(): Promise<SalesforceStatusDefinition[]> { return [...this.statuses]; }
  async listUsers(): Promise<SalesforceUser[]> { return [...this.users.values()]; }

  async currentPresence(): Promise<PresenceSnapshot[]> {
    return [...this.presence.entries()].filter(([, p]) => p.status !== SALESFORCE_OFFLINE).map(([userId, p]) => ({ userId, status: p.status, since: p.since }));
  }

  statusOf(userId: string): string { return this.presence.get(userId)?.status ?? SALESFORCE_OFFLINE; }

  async sendStatus(command: PresenceCommand): Promise<PresenceWriteResult> {
    this.commands.push(command);
    if (this.commands.length > this.maxCommandsKept) this.commands.splice(0, this.commands.length - this.maxCommandsKept);
    if (!this.users.has(command.userId)) throw new RetryableWriteError('console-closed', `user ${command.userId} has no console open`);
    if (this.closedConsoles.has(command.userId)) throw new RetryableWriteError('console-closed', `the console of user ${command.userId} is not open`);
    const held = this.held.get(command.userId);
    if (held) held.push(command);
    // The console receives the command asynchronously, as over the streaming channel.
    else setImmediate(() => this.apply(command));
    return { kind: 'confirm-pending' };
  }

  /** A slow console: commands to the user wait until `releaseCommands`. */
  holdCommands(userId: string): void {
    if (!this.held.has(userId)) this.held.set(userId, []);
  }

  /** The slow console catches up: it applies what it received, in order (expired ones are dropped). */
  releaseCommands(userId: string): void {
    const held = this.held.get(userId) ?? [];
    this.held.delete(userId);
    for (const command of held) this.apply(command);
  }

  private apply(command: PresenceCommand): void {
    if (command.expiresAt < this.now()) return;
    if (command.status !== SALESFORCE_OFFLINE && !this.statuses.some((s) => s.developerName === command.status)) return;
    // The console relay (apps/omni-relay) drops a command id it already applied: a re-sent command that
    // arrives after the agent changed status again must not undo that change.
    const appliedIds = this.appliedCommandIds.get(command.userId) ?? [];
    if (appliedIds.includes(command.commandId)) return;
    appliedIds.push(command.commandId);
    if (appliedIds.length > REMEMBERED_COMMAND_IDS) appliedIds.shift();
    this.appliedCommandIds.set(command.userId, appliedIds);
    this.applied++;
    this.change(command.userId, command.status);
  }

  /** The agent changes status in the console (or logs out with `Offline`). */
  agentSetStatus(userId: string, status: string): void {
    this.change(userId, status);
  }

  /** The console is closed: commands to it fail as `console-closed`. */
  setConsoleOpen(userId: string, open: boolean): void {
    if (open) this.closedConsoles.delete(userId);
    else this.closedConsoles.add(userId);
  }

  async start(sink: InboundSink, _onGap?: (reason: string) => void): Promise<void> { this.sink = sink; }

  async stop(): Promise<void> {
    this.sink = undefined;
    await this.delivery;
  }

  /** Resolves when every change emitted so far was handed to the sink. */
  drained(): Promise<unknown> { return this.delivery; }

  private change(userId: string, status: string): void {
    const at = this.now();
    if (this.presence.get(userId)?.status === status) return;
    this.presence.set(userId, { status, since: at });
    const event: SalesforceChange = { side: 'salesforce', eventId: `${this.eventIdPrefix}${++this.sequence}`, userId, occurredAt: at, status, receivedAt: at };
    const sink = this.sink;
    if (!sink) return;
    this.delivery = this.delivery.then(() => this.deliver(sink, event));
  }

  /**
   * Hands one change to the sink until it takes it. A refused `accept` (Redis answering an error) used to drop
   * the change silently; the real stream keeps it (its replay id is stored only after `accept`), so this one
   * tries again with a capped backoff, in order, until it is accepted or the stream is stopped.
   */
  private async deliver(sink: InboundSink, event: SalesforceChange): Promise<void> {
    for (let attempt = 0; this.sink === sink; attempt++) {
      try {
        await sink.accept([event]);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 1000)));
      }
    }
  }
}
