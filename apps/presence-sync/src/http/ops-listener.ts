import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { AppConfig } from '@presence-sync/config';
import { settledWithin } from '../deadline';
import { APP_CONFIG } from '../tokens';
import { ACD_WEBHOOK_PATH } from './acd-webhook.receiver';

/**
 * Liveness and readiness, served on the webhook port too: a load balancer in front of the webhook needs
 * readiness to route it, and an orchestrator probes the port the traffic uses.
 */
export const PROBE_PATHS: readonly string[] = ['/health', '/ready'];

/** What the webhook port still serves when the operator endpoints have their own listener. */
function isPublic(req: Request): boolean {
  // The webhook: the one endpoint the contact center needs, at its connector's path.
  if (ACD_WEBHOOK_PATH.test(req.path)) return req.method === 'POST';
  return PROBE_PATHS.includes(req.path) && (req.method === 'GET' || req.method === 'HEAD');
}

/**
 * The optional second listener (OPS_HOST / OPS_PORT) for the operator's endpoints: queue dashboard, metrics,
 * status and audit. Both listeners feed the same application; a guard in front of every route decides by the
 * listener a request came in on. With the ops listener on, the webhook port answers only the webhook, /health
 * and /ready (anything else is 404, before any body is read), and the ops listener does not take the webhook.
 */
@Injectable()
export class OpsListener implements OnApplicationShutdown {
  private readonly logger = new Logger(OpsListener.name);
  private readonly opsSockets = new WeakSet<Socket>();
  private server?: Server;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  get enabled(): boolean {
    return this.config.ops !== undefined;
  }

  /** Express middleware, mounted before everything else. */
  guard(): (req: Request, res: Response, next: NextFunction) => void {
    return (req, res, next) => {
      if (!this.enabled) return next();
      const onOps = this.opsSockets.has(req.socket);
      if (onOps ? !ACD_WEBHOOK_PATH.test(req.path) : isPublic(req)) return next();
      res.status(404).json({ error: 'not-found', reason: onOps ? 'the webhook is served on the HTTP port' : 'not served on this port' });
    };
  }

  /** Starts the ops listener on the same request handler as the main one; resolves its address (undefined when off). */
  async listen(handler: RequestListener): Promise<AddressInfo | undefined> {
    const ops = this.config.ops;
    if (!ops || this.server) return this.address();
    const server = createServer(handler);
    server.on('connection', (socket) => this.opsSockets.add(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(ops.port, ops.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    return this.address();
  }

  address(): AddressInfo | undefined {
    const address = this.server?.address();
    return typeof address === 'object' && address ? address : undefined;
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    // A dashboard tab polling with keep-alive must not hold the stop up.
    if (!(await settledWithin(closed, 1000))) {
      this.logger.warn({ msg: 'ops listener connections still open at shutdown; closing them' });
      server.closeAllConnections();
    }
  }
}
