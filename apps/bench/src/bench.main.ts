import { spawn, fork, type ChildProcess } from 'node:child_process';
import { cpus, freemem, totalmem, tmpdir } from 'node:os';
import { mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { acdStateKey, type AcdState, type AuditRecord } from '@presence-sync/domain';
import { QUEUES, RedisKeys } from '@presence-sync/redis';
import { USP_PUSH_TOPIC_QUERY } from '@presence-sync/salesforce';
import {
  ContactCenterEmulator, SalesforceEmulator, freePort, salesforceEmulatorSandboxSeed, SANDBOX_SALESFORCE, SANDBOX_STATUSES, startRedisServer,
  type EmulatorWrite, type PushRecord, type RedisServerHandle,
} from '@presence-sync/testing';
import {
  AGENT_STATUSES, BENCH_TEAMS, DESKTOP_STATES, benchAgents, publish, subscribe, writeBenchRules, type BenchAgent,
} from './bench-model';
import { ProcessMonitor, paced, preciseNow, summarize, type LatencySummary } from './bench-stats';

/*
 * `npm run bench`: the daemon as its own process (`presence-sync start`) on its own Redis, between the two
 * emulators, driven with a both-way mix; then, on the same Redis at the same rate, a bare BullMQ hop as the
 * baseline. The emulators and the load driver share this process, so one clock times both ends of a sync:
 * from the moment an emulator emits a change to the moment the other emulator receives the write.
 */

const ROOT = join(__dirname, '..', '..', '..', '..');
const TOKEN = 'bench-token';
const SECRET = 'bench-webhook-secret-0123456789abcdef';
/** The PushTopic query `salesforce setup` creates (capacity fields included). */
const USP_QUERY = USP_PUSH_TOPIC_QUERY;
const PREFIX = 'ps-bench';
const STATUS_BY_ID = new Map(SANDBOX_STATUSES.map((s) => [s.id.slice(0, 15), s.developerName]));
const MB = 1024 * 1024;
const auditKey = (agentId: string) => `${PREFIX}:audit:{${agentId}}`;

interface Options {
  agents: number;
  rate: number;
  duration: number;
  active: number;
  rules: number;
  warmup: number;
  drainTimeout: number;
  out: string;
  callShare: number;
}

type Direction = 'acd->salesforce' | 'salesforce->acd';

interface Pending {
  agent: BenchAgent;
  direction: Direction;
  /** The ACD state key or the Salesforce status the write must carry. */
  expect: string;
  emittedAt: number;
  warmup: boolean;
}

const positiveInt = (name: string, min = 1) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be a whole number ≥ ${min}`);
  return n;
};

function parseOptions(argv: string[]): Options {
  const program = new Command('npm run bench --')
    .description('Drives the daemon between the two emulators and compares it with a bare BullMQ hop on the same Redis.')
    .option('--agents <n>', 'agents in both emulators and the daemon\'s directory', positiveInt('--agents'), 1000)
    .option('--rate <n>', 'changes per second, both sides together', positiveInt('--rate'), 100)
    .option('--duration <s>', 'seconds of measured load (after the warm-up)', positiveInt('--duration'), 15)
    .option('--active <n>', 'agents that change during the run (their consoles are open); default min(agents, max(500, 2 × rate))', positiveInt('--active'))
    .option('--rules <n>', 'rule files: one for every team plus per-user rules', positiveInt('--rules'), 500)
    .option('--warmup <s>', 'seconds of load before measuring', positiveInt('--warmup', 0), 3)
    .option('--drain-timeout <s>', 'how long to wait for the last writes after the load', positiveInt('--drain-timeout'), 15)
    .option('--out <dir>', 'where the JSON result goes', join(ROOT, 'bench', 'results'))
    .showHelpAfterError()
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
  program.parse(argv);
  const o = program.opts<{ agents: number; rate: number; duration: number; active?: number; rules: number; warmup: number; drainTimeout: number; out: string }>();
  // Each active agent changes about every active/rate seconds: room for the slowest syncs before it is picked again.
  const active = Math.min(o.agents, o.active ?? Math.max(500, 2 * o.rate));
  return { ...o, active, rules: Math.min(o.rules, o.agents + 1), callShare: 0.25 };
}

/** One line that rewrites itself on a terminal, and a plain line every few seconds elsewhere. */
class Progress {
  private lastPlain = 0;
  private readonly tty = process.stderr.isTTY === true;
  show(text: string): void {
    if (this.tty) process.stderr.write(`\r\x1b[2K${text}`);
    else if (Date.now() - this.lastPlain >= 5000) {
      this.lastPlain = Date.now();
      process.stderr.write(`${text}\n`);
    }
  }
  done(text: string): void {
    if (this.tty) process.stderr.write('\r\x1b[2K');
    process.stderr.write(`${text}\n`);
  }
}

const progress = new Progress();
const log = (text: string) => progress.done(`[bench] ${text}`);

async function waitUntil(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The load driver and the bookkeeping of what each change must cause on the other side. */
class Driver {
  readonly pending = new Map<string, Pending>();
  readonly samples: Record<Direction, number[]> = { 'acd->salesforce': [], 'salesforce->acd': [] };
  /** Measured writes by write id: when the change was emitted and when its write arrived. */
  readonly measuredWrites = new Map<string, { emittedAt: number; arrivedAt: number }>();
  readonly unexpected: { agentId: string; side: string; value: string; reason: string }[] = [];
  emitted = 0;
  matched = 0;
  matchedMeasured = 0;
  resends = 0;
  starved = 0;
  lastMatchAt = 0;
  measuring = false;
  private readonly idle: BenchAgent[];
  private readonly acd = new Map<string, AcdState>();
  private readonly sf = new Map<string, string>();
  private readonly byUser = new Map<string, BenchAgent>();
  private readonly commandIds = new Set<string>();
  /** Agents whose command reached Salesforce but whose console has not applied it yet, by command id. */
  private readonly awaitingConsole = new Map<string, BenchAgent>();
  private seed = 0x2545f491;

  constructor(private readonly cc: ContactCenterEmulator, private readonly org: SalesforceEmulator, active: BenchAgent[], private readonly callShare: number) {
    this.idle = [...active];
    for (const a of active) {
      this.acd.set(a.agentId, { state: 'Available' });
      this.sf.set(a.agentId, 'Available_All');
      this.byUser.set(org.userId(a.username).slice(0, 15), a);
    }
    cc.on('write', (w) => this.onAcdWrite(w));
    org.on('push', (p) => this.onPush(p));
    // The write has arrived when Salesforce took the push; the agent is free again once the console applied
    // it (an agent click before that would race the relay, which no sync can order).
    const release = (commandId: string) => {
      const agent = this.awaitingConsole.get(commandId);
      if (!agent) return;
      this.awaitingConsole.delete(commandId);
      this.idle.push(agent);
    };
    org.on('command-applied', (_user, command) => release(command.commandId));
    org.on('command-dropped', (_user, _reason, payload) => {
      try {
        release(String((JSON.parse(String(payload)) as { commandId?: unknown }).commandId));
      } catch {
        // not a command of ours
      }
    });
  }

  /** A seeded generator, so a run's mix is reproducible. */
  private random(): number {
    this.seed ^= this.seed << 13;
    this.seed ^= this.seed >>> 17;
    this.seed ^= this.seed << 5;
    return (this.seed >>> 0) / 0x100000000;
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)];
  }

  emit(count: number): void {
    for (let i = 0; i < count; i++) {
      const agent = this.idle.shift();
      if (!agent) {
        this.starved++;
        continue;
      }
      this.change(agent);
    }
  }

  /** One change of one agent that the rules turn into exactly one write on the other side. */
  private change(agent: BenchAgent): void {
    const acd = this.acd.get(agent.agentId) as AcdState;
    const sf = this.sf.get(agent.agentId) as string;
    const started = (next: AcdState, act: () => void) => {
      this.track(agent, 'acd->salesforce', publish(next));
      this.acd.set(agent.agentId, next);
      this.sf.set(agent.agentId, publish(next));
      act();
    };
    if (acd.state === 'Busy') return started({ state: 'AfterWork' }, () => this.cc.endCall(agent.agentId));
    if (acd.state === 'AfterWork') return started({ state: 'Available' }, () => this.cc.endWrapUp(agent.agentId));
    if (acd.state === 'Available' && this.random() < this.callShare) return started({ state: 'Busy' }, () => this.cc.startCall(agent.agentId));
    if (this.random() < 0.5) {
      const options = DESKTOP_STATES.filter((s) => acdStateKey(s) !== acdStateKey(acd) && publish(s) !== sf);
      const next = this.pick(options);
      return started(next, () => this.cc.agentSetState(agent.agentId, next));
    }
    const options = AGENT_STATUSES.filter((s) => s !== sf && acdStateKey(subscribe(s)) !== acdStateKey(acd));
    const status = this.pick(options);
    this.track(agent, 'salesforce->acd', acdStateKey(subscribe(status)));
    this.sf.set(agent.agentId, status);
    this.acd.set(agent.agentId, subscribe(status));
    this.org.agentSetStatus(agent.username, status);
  }

  private track(agent: BenchAgent, direction: Direction, expect: string): void {
    this.emitted++;
    this.pending.set(agent.agentId, { agent, direction, expect, emittedAt: preciseNow(), warmup: !this.measuring });
  }

  private settle(agentId: string, direction: Direction, value: string, writeId: string | undefined): void {
    const now = preciseNow();
    const p = this.pending.get(agentId);
    if (!p || p.direction !== direction || p.expect !== value) {
      this.unexpected.push({ agentId, side: direction === 'acd->salesforce' ? 'salesforce' : 'acd', value, reason: p ? `expected ${p.expect} (${p.direction})` : 'no change pending' });
      return;
    }
    this.pending.delete(agentId);
    this.matched++;
    this.lastMatchAt = now;
    if (!p.warmup) {
      this.matchedMeasured++;
      this.samples[direction].push(now - p.emittedAt);
      if (writeId) this.measuredWrites.set(writeId, { emittedAt: p.emittedAt, arrivedAt: now });
    }
    if (direction === 'acd->salesforce' && writeId) this.awaitingConsole.set(writeId, p.agent);
    else this.idle.push(p.agent);
  }

  private onAcdWrite(w: EmulatorWrite): void {
    if (w.injected || w.replayed || (w.status !== 200 && w.status !== 202)) return;
    const body = w.body as AcdState;
    this.settle(w.agentId, 'salesforce->acd', acdStateKey(body), w.idempotencyKey);
  }

  private onPush(p: PushRecord): void {
    let command: { type?: string; commandId?: string; userId?: string; statusId?: string };
    try {
      command = JSON.parse(p.payload) as typeof command;
    } catch {
      this.unexpected.push({ agentId: '?', side: 'salesforce', value: p.payload.slice(0, 80), reason: 'not a command' });
      return;
    }
    if (command.commandId && this.commandIds.has(command.commandId)) {
      this.resends++;
      return;
    }
    if (command.commandId) this.commandIds.add(command.commandId);
    const agent = this.byUser.get(String(command.userId).slice(0, 15));
    const status = command.type === 'logout' ? 'Offline' : STATUS_BY_ID.get(String(command.statusId).slice(0, 15)) ?? `?${command.statusId}`;
    if (!agent) {
      this.unexpected.push({ agentId: '?', side: 'salesforce', value: status, reason: `user ${command.userId} is not an active agent` });
      return;
    }
    this.settle(agent.agentId, 'acd->salesforce', status, command.commandId);
  }

  /** E2e p99 of the last samples, for the progress line. */
  recentP99(): number {
    const recent = [...this.samples['acd->salesforce'].slice(-500), ...this.samples['salesforce->acd'].slice(-500)];
    return summarize(recent).p99;
  }
}

function startDaemon(env: Record<string, string>, logFile: string): ChildProcess {
  const out = openSync(logFile, 'a');
  // BENCH_DAEMON_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof": to profile the daemon under load.
  const nodeArgs = (process.env.BENCH_DAEMON_NODE_ARGS ?? '').split(' ').filter(Boolean);
  return spawn(process.execPath, [...nodeArgs, join(ROOT, 'bin', 'presence-sync.js'), 'start'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', out, out] });
}

async function stopProcess(child: ChildProcess | undefined, timeoutMs = 15_000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

interface Legs {
  /** Emitted by one emulator → received by the daemon. */
  inbound: number[];
  /** Received by the daemon → outbound call sent (the daemon's own latency). */
  daemon: number[];
  /** Outbound call sent → received by the other emulator. */
  outbound: number[];
}

/**
 * Reads the daemon's audit of the measured writes and splits each sync into its legs. The daemon's clock is
 * Date.now() (whole milliseconds), so a leg is exact to about a millisecond.
 */
async function syncLegs(redis: Redis, agents: BenchAgent[], writes: Map<string, { emittedAt: number; arrivedAt: number }>): Promise<Record<Direction, Legs>> {
  const out: Record<Direction, Legs> = { 'acd->salesforce': { inbound: [], daemon: [], outbound: [] }, 'salesforce->acd': { inbound: [], daemon: [], outbound: [] } };
  const seen = new Set<string>();
  for (let i = 0; i < agents.length; i += 200) {
    const pipeline = redis.pipeline();
    for (const a of agents.slice(i, i + 200)) pipeline.lrange(auditKey(a.agentId), 0, -1);
    for (const [, raw] of (await pipeline.exec()) ?? []) {
      for (const line of (raw as string[] | null) ?? []) {
        const r = JSON.parse(line) as AuditRecord;
        const w = r.writeId ? writes.get(r.writeId) : undefined;
        if (!w || !r.timings || seen.has(r.writeId as string)) continue;
        if (r.outcome !== 'applied' && r.outcome !== 'sent' && r.outcome !== 'deferred') continue;
        if (r.direction !== 'acd->salesforce' && r.direction !== 'salesforce->acd') continue;
        seen.add(r.writeId as string);
        out[r.direction].inbound.push(r.timings.receivedAt - w.emittedAt);
        out[r.direction].daemon.push(r.timings.sentAt - r.timings.receivedAt);
        out[r.direction].outbound.push(w.arrivedAt - r.timings.sentAt);
      }
    }
  }
  return out;
}

interface BaselineResult {
  latency: LatencySummary;
  sent: number;
  received: number;
  throughputPerSec: number;
}

/** A bare BullMQ producer (here) → worker (its own process) hop on the same Redis, at the same rate. */
async function runBaseline(redisUrl: string, rate: number, seconds: number, concurrency: number): Promise<BaselineResult> {
  const queueName = 'bench-baseline';
  const url = new URL(redisUrl);
  const connection = { host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null };
  const queue = new Queue(queueName, { connection, prefix: `${PREFIX}-baseline` });
  await queue.obliterate({ force: true }).catch(() => undefined);
  const worker = fork(join(__dirname, 'baseline.worker.js'), [], {
    env: { ...process.env, BENCH_REDIS_URL: redisUrl, BENCH_QUEUE: queueName, BENCH_CONCURRENCY: String(concurrency), BENCH_PREFIX: `${PREFIX}-baseline` },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const messages: { type: string; samples?: number[]; firstAt?: number; lastAt?: number }[] = [];
  worker.on('message', (m) => messages.push(m as (typeof messages)[number]));
  await waitUntil('the baseline worker', () => messages.some((m) => m.type === 'ready'), 15_000);
  let sent = 0;
  const adds: Promise<unknown>[] = [];
  const started = Date.now();
  const pacer = paced(rate, (n) => {
    for (let i = 0; i < n; i++) {
      sent++;
      adds.push(queue.add('hop', { t: preciseNow(), agentId: `b-${sent}` }, { removeOnComplete: { count: 1000 } }));
    }
    progress.show(`[bench] baseline ${Math.floor((Date.now() - started) / 1000)}/${seconds} s · sent ${sent}`);
  });
  await new Promise((r) => setTimeout(r, seconds * 1000));
  pacer.stop();
  await Promise.all(adds);
  const busy = async () => Object.values(await queue.getJobCounts('wait', 'active')).reduce((a, b) => a + b, 0);
  await waitUntil('the baseline worker to catch up', async () => (await busy()) === 0, 30_000, 100).catch(() => undefined);
  worker.send({ type: 'stop' });
  await waitUntil('the baseline result', () => messages.some((m) => m.type === 'result'), 15_000);
  const result = messages.find((m) => m.type === 'result') as { samples: number[]; firstAt: number; lastAt: number };
  await queue.obliterate({ force: true }).catch(() => undefined);
  await queue.close();
  const window = Math.max(seconds * 1000, result.lastAt - result.firstAt);
  return { latency: summarize(result.samples), sent, received: result.samples.length, throughputPerSec: Math.round((result.samples.length / window) * 1000) };
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv);
  const runStarted = new Date();
  const work = mkdtempSync(join(tmpdir(), 'presence-sync-bench-'));
  mkdirSync(o.out, { recursive: true });
  const stamp = runStarted.toISOString().replace(/[:.]/g, '-');
  const daemonLog = join(o.out, `${stamp}.daemon.log`);
  let redisServer: RedisServerHandle | undefined;
  let daemon: ChildProcess | undefined;
  let cc: ContactCenterEmulator | undefined;
  let org: SalesforceEmulator | undefined;
  let redis: Redis | undefined;
  const cleanup = async () => {
    await stopProcess(daemon);
    await org?.stop().catch(() => undefined);
    await cc?.stop().catch(() => undefined);
    redis?.disconnect();
    await redisServer?.stop();
    rmSync(work, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  try {
    log(`${o.agents} agents (${o.active} active), ${o.rules} rule files, ${o.rate} changes/s for ${o.warmup} + ${o.duration} s; ${cpus().length} cores`);
    const agents = benchAgents(o.agents);
    const rulesDir = writeBenchRules(join(work, 'rules'), o.rules, agents);
    if (process.env.REDIS_URL) log('using REDIS_URL (flush it yourself between runs: the benchmark uses the ps-bench prefix)');
    else redisServer = await startRedisServer();
    const redisUrl = process.env.REDIS_URL ?? (redisServer as RedisServerHandle).url;
    redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const stale = await redis.keys(`${PREFIX}*`);
    for (let i = 0; i < stale.length; i += 1000) await redis.del(...stale.slice(i, i + 1000));

    cc = new ContactCenterEmulator({ token: TOKEN, teams: BENCH_TEAMS, agents, pageSize: 1000 });
    const { baseUrl: ccUrl } = await cc.start();
    const seed = salesforceEmulatorSandboxSeed(agents.map((a) => a.email), { initialStatus: () => 'Available_All' });
    org = new SalesforceEmulator({ ...seed, apiLimit: 100_000_000, provision: { ...seed.provision, pushTopics: [{ name: 'PresenceSyncUSP', query: USP_QUERY }] } });
    await org.start();
    const active = agents.slice(0, o.active);
    for (let i = 0; i < active.length; i += 50) {
      await Promise.all(active.slice(i, i + 50).map((a) => (org as SalesforceEmulator).openConsole(a.username)));
      progress.show(`[bench] opening consoles ${Math.min(i + 50, active.length)}/${active.length}`);
    }

    const port = await freePort();
    const daemonUrl = `http://127.0.0.1:${port}`;
    const bootStarted = Date.now();
    daemon = startDaemon({
      REDIS_URL: redisUrl, REDIS_PREFIX: PREFIX, HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port),
      ACD_BASE_URL: ccUrl, ACD_TOKEN: TOKEN, ACD_WEBHOOK_SECRET: SECRET, RULES_DIR: rulesDir, RULES_WATCH: 'false',
      DEFAULT_UNAVAILABLE_CODE: 'System', RECONCILE_INTERVAL_MS: '0', DIRECTORY_REFRESH_INTERVAL_MS: '0',
      AUDIT_MAX_PER_AGENT: '2000', LOG_LEVEL: 'warn', ADMIN_DASHBOARD: 'off',
      SALESFORCE_MODE: 'live', SALESFORCE_LOGIN_URL: org.baseUrl, SALESFORCE_AUTH: 'password',
      SALESFORCE_CLIENT_ID: SANDBOX_SALESFORCE.clientId, SALESFORCE_CLIENT_SECRET: SANDBOX_SALESFORCE.clientSecret,
      SALESFORCE_USERNAME: SANDBOX_SALESFORCE.username, SALESFORCE_PASSWORD: SANDBOX_SALESFORCE.password,
      SALESFORCE_SECURITY_TOKEN: SANDBOX_SALESFORCE.securityToken,
    }, daemonLog);
    const child = daemon;
    await waitUntil('the daemon to be ready (see its log)', async () => {
      if (child.exitCode !== null) throw new Error(`the daemon exited with code ${child.exitCode}: see ${relative(process.cwd(), daemonLog)}`);
      const res = await fetch(`${daemonUrl}/ready`).catch(() => undefined);
      return res?.status === 200;
    }, 120_000);
    const bootMs = Date.now() - bootStarted;
    const monitor = new ProcessMonitor(daemon.pid as number);
    monitor.start();
    await new Promise((r) => setTimeout(r, 1000));
    const rssAfterBoot = monitor.stop().lastRssBytes;
    log(`daemon ready in ${bootMs} ms (RSS ${Math.round(rssAfterBoot / MB)} MB)`);
    // Contact centers deliver webhooks concurrently; one agent's events still go one after another.
    cc.setWebhook({ url: `${daemonUrl}/v1/acd/events`, secret: SECRET, concurrency: 64 });

    const driver = new Driver(cc, org, active, o.callShare);
    const load = new ProcessMonitor(daemon.pid as number);
    const loadStarted = Date.now();
    // The daemon's queue depths, for the progress line: where a backlog builds up.
    const keys = new RedisKeys(PREFIX);
    const queues = Object.values(QUEUES).map((name) => new Queue(name, { connection: redis as Redis, prefix: keys.queuePrefix }));
    let depths = '';
    const depthTimer = setInterval(() => {
      void Promise.all(queues.map(async (q) => `${q.name} ${Object.values(await q.getJobCounts('waiting', 'active')).reduce((a, b) => a + b, 0)}`))
        .then((d) => { depths = d.join(', '); }, () => undefined);
    }, 1000);
    const pacer = paced(o.rate, (n) => driver.emit(n));
    const ticker = setInterval(() => {
      const s = Math.floor((Date.now() - loadStarted) / 1000);
      const phase = driver.measuring ? `load ${s - o.warmup}/${o.duration} s` : `warm-up ${s}/${o.warmup} s`;
      progress.show(`[bench] ${phase} · changes ${driver.emitted} · synced ${driver.matched} · in flight ${driver.pending.size} · e2e p99 ${driver.recentP99()} ms · queued: ${depths} · daemon CPU ${load.cpuNowPct}% RSS ${Math.round(load.peakRssBytes / MB)} MB`);
    }, 1000);
    await new Promise((r) => setTimeout(r, o.warmup * 1000));
    driver.measuring = true;
    const measureStarted = preciseNow();
    const apiAtStart = org.apiCalls;
    const syncedAtStart = driver.matched;
    load.start();
    await new Promise((r) => setTimeout(r, o.duration * 1000));
    pacer.stop();
    const loadEnded = preciseNow();
    await waitUntil('the last writes', () => driver.pending.size === 0, o.drainTimeout * 1000).catch(() => undefined);
    // A quiet second more: a looped write would show up now.
    await new Promise((r) => setTimeout(r, 1500));
    clearInterval(ticker);
    clearInterval(depthTimer);
    await Promise.all(queues.map((q) => q.close()));
    const daemonStats = load.stop();
    const apiCalls = org.apiCalls - apiAtStart;
    const lost = [...driver.pending.values()];
    const legs = await syncLegs(redis, active, driver.measuredWrites);
    const internal = { 'acd->salesforce': legs['acd->salesforce'].daemon, 'salesforce->acd': legs['salesforce->acd'].daemon };
    const syncedInWindow = driver.matched - syncedAtStart;
    const measuredWindowMs = Math.max(loadEnded, driver.lastMatchAt) - measureStarted;
    const cf = driver.samples['acd->salesforce'].length;
    log(`load done: ${driver.emitted} changes, ${driver.matched} synced, ${lost.length} lost, ${driver.unexpected.length} unexpected writes`);

    const baselineConcurrency = 16;
    const baseline = await runBaseline(redisUrl, o.rate, o.duration, baselineConcurrency);
    progress.done(`[bench] baseline done: ${baseline.received}/${baseline.sent} jobs`);

    const e2e = { 'acd->salesforce': summarize(driver.samples['acd->salesforce']), 'salesforce->acd': summarize(driver.samples['salesforce->acd']), all: summarize([...driver.samples['acd->salesforce'], ...driver.samples['salesforce->acd']]) };
    const own = { 'acd->salesforce': summarize(internal['acd->salesforce']), 'salesforce->acd': summarize(internal['salesforce->acd']), all: summarize([...internal['acd->salesforce'], ...internal['salesforce->acd']]) };
    const throughput = Math.round((syncedInWindow / measuredWindowMs) * 1000);
    const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : null);
    const result = {
      startedAt: runStarted.toISOString(),
      machine: { cores: cpus().length, cpu: cpus()[0]?.model, memoryMB: Math.round(totalmem() / MB), freeMemoryMB: Math.round(freemem() / MB), node: process.version, platform: process.platform },
      options: o,
      boot: { msToReady: bootMs, agents: o.agents, rules: o.rules, rssMB: Math.round(rssAfterBoot / MB) },
      daemon: {
        changesEmitted: driver.emitted,
        synced: driver.matched,
        measuredSynced: driver.matchedMeasured,
        lost: lost.length,
        // What the daemon decided for the first few, to start the investigation from.
        lostSample: await Promise.all(lost.slice(0, 5).map(async (p) => ({
          agentId: p.agent.agentId, direction: p.direction, expect: p.expect,
          audit: ((await redis?.lrange(auditKey(p.agent.agentId), 0, 5)) ?? []).map((line) => JSON.parse(line) as AuditRecord),
        }))),
        echoes: driver.unexpected.length,
        echoSample: driver.unexpected.slice(0, 5),
        commandResends: driver.resends,
        driverStarved: driver.starved,
        throughputPerSec: throughput,
        e2eLatencyMs: e2e,
        daemonLatencyMs: own,
        legsMs: Object.fromEntries((['acd->salesforce', 'salesforce->acd'] as const).map((d) => [d, {
          inbound: summarize(legs[d].inbound), daemon: summarize(legs[d].daemon), outbound: summarize(legs[d].outbound),
        }])),
        salesforceApiCalls: apiCalls,
        salesforceApiCallsPerSyncedChange: syncedInWindow > 0 ? Math.round((apiCalls / syncedInWindow) * 100) / 100 : null,
        salesforceApiCallsPerSalesforceWrite: cf > 0 ? Math.round((apiCalls / cf) * 100) / 100 : null,
        cpuAvgPct: daemonStats.cpuAvgPct,
        peakRssMB: Math.round(daemonStats.peakRssBytes / MB),
      },
      baseline: { ...baseline, concurrency: baselineConcurrency },
      ratios: {
        daemonP99OverBaselineP99: ratio(own.all.p99, baseline.latency.p99),
        daemonThroughputOverBaseline: ratio(throughput, baseline.throughputPerSec),
      },
    };
    const targets = {
      'lost = 0': result.daemon.lost === 0,
      'echoes = 0': result.daemon.echoes === 0,
      [`throughput ≥ offered rate (${o.rate}/s)`]: throughput >= o.rate * 0.98,
      'daemon p99 ≤ 3 × baseline p99': (result.ratios.daemonP99OverBaselineP99 ?? Infinity) <= 3,
      'e2e p99 ≤ 50 ms': e2e.all.p99 <= 50,
      'RSS ≤ 300 MB': result.daemon.peakRssMB <= 300,
      'boot ≤ 5 s': bootMs <= 5000,
    };
    const file = join(o.out, `${stamp}.json`);
    writeFileSync(file, `${JSON.stringify({ ...result, targets }, null, 2)}\n`);
    printReport(result, targets, relative(process.cwd(), file));
    process.exitCode = result.daemon.lost === 0 && result.daemon.echoes === 0 ? 0 : 1;
  } finally {
    await cleanup();
  }
}

function printReport(r: {
  boot: { msToReady: number; agents: number; rules: number; rssMB: number };
  daemon: { changesEmitted: number; synced: number; lost: number; echoes: number; commandResends: number; driverStarved: number; throughputPerSec: number; e2eLatencyMs: Record<string, LatencySummary>; daemonLatencyMs: Record<string, LatencySummary>; legsMs: Record<string, Record<'inbound' | 'daemon' | 'outbound', LatencySummary>>; salesforceApiCallsPerSyncedChange: number | null; cpuAvgPct: number; peakRssMB: number };
  baseline: BaselineResult;
  ratios: { daemonP99OverBaselineP99: number | null; daemonThroughputOverBaseline: number | null };
}, targets: Record<string, boolean>, file: string): void {
  const row = (name: string, l: LatencySummary) => `  ${name.padEnd(34)} ${String(l.count).padStart(7)} ${[l.p50, l.p95, l.p99, l.max].map((v) => v.toFixed(2).padStart(9)).join('')}`;
  const lines = [
    '',
    `boot to ready: ${r.boot.msToReady} ms with ${r.boot.agents} agents and ${r.boot.rules} rule files (RSS ${r.boot.rssMB} MB)`,
    '',
    `  latency, ms${' '.repeat(23)}  samples      p50      p95      p99      max`,
    row('end to end, contact center → SF', r.daemon.e2eLatencyMs['acd->salesforce']),
    row('end to end, SF → contact center', r.daemon.e2eLatencyMs['salesforce->acd']),
    row('daemon only, contact center → SF', r.daemon.daemonLatencyMs['acd->salesforce']),
    row('daemon only, SF → contact center', r.daemon.daemonLatencyMs['salesforce->acd']),
    row('daemon only, both', r.daemon.daemonLatencyMs.all),
    row('baseline: bare BullMQ hop', r.baseline.latency),
    '',
    '  where the time goes (p50 / p99, ms): emulator → daemon · daemon · daemon → emulator',
    ...Object.entries(r.daemon.legsMs).map(([d, l]) => `  ${d.padEnd(18)} ${l.inbound.p50} / ${l.inbound.p99} · ${l.daemon.p50} / ${l.daemon.p99} · ${l.outbound.p50} / ${l.outbound.p99}`),
    '',
    `throughput: daemon ${r.daemon.throughputPerSec}/s, baseline ${r.baseline.throughputPerSec}/s (ratio ${r.ratios.daemonThroughputOverBaseline ?? 'n/a'}); daemon p99 / baseline p99 = ${r.ratios.daemonP99OverBaselineP99 ?? 'n/a'}`,
    `changes ${r.daemon.changesEmitted}, synced ${r.daemon.synced}, lost ${r.daemon.lost}, echoed ${r.daemon.echoes}, command re-sends ${r.daemon.commandResends}${r.daemon.driverStarved ? `, changes skipped (no idle agent) ${r.daemon.driverStarved}` : ''}`,
    `Salesforce API calls per synced change: ${r.daemon.salesforceApiCallsPerSyncedChange ?? 'n/a'}; daemon CPU ${r.daemon.cpuAvgPct}% of a core, peak RSS ${r.daemon.peakRssMB} MB`,
    '',
    ...Object.entries(targets).map(([name, ok]) => `  ${ok ? 'met   ' : 'MISSED'} ${name}`),
    '',
    `written to ${file}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((e: unknown) => {
  progress.done(`[bench] failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
