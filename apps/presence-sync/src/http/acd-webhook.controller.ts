import { Controller, HttpCode, Inject, Logger, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import type Redis from 'ioredis';
import type { AppConfig } from '@presence-sync/config';
import { declaredBodyTooLarge, readWebhookBody, WEBHOOK_BODY_TIMEOUT_MS, WebhookBodyBudget, type WebhookBodyRefusal } from '@presence-sync/contact-center';
import { ContactCenterPort, InboundSink, type AcdChange, type AcdWebhookIntake } from '@presence-sync/domain';
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
 * The paths a connector's webhook may use, as Express matches them (case-insensitive, optional trailing slash):
 * `/v1/acd/events` (contract v1) and `/v1/acd/<connector>/events`. No body parser may touch them.
 */
export const ACD_WEBHOOK_PATH = /^\/v1\/acd\/(?:[a-z-]+\/)?events\/?$/i;

/** The path as the connector names it: lower case, no trailing slash. */
function normalisedPath(path: string): string {
  return path.toLowerCase().replace(/\/+$/, '');
}

/** A header value a stranger chose, cut short enough for a log line or an answer. */
function clip(value: string, max = 40): string {
  return value.length > max ? `${value.slice(0, max)}… (${value.length} characters)` : value;
}

/**
 * Contract v1 bodies are sent as is. Inflating a coded body before the signature check let anyone make the
 * daemon decompress, and left open whether the signature covered the coded or the decoded bytes; refusing it
 * makes the bytes on the wire the one signature input.
 */
function unsupportedEncoding(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const codings = header.split(',').map((c) => c.trim().toLowerCase()).filter((c) => c !== '');
  return codings.every((c) => c === 'identity') ? undefined : header.trim();
}

/**
 * Events in, for a connector whose contact center calls the daemon (`ContactCenterPort.webhook`). The transport
 * is the same for every connector; the connector judges headers and bytes. What can be judged from the headers
 * comes first and costs no memory: the declared size (413), the signature headers and the timestamp (401), the
 * content coding (415) and the shared budget of bodies in flight (503). Then the body is read under a size cap
 * and a deadline, its signature is checked (401, nothing recorded), the whole batch is validated (400 with
 * every problem, nothing queued), and it is queued durably; 202 (or the connector's own answer) only after that.
 */
@Controller('v1/acd')
export class AcdWebhookController {
  private readonly logger = new Logger(AcdWebhookController.name);
  /** Anyone can send a bad request, and a sender retries through an outage: one line per kind and interval. */
  private readonly rejections = new RepeatLimitedLog(this.logger);
  /** Shared by every request this process receives (the controller is a singleton). */
  private readonly bodies: WebhookBodyBudget;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly sink: InboundSink,
    private readonly gate: IntakeGate,
    private readonly metrics: MetricsService,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly contactCenter: ContactCenterPort,
  ) {
    this.bodies = new WebhookBodyBudget(config.acd.webhookInflightMaxBytes);
  }

  @Post('events')
  @HttpCode(202)
  receive(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<unknown> {
    return this.handle(req, res);
  }

  @Post(':connector/events')
  @HttpCode(202)
  receiveForConnector(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<unknown> {
    return this.handle(req, res);
  }

  private async handle(req: Request, res: Response): Promise<unknown> {
    const intake = this.contactCenter.webhook;
    if (!intake || normalisedPath(req.path) !== normalisedPath(intake.path)) {
      res.status(404);
      const served = intake ? `this daemon's ${this.contactCenter.name} connector takes its events at ${intake.path}` : `the ${this.contactCenter.name} connector takes no webhook`;
      return { error: 'not-found', reason: served };
    }
    if (!this.gate.isOpen) {
      res.status(503).setHeader('Retry-After', '5');
      return { error: 'unavailable', reason: 'the daemon is starting or shutting down; send again' };
    }
    const tooLarge = declaredBodyTooLarge(req.headers, intake.maxBodyBytes);
    if (tooLarge) return this.bodyRefused(req, res, { status: 413, reason: tooLarge });
    const headers = intake.checkHeaders(req.headers, Date.now());
    if (!headers.ok) return this.refused(req, res, headers.status, headers.reason);
    const encoding = unsupportedEncoding(req.header('content-encoding'));
    if (encoding !== undefined) {
      const reason = `Content-Encoding ${clip(encoding)} is not supported: send the body as is (identity); the signature covers the bytes sent`;
      this.rejections.warn('415', { msg: 'webhook rejected', status: 415, reason, ip: req.ip });
      res.status(415).setHeader('Accept-Encoding', 'identity');
      return { error: 'unsupported-encoding', reason };
    }

    const read = await readWebhookBody(req, { maxBytes: intake.maxBodyBytes, timeoutMs: WEBHOOK_BODY_TIMEOUT_MS, budget: this.bodies });
    try {
      if (!read.ok) return this.bodyRefused(req, res, read);
      const parsed = intake.parse(read.body, req.headers, Date.now());
      if (!parsed.ok) {
        if (parsed.status !== 400) return this.refused(req, res, parsed.status, parsed.reason);
        this.rejections.warn('400', { msg: 'webhook rejected', status: 400, errors: parsed.errors?.length ?? 0, reason: parsed.reason });
        res.status(400);
        return { error: 'invalid-batch', reason: parsed.reason, ...(parsed.errors ? { errors: parsed.errors } : {}) };
      }
      return await this.enqueue(res, intake, parsed.changes);
    } finally {
      // Counted until the answer: the body stays referenced while its events are parsed and queued.
      read.release();
    }
  }

  private refused(req: Request, res: Response, status: number, reason: string): unknown {
    if (status === 401) return this.unauthorized(req, res, reason);
    this.rejections.warn(`${status}:${reason.replace(/\d+/g, 'N')}`, { msg: 'webhook rejected', status, reason, ip: req.ip });
    res.status(status);
    if (status === 503) res.setHeader('Retry-After', '5');
    return { error: 'rejected', reason };
  }

  private unauthorized(req: Request, res: Response, reason: string): unknown {
    this.rejections.warn(`401:${reason.replace(/\d+/g, 'N')}`, { msg: 'webhook rejected', status: 401, reason, ip: req.ip });
    res.status(401);
    return { error: 'unauthorized', reason };
  }

  private bodyRefused(req: Request, res: Response, read: WebhookBodyRefusal): unknown {
    if (read.status === 'aborted') return undefined; // nobody is left to answer
    const kind = read.status === 413 ? 'too-large' : read.status === 408 ? 'timeout' : 'unavailable';
    this.rejections.warn(`${read.status}`, { msg: 'webhook rejected before its signature was checked', status: read.status, reason: read.reason, ip: req.ip });
    res.status(read.status);
    if (read.status === 503) res.setHeader('Retry-After', '5');
    // A client too slow to send its body is not kept on a connection it may never finish.
    if (read.status === 408) res.setHeader('Connection', 'close');
    return { error: kind, reason: read.reason };
  }

  private async enqueue(res: Response, intake: AcdWebhookIntake, changes: AcdChange[]): Promise<unknown> {
    // While Redis is away an enqueue would wait for it: the contact center is told at once to send again.
    if (this.redis.status !== 'ready') return this.unavailable(res, 'Redis is unreachable', changes.length);
    let result: Awaited<ReturnType<InboundSink['accept']>>;
    try {
      result = await withDeadline(this.sink.accept(changes), INTAKE_DEADLINE_MS);
    } catch (e) {
      if (e instanceof DeadlineExceeded) return this.unavailable(res, `the events could not be queued within ${INTAKE_DEADLINE_MS} ms`, changes.length);
      throw e;
    }
    this.gate.lastEvent.acd = Date.now();
    this.metrics.eventsQueued('acd', result.accepted);
    const answer = intake.answer?.(result.accepted, result.duplicates);
    if (!answer) return result;
    res.status(answer.status);
    return answer.body;
  }

  private unavailable(res: Response, reason: string, events: number): unknown {
    this.rejections.warn(`503:${reason}`, { msg: 'webhook answered 503: the contact center sends it again', reason, events });
    res.status(503).setHeader('Retry-After', '5');
    return { error: 'unavailable', reason: `${reason}; nothing is lost: send the same events again` };
  }
}
