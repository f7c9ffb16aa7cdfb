import { timingSafeEqual, createHash } from 'node:crypto';
import { getQueueToken } from '@nestjs/bullmq';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import type { NextFunction, Request, Response } from 'express';
import { QUEUES } from '@presence-sync/redis';

/** Where the queue dashboard is served. */
export const ADMIN_QUEUES_PATH = 'admin/queues';

/** Compares digests, so neither the length nor the content of the expected value leaks through timing. */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * HTTP basic auth in front of the dashboard: 401 with `WWW-Authenticate: Basic` (the browser asks for the
 * credentials) unless the request carries ADMIN_USER / ADMIN_PASSWORD.
 */
export function basicAuth(user: string, password: string): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res, next) => {
    const header = req.header('authorization') ?? '';
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (match) {
      const decoded = Buffer.from(match[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      // Both compared every time: which of the two was wrong is not revealed by timing either.
      const userOk = colon >= 0 && sameSecret(decoded.slice(0, colon), user);
      const passwordOk = colon >= 0 && sameSecret(decoded.slice(colon + 1), password);
      if (userOk && passwordOk) return next();
    }
    res.status(401).setHeader('WWW-Authenticate', 'Basic realm="presence-sync admin", charset="UTF-8"');
    res.json({ error: 'unauthorized', reason: 'the queue dashboard needs the admin credentials' });
  };
}

/**
 * Mounts bull-board (the queue dashboard) at /admin/queues behind basic auth, on the Express app before Nest
 * registers its routes. Nothing is mounted when ADMIN_DASHBOARD=off (the boot refuses `on` without credentials).
 */
export function mountQueueDashboard(app: NestExpressApplication, user: string, password: string): void {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(`/${ADMIN_QUEUES_PATH}`);
  createBullBoard({
    queues: Object.values(QUEUES).map((name) => new BullMQAdapter(app.get<Queue>(getQueueToken(name)), { readOnlyMode: false })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'presence-sync queues' } },
  });
  app.use(`/${ADMIN_QUEUES_PATH}`, basicAuth(user, password), serverAdapter.getRouter());
}
