import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Redis from 'ioredis';
import type { AcdState, SalesforceChange } from '@presence-sync/domain';
import { DEFAULT_SYNC_PARTITIONS } from '@presence-sync/config';
import {
  agentInbox, userInbox, PartitionQueues, RedisAuditLog, RedisInboundSink, RedisKeys, RedisPartitionWork, redisOptionsFromUrl,
} from '@presence-sync/redis';
import { dueTaskOf } from '@presence-sync/sync';
import { ContactCenterEmulator, InMemorySalesforce, type EmulatorWrite } from '@presence-sync/testing';
import { dropPrefix, ENGINE_RULES, SECRET, TOKEN, waitFor } from '../../support/daemon-harness';

/*
 * The daemon runs in a child process (test/support/crash-worker.ts) so it can be SIGKILLed: no shutdown hook,
 * no drained work, syncs left half done with their guards in the due set. The test is the source of the changes:
 * it writes them into the durable intake (RedisInboundSink: the inboxes and the partitions' ready sets) itself, so
 * the child only consumes. A second child on the same Redis prefix must finish the work: taking the partitions it
 * marks every inbox that holds anything ready, the guards of the cut-off runs come due, the sync re-reads the
 * latest wanted state, and a PUT repeated after the crash carries the same Idempotency-Key (the contact center
 * replays its answer instead of applying it twice).
 *
 * Time: a crashed worker's runs come back once their guard (WORKER_LOCK_DURATION_MS) passes and its partitions'
 * leases expired; the child runs with a short lock duration so recovery takes seconds, as a deployment can set it.
 */

const ROOT = join(__dirname, '..', '..', '..');
const AGENTS = 50;
const STATUSES = ['Lunch', 'Break', 'Available_Chat', 'Busy'] as const;
const AWAY = ['Lunch', 'Break', 'Busy'] as const;
/**
 * Changes 0–3 of every agent are settled first (change 3 is never Available, the seeded state, so every agent
 * has an applied write); change 4 (Available) is in flight at the kill; change 5 (back to change 3) comes during
 * the outage, for every agent but the one whose PUT was cut off.
 */
const SETTLED_ROUNDS = 4;
/** The child is killed inside the emulator's handler of the n-th PUT of round 4: applied there, never answered. */
const KILL_AT_ROUND_WRITE = 10;
/** A few lock durations and stalled intervals plus the time to work through what is left. */
const RECOVERY_DEADLINE_MS = 30_000;

/** test/fixtures/engine-rules: tiers (and the per-user rules, same subscriber rows) / back-office. */
function expectedAcd(teamId: string, status: string): AcdState {
  if (status === 'Available_Chat') return { state: 'Available' };
  if (teamId === 't-backoffice') return { state: 'Unavailable', code: 'System' }; // no row: DEFAULT_UNAVAILABLE_CODE
  return { state: 'Unavailable', code: status === 'Busy' ? 'System' : status };
}

/** Change k of agent i. */
const statusOf = (i: number, k: number): string =>
  k === 4 ? 'Available_Chat' : k === 3 || k === 5 ? AWAY[i % AWAY.length] : STATUSES[(i + k) % STATUSES.length];
const sameState = (a: AcdState | undefined, b: AcdState) => a?.state === b.state && a.code === b.code;

interface Worker {
  proc: ChildProcess;
  url: string;
  exited: boolean;
  exit: Promise<void>;
  stdout: string;
  stderr: string;
}

describe('engine: a killed worker process', () => {
  const catalog = ContactCenterEmulator.sandboxCatalog(AGENTS);
  const emails = catalog.agents.map((a) => a.email);
  const prefix = `crash${randomUUID().slice(0, 8)}`;
  const keys = new RedisKeys(prefix, DEFAULT_SYNC_PARTITIONS);
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const workers: Worker[] = [];
  let emulator: ContactCenterEmulator;
  let baseUrl: string;
  let redis: Redis;
  let queues: PartitionQueues;
  let sink: RedisInboundSink;
  let work: RedisPartitionWork;

  async function startWorker(): Promise<Worker> {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      CRASH_WORKER_EMAILS: JSON.stringify(emails),
      REDIS_URL: redisUrl, REDIS_PREFIX: prefix,
      SALESFORCE_MODE: 'memory', ACD_BASE_URL: baseUrl, ACD_TOKEN: TOKEN, ACD_WEBHOOK_SECRET: SECRET, ACD_TIMEOUT_MS: '2000',
      HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', RULES_DIR: ENGINE_RULES, RULES_WATCH: 'false', ADMIN_DASHBOARD: 'off', LOG_LEVEL: process.env.CRASH_WORKER_LOG_LEVEL ?? 'silent',
      SYNC_BACKOFF_MS: '20', DIRECTORY_REFRESH_INTERVAL_MS: '0', RECONCILE_INTERVAL_MS: '0', DEFAULT_UNAVAILABLE_CODE: 'System',
      SHUTDOWN_TIMEOUT_MS: '5000', WORKER_LOCK_DURATION_MS: '2000', WORKER_STALLED_INTERVAL_MS: '1000',
    };
    const proc = spawn(process.execPath, ['-r', './test/support/ts-register.js', 'test/support/crash-worker.ts'], {
      cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'],
    });
    const worker: Worker = { proc, url: '', exited: false, stdout: '', stderr: '', exit: Promise.resolve() };
    worker.exit = new Promise((resolve) => proc.once('exit', () => { worker.exited = true; resolve(); }));
    workers.push(worker);
    proc.stderr!.setEncoding('utf8').on('data', (s: string) => { worker.stderr += s; });
    let pending = '';
    proc.stdout!.setEncoding('utf8').on('data', (s: string) => {
      pending += s;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const ready = /^\{"ready":true,/.test(line) ? (JSON.parse(line) as { url: string }) : undefined;
        if (ready && !worker.url) worker.url = ready.url;
        else worker.stdout += `${line}\n`;
      }
    });
    try {
      await waitFor(() => worker.url !== '' || worker.exited, 'the worker process prints its ready line', 30_000);
    } catch (e) {
      proc.kill('SIGKILL');
      throw e;
    }
    if (!worker.url) throw new Error(`the worker process exited before it was ready:\n${worker.stderr}`);
    return worker;
  }

  /** Change k of the given agents (indexes into the catalog): strictly increasing source times per agent. */
  function round(k: number, t0: number, users: string[], which: number[] = users.map((_, i) => i)): SalesforceChange[] {
    return which.map((i) => ({
      side: 'salesforce' as const, eventId: randomUUID(), userId: users[i], occurredAt: t0 + k * 100 + i,
      status: statusOf(i, k), receivedAt: Date.now(),
    }));
  }

  /** Every agent in its wanted ACD state and every queue empty (nothing waiting, active or delayed). */
  async function settled(wanted: Map<string, AcdState>): Promise<boolean> {
    for (const [agentId, want] of wanted) if (!sameState(emulator.getAgent(agentId)?.state, want)) return false;
    return (await counts(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children'])) === 0;
  }

  async function waitSettled(wanted: Map<string, AcdState>, what: string, timeoutMs: number): Promise<void> {
    await waitFor(() => settled(wanted), what, timeoutMs).catch(async (e: Error) => {
      throw new Error(`${e.message}\n${await diagnose(wanted)}`);
    });
  }

  async function counts(states: ('waiting' | 'active' | 'delayed' | 'prioritized' | 'waiting-children' | 'failed')[]): Promise<number> {
    let n = 0;
    for (const q of queues.all()) n += Object.values(await q.getJobCounts(...states)).reduce((a, b) => a + b, 0);
    return n;
  }

  /** The agents whose syncs are in a due set (guarded or scheduled). */
  async function dueSyncs(): Promise<string[]> {
    const members = (await Promise.all(Array.from({ length: keys.partitions }, (_, n) => redis.zrange(keys.due(n), 0, -1)))).flat();
    return members.map((m) => dueTaskOf(m)).filter((t) => t?.kind === 'sync').map((t) => t!.agentId);
  }

  /** What is still wrong, for the failure message. */
  async function diagnose(wanted: Map<string, AcdState>): Promise<string> {
    const lines: string[] = [];
    for (const [name, q] of queues.all().map((q) => [`${q.opts.prefix ?? ''}:${q.name}`, q] as const)) lines.push(`${name}: ${JSON.stringify(await q.getJobCounts())}`);
    for (const [agentId, want] of wanted) {
      const agent = emulator.getAgent(agentId);
      if (sameState(agent?.state, want)) continue;
      lines.push(`${agentId}: ACD ${JSON.stringify(agent?.state)}, wanted ${JSON.stringify(want)}; record ${JSON.stringify(await redis.hgetall(keys.agent(agentId)))}`);
      lines.push(`  PUTs: ${JSON.stringify(emulator.writes.filter((w) => w.agentId === agentId).map((w) => ({ key: w.idempotencyKey, body: w.body, status: w.status, replayed: w.replayed, at: w.at })))}`);
      for (const r of (await new RedisAuditLog(redis, keys, 1000).list(agentId, 40)).reverse()) lines.push(`  audit ${JSON.stringify(r)}`);
    }
    for (const [name, q] of queues.all().map((q) => [`${q.opts.prefix ?? ''}:${q.name}`, q] as const)) {
      for (const job of await q.getJobs(['active', 'waiting'], 0, 20)) lines.push(`${name} job ${job.id} ${job.name} ${JSON.stringify(job.data)} attempts=${job.attemptsMade} token=${job.token ?? ''} dedup=${job.deduplicationId ?? ''}`);
      lines.push(`${name}: rate-limit ttl ${await q.getRateLimitTtl()} paused ${await q.isPaused()} workers ${(await q.getWorkers()).length}`);
    }
    for (const w of workers) lines.push(`worker ${w.proc.pid} exited=${w.exited} stderr: ${w.stderr.slice(-3000)}\nstdout: ${w.stdout.slice(-6000)}`);
    return lines.join('\n');
  }

  beforeAll(async () => {
    emulator = new ContactCenterEmulator({ token: TOKEN, ...catalog });
    ({ baseUrl } = await emulator.start());
    // Logged-out agents take no state but Offline: every agent starts Available.
    for (const a of catalog.agents) if (a.state.state !== 'Available') emulator.agentSetState(a.agentId, { state: 'Available' });
    redis = new Redis(redisOptionsFromUrl(redisUrl));
    const connection = { url: redisUrl, maxRetriesPerRequest: null };
    queues = new PartitionQueues(keys, connection);
    work = new RedisPartitionWork(redis, keys);
    sink = new RedisInboundSink(redis, keys, 3600, (c) => (c.side === 'acd' ? agentInbox(c.agentId) : userInbox(c.userId)));
  });

  afterAll(async () => {
    for (const w of workers) {
      if (w.exited) continue;
      w.proc.kill('SIGTERM');
      await waitFor(() => w.exited, 'the worker process exits on SIGTERM', 10_000).catch(() => w.proc.kill('SIGKILL'));
      await w.exit;
    }
    await queues?.close();
    if (redis) {
      await dropPrefix(redis, prefix);
      redis.disconnect();
    }
    await emulator?.stop();
  }, 30_000);

  it('killing the worker process mid-run loses nothing (restart, every change applied exactly once)', async () => {
    const users = new InMemorySalesforce().addUsersForEmails(emails).map((u) => u.userId);
    const t0 = Date.now() - 60_000;
    const wantedAfter = (k: (i: number) => number) =>
      new Map(catalog.agents.map((a, i) => [a.agentId, expectedAcd(a.teamId, statusOf(i, k(i)))]));

    // 1. A running daemon settles changes 0–3 of every agent.
    const first = await startWorker();
    for (let k = 0; k < SETTLED_ROUNDS; k++) await sink.accept(round(k, t0, users));
    await waitSettled(wantedAfter(() => SETTLED_ROUNDS - 1), 'changes 0-3 are applied', 20_000);

    // 2. Change 4 of every agent; SIGKILL while the n-th of its PUTs is being applied (it is never answered).
    const before = emulator.writes.length;
    let killed: EmulatorWrite | undefined;
    const killer = (write: EmulatorWrite) => {
      if (killed || emulator.writes.length - before < KILL_AT_ROUND_WRITE) return;
      killed = write;
      first.proc.kill('SIGKILL');
    };
    emulator.on('write', killer);
    expect(await sink.accept(round(SETTLED_ROUNDS, t0, users))).toEqual({ accepted: AGENTS, duplicates: 0 });
    await waitFor(() => first.exited, 'the first worker process is killed mid-run', 20_000);
    emulator.off('write', killer);
    expect(first.proc.signalCode).toBe('SIGKILL');
    expect(killed).toMatchObject({ status: 200, replayed: false });
    const killedKey = killed!.idempotencyKey!;
    const killedAgent = killed!.agentId;
    expect(emulator.appliedCount(killedKey)).toBe(1);
    // Work is in flight: at least the sync whose PUT was cut off is still guarded in its partition's due set.
    expect(await dueSyncs()).toContain(killedAgent);
    expect(emulator.writes.length).toBeLessThan(before + AGENTS);

    // 3. The source keeps going while no daemon runs (intake is Redis, not the process): change 5 (back to the
    //    state of change 3) of every agent but the one whose PUT was cut off, so the want of that PUT stays the
    //    latest and must be retried as is. For an agent whose change-4 PUT was applied but not answered, the
    //    daemon's last known ACD state is change 3's: it must not take that as "already shown".
    const others = catalog.agents.map((_, i) => i).filter((i) => catalog.agents[i].agentId !== killedAgent);
    expect(await sink.accept(round(5, t0, users, others))).toEqual({ accepted: AGENTS - 1, duplicates: 0 });

    // 4. A new process on the same prefix finishes everything.
    const second = await startWorker();
    const wanted = wantedAfter((i) => (catalog.agents[i].agentId === killedAgent ? 4 : 5));
    // Drained means the orphaned runs came back and ran: their guards stay until a run ends them.
    await waitFor(async () => (await counts(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children'])) === 0 && (await work.depths()).ready === 0 && (await dueSyncs()).length === 0,
      'every queue, ready set and due set drained, the orphaned runs included', RECOVERY_DEADLINE_MS);
    expect(second.exited).toBe(false);

    const wrong = catalog.agents
      .map((a) => ({ agent: a.agentId, state: emulator.getAgent(a.agentId)?.state, wanted: wanted.get(a.agentId)! }))
      .filter((x) => !sameState(x.state, x.wanted));
    if (wrong.length > 0) throw new Error(`agents not in the state of their last change: ${JSON.stringify(wrong)}\n${await diagnose(wanted)}`);
    // Exactly once: no Idempotency-Key applied twice. The cut-off PUT was sent again with the same key after the
    // restart and answered from the contact center's idempotency store.
    expect([...emulator.appliedKeys].filter(([, n]) => n > 1)).toEqual([]);
    for (const key of emulator.appliedKeys.keys()) expect(emulator.appliedCount(key)).toBeLessThanOrEqual(1);
    expect(emulator.appliedCount(killedKey)).toBe(1);
    expect(emulator.writes.filter((w) => w.idempotencyKey === killedKey && w.replayed).length).toBeGreaterThanOrEqual(1);
    const agentOfKey = new Map(emulator.writes.map((w) => [w.idempotencyKey, w.agentId]));
    const appliedPerAgent = new Map<string, number>();
    for (const key of emulator.appliedKeys.keys()) {
      const agentId = agentOfKey.get(key)!;
      appliedPerAgent.set(agentId, (appliedPerAgent.get(agentId) ?? 0) + 1);
    }
    for (const a of catalog.agents) {
      expect({ agent: a.agentId, applied: (appliedPerAgent.get(a.agentId) ?? 0) >= 1 }).toEqual({ agent: a.agentId, applied: true });
    }
    // Every PUT was applied or replayed; none was refused.
    expect(emulator.writes.filter((w) => w.status !== 200)).toEqual([]);
    // Nothing was given up on.
    expect(await counts(['failed'])).toBe(0);
    const audit = new RedisAuditLog(redis, keys, 1000);
    for (const a of catalog.agents) {
      const failed = (await audit.list(a.agentId, 1000)).filter((r) => r.outcome === 'failed');
      expect({ agent: a.agentId, failed }).toEqual({ agent: a.agentId, failed: [] });
    }

    // 5. The survivor stops cleanly.
    second.proc.kill('SIGTERM');
    await waitFor(() => second.exited, 'the second worker process exits on SIGTERM', 15_000);
    expect(second.proc.exitCode).toBe(0);
  }, RECOVERY_DEADLINE_MS + 60_000);
});
