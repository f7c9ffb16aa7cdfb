import { Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { json, type NextFunction, type Request, type Response } from 'express';
import { Logger } from 'nestjs-pino';
import type { AppConfig } from '@presence-sync/config';
import { checkRedis } from '@presence-sync/redis';
import { DaemonModule, type DaemonOverrides } from './daemon.module';
import { settledWithin } from './deadline';
import { ACD_WEBHOOK_PATH, AcdWebhookReceiver, serveWebhookFirst } from './http/acd-webhook.receiver';
import { mountQueueDashboard } from './http/admin-dashboard';
import { OpsListener } from './http/ops-listener';
import { RepeatLimitedLog } from './logging/repeat-limited.log';

/** An error a request caused (a body too large, an unknown encoding, bad JSON): the sender's problem, not ours. */
function clientErrorStatus(error: unknown): number | undefined {
  const status = (error as { status?: unknown; statusCode?: unknown } | undefined)?.status ?? (error as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

/**
 * Answers requests the body parsers refused (413, 415, 400 for bad gzip or JSON) before they reach a route.
 * Left to Nest they were logged as errors with a stack; anyone can send them, so they are one warning line per
 * kind and interval, without a stack.
 */
function refusedRequests(): (error: unknown, req: Request, res: Response, next: NextFunction) => void {
  const log = new RepeatLimitedLog(new NestLogger('HttpIntake'));
  return (error, req, res, next) => {
    const status = clientErrorStatus(error);
    if (status === undefined) return next(error);
    const type = (error as { type?: unknown }).type;
    const reason = typeof type === 'string' ? type : (error instanceof Error ? error.message : 'bad request');
    log.warn(`${status}:${reason}`, { msg: 'request refused before it reached a handler', status, reason, path: req.path, ip: req.ip });
    res.status(status).json({ error: 'bad-request', reason: error instanceof Error ? error.message : reason });
  };
}

/** Builds and boots the daemon (not yet listening). Boot problems reject with a readable message. */
export async function createDaemon(config: AppConfig, overrides: DaemonOverrides = {}): Promise<NestExpressApplication> {
  // Settings problems first (forRoot refuses them and connects nothing); then, before any queue connects (BullMQ
  // would print warnings of its own), a Redis the daemon cannot use (its kind, version, eviction policy, or a
  // command refused to its user) stops the boot with one line.
  const daemon = DaemonModule.forRoot(config, overrides);
  await checkRedis(config.redis);
  const app = await NestFactory.create<NestExpressApplication>(daemon, {
    // Boot lines wait for pino; a failed boot prints nothing of Nest's own (no coloured lines, no stack): the
    // caller reports its one line.
    bodyParser: false, bufferLogs: true, autoFlushLogs: false, abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  app.flushLogs();
  // The webhook (one request per contact-center change) is answered before the router: about a tenth of the
  // daemon's CPU per change went to routing it and serialising its answer through the application.
  serveWebhookFirst(app.getHttpServer(), app.get(AcdWebhookReceiver));
  // First: with a separate ops listener, the webhook port refuses everything else before any body is read.
  app.use(app.get(OpsListener).guard());
  // The webhook reads its own body, bounded and only after its header checks (AcdWebhookReceiver); no
  // parser may read or inflate it first. Everything else takes JSON.
  const jsonBody = json({ limit: '1mb' });
  app.use((req: Request, res: Response, next: NextFunction) => (ACD_WEBHOOK_PATH.test(req.path) ? next() : jsonBody(req, res, next)));
  app.use(refusedRequests());
  const { dashboard, user, password, readOnly } = config.admin;
  if (dashboard && user && password) mountQueueDashboard(app, { user, password, readOnly });
  app.disable('x-powered-by');
  try {
    await app.init();
  } catch (e) {
    // Bounded: with Redis away the queues' close would wait for a reconnect.
    await settledWithin(app.close(), config.shutdownTimeoutMs);
    throw e;
  }
  return app;
}

/** Boots and listens on the configured host and port, and on the ops listener when one is configured. */
export async function startDaemon(config: AppConfig, overrides: DaemonOverrides = {}): Promise<NestExpressApplication> {
  const app = await createDaemon(config, overrides);
  await app.listen(config.http.port, config.http.host);
  try {
    await app.get(OpsListener).listen(app.getHttpAdapter().getInstance());
  } catch (e) {
    await settledWithin(app.close(), config.shutdownTimeoutMs);
    throw new Error(`cannot listen on OPS_HOST/OPS_PORT ${config.ops?.host}:${config.ops?.port}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return app;
}
