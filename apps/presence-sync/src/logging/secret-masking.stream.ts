/** What pino writes its lines to. */
export interface LineStream {
  write(line: string): unknown;
}

export const MASK = '[redacted]';

/**
 * A pino destination that replaces every known secret value before the line leaves the process. Fields named
 * like secrets are already redacted by pino; this catches a secret inside a message (a library's error text,
 * a URL) that no path rule can know about. Values are matched both raw and as JSON escapes them.
 */
export class SecretMaskingStream implements LineStream {
  private readonly needles: string[];

  constructor(secrets: readonly string[], private readonly out: LineStream = process.stdout) {
    const forms = new Set<string>();
    for (const secret of secrets) {
      if (!secret) continue;
      forms.add(secret);
      forms.add(JSON.stringify(secret).slice(1, -1));
    }
    this.needles = [...forms].sort((a, b) => b.length - a.length);
  }

  write(line: string): unknown {
    let masked = line;
    for (const needle of this.needles) if (masked.includes(needle)) masked = masked.split(needle).join(MASK);
    return this.out.write(masked);
  }
}
