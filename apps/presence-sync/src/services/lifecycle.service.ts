import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import type Redis from 'ioredis';
import type { Worker } from 'bullmq';
import type { AppConfig } from '@presence-sync/config';
import { ConfigError, ContactCenterPort, InboundSink, type InboundChange, type Side } from '@presence-sync/domain';
import { PartitionQueues, RedisKeys, RedisLease, type BullConnection } from '@presence-sync/redis';
import { Reconcile } from '@presence-sync/sync';
import { PartitionWorkers } from '../processors/partition-workers';
import { APP_CONFIG, BULL_CONNECTION, REDIS } from '../tokens';
import { PartitionOwnership } from './partition-ownership';
import { RedisErrorLog } from '../logging/redis-error.log';
import { OpenResources } from './open-resources';
import { DirectoryService } from './directory.service';
import { IntakeGate } from './intake-gate.service';
import { MetricsService } from './metrics.service';
import { RulesService } from './rules.service';
import { AcdSourceLeader } from './acd-source.leader';
import { StreamLeader } from './stream-leader.service';

/**
 * The share of SHUTDOWN_TIMEOUT_MS this service uses; the rest is for Nest's own shutdown hooks and the HTTP
 * server, so the whole stop fits in the setting.
 */
const OWN_SHARE = 0.9;
/** Of that: running jobs may finish until here; then queues and Redis close. */
const DRAIN_SHARE = 0.7;

/**
 * Boot in order (directory → rules → workers → intake → schedules) and shut down in order (intake →
 * workers drained → Redis), once, whoever asks first, within SHUTDOWN_TIMEOUT_MS whatever Redis does.
 */
@Injectable()
export class LifecycleService implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(LifecycleService.name);
  private stopping?: Promise<void>;
  private draining?: Promise<void>;
  /** The workers were started (boot) and are expected to take jobs until the stop. */
  private workersStarted = false;
  private reconciling = false;
  /** What the shutdown is still waiting for, for the line that says what could not be closed. */
  private readonly closing = new OpenResources();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly directory: DirectoryService,
    private readonly rules: RulesService,
    private readonly gate: IntakeGate,
    private readonly sink: InboundSink,
    private readonly streamLeader: StreamLeader,
    private readonly acdSource: AcdSourceLeader,
    private readonly contactCenter: ContactCenterPort,
    private readonly partitionWorkers: PartitionWorkers,
    private readonly ownership: PartitionOwnership,
    private readonly queues: PartitionQueues,
    private readonly keys: RedisKeys,
    @Inject(BULL_CONNECTION) private readonly bull: BullConnection,
    private readonly reconcile: Reconcile,
    private readonly scheduler: SchedulerRegistry,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly metrics: MetricsService,
    private readonly redisErrors: RedisErrorLog,
  ) {}

  private get workers(): Worker[] {
    return this.partitionWorkers.all();
  }

  /**
   * The partition count is part of the key layout (which agent lives where): the first boot records it, and a
   * later boot with another count stops with one line instead of losing track of every agent.
   */
  async onModuleInit(): Promise<void> {
    const wanted = String(this.keys.partitions);
    const recorded = (await this.redis.set(this.keys.layout, wanted, 'NX', 'GET')) ?? wanted;
    if (recorded !== wanted) {
      throw new ConfigError(`invalid setting SYNC_PARTITIONS: this Redis (prefix ${this.keys.prefix}) holds a deployment with ${recorded} partitions, got ${wanted}; keep ${recorded}, or use another REDIS_PREFIX`);
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    // The connector's own boot: auth, the vendor's event subscription (a setting the vendor refuses stops the boot).
    await this.contactCenter.start();
    if (!(await this.directory.refresh())) {
      this.logger.warn({ msg: 'starting without a directory: the contact center or Salesforce could not be read; retrying on schedule', error: this.directory.lastError });
    }
    await this.rules.loadAtBoot();
    // This replica's share of the partitions: their workers start, and the changes queued in them whose ingest
    // job was lost in a crash are taken up (PartitionWorkers.take).
    await this.ownership.start();
    this.workersStarted = true;
    // The Salesforce stream runs on the one replica holding the stream lease (StreamLeader); a polling or
    // streaming contact-center connector likewise on the one holding its own lease (AcdSourceLeader).
    await this.streamLeader.start(this.countingSink('salesforce'), this.repairAfterGap('the Salesforce stream'));
    await this.acdSource.start(this.countingSink('acd'), this.repairAfterGap('the contact-center source'));
    this.gate.openIntake();
    this.schedule('directory-refresh', this.config.directory.refreshIntervalMs, async () => {
      if (await this.directory.refresh()) await this.rules.reload();
    });
    this.schedule('reconcile', this.config.reconcile.intervalMs, () => this.runReconcile());
    this.logger.log({ msg: 'presence-sync is running', rules: this.rules.status.version, agents: this.directory.current().stats.agents, linked: this.directory.current().stats.linked });
  }

  /**
   * What a change source calls when it may have missed changes. The source has logged why, at the level the cause
   * deserves (a warning for a real gap, info for an expected one such as a first start): this line says what is
   * done about it, so one event raises one alarm, not two.
   */
  private repairAfterGap(source: string): (reason: string) => void {
    return (reason) => {
      this.logger.log({ msg: `running a drift repair for ${source}`, reason });
      void this.runReconcile('now');
    };
  }

  /**
   * One drift repair at a time across replicas (a Redis lock held while it runs), and one scheduled repair per
   * interval across replicas: every replica's timer fires, but once one has run, the others skip until the next
   * interval, so the vendor API cost does not grow with replicas. `now` (the stream may have missed changes, or
   * an operator asks) runs whenever no repair is running.
   */
  async runReconcile(trigger: 'schedule' | 'now' = 'schedule'): Promise<void> {
    if (this.reconciling) return;
    this.reconciling = true;
    // Released by its holder only: one that expired under a very long run may be another replica's by now.
    const lock = new RedisLease(this.redis, `${this.config.redis.prefix}:lock:reconcile`, Math.max(60_000, this.config.reconcile.intervalMs));
    const recent = `${lock.key}:recent`;
    let held = false;
    try {
      if (trigger === 'schedule' && (await this.redis.exists(recent))) return;
      held = await lock.acquire();
      if (!held) return;
      const report = await this.reconcile.run();
      this.logger.log({ msg: 'drift repair done', trigger, ...report });
      if (this.config.reconcile.intervalMs > 0) await this.redis.set(recent, lock.token, 'PX', Math.floor(this.config.reconcile.intervalMs * 0.8));
    } catch (e) {
      this.logger.error({ msg: 'drift repair failed', trigger, error: e instanceof Error ? e.message : String(e) });
    } finally {
      if (held) await lock.release().catch(() => undefined);
      this.reconciling = false;
    }
  }

  private schedule(name: string, everyMs: number, task: () => Promise<void>): void {
    if (everyMs <= 0) return;
    const timer = setInterval(() => void task().catch((e: Error) => this.logger.error({ msg: `${name} failed`, error: e.message })), everyMs);
    timer.unref();
    this.scheduler.addInterval(name, timer);
  }

  onModuleDestroy(): Promise<void> {
    return this.shutdown();
  }

  /** The durable sink, counting what a source hands it for the status page and the metrics. */
  private countingSink(side: Side): InboundSink {
    const { sink, gate, metrics } = this;
    return {
      async accept(changes: InboundChange[]) {
        const result = await sink.accept(changes);
        gate.lastEvent[side] = Date.now();
        metrics.eventsQueued(side, result.accepted);
        return result;
      },
      recover: () => sink.recover(),
    };
  }

  /**
   * The first step of a stop by signal (SIGTERM), before `shutdown()`: readiness fails at once so the load
   * balancer takes this replica out, while intake stays open for `ms` (SHUTDOWN_DRAIN_MS) for the requests
   * routed here before it noticed; the workers go on meanwhile. Nothing to do before boot, after the stop began,
   * or with 0. Safe to call twice.
   */
  drain(ms = this.config.shutdownDrainMs): Promise<void> {
    if (this.draining) return this.draining;
    if (ms <= 0 || !this.gate.isReady || this.stopping) return Promise.resolve();
    this.gate.drain();
    this.logger.log({ msg: 'draining: not ready any more, still taking changes until the stop', ms });
    this.draining = new Promise((resolve) => setTimeout(resolve, ms));
    return this.draining;
  }

  /**
   * Workers that should be taking jobs but are not: a worker whose loop ended (a `worker stopped` line), or one
   * closed by something other than the stop. Empty before the workers start and once the stop began. A Redis
   * outage does not end a worker's loop (it retries), so it does not show here.
   */
  stoppedWorkers(): string[] {
    if (!this.workersStarted || this.stopping) return [];
    return this.workers.filter((w) => !w.isRunning()).map((w) => w.name);
  }

  /** Stops intake, drains the workers, closes Redis. Safe to call twice. */
  shutdown(): Promise<void> {
    this.stopping ??= this.doShutdown();
    return this.stopping;
  }

  /** What the shutdown has not been able to close (yet): e.g. `worker sync-acd`, `queue sync-acd`, `redis`. */
  stillOpen(): string[] {
    return this.closing.open();
  }

  private async doShutdown(): Promise<void> {
    const started = Date.now();
    const budgetMs = this.config.shutdownTimeoutMs * OWN_SHARE;
    const until = (share: number) => Math.max(0, started + budgetMs * share - Date.now());
    this.gate.close();
    for (const name of this.scheduler.getIntervals()) this.scheduler.deleteInterval(name);
    await this.closing.within(until(0.3), ['Salesforce stream', this.streamLeader.stop()], ['contact-center source', this.acdSource.stop()]);
    await this.closing.within(until(0.35), ['rules watcher', this.rules.stop()]);
    // Leaving the member list and giving the partitions up: the other replicas take them at their next heartbeat.
    const workers = this.workers;
    const drained = await this.closing.within(until(DRAIN_SHARE), ['workers', this.ownership.stop()]);
    if (!drained) {
      this.logger.warn({ msg: 'workers did not drain in time; closing them (their jobs are retried after restart)', ms: this.config.shutdownTimeoutMs });
      // A second close() would only wait on the first: cutting the connections ends the waits on Redis.
      for (const worker of workers) void worker.disconnect().catch(() => undefined);
    }
    await this.closing.within(until(0.85), ['queues', this.queues.close().then(() => this.bull.close())], ['contact-center connector', this.contactCenter.stop()]);
    if (this.redis.status === 'ready') await this.closing.within(until(1), ['redis', this.redis.quit()]);
    const open = this.closing.open();
    if (open.length > 0) {
      // Nest's own hooks close the same queues and workers again and would wait on exactly these.
      for (const queue of this.queues.all()) void queue.disconnect().catch(() => undefined);
      for (const worker of workers) void worker.disconnect().catch(() => undefined);
      this.logger.warn({ msg: 'shutdown: could not close these in time; disconnecting them', open, ms: this.config.shutdownTimeoutMs });
    }
    if (this.redis.status !== 'end') this.redis.disconnect();
    this.redisErrors.close();
    this.logger.log({ msg: 'presence-sync stopped', ...(open.length > 0 ? { notClosed: open } : {}) });
  }
}
