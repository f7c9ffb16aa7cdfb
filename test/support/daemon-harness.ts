import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import type { JobType, Queue } from 'bullmq';
import Redis from 'ioredis';
import { loadConfig, type AppConfig } from '@presence-sync/config';
import { signGenericWebhook } from '@presence-sync/contact-center';
import { AuditLog, InboundSink, type AcdState, type AuditOutcome, type AuditRecord } from '@presence-sync/domain';
import { PartitionQueues, QUEUES, RedisKeys, RedisPartitionWork, scanKeys, type QueueName } from '@presence-sync/redis';
import { ContactCenterEmulator, InMemorySalesforce } from '@presence-sync/testing';
import { createDaemon } from '../../apps/presence-sync/src/daemon.bootstrap';
import { PartitionDrain } from '../../apps/presence-sync/src/processors/partition-drain';
import { SyncRunner } from '../../apps/presence-sync/src/processors/sync-runner';
import { LifecycleService } from '../../apps/presence-sync/src/services/lifecycle.service';

export const ENGINE_RULES = join(__dirname, '..', 'fixtures', 'engine-rules');
export const TOKEN = 'cc-token-for-tests';
export const SECRET = 'webhook-secret-for-tests-0123456789';

/** Polls `predicate` until it holds (condition waiting, not a fixed sleep). */
/** Deletes a test's keys (everything under its prefix) from the shared test Redis. */
export async function dropPrefix(redis: Redis, prefix: string): Promise<void> {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
}

export async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface HarnessOptions {
  agents?: number;
  env?: Record<string, string>;
}

/** The real daemon (Nest, BullMQ, Redis) between a contact-center emulator and an in-memory Salesforce. */
export class DaemonHarness {
  app!: INestApplication;
  url!: string;
  config!: AppConfig;
  /** A client of the daemon's own Redis (the config's REDIS_URL), for assertions and clean-up. */
  redis!: Redis;

  private constructor(readonly cc: ContactCenterEmulator, readonly sf: InMemorySalesforce, readonly prefix: string) {
  }

  static async start(options: HarnessOptions = {}): Promise<DaemonHarness> {
    const catalog = ContactCenterEmulator.sandboxCatalog(options.agents ?? 20);
    const cc = new ContactCenterEmulator({ token: TOKEN, ...catalog });
    const { baseUrl } = await cc.start();
    const sf = new InMemorySalesforce();
    sf.addUsersForEmails(catalog.agents.map((a) => a.email));
    const h = new DaemonHarness(cc, sf, `t${randomUUID().slice(0, 8)}`);
    h.config = loadConfig({
      // The daemon takes this harness's in-memory org (it never makes one up: SALESFORCE_MODE says so).
      SALESFORCE_MODE: 'memory', REDIS_URL: process.env.REDIS_URL, REDIS_PREFIX: h.prefix, ACD_BASE_URL: baseUrl, ACD_TOKEN: TOKEN, ACD_WEBHOOK_SECRET: SECRET,
      HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', RULES_DIR: ENGINE_RULES, RULES_WATCH: 'false', LOG_LEVEL: 'silent',
      SYNC_BACKOFF_MS: '20', DIRECTORY_REFRESH_INTERVAL_MS: '0', RECONCILE_INTERVAL_MS: '0', SF_CONFIRM_TIMEOUT_MS: '3000',
      ACD_TIMEOUT_MS: '2000', DEFAULT_UNAVAILABLE_CODE: 'System', ADMIN_DASHBOARD: 'off',
      ...options.env,
    });
    h.redis = new Redis(h.config.redis.url);
    await h.boot();
    return h.init();
  }

  private async boot(): Promise<void> {
    this.app = await createDaemon(this.config, { salesforce: this.sf });
    await this.app.listen(0, '127.0.0.1');
    this.url = (await this.app.getUrl()).replace('[::1]', '127.0.0.1');
    this.cc.setWebhook({ url: `${this.url}/v1/acd/events`, secret: SECRET, retryDelayMs: 20 });
  }

  /** Stops the daemon and starts a new one on the same Redis prefix (everything durable must survive). */
  async restart(): Promise<void> {
    await this.app.close();
    await this.boot();
  }

  userOf(agentId: string): string {
    const email = this.cc.getAgent(agentId)?.email;
    const user = [...(this.sfUsers ?? [])].find((u) => u.email === email);
    if (!user) throw new Error(`no Salesforce user for ${agentId}`);
    return user.userId;
  }

  private sfUsers?: { userId: string; email?: string }[];
  async init(): Promise<this> {
    this.sfUsers = await this.sf.listUsers();
    return this;
  }

  acdState(agentId: string): AcdState | undefined {
    return this.cc.getAgent(agentId)?.state;
  }

  /** PUTs the daemon sent for one agent (fault-injected and replayed ones included). */
  writesFor(agentId: string) {
    return this.cc.writes.filter((w) => w.agentId === agentId);
  }

  commandsFor(agentId: string) {
    const userId = this.userOf(agentId);
    return this.sf.commands.filter((c) => c.userId === userId);
  }

  audit(agentId: string): Promise<AuditRecord[]> {
    return this.app.get(AuditLog).list(agentId, 1000);
  }

  async hasAudit(agentId: string, outcome: AuditOutcome, where: (r: AuditRecord) => boolean = () => true): Promise<boolean> {
    return (await this.audit(agentId)).some((r) => r.outcome === outcome && where(r));
  }

  get sink(): InboundSink {
    return this.app.get(InboundSink);
  }

  /** The queue `name` of an agent's partition (default: partition 0). */
  queue(name: QueueName, agentId?: string): Queue {
    const queues = this.app.get(PartitionQueues);
    return agentId === undefined ? queues.queue(name, 0) : queues.forAgent(name, agentId);
  }

  /** The queue `name` of every partition. */
  queues(name: QueueName): Queue[] {
    const queues = this.app.get(PartitionQueues);
    return Array.from({ length: queues.keys.partitions }, (_, n) => queues.queue(name, n));
  }

  /** Job counts of `name` summed over the partitions. */
  jobCounts(name: QueueName, ...types: JobType[]): Promise<Record<string, number>> {
    return this.app.get(PartitionQueues).counts(name, ...types);
  }

  /** Failed jobs of `name` over the partitions. */
  async failedCount(name: QueueName): Promise<number> {
    return (await this.jobCounts(name, 'failed')).failed ?? 0;
  }

  get lifecycle(): LifecycleService {
    return this.app.get(LifecycleService);
  }

  /**
   * Nothing left to do: no inbox waiting or being applied, nothing in the due sets (syncs held back, confirmation
   * checks), no sync running in process, every sync queue empty.
   */
  async idle(): Promise<boolean> {
    if (this.app.get(PartitionDrain).applying > 0 || this.app.get(SyncRunner).running > 0) return false;
    const { ready, due } = await this.app.get(RedisPartitionWork).depths();
    if (ready > 0 || due > 0) return false;
    for (const name of Object.values(QUEUES)) {
      const c = await this.jobCounts(name, 'waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
      if (Object.values(c).some((n) => n > 0)) return false;
    }
    return true;
  }

  /** The event ids intake took in so far (its de-duplication markers), over the partitions. */
  async intakeIds(): Promise<Set<string>> {
    const keys = this.app.get(RedisKeys);
    const ids = new Set<string>();
    for (let n = 0; n < keys.partitions; n++) {
      for (const key of await scanKeys(this.redis, `${keys.partition(n)}:seen:*`)) {
        const m = /:seen:(?:acd|salesforce):(?:agent|user)\/[^:]*:(.*)$/.exec(key);
        if (m) ids.add(m[1]);
      }
    }
    return ids;
  }

  /** Sends a signed generic-connector webhook; returns the HTTP status and body. */
  async postEvents(body: unknown, options: { secret?: string; timestampSec?: number; raw?: string } = {}): Promise<{ status: number; body: unknown }> {
    const raw = options.raw ?? JSON.stringify(body);
    const ts = options.timestampSec ?? Math.floor(Date.now() / 1000);
    const res = await fetch(`${this.url}/v1/acd/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json', 'x-presence-timestamp': String(ts),
        'x-presence-signature': signGenericWebhook(options.secret ?? SECRET, ts, raw),
      },
      body: raw,
    });
    return { status: res.status, body: await res.json().catch(() => undefined) };
  }

  async stop(): Promise<void> {
    await this.app.close().catch(() => undefined);
    await this.cc.stop();
    await dropPrefix(this.redis, this.prefix);
    this.redis.disconnect();
  }
}
