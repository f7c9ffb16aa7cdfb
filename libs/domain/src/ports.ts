import type { PresenceSnapshot, SalesforceStatusDefinition, SalesforceUser } from './directory';
import type { InboundChange, IntakeResult } from './inbound-change';

/**
 * Where inbound changes go: implementations queue them durably and resolve only afterwards, so a caller may
 * acknowledge its source (HTTP 202, a stored replay id) once `accept` resolves. Idempotent on
 * `side + eventId`: a change seen before counts as a duplicate and is not queued again.
 */
export abstract class InboundSink {
  abstract accept(changes: InboundChange[]): Promise<IntakeResult>;

  /** At boot: hands on whatever was queued but not yet taken up before a crash. Returns how many queues it woke. */
  async recover(): Promise<number> {
    return 0;
  }
}

/**
 * A command to put one Salesforce user into a status. `commandId` is stable across retries; the console
 * relay ignores a command after `expiresAt` (epoch ms).
 */
export interface PresenceCommand {
  userId: string;
  /** DeveloperName, or `Offline` to log out of Omni-Channel. */
  status: string;
  commandId: string;
  expiresAt: number;
}

/**
 * `confirm-pending`: the command reached the agent's console; the write counts once the presence stream
 * shows the new status (the engine waits for it, see docs/architecture.md). `applied`: the adapter knows
 * the status is already in force.
 */
export type PresenceWriteResult = { kind: 'confirm-pending' } | { kind: 'applied' };

/**
 * The Salesforce port. There is no server API to set another user's presence: `sendStatus` reaches the
 * agent's console relay. A console that is not open is a `RetryableWriteError` with reason `console-closed`.
 */
export abstract class SalesforcePort {
  abstract listStatuses(): Promise<SalesforceStatusDefinition[]>;
  abstract listUsers(): Promise<SalesforceUser[]>;
  /** Current presence of every user with a current status row; users not listed are Offline. */
  abstract currentPresence(): Promise<PresenceSnapshot[]>;
  abstract sendStatus(command: PresenceCommand): Promise<PresenceWriteResult>;

  /**
   * The Omni-Channel service channels' DeveloperNames (what workload rows name), or `undefined` when this adapter
   * cannot read them; rule validation then warns that channels were not checked. Throws when the read fails.
   */
  async listServiceChannels(): Promise<string[] | undefined> {
    return undefined;
  }

  /**
   * True when the adapter watches consoles it found closed and announces their return (`onConsoleOnline`): the
   * engine then holds a write to a closed console instead of spending retries on it.
   */
  get watchesConsoles(): boolean {
    return false;
  }

  /** Tells `listener` that a user's console, found closed by a write, is open again. Returns the unsubscribe. */
  onConsoleOnline(_listener: (userId: string) => void): () => void {
    return () => undefined;
  }
}

/**
 * A push source of inbound changes (the Salesforce presence stream, or a contact center that is not
 * webhook-based). It hands changes to the sink and acknowledges its source only after `accept` resolves.
 */
export abstract class ChangeSource {
  /**
   * @param onGap called when the source may have missed changes (e.g. an expired replay id): the engine runs
   *   a drift repair.
   */
  abstract start(sink: InboundSink, onGap?: (reason: string) => void): Promise<void>;
  /** Stops intake; safe to call twice. */
  abstract stop(): Promise<void>;
}

/** Time, injectable so tests can pin it. */
export abstract class Clock {
  abstract now(): number;
}

export class SystemClock extends Clock {
  now(): number {
    return Date.now();
  }
}

/**
 * Durable small values an adapter must keep across restarts (e.g. the last replay id of a stream). Written
 * only after what it marks is safely queued.
 */
export abstract class CheckpointStore {
  abstract get(key: string): Promise<string | undefined>;
  abstract set(key: string, value: string): Promise<void>;
}
