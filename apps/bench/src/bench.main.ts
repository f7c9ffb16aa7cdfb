import { fork } from 'node:child_process';
import { cpus, freemem, totalmem, tmpdir } from 'node:os';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { Queue } from 'bullmq';
import Redis, { Cluster } from 'ioredis';
import { acdStateKey, type AcdState } from '@presence-sync/domain';
import { GENERIC_MAX_EVENTS_PER_REQUEST } from '@presence-sync/contact-center';
import { DEFAULT_SYNC_PARTITIONS } from '@presence-sync/config';
import { MAX_PARTITIONS, QUEUES, RedisAuditLog, RedisKeys } from '@presence-sync/redis';
import { USP_PUSH_TOPIC_QUERY } from '@presence-sync/salesforce';
import {
  ContactCenterEmulator, SalesforceEmulator, salesforceEmulatorSandboxSeed, SANDBOX_SALESFORCE, SANDBOX_STATUSES, startRedisCluster, startRedisServer,
  type EmulatorWrite, type PushRecord, type RedisServerHandle,
} from '@presence-sync/testing';
import {
  AGENT_STATUSES, BENCH_TEAMS, DESKTOP_STATES, benchAgents, publish, subscribe, writeBenchRules, type BenchAgent,
} from './bench-model';
import { ProcessMonitor, paced, preciseNow, sampleProcess, summarize, type LatencySummary } from './bench-stats';
import { daemonCpuMs, exitedDaemon, startDaemon, stopDaemons, whenReady, type BenchDaemon } from './bench-daemons';
import { lastLine } from './daemon-log';
import { BacklogProbe, backlogKeys, readRedisUsage, totalUsage, usageBetween, type RedisUsage } from './redis-usage';
import { WebhookForwarder } from './webhook-forwarder';

/*
 * `npm run bench`: the daemon as its own process (`presence-sync start`) on its own Redis, between the two
 * emulators, driven with a both-way mix; then, on the same Redis at the same rate, a bare BullMQ hop as the
 * baseline. The emulators and the load driver share this process, so one clock times both ends of a sync:
 * from the moment an emulator emits a change to the moment the other emulator receives the write.
 */

const ROOT = join(__dirname, '..', '..', '..', '..');
const TOKEN = 'bench-token';
const SECRET = 'bench-webhook-secret-0123456789abcdef';
/** How long the contact center holds a first event for company when it batches webhooks (`--webhook-batch`), ms. */
const WEBHOOK_BATCH_WAIT_MS = 20;
/** The PushTopic query `salesforce setup` creates (capacity fields included). */
const USP_QUERY = USP_PUSH_TOPIC_QUERY;
const PREFIX = 'ps-bench';
const STATUS_BY_ID = new Map(SANDBOX_STATUSES.map((s) => [s.id.slice(0, 15), s.developerName]));
const MB = 1024 * 1024;
/** More daemon processes than this on one machine measure the scheduler, not the daemon. */
const MAX_REPLICAS = 16;
/** The audit records read per agent; the daemons keep this many (AUDIT_MAX_PER_AGENT) and bytes, every record of a run. */
const AUDIT_KEPT = 2000;
const AUDIT_KEPT_BYTES = 4 * 1024 * 1024;

type BenchRedis = Redis | Cluster;

interface Options {
  agents: number;
  rate: number;
  duration: number;
  active: number;
  rules: number;
  warmup: number;
  drainTimeout: number;
  out: string;
  replicas: number;
  cluster: boolean;
  partitions: number;
  /** Events per webhook request (the contact center batching them); 1: one request per event. */
  webhookBatch: number;
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
    .option('--replicas <n>', `daemon processes behind one webhook address (at most ${MAX_REPLICAS})`, positiveInt('--replicas'), 1)
    .option('--cluster', 'run on a local 3-master Redis Cluster the benchmark starts (REDIS_URL must not be set)', false)
    .option('--partitions <n>', `the daemons' SYNC_PARTITIONS (at most ${MAX_PARTITIONS})`, positiveInt('--partitions'), DEFAULT_SYNC_PARTITIONS)
    .option('--webhook-batch <n>', `the contact center sends up to n events per webhook request, waiting up to ${WEBHOOK_BATCH_WAIT_MS} ms for company (at most ${GENERIC_MAX_EVENTS_PER_REQUEST}); 1: a request per event`, positiveInt('--webhook-batch'), 1)
    .showHelpAfterError()
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
  program.parse(argv);
  const o = program.opts<{ agents: number; rate: number; duration: number; active?: number; rules: number; warmup: number; drainTimeout: number; out: string; replicas: number; cluster: boolean; partitions: number; webhookBatch: number }>();
  if (o.replicas > MAX_REPLICAS) program.error(`error: --replicas must be at most ${MAX_REPLICAS}`, { exitCode: 2 });
  if (o.partitions > MAX_PARTITIONS) program.error(`error: --partitions must be at most ${MAX_PARTITIONS}`, { exitCode: 2 });
  if (o.webhookBatch > GENERIC_MAX_EVENTS_PER_REQUEST) program.error(`error: --webhook-batch must be at most ${GENERIC_MAX_EVENTS_PER_REQUEST} (the contract's limit per request)`, { exitCode: 2 });
  if (o.cluster && process.env.REDIS_URL) program.error('error: --cluster starts its own Redis Cluster: unset REDIS_URL', { exitCode: 2 });
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
async function syncLegs(audit: RedisAuditLog, agents: BenchAgent[], writes: Map<string, { emittedAt: number; arrivedAt: number }>): Promise<Record<Direction, Legs>> {
  const out: Record<Direction, Legs> = { 'acd->salesforce': { inbound: [], daemon: [], outbound: [] }, 'salesforce->acd': { inbound: [], daemon: [], outbound: [] } };
  const seen = new Set<string>();
  // Agent by agent (their audit trails may sit on different cluster nodes), 200 at a time.
  for (let i = 0; i < agents.length; i += 200) {
    for (const records of await Promise.all(agents.slice(i, i + 200).map((a) => audit.list(a.agentId, AUDIT_KEPT)))) {
      for (const r of records) {
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
  /** Redis commands per job (the producer's add and the worker's moves, with what runs inside their scripts). */
  redisCommandsPerJob: number | null;
  /** The worker process's CPU per job, ms (the producer shares the benchmark's process and is not counted). */
  workerCpuMsPerJob: number | null;
}

/** Where the benchmark's Redis is: one server, or the nodes of a cluster. */
interface RedisTarget {
  url?: string;
  clusterNodes?: { host: string; port: number }[];
}

/**
 * A bare BullMQ producer (here) → worker (its own process) hop on the same Redis, at the same rate. On a cluster
 * its keys carry one hash tag, as BullMQ requires.
 */
async function runBaseline(target: RedisTarget, redis: BenchRedis, rate: number, seconds: number, concurrency: number): Promise<BaselineResult> {
  const queueName = 'bench-baseline';
  const prefix = target.clusterNodes ? `{${PREFIX}-baseline}` : `${PREFIX}-baseline`;
  const connection = redis.duplicate();
  const queue = new Queue(queueName, { connection, prefix });
  await queue.obliterate({ force: true }).catch(() => undefined);
  const worker = fork(join(__dirname, 'baseline.worker.js'), [], {
    env: {
      ...process.env, BENCH_REDIS_URL: target.url ?? '', BENCH_REDIS_CLUSTER_NODES: (target.clusterNodes ?? []).map((n) => `${n.host}:${n.port}`).join(','),
      BENCH_QUEUE: queueName, BENCH_CONCURRENCY: String(concurrency), BENCH_PREFIX: prefix,
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const messages: { type: string; samples?: number[]; firstAt?: number; lastAt?: number }[] = [];
  worker.on('message', (m) => messages.push(m as (typeof messages)[number]));
  await waitUntil('the baseline worker', () => messages.some((m) => m.type === 'ready'), 15_000);
  const probe = new BacklogProbe(redis);
  const usageBefore = totalUsage(await readRedisUsage(redis));
  const cpuBefore = sampleProcess(worker.pid as number)?.cpuMs;
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
  const backlog = async () => (await probe.depths([backlogKeys(queue.keys)]))[0];
  await waitUntil('the baseline worker to catch up', async () => (await backlog()) === 0, 30_000, 100).catch(() => undefined);
  const usage = usageBetween(usageBefore, totalUsage(await readRedisUsage(redis)));
  const cpuAfter = sampleProcess(worker.pid as number)?.cpuMs;
  worker.send({ type: 'stop' });
  await waitUntil('the baseline result', () => messages.some((m) => m.type === 'result'), 15_000);
  const result = messages.find((m) => m.type === 'result') as { samples: number[]; firstAt: number; lastAt: number };
  await queue.obliterate({ force: true }).catch(() => undefined);
  await queue.close();
  connection.disconnect();
  const window = Math.max(seconds * 1000, result.lastAt - result.firstAt);
  const jobs = result.samples.length;
  return {
    latency: summarize(result.samples), sent, received: jobs, throughputPerSec: Math.round((jobs / window) * 1000),
    redisCommandsPerJob: perChange(usage.commands - probe.commandsSent, jobs),
    workerCpuMsPerJob: cpuBefore !== undefined && cpuAfter !== undefined ? perChange(cpuAfter - cpuBefore, jobs) : null,
  };
}

/** `total / count` to two decimals; null when nothing was counted. */
function perChange(total: number, count: number): number | null {
  return count > 0 ? Math.round((total / count) * 100) / 100 : null;
}

/** The benchmark's Redis: a throw-away server, the one in REDIS_URL, or a throw-away cluster. */
interface BenchRedisSetup {
  target: RedisTarget;
  /** Settings that put the daemons on it. */
  daemonEnv: Record<string, string>;
  /** What the report says it ran on. */
  shown: string;
  stop(): Promise<void>;
}

const CLUSTER_MASTERS = 3;

async function startBenchCluster(): Promise<BenchRedisSetup> {
  progress.show(`[bench] starting a ${CLUSTER_MASTERS}-master Redis Cluster`);
  const cluster = await startRedisCluster({ masters: CLUSTER_MASTERS });
  log(`Redis Cluster of ${CLUSTER_MASTERS} masters on ${cluster.nodesSetting}`);
  return {
    target: { clusterNodes: cluster.nodes }, daemonEnv: { REDIS_CLUSTER_NODES: cluster.nodesSetting },
    shown: `a ${CLUSTER_MASTERS}-master Redis Cluster`, stop: () => cluster.stop(),
  };
}

async function startBenchRedis(o: Options): Promise<BenchRedisSetup> {
  if (o.cluster) return startBenchCluster();
  if (process.env.REDIS_URL) {
    log('using REDIS_URL (flush it yourself between runs: the benchmark uses the ps-bench prefix; other clients\' commands count in its Redis figures)');
    return { target: { url: process.env.REDIS_URL }, daemonEnv: { REDIS_URL: process.env.REDIS_URL }, shown: 'REDIS_URL', stop: async () => undefined };
  }
  const server: RedisServerHandle = await startRedisServer();
  return { target: { url: server.url }, daemonEnv: { REDIS_URL: server.url }, shown: 'one redis-server', stop: () => server.stop() };
}

function connectBenchRedis(target: RedisTarget): BenchRedis {
  if (target.clusterNodes) return new Cluster(target.clusterNodes, { redisOptions: { maxRetriesPerRequest: null } });
  return new Redis(target.url as string, { maxRetriesPerRequest: null });
}

/** What the daemons and Redis had done at one moment of the run. */
interface CostSnapshot {
  /** Each node's. */
  redis: RedisUsage[];
  /** Commands the benchmark itself had sent to read queue depths. */
  ownCommands: number;
  daemonCpuMs: number[];
  synced: number;
  at: number;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv);
  const runStarted = new Date();
  const work = mkdtempSync(join(tmpdir(), 'presence-sync-bench-'));
  mkdirSync(o.out, { recursive: true });
  const stamp = runStarted.toISOString().replace(/[:.]/g, '-');
  const logOf = (i: number) => join(o.out, `${stamp}.daemon-${i}.log`);
  const logsShown = o.replicas === 1 ? relative(process.cwd(), logOf(1)) : relative(process.cwd(), join(o.out, `${stamp}.daemon-*.log`));
  let benchRedis: BenchRedisSetup | undefined;
  const daemons: BenchDaemon[] = [];
  let forwarder: WebhookForwarder | undefined;
  let cc: ContactCenterEmulator | undefined;
  let org: SalesforceEmulator | undefined;
  let redis: BenchRedis | undefined;
  const cleanup = async () => {
    await stopDaemons(daemons);
    await forwarder?.stop().catch(() => undefined);
    await org?.stop().catch(() => undefined);
    await cc?.stop().catch(() => undefined);
    redis?.disconnect();
    await benchRedis?.stop();
    rmSync(work, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cleanup().finally(() => process.exit(130)));
  try {
    log(`${o.agents} agents (${o.active} active), ${o.rules} rule files, ${o.rate} changes/s for ${o.warmup} + ${o.duration} s; ${o.replicas} daemon${o.replicas === 1 ? '' : 's'}${o.cluster ? ' on a Redis Cluster' : ''}, ${o.partitions} partitions; ${o.webhookBatch > 1 ? `webhooks of up to ${o.webhookBatch} events; ` : ''}${cpus().length} cores`);
    const agents = benchAgents(o.agents);
    const rulesDir = writeBenchRules(join(work, 'rules'), o.rules, agents);
    benchRedis = await startBenchRedis(o);
    redis = connectBenchRedis(benchRedis.target);
    if (!benchRedis.target.clusterNodes) {
      const single = redis as Redis;
      const stale = await single.keys(`${PREFIX}*`);
      for (let i = 0; i < stale.length; i += 1000) await single.del(...stale.slice(i, i + 1000));
    }

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

    const daemonEnv = {
      ...benchRedis.daemonEnv, REDIS_PREFIX: PREFIX, SYNC_PARTITIONS: String(o.partitions),
      ACD_BASE_URL: ccUrl, ACD_TOKEN: TOKEN, ACD_WEBHOOK_SECRET: SECRET, RULES_DIR: rulesDir, RULES_WATCH: 'false',
      DEFAULT_UNAVAILABLE_CODE: 'System', RECONCILE_INTERVAL_MS: '0', DIRECTORY_REFRESH_INTERVAL_MS: '0',
      AUDIT_MAX_PER_AGENT: String(AUDIT_KEPT), AUDIT_MAX_BYTES_PER_AGENT: String(AUDIT_KEPT_BYTES), LOG_LEVEL: 'warn', ADMIN_DASHBOARD: 'off',
      SALESFORCE_MODE: 'live', SALESFORCE_LOGIN_URL: org.baseUrl, SALESFORCE_AUTH: 'password',
      SALESFORCE_CLIENT_ID: SANDBOX_SALESFORCE.clientId, SALESFORCE_CLIENT_SECRET: SANDBOX_SALESFORCE.clientSecret,
      SALESFORCE_USERNAME: SANDBOX_SALESFORCE.username, SALESFORCE_PASSWORD: SANDBOX_SALESFORCE.password,
      SALESFORCE_SECURITY_TOKEN: SANDBOX_SALESFORCE.securityToken,
    };
    // All at once, as a deployment rolls out: boot is until the last one is ready.
    const bootStarted = Date.now();
    for (let i = 1; i <= o.replicas; i++) daemons.push(await startDaemon(ROOT, i, daemonEnv, logOf(i)));
    let ready = 0;
    await Promise.all(daemons.map(async (d) => {
      await whenReady(d, 120_000, relative(process.cwd(), d.logFile));
      ready++;
      if (o.replicas > 1) progress.show(`[bench] daemons ready ${ready}/${o.replicas} (${Date.now() - bootStarted} ms)`);
    }));
    const bootMs = Date.now() - bootStarted;
    const monitors = daemons.map((d) => new ProcessMonitor(d.pid));
    for (const m of monitors) m.start();
    await new Promise((r) => setTimeout(r, 1000));
    const rssAfterBoot = monitors.map((m) => m.stop().lastRssBytes);
    log(`${o.replicas === 1 ? 'daemon' : `${o.replicas} daemons`} ready in ${bootMs} ms (RSS ${rssAfterBoot.map((b) => Math.round(b / MB)).join(' + ')} MB)`);
    // One webhook address in front of the daemons, as a load balancer is (with one daemon too, so that runs
    // with 1, 2 and 3 compare). Contact centers deliver webhooks concurrently; one agent's events in order.
    forwarder = new WebhookForwarder(daemons.map((d) => d.url));
    const webhookUrl = await forwarder.start();
    cc.setWebhook({
      url: `${webhookUrl}/v1/acd/events`, secret: SECRET, concurrency: 64,
      ...(o.webhookBatch > 1 ? { batch: true, maxBatchSize: o.webhookBatch, flushIntervalMs: WEBHOOK_BATCH_WAIT_MS } : {}),
    });

    const driver = new Driver(cc, org, active, o.callShare);
    const load = daemons.map((d) => new ProcessMonitor(d.pid));
    const loadStarted = Date.now();
    // The daemons' queue depths, for the progress line: where a backlog builds up. Read with counted plain
    // commands, one read at a time, and never while the Redis figures are taken, so they can be taken out.
    const probe = new BacklogProbe(redis);
    const keys = new RedisKeys(PREFIX, o.partitions);
    const queueKeys = Object.values(QUEUES).flatMap((name) => Array.from({ length: o.partitions }, (_, n) => {
      const q = new Queue(name, { connection: redis as BenchRedis, prefix: keys.queuePrefix(n) });
      const backlog = backlogKeys(q.keys);
      void q.close();
      return { name, keys: backlog };
    }));
    let serial: Promise<unknown> = Promise.resolve();
    const inTurn = <T>(task: () => Promise<T>): Promise<T> => {
      const next = serial.then(task);
      serial = next.catch(() => undefined);
      return next;
    };
    const snapshot = () => inTurn(async (): Promise<CostSnapshot> => ({
      redis: await readRedisUsage(redis as BenchRedis), ownCommands: probe.commandsSent, daemonCpuMs: daemonCpuMs(daemons), synced: driver.matched, at: Date.now(),
    }));
    let depths = '';
    const depthTimer = setInterval(() => {
      void inTurn(() => probe.depths(queueKeys.map((q) => q.keys)))
        .then((d) => {
          // Summed over the partitions, per queue name.
          const byName = new Map<string, number>();
          d.forEach((n, i) => byName.set(queueKeys[i].name, (byName.get(queueKeys[i].name) ?? 0) + n));
          depths = [...byName].map(([name, n]) => `${name} ${n}`).join(', ');
        }, () => undefined);
    }, 1000);
    let failure: string | undefined;
    const pacer = paced(o.rate, (n) => driver.emit(n));
    for (const m of load) m.start();
    const ticker = setInterval(() => {
      const s = Math.floor((Date.now() - loadStarted) / 1000);
      const phase = driver.measuring ? `load ${s - o.warmup}/${o.duration} s` : `warm-up ${s}/${o.warmup} s`;
      const cpu = load.reduce((sum, m) => sum + m.cpuNowPct, 0);
      const rss = load.map((m) => Math.round(m.peakRssBytes / MB)).join('+');
      progress.show(`[bench] ${phase} · changes ${driver.emitted} · synced ${driver.matched} · in flight ${driver.pending.size} · e2e p99 ${driver.recentP99()} ms · queued: ${depths} · daemon CPU ${cpu}% RSS ${rss} MB`);
      const gone = exitedDaemon(daemons);
      if (gone && !failure) failure = `daemon ${gone.index} exited (${gone.proc.exitCode ?? gone.proc.signalCode}) during the load${lastLine(gone.logFile)}: see ${relative(process.cwd(), gone.logFile)}`;
    }, 1000);
    const stopLoad = async () => {
      pacer.stop();
      clearInterval(ticker);
      clearInterval(depthTimer);
      await serial;
    };
    // Stops the run with one line instead of measuring a daemon that is gone or does nothing.
    const check = async () => {
      if (failure) {
        await stopLoad();
        throw new Error(failure);
      }
    };
    await new Promise((r) => setTimeout(r, o.warmup * 1000));
    await check();
    // Nothing synced at all: a daemon that takes everything in and processes nothing (or refuses every webhook).
    if (driver.matched === 0) {
      await waitUntil('a first synced change', () => driver.matched > 0 || failure !== undefined, o.drainTimeout * 1000).catch(() => undefined);
      await check();
      if (driver.matched === 0) {
        await stopLoad();
        const refused = forwarder.stats().find((t) => t.lastRefusal);
        throw new Error(`the daemons synced none of ${driver.emitted} changes in ${o.warmup + o.drainTimeout} s${refused ? ` (a webhook was refused: ${refused.lastRefusal})` : ''}: see ${logsShown}`);
      }
    }
    driver.measuring = true;
    const measureStarted = preciseNow();
    const apiAtStart = org.apiCalls;
    const costBefore = await snapshot();
    const webhooksBefore = forwarder.stats();
    await new Promise((r) => setTimeout(r, o.duration * 1000));
    pacer.stop();
    await check();
    const loadEnded = preciseNow();
    await waitUntil('the last writes', () => driver.pending.size === 0 || failure !== undefined, o.drainTimeout * 1000).catch(() => undefined);
    const costAfter = await snapshot();
    const webhooksAfter = forwarder.stats();
    // A quiet second more: a looped write would show up now.
    await new Promise((r) => setTimeout(r, 1500));
    await stopLoad();
    await check();
    const daemonStats = load.map((m) => m.stop());
    const apiCalls = org.apiCalls - apiAtStart;
    const lost = [...driver.pending.values()];
    const audit = new RedisAuditLog(redis as Redis, keys, AUDIT_KEPT);
    const legs = await syncLegs(audit, active, driver.measuredWrites);
    const internal = { 'acd->salesforce': legs['acd->salesforce'].daemon, 'salesforce->acd': legs['salesforce->acd'].daemon };
    const syncedInWindow = costAfter.synced - costBefore.synced;
    const measuredWindowMs = Math.max(loadEnded, driver.lastMatchAt) - measureStarted;
    const cf = driver.samples['acd->salesforce'].length;
    log(`load done: ${driver.emitted} changes, ${driver.matched} synced, ${lost.length} lost, ${driver.unexpected.length} unexpected writes`);

    if (costAfter.redis.length !== costBefore.redis.length) throw new Error(`the Redis masters changed during the load (${costBefore.redis.length} → ${costAfter.redis.length}): no cost per change to give`);
    const redisByNode = costAfter.redis.map((after, i) => usageBetween(costBefore.redis[i], after));
    const redisUsed = totalUsage(redisByNode);
    const redisCommands = redisUsed.commands - (costAfter.ownCommands - costBefore.ownCommands);
    const cpuUsed = costAfter.daemonCpuMs.map((ms, i) => ms - costBefore.daemonCpuMs[i]);
    const daemonCpuTotal = cpuUsed.reduce((a, b) => a + b, 0);
    const cpuPct = (ms: number) => Math.round((ms / Math.max(1, costAfter.at - costBefore.at)) * 100);

    const baselineConcurrency = 16;
    const baseline = await runBaseline(benchRedis.target, redis, o.rate, o.duration, baselineConcurrency);
    progress.done(`[bench] baseline done: ${baseline.received}/${baseline.sent} jobs`);

    const e2e = { 'acd->salesforce': summarize(driver.samples['acd->salesforce']), 'salesforce->acd': summarize(driver.samples['salesforce->acd']), all: summarize([...driver.samples['acd->salesforce'], ...driver.samples['salesforce->acd']]) };
    const own = { 'acd->salesforce': summarize(internal['acd->salesforce']), 'salesforce->acd': summarize(internal['salesforce->acd']), all: summarize([...internal['acd->salesforce'], ...internal['salesforce->acd']]) };
    const throughput = Math.round((syncedInWindow / measuredWindowMs) * 1000);
    const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : null);
    const result = {
      startedAt: runStarted.toISOString(),
      machine: { cores: cpus().length, cpu: cpus()[0]?.model, memoryMB: Math.round(totalmem() / MB), freeMemoryMB: Math.round(freemem() / MB), node: process.version, platform: process.platform },
      options: o,
      replicas: o.replicas,
      webhookBatch: o.webhookBatch,
      redis: benchRedis.shown,
      // Per change synced from the start of the measured load until its last write arrived.
      redisCommandsPerChange: perChange(redisCommands, syncedInWindow),
      daemonCpuMsPerChange: perChange(daemonCpuTotal, syncedInWindow),
      cost: {
        syncedChanges: syncedInWindow,
        redisCommands,
        redisScriptCalls: redisUsed.scriptCalls,
        redisScriptCallsPerChange: perChange(redisUsed.scriptCalls, syncedInWindow),
        redisCpuMs: Math.round(redisUsed.cpuMs),
        redisCpuMsPerChange: perChange(redisUsed.cpuMs, syncedInWindow),
        daemonCpuMs: daemonCpuTotal,
        /** Commands each Redis node ran (the cluster's masters in the order of their addresses; the bench's own reads included). */
        redisCommandsByNode: redisByNode.map((n) => n.commands),
      },
      boot: { msToReady: bootMs, agents: o.agents, rules: o.rules, rssMB: Math.max(...rssAfterBoot.map((b) => Math.round(b / MB))) },
      daemon: {
        changesEmitted: driver.emitted,
        synced: driver.matched,
        measuredSynced: driver.matchedMeasured,
        lost: lost.length,
        // What the daemon decided for the first few, to start the investigation from.
        lostSample: await Promise.all(lost.slice(0, 5).map(async (p) => ({
          agentId: p.agent.agentId, direction: p.direction, expect: p.expect,
          audit: await audit.list(p.agent.agentId, 6),
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
        /** All daemons together over the measured load, in percent of one core. */
        cpuAvgPct: cpuPct(daemonCpuTotal),
        /** The largest daemon's. */
        peakRssMB: Math.max(...daemonStats.map((d) => Math.round(d.peakRssBytes / MB))),
        replicas: daemons.map((d, i) => ({
          replica: d.index,
          pid: d.pid,
          webhooks: webhooksAfter[i].forwarded - webhooksBefore[i].forwarded,
          webhooksRefused: webhooksAfter[i].refused,
          lastRefusal: webhooksAfter[i].lastRefusal,
          cpuMs: cpuUsed[i],
          cpuAvgPct: cpuPct(cpuUsed[i]),
          rssAfterBootMB: Math.round(rssAfterBoot[i] / MB),
          peakRssMB: Math.round(daemonStats[i].peakRssBytes / MB),
        })),
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
      'Redis commands per change ≤ 40': (result.redisCommandsPerChange ?? Infinity) <= 40,
      'daemon CPU per change ≤ 0.5 ms': (result.daemonCpuMsPerChange ?? Infinity) <= 0.5,
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
  replicas: number;
  redis: string;
  webhookBatch: number;
  redisCommandsPerChange: number | null;
  daemonCpuMsPerChange: number | null;
  cost: { syncedChanges: number; redisScriptCallsPerChange: number | null; redisCpuMsPerChange: number | null };
  boot: { msToReady: number; agents: number; rules: number; rssMB: number };
  daemon: { changesEmitted: number; synced: number; lost: number; echoes: number; commandResends: number; driverStarved: number; throughputPerSec: number; e2eLatencyMs: Record<string, LatencySummary>; daemonLatencyMs: Record<string, LatencySummary>; legsMs: Record<string, Record<'inbound' | 'daemon' | 'outbound', LatencySummary>>; salesforceApiCallsPerSyncedChange: number | null; cpuAvgPct: number; peakRssMB: number; replicas: { replica: number; webhooks: number; cpuAvgPct: number; peakRssMB: number }[] };
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
    ...(r.daemon.replicas.length > 1 ? r.daemon.replicas.map((d) => `  daemon ${d.replica}: ${d.webhooks} webhooks, CPU ${d.cpuAvgPct}% of a core, peak RSS ${d.peakRssMB} MB`) : []),
    `per synced change (${r.cost.syncedChanges}, ${r.replicas} daemon${r.replicas === 1 ? '' : 's'} on ${r.redis}${r.webhookBatch > 1 ? `, webhooks of up to ${r.webhookBatch} events` : ''}): ${r.redisCommandsPerChange ?? 'n/a'} Redis commands (${r.cost.redisScriptCallsPerChange ?? 'n/a'} script calls), ${r.cost.redisCpuMsPerChange ?? 'n/a'} ms Redis CPU, ${r.daemonCpuMsPerChange ?? 'n/a'} ms daemon CPU`,
    `baseline per job: ${r.baseline.redisCommandsPerJob ?? 'n/a'} Redis commands, ${r.baseline.workerCpuMsPerJob ?? 'n/a'} ms worker CPU`,
    '',
    ...Object.entries(targets).map(([name, ok]) => `  ${ok ? 'met   ' : 'MISSED'} ${name}`),
    '',
    `written to ${file}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

// Everything is stopped by now; exit rather than wait for timers left behind (with hundreds of emulated
// consoles closed, their CometD clients' timers kept the process alive for minutes).
main().then(() => process.exit(process.exitCode ?? 0), (e: unknown) => {
  progress.done(`[bench] failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
