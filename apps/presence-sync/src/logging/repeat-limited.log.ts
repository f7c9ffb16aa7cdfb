/** The part of Nest's `Logger` this needs (structured lines: `{ msg, ...fields }`). */
export interface StructuredLogger {
  error(line: object): void;
  warn(line: object): void;
  log(line: object): void;
}

export type RepeatLevel = 'error' | 'warn' | 'log';

/** Fields of a line; `msg` stays the same in the summary, so alerts matching on it see both. */
export type LogLine = { msg: string } & Record<string, unknown>;

interface Entry {
  level: RepeatLevel;
  line: LogLine;
  repeats: number;
}

/** How long repeats of one kind of line are counted before one summary line reports them. */
export const REPEAT_INTERVAL_MS = 60_000;

/**
 * Keeps floods readable: the first line of a kind (its `key`) is written at once, later ones of the same kind
 * are only counted, and at the end of each interval one summary line per kind says how many there were
 * (`repeated`, `intervalMs`). A kind that stayed quiet for a whole interval is forgotten, so its next line is
 * written at once again. A Redis outage or a stranger's flood of bad requests is a few lines a minute, not
 * thousands.
 */
export class RepeatLimitedLog {
  private readonly entries = new Map<string, Entry>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly logger: StructuredLogger, readonly intervalMs = REPEAT_INTERVAL_MS) {}

  error(key: string, line: LogLine): void {
    this.write('error', key, line);
  }

  warn(key: string, line: LogLine): void {
    this.write('warn', key, line);
  }

  /** Writes the pending summaries now (also at shutdown, so no count is lost). */
  flush(): void {
    for (const [key, entry] of this.entries) {
      if (entry.repeats === 0) {
        this.entries.delete(key);
        continue;
      }
      this.logger[entry.level]({ ...entry.line, repeated: entry.repeats, intervalMs: this.intervalMs });
      entry.repeats = 0;
    }
    if (this.entries.size === 0) this.stop();
  }

  /** Flushes and stops the interval timer. */
  close(): void {
    this.flush();
    this.stop();
  }

  private write(level: RepeatLevel, key: string, line: LogLine): void {
    const entry = this.entries.get(key);
    if (entry) {
      entry.repeats++;
      return;
    }
    this.entries.set(key, { level, line, repeats: 0 });
    this.logger[level](line);
    if (!this.timer) {
      this.timer = setInterval(() => this.flush(), this.intervalMs);
      // A summary never keeps the process alive.
      this.timer.unref();
    }
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
