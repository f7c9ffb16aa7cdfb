import { Controller, HttpCode, Inject, Logger, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { AppConfig } from '@presence-sync/config';
import { GENERIC_SIGNATURE_HEADER, GENERIC_TIMESTAMP_HEADER, parseGenericEvents, verifyGenericSignature } from '@presence-sync/contact-center';
import { InboundSink } from '@presence-sync/domain';
import { IntakeGate } from '../services/intake-gate.service';
import { MetricsService } from '../services/metrics.service';
import { APP_CONFIG } from '../tokens';

/**
 * Generic connector v1, events in. Signature and timestamp first (401, nothing recorded), then the whole
 * batch is validated (400 with every problem, nothing queued), then queued durably; 202 only after that.
 */
@Controller('v1/acd')
export class AcdWebhookController {
  private readonly logger = new Logger(AcdWebhookController.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly sink: InboundSink,
    private readonly gate: IntakeGate,
    private readonly metrics: MetricsService,
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
      this.logger.warn({ msg: 'webhook rejected', status: 401, reason: check.reason, ip: req.ip });
      res.status(401);
      return { error: 'unauthorized', reason: check.reason };
    }
    const parsed = parseGenericEvents(raw, Date.now());
    if (!parsed.ok) {
      this.logger.warn({ msg: 'webhook rejected', status: 400, errors: parsed.errors.length });
      res.status(400);
      return { error: 'invalid-batch', reason: 'the batch was rejected as a whole; nothing was queued', errors: parsed.errors };
    }
    const result = await this.sink.accept(parsed.changes);
    this.gate.lastEvent.acd = Date.now();
    this.metrics.eventsQueued('acd', result.accepted);
    return result;
  }
}
