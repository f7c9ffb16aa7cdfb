import { createServer, type Server } from 'node:http';
import express from 'express';
import type { AppConfig } from '@presence-sync/config';
import { listenLocal } from '@presence-sync/testing';
import { OpsListener } from './ops-listener';

/*
 * With OPS_PORT set, the webhook port serves the webhook (at whatever path its connector uses) and the probes, and
 * the ops port everything but the webhook. A connector's own path (`/v1/acd/webex/events`) used to be refused on
 * the webhook port and served on the ops port.
 */
describe('OpsListener guard', () => {
  let main: Server;
  let ops: OpsListener;
  let mainUrl: string;
  let opsUrl: string;

  beforeAll(async () => {
    ops = new OpsListener({ ops: { host: '127.0.0.1', port: 0 } } as AppConfig);
    const app = express();
    app.use(ops.guard());
    app.use((_req, res) => { res.status(200).json({ reached: true }); });
    main = createServer(app);
    mainUrl = await listenLocal(main);
    opsUrl = `http://127.0.0.1:${(await ops.listen(app))!.port}`;
  });
  afterAll(async () => {
    await ops.onApplicationShutdown();
    await new Promise((resolve) => main.close(resolve));
  });

  const post = async (base: string, path: string) => (await fetch(`${base}${path}`, { method: 'POST', body: '{}' })).status;

  it.each(['/v1/acd/events', '/v1/acd/webex/events', '/V1/ACD/Webex/Events/'])('the webhook port takes the webhook at %s; the ops port refuses it', async (path) => {
    expect(await post(mainUrl, path)).toBe(200);
    expect(await post(opsUrl, path)).toBe(404);
  });

  it('the webhook port refuses the operator endpoints; the ops port serves them', async () => {
    expect((await fetch(`${mainUrl}/v1/status`)).status).toBe(404);
    expect((await fetch(`${opsUrl}/v1/status`)).status).toBe(200);
    expect((await fetch(`${mainUrl}/ready`)).status).toBe(200);
  });
});
