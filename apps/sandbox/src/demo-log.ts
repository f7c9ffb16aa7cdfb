import type { LineStream } from '../../presence-sync/src/logging/secret-masking.stream';

/** pino's level numbers, as a person reads them. */
const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warning', 50: 'error', 60: 'fatal' };
/** Fields every line has, shown in the prefix or not at all. */
const FRAME = new Set(['level', 'time', 'service', 'context', 'msg', 'pid', 'hostname']);

/** Lines held before the banner at most; more are counted, not kept. */
const MAX_HELD = 500;

const two = (n: number) => String(n).padStart(2, '0');

/**
 * One JSON log line of the daemon as one readable line: `07:19:24 warning Salesforce: <msg> (reason: …)`.
 * A line that is not JSON is kept as it is.
 */
export function formatLogLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return line.trimEnd();
    entry = parsed as Record<string, unknown>;
  } catch {
    return line.trimEnd();
  }
  const at = typeof entry.time === 'number' ? new Date(entry.time) : undefined;
  const time = at ? `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())} ` : '';
  const level = typeof entry.level === 'number' ? LEVELS[entry.level] ?? `level ${entry.level}` : 'log';
  const context = typeof entry.context === 'string' ? `${entry.context}: ` : '';
  const msg = typeof entry.msg === 'string' ? entry.msg : '';
  const fields = Object.entries(entry)
    .filter(([key, value]) => !FRAME.has(key) && value !== undefined)
    .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return `${time}${level} ${context}${msg}${fields.length ? ` (${fields.join('; ')})` : ''}`;
}

/**
 * The demo's log destination: lines are held until `release()` (so the banner comes first), then each is written
 * as one readable line.
 */
export class DemoLog implements LineStream {
  private held: string[] | undefined = [];
  private dropped = 0;

  constructor(private readonly out: (line: string) => void = (line) => process.stdout.write(`${line}\n`)) {}

  write(chunk: string): boolean {
    for (const line of chunk.split('\n')) {
      if (line.trim() === '') continue;
      if (this.held) {
        if (this.held.length < MAX_HELD) this.held.push(line);
        else this.dropped++;
      } else this.out(formatLogLine(line));
    }
    return true;
  }

  /** Writes what was held (in order) and everything from now on. */
  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const line of held) this.out(formatLogLine(line));
    if (this.dropped > 0) this.out(`(and ${this.dropped} more log lines from the start, not shown)`);
  }
}
