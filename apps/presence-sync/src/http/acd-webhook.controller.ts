import { Controller, HttpCode, Inject, Logger, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import type Redis from 'ioredis';
import type { AppConfig } from '@presence-sync/config';
import { GENERIC_SIGNATURE_HEADER, GENERIC_TIMESTAMP_HEADER, parseGenericEvents, verifyGenericSignature } from '@presence-sync/contact-center';
import { InboundSink } from '@presence-sync/domain';
import { IntakeGate } from '../services/intake-gate.service';
import { MetricsService } from '../services/metrics.service';
import { DeadlineExceeded, withDeadline } from '../deadline';
import { RepeatLimitedLog } from '../logging/repeat-limited.log';
import { APP_CONFIG, REDIS } from '../tokens';

/**
 * How long the durable enqueue may take before the sender is told to try again. An enqueue that completes
 * after the 503 makes the re-sent events duplicates, which are answered as such: nothing is lost or doubled.
 */
const INTAKE_DEADLINE_MS = 5000;

/**
 * Generic connector v1, events in. Signature and timestamp first (401, nothing recorded), then the whole
 * batch is validated (400 with every problem, nothing queued), then queued durably; 202 only after that.
 */
@Controller('v1/acd')
export class AcdWebhookController {
  private readonly logger = new Logger(AcdWebhookController.name);
  /** Anyone can send a bad request, and a sender retries through an outage: one line per kind and interval. */
  private readonly rejections = new RepeatLimitedLog(this.logger);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly sink: InboundSink,
    private readonly gate: IntakeGate,
    private readonly metrics: MetricsService,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  @Post('events')
  @HttpCode(202)
  async receive(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<unknown> {
    if (!this.gate.isOpen) {
      res.status(503).setHeader('Retry-After', '5');
      return { error: 'unavailable', reason: 'the daemon is starting or shutting down; send again' };
    }
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const check = verifyGenericSignature({
      timestamp: req.header(GENERIC_TIMESTAMP_HEADER), signature: req.header(GENERIC_SIGNATURE_HEADER), rawBody: raw,
      secret: this.config.acd.webhookSecret, nowMs: Date.now(), toleranceSec: this.config.acd.webhookToleranceSec,
    });
    if (!check.ok) {
      this.rejections.warn(`401:${check.reason.replace(/\d+/g, 'N')}`, { msg: 'webhook rejected', status: 401, reason: check.reason, ip: req.ip });
      res.status(401);
      return { error: 'unauthorized', reason: check.reason };
    }
    const parsed = parseGenericEvents(raw, Date.now());
    if (!parsed.ok) {
      this.rejections.warn('400', { msg: 'webhook rejected', status: 400, errors: parsed.errors.length });
      res.status(400);
      return { error: 'invalid-batch', reason: 'the batch was rejected as a whole; nothing was queued', errors: parsed.errors };
    }
    // While Redis is away an enqueue would wait for it: the contact center is told at once to send again.
    if (this.redis.status !== 'ready') return this.unavailable(res, 'Redis is unreachable', parsed.changes.length);
    let result: Awaited<ReturnType<InboundSink['accept']>>;
    try {
      result = await withDeadline(this.sink.accept(parsed.changes), INTAKE_DEADLINE_MS);
    } catch (e) {
      if (e instanceof DeadlineExceeded) return this.unavailable(res, `the events could not be queued within ${INTAKE_DEADLINE_MS} ms`, parsed.changes.length);
      throw e;
    }
    this.gate.lastEvent.acd = Date.now();
    this.metrics.eventsQueued('acd', result.accepted);
    return result;
  }

  private unavailable(res: Response, reason: string, events: number): unknown {
    this.rejections.warn(`503:${reason}`, { msg: 'webhook answered 503: the contact center sends it again', reason, events });
    res.status(503).setHeader('Retry-After', '5');
    return { error: 'unavailable', reason: `${reason}; nothing is lost: send the same events again` };
  }
}
