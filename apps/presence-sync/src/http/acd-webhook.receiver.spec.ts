import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listenLocal } from '@presence-sync/testing';
import { serveWebhookFirst, type AcdWebhookReceiver, type WebhookAnswer } from './acd-webhook.receiver';

/*
 * The webhook port answers a webhook POST before the application sees it, and hands everything else to the
 * application as before.
 */
describe('serveWebhookFirst', () => {
  let server: Server;
  let url: string;
  const reachedApp: string[] = [];
  let answer: (req: IncomingMessage) => Promise<WebhookAnswer | undefined>;

  beforeAll(async () => {
    server = createServer((req, res) => {
      reachedApp.push(`${req.method} ${req.url}`);
      res.writeHead(299).end();
    });
    serveWebhookFirst(server, { receive: (req: IncomingMessage) => answer(req) } as unknown as AcdWebhookReceiver);
    url = await listenLocal(server);
  });
  afterAll(async () => { await new Promise((resolve) => server.close(resolve)); });
  beforeEach(() => { reachedApp.length = 0; });

  it.each(['/v1/acd/events', '/v1/acd/events?x=1', '/v1/acd/webex/events', '/V1/ACD/EVENTS/'])('a POST to %s is the receiver\'s, with its status, headers and JSON body', async (path) => {
    answer = async () => ({ status: 202, headers: { 'Retry-After': '5' }, body: { accepted: 1, duplicates: 0 } });
    const res = await fetch(`${url}${path}`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(202);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await res.json()).toEqual({ accepted: 1, duplicates: 0 });
    expect(reachedApp).toEqual([]);
  });

  it('a POST with an absolute-form target (as through a proxy) is the receiver\'s too', async () => {
    answer = async () => ({ status: 202, body: { accepted: 1, duplicates: 0 } });
    const { port } = server.address() as AddressInfo;
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: `http://127.0.0.1:${port}/v1/acd/events?x=1` }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end('{}');
    });
    expect(status).toBe(202);
    expect(reachedApp).toEqual([]);
  });

  it.each([['GET', '/v1/acd/events'], ['POST', '/v1/status'], ['POST', '/v1/acd/a/b/events'], ['GET', '/ready']])('%s %s goes to the application', async (method, path) => {
    answer = async () => { throw new Error('not the receiver\'s'); };
    expect((await fetch(`${url}${path}`, { method })).status).toBe(299);
    expect(reachedApp).toEqual([`${method} ${path}`]);
  });

  it('a receiver failure is answered 500 with a JSON reason, and the next request is served', async () => {
    answer = async () => { throw new Error('boom'); };
    const res = await fetch(`${url}/v1/acd/events`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: 'internal', reason: 'the events were not queued; send them again' });
    answer = async () => ({ status: 202, body: { accepted: 0, duplicates: 1 } });
    expect((await fetch(`${url}/v1/acd/events`, { method: 'POST', body: '{}' })).status).toBe(202);
  });

  it('no answer (the sender went away) closes the connection without a response', async () => {
    answer = async () => undefined;
    await expect(fetch(`${url}/v1/acd/events`, { method: 'POST', body: '{}' })).rejects.toThrow();
  });
});
