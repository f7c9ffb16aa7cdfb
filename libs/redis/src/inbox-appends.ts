import type { InboxEntry } from '@presence-sync/domain';
import { agentIdOfInbox } from './redis-keys';

/** Agent inboxes remembered at most (the oldest is forgotten first). */
export const INBOX_APPENDS_MAX_INBOXES = 4096;
/** Entries remembered per inbox at most (what follows is read from Redis). */
export const INBOX_APPENDS_MAX_ENTRIES = 32;

/**
 * What this process queued in agent inboxes since their owner last took them up here: the likely head of an inbox,
 * so the owner can apply it without reading it first (one Redis round trip less per change when intake and the
 * partition are on one replica). It is a guess and never trusted: the transition that pops entries checks in
 * Redis that they are still the head (`moved` if not, and the inbox is read), and reports whether more is
 * queued behind them. Bounded in inboxes and entries; a guess forgotten only costs the read.
 */
export class InboxAppends {
  private readonly byInbox = new Map<string, InboxEntry[]>();
  /** The last append of each inbox whose reply has not come back yet. */
  private readonly inFlight = new Map<string, Promise<unknown>>();

  /**
   * Intake's append of `entry` on its way to Redis; `append` resolves to 1 if Redis appended it (0: a duplicate).
   * Its reply remembers the entry (replies come in the order the appends ran, so entries are kept in inbox order).
   * The owner's blocking read of the ready set often wakes before that reply is handled (Redis answers both at
   * once): `settled` lets it wait for the reply, so the guess is there to take.
   */
  sending(inbox: string, entry: InboxEntry, append: Promise<number>): Promise<number> {
    if (agentIdOfInbox(inbox) === undefined) return append;
    const replied = append.then((added) => {
      if (added === 1) this.appended(inbox, entry);
      return added;
    });
    this.inFlight.set(inbox, replied);
    const clear = () => {
      if (this.inFlight.get(inbox) === replied) this.inFlight.delete(inbox);
    };
    replied.then(clear, clear);
    return replied;
  }

  /** Resolves once this process's appends to the inbox sent so far have their replies (at once if none is out). */
  settled(inbox: string): Promise<unknown> | undefined {
    return this.inFlight.get(inbox)?.then(() => undefined, () => undefined);
  }

  /** An entry this process appended to an agent inbox (in the order Redis appended them). */
  private appended(inbox: string, entry: InboxEntry): void {
    const entries = this.byInbox.get(inbox);
    if (entries) {
      if (entries.length < INBOX_APPENDS_MAX_ENTRIES) entries.push(entry);
      return;
    }
    this.byInbox.set(inbox, [entry]);
    if (this.byInbox.size > INBOX_APPENDS_MAX_INBOXES) this.byInbox.delete(this.byInbox.keys().next().value as string);
  }

  /** The expected head of an inbox (up to `limit` entries), forgotten as it is handed out; undefined if none. */
  take(inbox: string, limit: number): InboxEntry[] | undefined {
    const entries = this.byInbox.get(inbox);
    if (!entries) return undefined;
    this.byInbox.delete(inbox);
    return entries.slice(0, limit);
  }

  /**
   * Entries popped from an inbox's head (applied, by whatever read): forgotten here too, so a reply that arrived
   * after the owner read the inbox leaves no stale guess.
   */
  popped(inbox: string, raws: readonly string[]): void {
    const entries = this.byInbox.get(inbox);
    if (!entries) return;
    const gone = new Set(raws);
    const rest = entries.filter((e) => !gone.has(e.raw));
    if (rest.length === 0) this.byInbox.delete(inbox);
    else if (rest.length < entries.length) this.byInbox.set(inbox, rest);
  }

  /** Inboxes with a guess (the tests read it). */
  get size(): number {
    return this.byInbox.size;
  }
}
