import { Controller, Get, Inject, Res } from '@nestjs/common';
import { getQueueToken } from '@nestjs/bullmq';
import { HealthCheck, HealthCheckService, HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { Queue } from 'bullmq';
import type { Response } from 'express';
import type Redis from 'ioredis';
import { QUEUES } from '@presence-sync/redis';
import { IntakeGate } from '../services/intake-gate.service';
import { MetricsService } from '../services/metrics.service';
import { RulesService } from '../services/rules.service';
import { StreamLeader } from '../services/stream-leader.service';
import { REDIS } from '../tokens';
import { withDeadline } from '../deadline';
import { ContactCenterProbe } from './contact-center.probe';

/**
 * Liveness (/health), readiness (/ready: 503 listing the failing checks under `error`) and Prometheus
 * metrics (/metrics), for load balancers, orchestrators and scrapers.
 */
@Controller()
export class HealthController {
  private readonly queues: Queue[];

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly rules: RulesService,
    private readonly gate: IntakeGate,
    private readonly contactCenter: ContactCenterProbe,
    private readonly metrics: MetricsService,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly streamLeader: StreamLeader,
    @Inject(getQueueToken(QUEUES.inbound)) inbound: Queue,
    @Inject(getQueueToken(QUEUES.syncAcd)) syncAcd: Queue,
    @Inject(getQueueToken(QUEUES.syncSalesforce)) syncSalesforce: Queue,
  ) {
    this.queues = [inbound, syncAcd, syncSalesforce];
  }

  /** Liveness: the process answers HTTP. Nothing external is checked, so a Redis outage never restarts it. */
  @Get('health')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.redisUp(),
      () => this.salesforceStreamUp(),
      () => this.contactCenterUp(),
      () => this.rulesLoaded(),
      () => this.intakeOpen(),
    ]);
  }

  @Get('metrics')
  async prometheus(@Res({ passthrough: true }) res: Response): Promise<string> {
    res.setHeader('Content-Type', this.metrics.registry.contentType);
    return this.metrics.render(await Promise.all(this.queues.map((q) => q.exportPrometheusMetrics())));
  }

  private async redisUp(): Promise<HealthIndicatorResult> {
    const check = this.indicator.check('redis');
    // Commands wait for a reconnect instead of failing: a probe must not hang with them.
    if (this.redis.status !== 'ready') return check.down({ message: `Redis connection is ${this.redis.status}` });
    return withDeadline(this.redis.ping(), 1000, 'no answer to PING within 1000 ms')
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

  /** Closed while starting and shutting down: traffic should go to another replica. */
  private intakeOpen(): HealthIndicatorResult {
    const check = this.indicator.check('intake');
    return this.gate.isOpen ? check.up() : check.down({ message: 'the daemon is starting or shutting down' });
  }
}
