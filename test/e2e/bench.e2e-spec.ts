import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runProcess, type Run } from '../support/run-process';

/*
 * `npm run bench` as a user runs it, on the built code, at a size CI affords: its own Redis (no REDIS_URL), both
 * emulators, the daemon as a child process and the baseline. The figures are not asserted (performance is
 * measured by the benchmark itself, not by timed tests); what is: every change synced, none lost, none
 * echoed, every part of the report filled, and a readable refusal of a bad option.
 */

const ENTRY = join(ROOT, 'dist', 'apps', 'bench', 'src', 'bench.main.js');

function runBench(args: string[], timeoutMs: number): Promise<Run> {
  // Its own Redis, as on a fresh machine.
  const env = { ...process.env };
  delete env.REDIS_URL;
  return runProcess(process.execPath, [ENTRY, ...args], env, timeoutMs);
}

interface Summary { count: number; p50: number; p99: number; max: number }

describe('npm run bench', () => {
  const out = mkdtempSync(join(tmpdir(), 'presence-sync-bench-e2e-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('syncs every change of a small both-way run, loses and echoes none, and writes the whole report', async () => {
    const run = await runBench(['--agents', '60', '--active', '60', '--rate', '20', '--duration', '3', '--warmup', '1', '--rules', '10', '--out', out], 150_000);
    expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr.slice(-2000) }).toEqual({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/end to end, contact center → SF/);
    expect(run.stdout).toMatch(/baseline: bare BullMQ hop/);
    // The progress line and the phases go to stderr.
    expect(run.stderr).toMatch(/\[bench\] daemon ready in \d+ ms/);

    const files = readdirSync(out).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(1);
    const result = JSON.parse(readFileSync(join(out, files[0]), 'utf8')) as {
      boot: { msToReady: number; agents: number; rules: number };
      daemon: {
        changesEmitted: number; synced: number; lost: number; echoes: number; throughputPerSec: number; peakRssMB: number;
        e2eLatencyMs: Record<string, Summary>; daemonLatencyMs: Record<string, Summary>; salesforceApiCallsPerSyncedChange: number | null;
      };
      baseline: { sent: number; received: number; latency: Summary };
      ratios: { daemonP99OverBaselineP99: number | null };
      targets: Record<string, boolean>;
    };
    expect(result.boot).toMatchObject({ agents: 60, rules: 10 });
    expect(result.boot.msToReady).toBeGreaterThan(0);
    expect(result.daemon.lost).toBe(0);
    expect(result.daemon.echoes).toBe(0);
    expect(result.daemon.synced).toBe(result.daemon.changesEmitted);
    for (const direction of ['acd->salesforce', 'salesforce->acd']) {
      expect(result.daemon.e2eLatencyMs[direction].count).toBeGreaterThan(0);
      // Every measured write was found in the daemon's audit with its own timings.
      expect(result.daemon.daemonLatencyMs[direction].count).toBe(result.daemon.e2eLatencyMs[direction].count);
    }
    expect(result.daemon.peakRssMB).toBeGreaterThan(0);
    expect(result.daemon.salesforceApiCallsPerSyncedChange).toBeGreaterThan(0);
    expect(result.baseline.received).toBe(result.baseline.sent);
    expect(result.baseline.latency.count).toBe(result.baseline.sent);
    expect(result.ratios.daemonP99OverBaselineP99).not.toBeNull();
    expect(Object.keys(result.targets)).toContain('lost = 0');
  }, 180_000);

  it('refuses a bad option with one readable line and exit code 2', async () => {
    const run = await runBench(['--rate', 'fast'], 30_000);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--rate must be a whole number/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});
