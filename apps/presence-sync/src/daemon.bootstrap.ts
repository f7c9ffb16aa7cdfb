import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { json, raw } from 'express';
import { Logger } from 'nestjs-pino';
import type { AppConfig } from '@presence-sync/config';
import { DaemonModule, type DaemonOverrides } from './daemon.module';
import { mountQueueDashboard } from './http/admin-dashboard';

/** Builds and boots the daemon (not yet listening). Boot problems reject with a readable message. */
export async function createDaemon(config: AppConfig, overrides: DaemonOverrides = {}): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(DaemonModule.forRoot(config, overrides), {
    bodyParser: false, bufferLogs: true, abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  // The webhook needs the raw bytes for its signature; everything else takes JSON.
  app.use('/v1/acd/events', raw({ type: () => true, limit: '2mb' }));
  app.use(json({ limit: '1mb' }));
  const { dashboard, user, password } = config.admin;
  if (dashboard && user && password) mountQueueDashboard(app, user, password);
  app.disable('x-powered-by');
  try {
    await app.init();
  } catch (e) {
    await app.close().catch(() => undefined);
    throw e;
  }
  return app;
}

/** Boots and listens on the configured host and port. */
export async function startDaemon(config: AppConfig, overrides: DaemonOverrides = {}): Promise<NestExpressApplication> {
  const app = await createDaemon(config, overrides);
  await app.listen(config.http.port, config.http.host);
  return app;
}
