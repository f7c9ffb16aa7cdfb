import { Logger, Module, RequestMethod, type DynamicModule, type Provider } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule } from 'nestjs-pino';
import type Redis from 'ioredis';
import type { ConnectionOptions } from 'bullmq';
import { adminDashboardProblem, salesforceModeProblem, secretValuesOf, type AppConfig } from '@presence-sync/config';
import {
  AgentRecordStore, AuditLog, ChangeSource, Clock, ConfigError, ContactCenterPort, InboundSink, SalesforcePort, SyncTrigger, SystemClock,
} from '@presence-sync/domain';
import {
  agentInbox, bullConnection, connectRedis, DrainHandoff, InboxAppends, PartitionQueues, QUEUES, RedisAgentRecordStore, RedisPartitionWork, SyncRetryQueue, RedisAuditLog, RedisCheckpointStore, RedisInboundSink, RedisKeys, RedisRefreshTokenStore, userInbox,
} from '@presence-sync/redis';
import { JsforceSalesforceAdapter, type SalesforceLogger } from '@presence-sync/salesforce';
import { AuditFeed, EngineSettings, IngestChange, Reconcile, SyncAgent, TransitionRunner } from '@presence-sync/sync';
import { createContactCenter } from './contact-center.factory';
import { AcdWebhookReceiver } from './http/acd-webhook.receiver';
import { AgentsController } from './http/agents.controller';
import { ContactCenterProbe } from './http/contact-center.probe';
import { EventLoopWatcher } from './services/event-loop.watcher';
import { ConsoleReturnWatcher } from './services/console-return.watcher';
import { HealthController } from './http/health.controller';
import { StatusController } from './http/status.controller';
import { SyncActivityService } from './services/sync-activity.service';
import { OpsListener } from './http/ops-listener';
import { ReadinessLogger } from './logging/readiness.logger';
import { RedisErrorLog } from './logging/redis-error.log';
import { SecretMaskingStream, type LineStream } from './logging/secret-masking.stream';
import { InboxApplier } from './processors/inbox-applier';
import { PartitionDrain } from './processors/partition-drain';
import { SyncRunner } from './processors/sync-runner';
import { SyncAcdProcessor } from './processors/sync-acd.processor';
import { SyncSalesforceProcessor } from './processors/sync-salesforce.processor';
import { configureWorkerOptions } from './processors/worker-options';
import { PartitionWorkers } from './processors/partition-workers';
import { newReplicaId, PartitionOwnership } from './services/partition-ownership';
import { DirectoryService } from './services/directory.service';
import { IntakeGate } from './services/intake-gate.service';
import { LifecycleService } from './services/lifecycle.service';
import { MetricsAuditFeed } from './services/metrics-audit.feed';
import { MetricsService } from './services/metrics.service';
import { RulesService } from './services/rules.service';
import { AcdSourceLeader } from './services/acd-source.leader';
import { StreamLeader } from './services/stream-leader.service';
import { APP_CONFIG, BULL_CONNECTION, REDIS, SALESFORCE_STREAM } from './tokens';

/** Parts a test or the sandbox may supply instead of the ones the config names. */
export interface DaemonOverrides {
  salesforce?: SalesforcePort & ChangeSource;
  contactCenter?: ContactCenterPort;
  clock?: Clock;
  /** Where the log lines go (after secret masking). Default stdout; the demo formats them for a person. */
  logOut?: LineStream;
}

/** Paths pino blanks in every log line (secrets never reach a log). */
export const LOG_REDACT = [
  'req.headers.authorization', 'req.headers["x-presence-signature"]', 'req.headers.cookie',
  '*.token', '*.secret', '*.password', '*.webhookSecret', '*.accessToken', '*.refreshToken', '*.privateKey',
  '*.clientSecret', '*.securityToken', '*.adminPassword',
];

/** The Salesforce adapter's log lines go through Nest's logger (pino), tagged with their context. */
function salesforceLogger(): SalesforceLogger {
  const logger = new Logger('Salesforce');
  return {
    debug: (msg, fields) => logger.debug({ msg, ...fields }),
    info: (msg, fields) => logger.log({ msg, ...fields }),
    warn: (msg, fields) => logger.warn({ msg, ...fields }),
    error: (msg, fields) => logger.error({ msg, ...fields }),
  };
}

/**
 * The Salesforce side: in `live` mode the jsforce adapter (logged in at boot, so bad credentials stop the boot
 * with one line); in `memory` mode the org a test handed in. The daemon never makes up an org of its own: without
 * a mode, or `memory` without an org, the boot stops with one line (`salesforceModeProblem`).
 */
function salesforceProviders(config: AppConfig, keys: RedisKeys, given?: SalesforcePort & ChangeSource): Provider[] {
  const problem = salesforceModeProblem(config, given !== undefined);
  if (problem) throw new ConfigError(problem);
  const settings = config.salesforce.settings;
  // loadConfig reads them in live mode; only a config assembled by hand can lack them.
  if (!given && !settings) throw new ConfigError('invalid setting SALESFORCE_MODE: live needs the SALESFORCE_* settings, and none were loaded');
  const port: Provider = given || !settings
    ? { provide: SalesforcePort, useValue: given }
    : {
      provide: SalesforcePort,
      useFactory: async (redis: Redis) => {
        // Refresh-token mode: the current (rotated) refresh token is shared by every replica through Redis, sealed
        // with SECRETS_KEY, and refreshed under a lock; a spent token used twice would revoke the whole grant.
        const refreshTokens = settings.auth.mode === 'refresh-token' ? new RedisRefreshTokenStore(redis, keys, settings.auth.storeKey) : undefined;
        const adapter = new JsforceSalesforceAdapter({ settings, checkpoints: new RedisCheckpointStore(redis, keys), logger: salesforceLogger(), refreshTokens });
        await adapter.connect();
        return adapter;
      },
      inject: [REDIS],
    };
  return [port, { provide: SALESFORCE_STREAM, useExisting: SalesforcePort }];
}

/** How often the owner reads each held partition's due set (burst damping, confirmation checks, guards), ms. */
const DUE_POLL_MS = 200;
/** How many agents' last stored records the store keeps to compute their next transition without a read (≈ 10 MB). */
const RECORD_CACHE_SIZE = 2000;

@Module({})
export class DaemonModule {

  static forRoot(config: AppConfig, overrides: DaemonOverrides = {}): DynamicModule {
    // Before anything connects: an unprotected dashboard stops the boot with one line naming the settings.
    const adminProblem = adminDashboardProblem(config);
    if (adminProblem) throw new ConfigError(adminProblem);
    const keys = new RedisKeys(config.redis.prefix, config.sync.partitions);
    const bull = bullConnection(config.redis);
    const auditBounds = { maxRecords: config.audit.maxPerAgent, maxBytes: config.audit.maxBytesPerAgent };
    // ioredis's option type and BullMQ's own declaration of it differ only in detail.
    const bullRedis = bull.connection as ConnectionOptions;
    const redisErrors = new RedisErrorLog();
    configureWorkerOptions(config.sync.lockDurationMs, config.sync.stalledIntervalMs);
    const settings: EngineSettings = {
      echoWindowMs: config.sync.echoWindowMs, burstWindowMs: config.sync.burstWindowMs, deferredWindowMs: config.sync.deferredWindowMs,
      defaultUnavailableCode: config.rules.defaultUnavailableCode,
      syncAttempts: config.sync.attempts, confirmTimeoutMs: config.salesforce.confirmTimeoutMs,
      confirmAttempts: config.salesforce.confirmAttempts, commandTtlMs: config.salesforce.commandTtlMs,
      consoleRecheckMs: config.salesforce.consoleRecheckMs, retryBackoffMs: config.sync.backoffMs,
    };
    const providers: Provider[] = [
      { provide: APP_CONFIG, useValue: config },
      { provide: RedisKeys, useValue: keys },
      // What the connector can do shapes the engine: a contact center that refuses writes during a contact gets them held.
      {
        provide: EngineSettings,
        useFactory: (contactCenter: ContactCenterPort): EngineSettings => ({ ...settings, acdRefusesOnContact: contactCenter.capabilities.onContact === 'refused' }),
        inject: [ContactCenterPort],
      },
      { provide: Clock, useValue: overrides.clock ?? new SystemClock() },
      // Created first: the queues' error listeners are on before they first connect.
      { provide: RedisErrorLog, useValue: redisErrors },
      {
        // Every partition's queues, on one BullMQ connection (closed by the lifecycle after the queues).
        provide: PartitionQueues,
        useFactory: () => {
          const queues = new PartitionQueues(keys, bullRedis);
          queues.onCreate((queue) => redisErrors.watch(queue, `queue ${queue.name} ${queue.opts.prefix ?? ''}`));
          return queues;
        },
      },
      { provide: REDIS, useFactory: () => connectRedis(config.redis, { onError: (e) => redisErrors.report('redis', e) }) },
      OpsListener,
      AcdWebhookReceiver,
      {
        provide: ContactCenterPort,
        useFactory: (redis: Redis) => overrides.contactCenter ?? createContactCenter(config, { redis, keys }),
        inject: [REDIS],
      },
      ...salesforceProviders(config, keys, overrides.salesforce),
      // What intake here queued, so the owner of a partition on this replica applies an inbox without reading it first.
      { provide: InboxAppends, useFactory: () => new InboxAppends() },
      // Intake here hands an inbox of a partition this replica works straight to its drain (no ready mark).
      { provide: DrainHandoff, useFactory: () => new DrainHandoff(newReplicaId()) },
      {
        provide: AgentRecordStore,
        useFactory: (redis: Redis, appends: InboxAppends) => new RedisAgentRecordStore(redis, keys, auditBounds, RECORD_CACHE_SIZE, appends),
        inject: [REDIS, InboxAppends],
      },
      { provide: AuditLog, useFactory: (redis: Redis) => new RedisAuditLog(redis, keys, auditBounds), inject: [REDIS] },
      // Every audit record the engine stores also feeds the metrics (latency, writes out, echoes, stale drops).
      { provide: AuditFeed, useFactory: (metrics: MetricsService) => new MetricsAuditFeed(metrics), inject: [MetricsService] },
      {
        // Each change goes to its agent's inbox; a Salesforce user the directory does not know yet gets one of its own.
        provide: RedisInboundSink,
        useFactory: (redis: Redis, directory: DirectoryService, appends: InboxAppends, handoff: DrainHandoff) => new RedisInboundSink(redis, keys, config.intake.dedupTtlSec, (change) => {
          if (change.side === 'acd') return agentInbox(change.agentId);
          const agent = directory.current().bySalesforceUser(change.userId);
          return agent ? agentInbox(agent.agentId) : userInbox(change.userId);
        }, appends, handoff),
        inject: [REDIS, DirectoryService, InboxAppends, DrainHandoff],
      },
      { provide: InboundSink, useExisting: RedisInboundSink },
      { provide: RedisPartitionWork, useFactory: (redis: Redis) => new RedisPartitionWork(redis, keys), inject: [REDIS] },
      {
        // First runs of syncs in process; the rest goes on in the partitions' BullMQ sync queues.
        provide: SyncRunner,
        useFactory: (store: AgentRecordStore, work: RedisPartitionWork, queues: PartitionQueues, metrics: MetricsService) => new SyncRunner(
          keys, store, work, new SyncRetryQueue(queues, config.sync.attempts, config.sync.backoffMs), metrics, config.sync.syncConcurrency, config.sync.backoffMs, config.sync.lockDurationMs,
        ),
        inject: [AgentRecordStore, RedisPartitionWork, PartitionQueues, MetricsService],
      },
      { provide: SyncTrigger, useExisting: SyncRunner },
      DirectoryService,
      RulesService,
      IntakeGate,
      EventLoopWatcher,
      MetricsService,
      SyncActivityService,
      ContactCenterProbe,
      StreamLeader,
      AcdSourceLeader,
      ConsoleReturnWatcher,
      {
        provide: TransitionRunner,
        // A sync started here is guarded in the due set as long as a BullMQ job's lock (WORKER_LOCK_DURATION_MS).
        useFactory: (store: AgentRecordStore, trigger: SyncTrigger, feed: AuditFeed) => new TransitionRunner(store, trigger, feed, config.sync.lockDurationMs),
        inject: [AgentRecordStore, SyncTrigger, AuditFeed],
      },
      {
        provide: IngestChange,
        useFactory: (store: AgentRecordStore, runner: TransitionRunner, rules: RulesService, directory: DirectoryService, engine: EngineSettings, clock: Clock) =>
          new IngestChange(store, runner, rules, directory, engine, clock),
        inject: [AgentRecordStore, TransitionRunner, RulesService, DirectoryService, EngineSettings, Clock],
      },
      {
        provide: SyncAgent,
        useFactory: (...deps: ConstructorParameters<typeof SyncAgent>) => new SyncAgent(...deps),
        inject: [TransitionRunner, ContactCenterPort, SalesforcePort, DirectoryService, EngineSettings, Clock],
      },
      {
        provide: Reconcile,
        useFactory: (...deps: ConstructorParameters<typeof Reconcile>) => new Reconcile(...deps),
        inject: [IngestChange, TransitionRunner, ContactCenterPort, SalesforcePort, RulesService, DirectoryService, EngineSettings, Clock],
      },
      InboxApplier,
      SyncAcdProcessor,
      SyncSalesforceProcessor,
      {
        provide: PartitionDrain,
        useFactory: (redis: Redis, work: RedisPartitionWork, applier: InboxApplier, syncs: SyncRunner, handoff: DrainHandoff) => {
          const drain = new PartitionDrain(redis, work, applier, syncs, redisErrors, {
            concurrency: config.sync.inboundConcurrency, duePollMs: DUE_POLL_MS, guardMs: config.sync.lockDurationMs,
          });
          handoff.attach(drain);
          return drain;
        },
        inject: [REDIS, RedisPartitionWork, InboxApplier, SyncRunner, DrainHandoff],
      },
      {
        provide: PartitionWorkers,
        useFactory: (queues: PartitionQueues, acd: SyncAcdProcessor, sf: SyncSalesforceProcessor, sink: RedisInboundSink, drain: PartitionDrain, syncs: SyncRunner, sync: SyncAgent) => {
          const workers = new PartitionWorkers(queues, bullRedis, {
            [QUEUES.syncAcd]: { handler: acd, concurrency: config.sync.syncConcurrency },
            [QUEUES.syncSalesforce]: { handler: sf, concurrency: config.sync.syncConcurrency },
          }, sink, drain, redisErrors, Math.floor(config.shutdownTimeoutMs / 2));
          syncs.attach(sync, workers);
          return workers;
        },
        inject: [PartitionQueues, SyncAcdProcessor, SyncSalesforceProcessor, RedisInboundSink, PartitionDrain, SyncRunner, SyncAgent],
      },
      {
        provide: PartitionOwnership,
        useFactory: (redis: Redis, workers: PartitionWorkers, handoff: DrainHandoff) => new PartitionOwnership(
          redis, keys, workers, { heartbeatMs: config.sync.partitionHeartbeatMs, ttlMs: config.sync.partitionTtlMs }, handoff.owner,
        ),
        inject: [REDIS, PartitionWorkers, DrainHandoff],
      },
      { provide: BULL_CONNECTION, useValue: bull },
      LifecycleService,
    ];
    return {
      module: DaemonModule,
      imports: [
        LoggerModule.forRoot({
          // The masking stream is the last line of defence: a secret inside some library's message text.
          pinoHttp: [
            { level: config.logLevel, autoLogging: false, redact: { paths: LOG_REDACT, censor: '[redacted]' }, base: { service: 'presence-sync' } },
            new SecretMaskingStream(secretValuesOf(config), overrides.logOut),
          ],
          // The webhook is the hot path (one request per contact-center change): a request logger per call cost
          // about 6% of the daemon's CPU under load, for no line (autoLogging is off). Its own lines still log.
          exclude: [{ method: RequestMethod.POST, path: 'v1/acd/events' }],
        }),
        ScheduleModule.forRoot(),
        TerminusModule.forRoot({ errorLogStyle: 'json', logger: ReadinessLogger }),
      ],
      controllers: [AgentsController, StatusController, HealthController],
      providers,
      exports: [LifecycleService, DirectoryService, RulesService],
    };
  }
}
