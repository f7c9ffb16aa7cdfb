import { readFileSync } from 'node:fs';

/** Wall-clock epoch time in milliseconds with sub-millisecond resolution, comparable across processes. */
export const preciseNow = (): number => performance.timeOrigin + performance.now();

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

const round = (ms: number) => Math.round(ms * 100) / 100;

/** Percentiles by nearest rank over all samples (the runs are short enough to keep every sample). */
export function summarize(samples: number[]): LatencySummary {
  if (samples.length === 0) return { count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 };
  const sorted = Float64Array.from(samples).sort();
  const rank = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
  const sum = sorted.reduce((a, b) => a + b, 0);
  return { count: sorted.length, p50: round(rank(0.5)), p95: round(rank(0.95)), p99: round(rank(0.99)), max: round(sorted[sorted.length - 1]), mean: round(sum / sorted.length) };
}

export interface ProcessSample {
  /** CPU time used so far, ms (user + system). */
  cpuMs: number;
  rssBytes: number;
}

const CLOCK_TICKS_PER_SEC = 100;

/** CPU and RSS of another process from /proc (Linux); undefined elsewhere or once it exited. */
export function sampleProcess(pid: number): ProcessSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { cpuMs: (ticks * 1000) / CLOCK_TICKS_PER_SEC, rssBytes: rssKb * 1024 };
  } catch {
    return undefined;
  }
}

/** Follows a process's CPU share and RSS once a second. */
export class ProcessMonitor {
  private timer?: NodeJS.Timeout;
  private first?: { at: number; sample: ProcessSample };
  private last?: { at: number; sample: ProcessSample };
  peakRssBytes = 0;
  /** CPU share over the last second, in percent of one core. */
  cpuNowPct = 0;

  constructor(private readonly pid: number) {}

  start(): void {
    this.take();
    this.timer = setInterval(() => this.take(), 1000);
    this.timer.unref();
  }

  stop(): { cpuAvgPct: number; peakRssBytes: number; lastRssBytes: number } {
    clearInterval(this.timer);
    this.take();
    const cpuAvgPct = this.first && this.last && this.last.at > this.first.at
      ? ((this.last.sample.cpuMs - this.first.sample.cpuMs) / (this.last.at - this.first.at)) * 100 : 0;
    return { cpuAvgPct: Math.round(cpuAvgPct), peakRssBytes: this.peakRssBytes, lastRssBytes: this.last?.sample.rssBytes ?? 0 };
  }

  private take(): void {
    const sample = sampleProcess(this.pid);
    if (!sample) return;
    const at = Date.now();
    if (this.last && at > this.last.at) this.cpuNowPct = Math.round(((sample.cpuMs - this.last.sample.cpuMs) / (at - this.last.at)) * 100);
    this.first ??= { at, sample };
    this.last = { at, sample };
    this.peakRssBytes = Math.max(this.peakRssBytes, sample.rssBytes);
  }
}

/** Calls `tick(n)` with how many items are due so that `rate` per second are issued, in 5 ms steps, until stopped. */
export function paced(rate: number, tick: (n: number) => void): { stop(): void } {
  const started = performance.now();
  let issued = 0;
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - started) / 1000) * rate) - issued;
    if (due > 0) {
      issued += due;
      tick(due);
    }
  }, 5);
  return { stop: () => clearInterval(timer) };
}
