import { timingSafeEqual, createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { NextFunction, Request, Response } from 'express';
import { PartitionQueues } from '@presence-sync/redis';
import { RepeatLimitedLog } from '../logging/repeat-limited.log';
import { LoginThrottle } from './login-throttle';

/** Where the queue dashboard is served. */
export const ADMIN_QUEUES_PATH = 'admin/queues';

/** Compares digests, so neither the length nor the content of the expected value leaks through timing. */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export interface DashboardAccess {
  user: string;
  password: string;
  /** Refuse every change (405): the dashboard only shows queues and jobs. */
  readOnly: boolean;
  throttle?: LoginThrottle;
  /** Where failed and throttled logins are reported (default: a `QueueDashboard` logger, repeats summarised). */
  log?: RepeatLimitedLog;
}

/** The address a login came from (the load balancer's, unless it is the client itself: trust proxy is off). */
const clientOf = (req: Request) => req.ip ?? req.socket.remoteAddress ?? 'unknown';

/**
 * HTTP basic auth in front of the dashboard: 401 with `WWW-Authenticate: Basic` (the browser asks for the
 * credentials) unless the request carries ADMIN_USER / ADMIN_PASSWORD. A request without credentials is the
 * browser asking, not a guess; a wrong pair is a failed login: logged (never what was typed as the password) and
 * counted per client, which is refused with 429 after too many, before its credentials are even compared.
 */
export function basicAuth(access: DashboardAccess): (req: Request, res: Response, next: NextFunction) => void {
  const throttle = access.throttle ?? new LoginThrottle();
  const log = access.log ?? new RepeatLimitedLog(new Logger('QueueDashboard'));
  return (req, res, next) => {
    const client = clientOf(req);
    const waitMs = throttle.retryAfterMs(client);
    if (waitMs > 0) {
      const retryAfterSec = Math.ceil(waitMs / 1000);
      log.warn(`throttled:${client}`, { msg: 'queue dashboard login throttled: too many failed logins', ip: client, retryAfterSec });
      res.status(429).setHeader('Retry-After', String(retryAfterSec));
      res.json({ error: 'too-many-requests', reason: `too many failed logins from this address; try again in ${retryAfterSec} s` });
      return;
    }
    const header = req.header('authorization') ?? '';
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (match) {
      const decoded = Buffer.from(match[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      // Both compared every time: which of the two was wrong is not revealed by timing either.
      const userOk = colon >= 0 && sameSecret(decoded.slice(0, colon), access.user);
      const passwordOk = colon >= 0 && sameSecret(decoded.slice(colon + 1), access.password);
      if (userOk && passwordOk) {
        throttle.succeeded(client);
        return next();
      }
      const failures = throttle.failed(client);
      // The user name is not logged either: people type passwords into the wrong field.
      log.warn(`failed:${client}`, { msg: 'queue dashboard login failed', ip: client, userMatches: userOk, failures, maxFailures: throttle.options.maxFailures });
    }
    res.status(401).setHeader('WWW-Authenticate', 'Basic realm="presence-sync admin", charset="UTF-8"');
    res.json({ error: 'unauthorized', reason: 'the queue dashboard needs the admin credentials' });
  };
}

/** Read-only mode: only reads pass. bull-board refuses changes per queue too; this also covers its board-wide actions. */
export function readOnlyGuard(): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    res.status(405).setHeader('Allow', 'GET, HEAD');
    res.json({ error: 'read-only', reason: 'the queue dashboard is read-only (ADMIN_DASHBOARD_READ_ONLY=true): jobs and queues cannot be changed here' });
  };
}

/**
 * Mounts bull-board (the queue dashboard) at /admin/queues behind basic auth, on the Express app before Nest
 * registers its routes. Nothing is mounted when ADMIN_DASHBOARD=off (the boot refuses `on` without credentials).
 */
export function mountQueueDashboard(app: NestExpressApplication, access: DashboardAccess): void {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(`/${ADMIN_QUEUES_PATH}`);
  const queues = app.get(PartitionQueues);
  createBullBoard({
    // Each partition's queues, named `p<n>-<queue>` (the same two names repeat in every partition).
    queues: queues.all().map((q) => new BullMQAdapter(q, { readOnlyMode: access.readOnly, prefix: `p${queues.partitionOfQueue(q)}-` })),
    serverAdapter,
    options: { uiConfig: { boardTitle: access.readOnly ? 'presence-sync queues (read-only)' : 'presence-sync queues' } },
  });
  const guards = access.readOnly ? [basicAuth(access), readOnlyGuard()] : [basicAuth(access)];
  app.use(`/${ADMIN_QUEUES_PATH}`, ...guards, serverAdapter.getRouter());
}
