import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Redis, { Cluster } from 'ioredis';
import { DEFAULT_SYNC_PARTITIONS } from '@presence-sync/config';
import { RedisKeys, redisOptionsFromUrl } from '@presence-sync/redis';
import {
  ContactCenterEmulator, SalesforceEmulator, salesforceEmulatorSandboxSeed, SANDBOX_SALESFORCE, type ConsoleCommand,
} from '@presence-sync/testing';
import { dropPrefix, ENGINE_RULES, SECRET, TOKEN, waitFor } from './daemon-harness';

const ROOT = join(__dirname, '..', '..');
const USP_QUERY = 'SELECT Id, UserId, ServicePresenceStatusId, IsCurrentState, IsAway, StatusStartDate, StatusEndDate FROM UserServicePresence';

export interface Replica {
  name: string;
  proc: ChildProcess;
  url: string;
  exited: boolean;
  exit: Promise<void>;
  log: string;
}

/**
 * N real daemon processes (`presence-sync start` from the sources) on one Redis prefix, between the contact-center
 * emulator (its webhook spread round robin over the live replicas, as a load balancer would) and the Salesforce
 * emulator in live mode with every agent's console open.
 */
export class ReplicaCluster {
  readonly prefix = `rc${randomUUID().slice(0, 8)}`;
  readonly keys = new RedisKeys(this.prefix, DEFAULT_SYNC_PARTITIONS);
  readonly replicas: Replica[] = [];
  readonly catalog: ReturnType<typeof ContactCenterEmulator.sandboxCatalog>;
  cc!: ContactCenterEmulator;
  sf!: SalesforceEmulator;
  /** Inspection client: a single server's, or the cluster's when the replicas run on a Redis Cluster. */
  redis!: Redis;
  /** Console commands applied, per command id. */
  readonly appliedCommands = new Map<string, number>();
  readonly commandLog: { userId: string; command: ConsoleCommand; at: number }[] = [];
  private readonly balancer = new WebhookBalancer();
  private ccBaseUrl = '';

  constructor(agents: number, private readonly redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', private readonly env: Record<string, string> = {}) {
    this.catalog = ContactCenterEmulator.sandboxCatalog(agents);
  }

  emailOf(i: number): string {
    return this.catalog.agents[i].email.toLowerCase();
  }

  async start(replicas: number): Promise<void> {
    this.cc = new ContactCenterEmulator({ token: TOKEN, ...this.catalog });
    ({ baseUrl: this.ccBaseUrl } = await this.cc.start());
    for (const a of this.catalog.agents) if (a.state.state !== 'Available') this.cc.agentSetState(a.agentId, { state: 'Available' });
    const seed = salesforceEmulatorSandboxSeed(this.catalog.agents.map((a) => a.email), { initialStatus: () => 'Available_Chat' });
    this.sf = new SalesforceEmulator({ ...seed, cometdTimeoutMs: 5_000, provision: { ...seed.provision, pushTopics: [{ name: 'PresenceSyncUSP', query: USP_QUERY }] } });
    await this.sf.start();
    for (let i = 0; i < this.catalog.agents.length; i++) await this.sf.openConsole(this.emailOf(i));
    this.sf.on('command-applied', (userId, command) => {
      this.appliedCommands.set(command.commandId, (this.appliedCommands.get(command.commandId) ?? 0) + 1);
      this.commandLog.push({ userId, command, at: Date.now() });
    });
    const balancerUrl = await this.balancer.start();
    // A contact center sends many webhooks at once; the emulator's default of 8 would be the bottleneck under load.
    // A contact center retries a refused delivery for minutes, not 300 ms: a replica killed and restarted (10 s or
    // more to boot on a loaded machine) must not cost events the emulator gave up on (20 ms doubling, 11 tries ≈ 40 s).
    this.cc.setWebhook({ url: `${balancerUrl}/v1/acd/events`, secret: SECRET, retryDelayMs: 20, maxAttempts: 11, concurrency: 64 });
    this.redis = this.env.REDIS_CLUSTER_NODES
      ? new Cluster(this.env.REDIS_CLUSTER_NODES.split(',').map((n) => ({ host: n.split(':')[0], port: Number(n.split(':')[1]) }))) as unknown as Redis
      : new Redis(redisOptionsFromUrl(this.redisUrl));
    const started = Array.from({ length: replicas }, (_, i) => this.startReplica(String.fromCharCode(97 + i)));
    for (const r of started) await this.whenListening(r);
    for (const r of started) this.balancer.add(r.url);
    // The first subscription has no stored replay id, so the stream's replica runs a drift repair first.
    await waitFor(() => this.replicas.some((r) => r.log.includes('drift repair done')), 'the start-up drift repair is done', 30_000);
  }

  startReplica(name: string): Replica {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      // On a cluster the replicas get REDIS_CLUSTER_NODES (from `env`) instead of a URL.
      ...(this.env.REDIS_CLUSTER_NODES ? {} : { REDIS_URL: this.redisUrl }), REDIS_PREFIX: this.prefix,
      ACD_BASE_URL: this.ccBaseUrl, ACD_TOKEN: TOKEN, ACD_WEBHOOK_SECRET: SECRET, ACD_TIMEOUT_MS: '5000',
      HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', RULES_DIR: ENGINE_RULES, RULES_WATCH: 'false', ADMIN_DASHBOARD: 'off', LOG_LEVEL: 'info',
      SYNC_BACKOFF_MS: '50', DIRECTORY_REFRESH_INTERVAL_MS: '0', RECONCILE_INTERVAL_MS: '0', DEFAULT_UNAVAILABLE_CODE: 'System',
      SF_CONFIRM_TIMEOUT_MS: '10000', SHUTDOWN_TIMEOUT_MS: '5000',
      SALESFORCE_MODE: 'live', SALESFORCE_LOGIN_URL: this.sf.baseUrl, SALESFORCE_AUTH: 'password',
      SALESFORCE_CLIENT_ID: SANDBOX_SALESFORCE.clientId, SALESFORCE_CLIENT_SECRET: SANDBOX_SALESFORCE.clientSecret,
      SALESFORCE_USERNAME: SANDBOX_SALESFORCE.username, SALESFORCE_PASSWORD: SANDBOX_SALESFORCE.password,
      SALESFORCE_SECURITY_TOKEN: SANDBOX_SALESFORCE.securityToken, SALESFORCE_OFFLINE_HOLD_MS: '300',
      ...this.env,
    };
    const replica = spawnReplica(name, env);
    this.replicas.push(replica);
    return replica;
  }

  whenListening(replica: Replica): Promise<void> {
    return whenListening(replica);
  }

  /** Sends webhooks to `replica` instead of `old` (a replica restarted after a crash). */
  retarget(old: Replica, replica: Replica): void {
    this.balancer.remove(old.url);
    this.balancer.add(replica.url);
  }

  async stop(): Promise<void> {
    for (const r of this.replicas) {
      if (r.exited) continue;
      r.proc.kill('SIGTERM');
      await waitFor(() => r.exited, `replica ${r.name} exits on SIGTERM`, 15_000).catch(() => r.proc.kill('SIGKILL'));
      await r.exit;
    }
    await this.balancer.stop();
    await this.sf?.stop();
    await this.cc?.stop();
    if (this.redis) {
      if (!this.env.REDIS_CLUSTER_NODES) await dropPrefix(this.redis, this.prefix);
      this.redis.disconnect();
    }
  }
}

/**
 * The product's own entry (`presence-sync start`), run from the TypeScript sources in a real, killable process.
 * It stops cleanly (SIGTERM) when its stdin closes, so a test runner that dies leaves no replica behind. Only the
 * tail of its output is kept, for failure messages.
 */
export function spawnReplica(name: string, env: Record<string, string>): Replica {
  const main = [
    "process.stdin.once('end', () => process.kill(process.pid, 'SIGTERM')).resume();",
    "require('./apps/presence-sync/src/cli.ts').main(['node', 'presence-sync', 'start']).then((code) => process.exit(code));",
  ].join('\n');
  const proc = spawn(process.execPath, ['-r', './test/support/ts-register.js', '-e', main], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  const replica: Replica = { name, proc, url: '', exited: false, exit: Promise.resolve(), log: '' };
  replica.exit = new Promise((resolve) => proc.once('exit', () => { replica.exited = true; resolve(); }));
  const keep = (s: string) => { replica.log = (replica.log + s).slice(-20_000); };
  proc.stdout!.setEncoding('utf8').on('data', keep);
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => {
    keep(s);
    const listening = /presence-sync: listening on (http:\/\/[^\s]+)/.exec(s);
    if (listening && !replica.url) replica.url = listening[1];
  });
  return replica;
}

/** Resolves once the replica says where it listens; fails with its output if it exits first. */
export async function whenListening(replica: Replica): Promise<void> {
  await waitFor(() => replica.url !== '' || replica.exited, `replica ${replica.name} listens`, 60_000);
  if (!replica.url) throw new Error(`replica ${replica.name} exited before it listened:\n${replica.log}`);
}

/** A load balancer in front of the replicas' webhook: round robin over the targets it is given. */
export class WebhookBalancer {
  private server?: Server;
  private targets: string[] = [];
  private turn = 0;

  /** Listens on a free local port; resolves to its base URL. */
  async start(): Promise<string> {
    const server = createServer((req, res) => void this.forward(req).then(
      (answer) => res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body),
      () => res.writeHead(502).end(),
    ));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  add(url: string): void {
    this.targets.push(url);
  }

  remove(url: string): void {
    this.targets = this.targets.filter((t) => t !== url);
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async forward(req: IncomingMessage): Promise<{ status: number; body: Buffer }> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (this.targets.length === 0) throw new Error('no replica');
    const target = this.targets[this.turn++ % this.targets.length];
    const headers: Record<string, string> = {};
    for (const name of ['content-type', 'x-presence-timestamp', 'x-presence-signature']) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const res = await fetch(`${target}${req.url ?? ''}`, { method: req.method, headers, body: Buffer.concat(chunks) });
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  }
}
