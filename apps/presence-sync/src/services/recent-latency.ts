/** Sync latency over the recent past, for the status page (the Prometheus histogram keeps the long view). */
export interface LatencySummary {
  /** Writes the other side took in the window (at most `maxSamples` of them are kept for the percentiles). */
  count: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

export interface RecentLatencyOptions {
  /** How far back the summary looks, ms. Default 60 000. */
  windowMs?: number;
  /** Samples kept per direction (the newest); bounds memory under load. Default 10 000. */
  maxSamples?: number;
}

interface Sample {
  at: number;
  ms: number;
}

/** The value below which `p` of the sorted values fall (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil(p * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/**
 * The latencies of the writes of the last `windowMs`, per direction (`acd->salesforce`, `salesforce->acd`,
 * `reconcile`): p50, p95 and max. Each direction keeps at most `maxSamples` samples, oldest dropped first, so a
 * burst costs bounded memory; `count` still counts every write in the window (per second, so it is bounded too).
 */
export class RecentLatency {
  readonly windowMs: number;
  private readonly maxSamples: number;
  private readonly directions = new Map<string, { samples: Sample[]; perSecond: { second: number; n: number }[] }>();

  constructor(options: RecentLatencyOptions = {}) {
    this.windowMs = options.windowMs ?? 60_000;
    this.maxSamples = Math.max(1, options.maxSamples ?? 10_000);
  }

  record(direction: string, latencyMs: number, at: number): void {
    if (!Number.isFinite(latencyMs) || latencyMs < 0) return;
    let d = this.directions.get(direction);
    if (!d) this.directions.set(direction, (d = { samples: [], perSecond: [] }));
    d.samples.push({ at, ms: latencyMs });
    if (d.samples.length > this.maxSamples) d.samples.splice(0, d.samples.length - this.maxSamples);
    const second = Math.floor(at / 1000);
    const last = d.perSecond[d.perSecond.length - 1];
    if (last?.second === second) last.n++;
    else d.perSecond.push({ second, n: 1 });
    this.prune(at);
  }

  /** Per direction, the writes of the window ending at `now`; a direction with none is left out. */
  summary(now: number): Record<string, LatencySummary> {
    this.prune(now);
    const out: Record<string, LatencySummary> = {};
    for (const [direction, d] of this.directions) {
      if (d.samples.length === 0) continue;
      const sorted = d.samples.map((s) => s.ms).sort((a, b) => a - b);
      out[direction] = {
        count: Math.max(sorted.length, d.perSecond.reduce((sum, s) => sum + s.n, 0)),
        p50Ms: Math.round(percentile(sorted, 0.5)),
        p95Ms: Math.round(percentile(sorted, 0.95)),
        maxMs: Math.round(sorted[sorted.length - 1]),
      };
    }
    return out;
  }

  /** Drops what is older than the window: times only grow, so the old ones are a prefix (cost: what is dropped). */
  private prune(now: number): void {
    const from = now - this.windowMs;
    for (const d of this.directions.values()) {
      let old = 0;
      while (old < d.samples.length && d.samples[old].at <= from) old++;
      if (old > 0) d.samples.splice(0, old);
      // A second that overlaps the window counts whole: the count may include up to a second more.
      let oldSeconds = 0;
      while (oldSeconds < d.perSecond.length && (d.perSecond[oldSeconds].second + 1) * 1000 <= from) oldSeconds++;
      if (oldSeconds > 0) d.perSecond.splice(0, oldSeconds);
    }
  }
}
