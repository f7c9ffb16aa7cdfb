import { Controller, Get, Inject, Res } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { Response } from 'express';
import type Redis from 'ioredis';
import { PartitionQueues, RedisPartitionWork } from '@presence-sync/redis';
import { EVENT_LOOP_LAG_LIMIT_MS, EventLoopWatcher } from '../services/event-loop.watcher';
import { IntakeGate } from '../services/intake-gate.service';
import { LifecycleService } from '../services/lifecycle.service';
import { MetricsService } from '../services/metrics.service';
import { RulesService } from '../services/rules.service';
import { StreamLeader } from '../services/stream-leader.service';
import { REDIS } from '../tokens';
import { withDeadline } from '../deadline';
import { ContactCenterProbe } from './contact-center.probe';

/** How long the readiness check waits for Redis to answer PING (a probe's timeout must be longer). */
export const REDIS_PING_TIMEOUT_MS = 1000;

/**
 * Liveness (/health), readiness (/ready), the external dependencies (/dependencies) and Prometheus metrics
 * (/metrics), for load balancers, orchestrators, monitoring and scrapers. Each check endpoint answers 503
 * listing the failing checks under `error`.
 *
 * - /health fails when this process is wedged (event loop far behind, a worker that stopped taking jobs), so
 *   restarting it helps; nothing outside the process counts, so a Redis or vendor outage never restarts it.
 * - /ready fails when the webhook cannot take changes here: Redis away, or intake not open (starting,
 *   draining, stopping). A contact-center or Salesforce outage does not count: webhook intake needs Redis only,
 *   and an outage of a vendor would take every replica out of the load balancer at once.
 * - /dependencies shows the vendors and the rules (and Redis): for monitoring, not for routing.
 */
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly rules: RulesService,
    private readonly gate: IntakeGate,
    private readonly contactCenter: ContactCenterProbe,
    private readonly metrics: MetricsService,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly streamLeader: StreamLeader,
    private readonly lifecycle: LifecycleService,
    private readonly eventLoop: EventLoopWatcher,
    private readonly queues: PartitionQueues,
    private readonly work: RedisPartitionWork,
  ) {}

  /** Liveness: the process is not wedged. Nothing external is checked, so a Redis outage never restarts it. */
  @Get('health')
  @HealthCheck()
  live() {
    return this.health.check([
      () => this.eventLoopOnTime(),
      () => this.workersRunning(),
    ]);
  }

  /** Readiness for intake: Redis and the intake gate only. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.redisUp(),
      () => this.intakeOpen(),
    ]);
  }

  /** The external dependencies and the rules, for monitoring: 503 while any of them is down. */
  @Get('dependencies')
  @HealthCheck()
  dependencies() {
    return this.health.check([
      () => this.redisUp(),
      () => this.salesforceStreamUp(),
      () => this.contactCenterUp(),
      () => this.rulesLoaded(),
    ]);
  }

  @Get('metrics')
  async prometheus(@Res({ passthrough: true }) res: Response): Promise<string> {
    res.setHeader('Content-Type', this.metrics.registry.contentType);
    // One series per queue and partition (label `partition`), so the partitions' queues never collide.
    const [exports, depths] = await Promise.all([
      Promise.all(this.queues.all().map((q) => q.exportPrometheusMetrics({ partition: String(this.queues.partitionOfQueue(q)) }))),
      this.work.depthsByPartition(),
    ]);
    this.metrics.partitionDepths(depths);
    return this.metrics.render(exports);
  }

  private async redisUp(): Promise<HealthIndicatorResult> {
    const check = this.indicator.check('redis');
    // Commands wait for a reconnect instead of failing: a probe must not hang with them.
    if (this.redis.status !== 'ready') return check.down({ message: `Redis connection is ${this.redis.status}` });
    return withDeadline(this.redis.ping(), REDIS_PING_TIMEOUT_MS, `no answer to PING within ${REDIS_PING_TIMEOUT_MS} ms`)
      .then(() => check.up(), (e: Error) => check.down({ message: e.message }));
  }

  /**
   * The live adapter's CometD subscription on the replica holding the stream lease; the in-memory org has no
   * stream to lose. A standby is healthy: another replica consumes the stream, and this one takes over if it dies.
   */
  private salesforceStreamUp(): HealthIndicatorResult {
    const check = this.indicator.check('salesforceStream');
    if (!this.streamLeader.isActive) return check.up({ role: 'standby' });
    return this.streamLeader.subscribed ? check.up({ role: 'active' }) : check.down({ role: 'active', message: 'the presence stream is not subscribed' });
  }

  private async contactCenterUp(): Promise<HealthIndicatorResult> {
    const check = this.indicator.check('contactCenter');
    const r = await this.contactCenter.check();
    const checkedAt = new Date(r.checkedAt).toISOString();
    return r.up ? check.up({ checkedAt }) : check.down({ message: r.reason, checkedAt });
  }

  private rulesLoaded(): HealthIndicatorResult {
    const check = this.indicator.check('rules');
    return this.rules.current() ? check.up() : check.down({ message: 'no valid rules loaded' });
  }

  /** Not ready while starting, draining and stopping: traffic should go to another replica. */
  private intakeOpen(): HealthIndicatorResult {
    const check = this.indicator.check('intake');
    const state = this.gate.state;
    if (this.gate.isReady) return check.up({ state });
    const message = state === 'draining' ? 'the daemon is stopping: still taking changes routed here, send new ones elsewhere' : `the daemon is ${state === 'closed' ? 'stopping' : 'starting'}`;
    return check.down({ state, message });
  }

  private eventLoopOnTime(): HealthIndicatorResult {
    const check = this.indicator.check('eventLoop');
    const lagMs = Math.round(this.eventLoop.lagMs());
    return lagMs <= EVENT_LOOP_LAG_LIMIT_MS ? check.up({ lagMs }) : check.down({ lagMs, message: `the event loop runs ${lagMs} ms late (limit ${EVENT_LOOP_LAG_LIMIT_MS} ms)` });
  }

  private workersRunning(): HealthIndicatorResult {
    const check = this.indicator.check('workers');
    const stopped = this.lifecycle.stoppedWorkers();
    return stopped.length === 0 ? check.up() : check.down({ stopped, message: `workers not taking jobs: ${stopped.join(', ')}` });
  }
}
