import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Inject, Injectable, Logger } from '@nestjs/common';
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
 * The paths a connector's webhook may use, matched case-insensitively with an optional trailing slash:
 * `/v1/acd/events` (contract v1) and `/v1/acd/<connector>/events`. No body parser may touch them.
 */
export const ACD_WEBHOOK_PATH = /^\/v1\/acd\/(?:[a-z-]+\/)?events\/?$/i;

/** The path of a request target (no query), also of an absolute-form target (`http://host/path`). */
export function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  if (!raw.startsWith('/')) {
    try {
      return new URL(raw).pathname;
    } catch {
      return raw;
    }
  }
  const q = raw.indexOf('?');
  return q === -1 ? raw : raw.slice(0, q);
}

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

/** What the webhook answers: a status, headers, and a JSON body (none when nobody is left to answer). */
export interface WebhookAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/**
 * Events in, for a connector whose contact center calls the daemon (`ContactCenterPort.webhook`). The transport
 * is the same for every connector; the connector judges headers and bytes. What can be judged from the headers
 * comes first and costs no memory: the declared size (413), the signature headers and the timestamp (401), the
 * content coding (415) and the shared budget of bodies in flight (503). Then the body is read under a size cap
 * and a deadline, its signature is checked (401, nothing recorded), the whole batch is validated (400 with
 * every problem, nothing queued), and it is queued durably; 202 (or the connector's own answer) only after that.
 *
 * It works on Node's own request: the webhook port hands it every POST to a webhook path before the application's
 * router sees the request (`serveWebhookFirst`), since one request per contact-center change is the daemon's hot
 * path. The application has no webhook route; the ops listener refuses the webhook in its guard.
 */
@Injectable()
export class AcdWebhookReceiver {
  private readonly logger = new Logger(AcdWebhookReceiver.name);
  /** Anyone can send a bad request, and a sender retries through an outage: one line per kind and interval. */
  private readonly rejections = new RepeatLimitedLog(this.logger);
  /** Shared by every request this process receives (one receiver per daemon). */
  private readonly bodies: WebhookBodyBudget;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly sink: InboundSink,
    private readonly gate: IntakeGate,
    private readonly metrics: MetricsService,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly contactCenter: ContactCenterPort,
  ) {
    this.bodies = new WebhookBodyBudget(config.acd.webhookInflightMaxBytes);
  }

  /**
   * Answers one webhook request (`undefined`: the sender went away before its body was read).
   * @param path the request's path, as the caller read it from `req.url`
   */
  async receive(req: IncomingMessage, path = pathOf(req.url)): Promise<WebhookAnswer | undefined> {
    const intake = this.contactCenter.webhook;
    const ip = req.socket.remoteAddress;
    if (!intake || normalisedPath(path) !== normalisedPath(intake.path)) {
      const served = intake ? `this daemon's ${this.contactCenter.name} connector takes its events at ${intake.path}` : `the ${this.contactCenter.name} connector takes no webhook`;
      return { status: 404, body: { error: 'not-found', reason: served } };
    }
    if (!this.gate.isOpen) return { status: 503, headers: { 'Retry-After': '5' }, body: { error: 'unavailable', reason: 'the daemon is starting or shutting down; send again' } };
    const tooLarge = declaredBodyTooLarge(req.headers, intake.maxBodyBytes);
    if (tooLarge) return this.bodyRefused(ip, { status: 413, reason: tooLarge });
    const headers = intake.checkHeaders(req.headers, Date.now());
    if (!headers.ok) return this.refused(ip, headers.status, headers.reason);
    const encoding = unsupportedEncoding(req.headers['content-encoding']);
    if (encoding !== undefined) {
      const reason = `Content-Encoding ${clip(encoding)} is not supported: send the body as is (identity); the signature covers the bytes sent`;
      this.rejections.warn('415', { msg: 'webhook rejected', status: 415, reason, ip });
      return { status: 415, headers: { 'Accept-Encoding': 'identity' }, body: { error: 'unsupported-encoding', reason } };
    }

    const read = await readWebhookBody(req, { maxBytes: intake.maxBodyBytes, timeoutMs: WEBHOOK_BODY_TIMEOUT_MS, budget: this.bodies });
    try {
      if (!read.ok) return this.bodyRefused(ip, read);
      const parsed = intake.parse(read.body, req.headers, Date.now());
      if (!parsed.ok) {
        if (parsed.status !== 400) return this.refused(ip, parsed.status, parsed.reason);
        this.rejections.warn('400', { msg: 'webhook rejected', status: 400, errors: parsed.errors?.length ?? 0, reason: parsed.reason });
        return { status: 400, body: { error: 'invalid-batch', reason: parsed.reason, ...(parsed.errors ? { errors: parsed.errors } : {}) } };
      }
      return await this.enqueue(intake, parsed.changes);
    } finally {
      // Counted until the answer: the body stays referenced while its events are parsed and queued.
      read.release();
    }
  }

  private refused(ip: string | undefined, status: number, reason: string): WebhookAnswer {
    const kind = status === 401 ? 'unauthorized' : 'rejected';
    this.rejections.warn(`${status}:${reason.replace(/\d+/g, 'N')}`, { msg: 'webhook rejected', status, reason, ip });
    return { status, ...(status === 503 ? { headers: { 'Retry-After': '5' } } : {}), body: { error: kind, reason } };
  }

  private bodyRefused(ip: string | undefined, read: WebhookBodyRefusal): WebhookAnswer | undefined {
    if (read.status === 'aborted') return undefined; // nobody is left to answer
    const kind = read.status === 413 ? 'too-large' : read.status === 408 ? 'timeout' : 'unavailable';
    this.rejections.warn(`${read.status}`, { msg: 'webhook rejected before its signature was checked', status: read.status, reason: read.reason, ip });
    const headers: Record<string, string> = {};
    if (read.status === 503) headers['Retry-After'] = '5';
    // A client too slow to send its body is not kept on a connection it may never finish.
    if (read.status === 408) headers.Connection = 'close';
    return { status: read.status, headers, body: { error: kind, reason: read.reason } };
  }

  private async enqueue(intake: AcdWebhookIntake, changes: AcdChange[]): Promise<WebhookAnswer> {
    // While Redis is away an enqueue would wait for it: the contact center is told at once to send again.
    if (this.redis.status !== 'ready') return this.unavailable('Redis is unreachable', changes.length);
    let result: Awaited<ReturnType<InboundSink['accept']>>;
    try {
      result = await withDeadline(this.sink.accept(changes), INTAKE_DEADLINE_MS);
    } catch (e) {
      if (e instanceof DeadlineExceeded) return this.unavailable(`the events could not be queued within ${INTAKE_DEADLINE_MS} ms`, changes.length);
      throw e;
    }
    this.gate.lastEvent.acd = Date.now();
    this.metrics.eventsQueued('acd', result.accepted);
    const answer = intake.answer?.(result.accepted, result.duplicates);
    return answer ? { status: answer.status, body: answer.body } : { status: 202, body: result };
  }

  private unavailable(reason: string, events: number): WebhookAnswer {
    this.rejections.warn(`503:${reason}`, { msg: 'webhook answered 503: the contact center sends it again', reason, events });
    return { status: 503, headers: { 'Retry-After': '5' }, body: { error: 'unavailable', reason: `${reason}; nothing is lost: send the same events again` } };
  }
}

/** Writes an answer on Node's own response, as JSON. */
export function sendAnswer(res: ServerResponse, answer: WebhookAnswer | undefined): void {
  if (!answer) {
    if (!res.headersSent) res.destroy();
    return;
  }
  const body = answer.body === undefined ? '' : JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    ...answer.headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
  });
  res.end(body);
}

/**
 * Serves the webhook on `server` before the application sees the request: a POST to a webhook path goes straight
 * to the receiver; everything else (and the webhook on any other listener) goes through the application as before.
 * An unexpected failure answers 500 with one logged line, as the router would.
 */
export function serveWebhookFirst(server: Server, receiver: AcdWebhookReceiver): void {
  const logger = new Logger(AcdWebhookReceiver.name);
  const app = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = req.method === 'POST' ? pathOf(req.url) : '';
    if (!ACD_WEBHOOK_PATH.test(path)) {
      for (const listener of app) listener(req, res);
      return;
    }
    receiver.receive(req, path).then((answer) => sendAnswer(res, answer), (e: unknown) => {
      logger.error({ msg: 'webhook request failed', error: e instanceof Error ? e.message : String(e) });
      sendAnswer(res, { status: 500, body: { error: 'internal', reason: 'the events were not queued; send them again' } });
    });
  });
}
