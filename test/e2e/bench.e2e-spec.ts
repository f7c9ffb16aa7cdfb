import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runProcess, type Run } from '../support/run-process';

/*
 * `npm run bench` as a user runs it, on the built code, at a size CI affords: its own Redis (no REDIS_URL), both
 * emulators, the daemons as child processes behind one webhook address, and the baseline. The figures are not
 * asserted (performance is measured by the benchmark itself, not by timed tests); what is: every change synced,
 * none lost, none echoed, every part of the report filled, the replicas asked for really run and share the
 * work, the costs per change are counted, and a bad option is refused in one readable line.
 */

const ENTRY = join(ROOT, 'dist', 'apps', 'bench', 'src', 'bench.main.js');

function runBench(args: string[], timeoutMs: number): Promise<Run> {
  // Its own Redis, as on a fresh machine.
  const env = { ...process.env };
  delete env.REDIS_URL;
  return runProcess(process.execPath, [ENTRY, ...args], env, timeoutMs);
}

interface Summary { count: number; p50: number; p99: number; max: number }

interface BenchResult {
  replicas: number;
  webhookBatch: number;
  redisCommandsPerChange: number | null;
  daemonCpuMsPerChange: number | null;
  redis: string;
  options: { partitions: number };
  cost: { syncedChanges: number; redisCommands: number; redisScriptCalls: number; redisScriptCallsPerChange: number | null; daemonCpuMs: number; redisCommandsByNode: number[] };
  boot: { msToReady: number; agents: number; rules: number };
  daemon: {
    changesEmitted: number; synced: number; lost: number; echoes: number; throughputPerSec: number; peakRssMB: number;
    e2eLatencyMs: Record<string, Summary>; daemonLatencyMs: Record<string, Summary>; salesforceApiCallsPerSyncedChange: number | null;
    replicas: { replica: number; pid: number; webhooks: number; webhooksRefused: number; cpuMs: number; peakRssMB: number }[];
  };
  baseline: { sent: number; received: number; latency: Summary; redisCommandsPerJob: number | null; workerCpuMsPerJob: number | null };
  ratios: { daemonP99OverBaselineP99: number | null };
  targets: Record<string, boolean>;
}

/** The one result file a run wrote into `dir`. */
function resultIn(dir: string): BenchResult {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  expect(files).toHaveLength(1);
  return JSON.parse(readFileSync(join(dir, files[0]), 'utf8')) as BenchResult;
}

/** Every change synced, none lost or echoed, both directions measured and found in the daemons' audit. */
function expectAllSynced(result: BenchResult): void {
  expect(result.daemon.lost).toBe(0);
  expect(result.daemon.echoes).toBe(0);
  expect(result.daemon.synced).toBe(result.daemon.changesEmitted);
  for (const direction of ['acd->salesforce', 'salesforce->acd']) {
    expect(result.daemon.e2eLatencyMs[direction].count).toBeGreaterThan(0);
    // Every measured write was found in the daemons' audit with its own timings.
    expect(result.daemon.daemonLatencyMs[direction].count).toBe(result.daemon.e2eLatencyMs[direction].count);
  }
}

/**
 * The costs are counted, not made up: the per-change figures are the measured totals over the synced changes,
 * a change takes more than one Redis command (it is stored before it is acknowledged, then written out), the
 * scripts are among the commands, and CPU was spent.
 */
function expectCostsCounted(result: BenchResult): void {
  const { cost } = result;
  expect(cost.syncedChanges).toBeGreaterThan(0);
  expect(result.redisCommandsPerChange).toBeCloseTo(cost.redisCommands / cost.syncedChanges, 1);
  expect(result.daemonCpuMsPerChange).toBeCloseTo(cost.daemonCpuMs / cost.syncedChanges, 1);
  expect(result.redisCommandsPerChange).toBeGreaterThan(1);
  expect(result.baseline.redisCommandsPerJob).toBeGreaterThan(1);
  expect(cost.redisScriptCalls).toBeGreaterThan(0);
  expect(cost.redisScriptCalls).toBeLessThan(cost.redisCommands);
  expect(result.daemonCpuMsPerChange).toBeGreaterThan(0);
  expect(result.baseline.workerCpuMsPerJob).toBeGreaterThan(0);
  expect(Object.keys(result.targets)).toEqual(expect.arrayContaining(['Redis commands per change ≤ 40', 'daemon CPU per change ≤ 0.5 ms']));
}

describe('npm run bench', () => {
  const out = mkdtempSync(join(tmpdir(), 'presence-sync-bench-e2e-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  const small = ['--agents', '60', '--active', '60', '--rate', '20', '--duration', '3', '--warmup', '1', '--rules', '10'];

  it('syncs every change of a small both-way run, loses and echoes none, and writes the whole report', async () => {
    const dir = mkdtempSync(join(out, 'one-'));
    const run = await runBench([...small, '--out', dir], 150_000);
    expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr.slice(-2000) }).toEqual({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/end to end, contact center → SF/);
    expect(run.stdout).toMatch(/baseline: bare BullMQ hop/);
    expect(run.stdout).toMatch(/per synced change \(\d+, 1 daemon on one redis-server\): [\d.]+ Redis commands/);
    // The progress line and the phases go to stderr.
    expect(run.stderr).toMatch(/\[bench\] daemon ready in \d+ ms/);

    const result = resultIn(dir);
    expect(result.replicas).toBe(1);
    expect(result.redis).toBe('one redis-server');
    expect(result.cost.redisCommandsByNode).toHaveLength(1);
    expect(result.boot).toMatchObject({ agents: 60, rules: 10 });
    expect(result.boot.msToReady).toBeGreaterThan(0);
    expectAllSynced(result);
    expectCostsCounted(result);
    expect(result.daemon.replicas).toHaveLength(1);
    expect(result.daemon.peakRssMB).toBeGreaterThan(0);
    expect(result.daemon.salesforceApiCallsPerSyncedChange).toBeGreaterThan(0);
    expect(result.baseline.received).toBe(result.baseline.sent);
    expect(result.baseline.latency.count).toBe(result.baseline.sent);
    expect(result.ratios.daemonP99OverBaselineP99).not.toBeNull();
    expect(Object.keys(result.targets)).toContain('lost = 0');
    expect(readdirSync(dir).filter((f) => f.endsWith('.log'))).toHaveLength(1);
  }, 180_000);

  it('runs --webhook-batch: the contact center sends its events in batches, and every change is synced', async () => {
    const dir = mkdtempSync(join(out, 'batch-'));
    const run = await runBench([...small, '--rate', '60', '--webhook-batch', '20', '--out', dir], 150_000);
    expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr.slice(-2000) }).toEqual({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/per synced change \(\d+, 1 daemon on one redis-server, webhooks of up to 20 events\)/);
    const result = resultIn(dir);
    expect(result.webhookBatch).toBe(20);
    expectAllSynced(result);
    expectCostsCounted(result);
  }, 180_000);

  it('runs --replicas 2 as two daemon processes behind one webhook address, each taking its share', async () => {
    const dir = mkdtempSync(join(out, 'two-'));
    const run = await runBench([...small, '--replicas', '2', '--out', dir], 150_000);
    expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr.slice(-2000) }).toEqual({ code: 0, stderr: '' });
    expect(run.stderr).toMatch(/\[bench\] 2 daemons ready in \d+ ms/);

    const result = resultIn(dir);
    expect(result.replicas).toBe(2);
    expectAllSynced(result);
    expectCostsCounted(result);
    const [a, b] = result.daemon.replicas;
    expect(result.daemon.replicas).toHaveLength(2);
    expect(a.pid).not.toBe(b.pid);
    for (const replica of [a, b]) {
      // Round robin: each daemon took webhooks and spent CPU on them, and refused none.
      expect(replica.webhooks).toBeGreaterThan(0);
      expect(replica.webhooksRefused).toBe(0);
      expect(replica.cpuMs).toBeGreaterThan(0);
      expect(replica.peakRssMB).toBeGreaterThan(0);
    }
    expect(Math.abs(a.webhooks - b.webhooks)).toBeLessThanOrEqual(1);
    expect(result.cost.daemonCpuMs).toBe(a.cpuMs + b.cpuMs);
    expect(readdirSync(dir).filter((f) => f.endsWith('.log')).sort()).toEqual([expect.stringMatching(/\.daemon-1\.log$/), expect.stringMatching(/\.daemon-2\.log$/)]);
  }, 180_000);

  it('runs --cluster on a 3-master Redis Cluster it starts, the partitions spread over its nodes', async () => {
    const dir = mkdtempSync(join(out, 'cluster-'));
    const run = await runBench([...small, '--replicas', '2', '--cluster', '--out', dir], 150_000);
    expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr.slice(-2000) }).toEqual({ code: 0, stderr: '' });
    expect(run.stderr).toMatch(/\[bench\] Redis Cluster of 3 masters on 127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+/);

    const result = resultIn(dir);
    expect(result).toMatchObject({ replicas: 2, redis: 'a 3-master Redis Cluster' });
    expectAllSynced(result);
    expectCostsCounted(result);
    // Counted on every master: the daemons' partitions (and so their commands) are spread over the nodes.
    expect(result.cost.redisCommandsByNode).toHaveLength(3);
    for (const commands of result.cost.redisCommandsByNode) expect(commands).toBeGreaterThan(0);
    expect(result.cost.redisCommandsByNode.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(result.cost.redisCommands);
  }, 180_000);

  it.each([
    [['--rate', 'fast'], /^error: option '--rate <n>' argument 'fast' is invalid\. --rate must be a whole number ≥ 1$/m],
    [['--replicas', '0'], /^error: option '--replicas <n>' argument '0' is invalid\. --replicas must be a whole number ≥ 1$/m],
    [['--replicas', '17'], /^error: --replicas must be at most 16$/m],
    [['--partitions', '1025'], /^error: --partitions must be at most 1024$/m],
    [['--webhook-batch', '501'], /^error: --webhook-batch must be at most 500 \(the contract's limit per request\)$/m],
  ])('refuses %j with one readable line and exit code 2', async (args, line) => {
    const run = await runBench(args, 30_000);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(line);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);

  it('refuses --cluster with REDIS_URL set: the cluster is its own', async () => {
    const run = await runProcess(process.execPath, [ENTRY, '--cluster'], { ...process.env, REDIS_URL: 'redis://127.0.0.1:1' }, 30_000);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: --cluster starts its own Redis Cluster: unset REDIS_URL$/m);
  }, 60_000);
});
