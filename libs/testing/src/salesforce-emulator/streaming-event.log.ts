/** One event kept on a channel of the event bus. */
export interface LoggedEvent {
  replayId: number;
  createdAt: number;
  data: unknown;
  /** Generic streaming: the users the push targeted (absent or empty: every subscriber). */
  userIds?: string[];
  /** PushTopic events: the record's object and owner, which decide who may receive the event. */
  record?: { object: string; ownerId?: string };
}

export type ReplayStart = { ok: true; events: LoggedEvent[] } | { ok: false };

/**
 * The event bus's per-channel storage for durable streaming: Salesforce keeps PushTopic and generic events for
 * 24 hours, gives each a replay id (increasing, but not contiguous — clients must not compute with them), and
 * lets a subscriber start from -1 (new events only), -2 (everything retained) or after a retained id.
 */
export class StreamingEventLog {
  private readonly channels = new Map<string, { events: LoggedEvent[]; last: number; count: number }>();

  constructor(private readonly retentionMs: number, private readonly now: () => number) {}

  private log(channel: string): { events: LoggedEvent[]; last: number; count: number } {
    let log = this.channels.get(channel);
    if (!log) {
      log = { events: [], last: 0, count: 0 };
      this.channels.set(channel, log);
    }
    return log;
  }

  private prune(log: { events: LoggedEvent[] }): void {
    const oldest = this.now() - this.retentionMs;
    const keepFrom = log.events.findIndex((e) => e.createdAt > oldest);
    log.events.splice(0, keepFrom < 0 ? log.events.length : keepFrom);
  }

  append(channel: string, build: (replayId: number, createdAt: number) => unknown, userIds?: string[], record?: LoggedEvent['record']): LoggedEvent {
    const log = this.log(channel);
    this.prune(log);
    // Steps of 1 and 2 alternately: increasing ids with gaps, as the documentation warns they may have.
    log.count++;
    log.last += log.count % 2 === 0 ? 2 : 1;
    const createdAt = this.now();
    const event: LoggedEvent = { replayId: log.last, createdAt, data: build(log.last, createdAt), ...(userIds ? { userIds } : {}), ...(record ? { record } : {}) };
    log.events.push(event);
    return event;
  }

  /** The retained events a subscription starting at `from` must receive first, or `ok: false` for an unknown/expired id. */
  replay(channel: string, from: number): ReplayStart {
    const log = this.log(channel);
    this.prune(log);
    if (from === -1) return { ok: true, events: [] };
    if (from === -2) return { ok: true, events: [...log.events] };
    const at = log.events.findIndex((e) => e.replayId === from);
    return at < 0 ? { ok: false } : { ok: true, events: log.events.slice(at + 1) };
  }

  /** Every retained event of a channel (for assertions). */
  retained(channel: string): LoggedEvent[] {
    const log = this.log(channel);
    this.prune(log);
    return [...log.events];
  }
}
