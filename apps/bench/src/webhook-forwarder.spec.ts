import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebhookForwarder } from './webhook-forwarder';

interface Seen { target: number; method?: string; url?: string; body: string; signature?: string }

/** A target that records what reached it and answers with `status`. */
async function target(index: number, seen: Seen[], status = 202): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => {
      seen.push({ target: index, method: req.method, url: req.url, body, signature: req.headers['x-presence-signature'] as string | undefined });
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ target: index, status }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const close = (s: Server) => new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); });

describe(WebhookForwarder.name, () => {
  const servers: Server[] = [];
  let forwarder: WebhookForwarder | undefined;
  afterEach(async () => {
    await forwarder?.stop();
    await Promise.all(servers.splice(0).map(close));
  });

  it('sends each request to the next target in turn, body, path and headers untouched, and passes the answer back', async () => {
    const seen: Seen[] = [];
    const targets = await Promise.all([0, 1, 2].map((i) => target(i, seen)));
    servers.push(...targets.map((t) => t.server));
    forwarder = new WebhookForwarder(targets.map((t) => t.url));
    const base = await forwarder.start();
    const answers: unknown[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${base}/v1/acd/events?n=${i}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-presence-signature': `sig-${i}` }, body: `{"i":${i}}` });
      expect(res.status).toBe(202);
      answers.push(await res.json());
    }
    expect(seen.map((s) => s.target)).toEqual([0, 1, 2, 0, 1, 2]);
    expect(seen[4]).toEqual({ target: 1, method: 'POST', url: '/v1/acd/events?n=4', body: '{"i":4}', signature: 'sig-4' });
    expect(answers[5]).toEqual({ target: 2, status: 202 });
    expect(forwarder.stats().map((s) => [s.forwarded, s.refused])).toEqual([[2, 0], [2, 0], [2, 0]]);
  });

  it('counts what a target refuses, keeps the first line of why, and answers 502 for a target that is gone', async () => {
    const seen: Seen[] = [];
    const refusing = await target(0, seen, 500);
    servers.push(refusing.server);
    const gone = await target(1, seen);
    await close(gone.server);
    forwarder = new WebhookForwarder([refusing.url, gone.url]);
    const base = await forwarder.start();
    const first = await fetch(`${base}/v1/acd/events`, { method: 'POST', body: '{}' });
    expect(first.status).toBe(500);
    await first.text();
    const second = await fetch(`${base}/v1/acd/events`, { method: 'POST', body: '{}' });
    expect(second.status).toBe(502);
    const [a, b] = forwarder.stats();
    expect(a).toMatchObject({ forwarded: 1, refused: 1, lastRefusal: '500 {"target":0,"status":500}' });
    expect(b).toMatchObject({ forwarded: 1, refused: 1 });
    expect(b.lastRefusal).toMatch(/ECONNREFUSED/);
  });

  it('sends again, on a fresh connection, a request whose kept-alive connection the target closed as it was reused', async () => {
    // A target that drops a connection when a second request comes on it, as a server closing an idle
    // kept-alive connection at that moment does.
    const served = new Set<unknown>();
    let dropped = 0;
    const server = createServer((req, res) => {
      if (served.has(req.socket)) {
        dropped++;
        req.socket.destroy();
        return;
      }
      served.add(req.socket);
      req.resume().on('end', () => res.writeHead(202).end('ok'));
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    forwarder = new WebhookForwarder([`http://127.0.0.1:${(server.address() as AddressInfo).port}`]);
    const base = await forwarder.start();
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${base}/v1/acd/events`, { method: 'POST', body: `{"i":${i}}` });
      statuses.push(res.status);
      await res.text();
    }
    expect(statuses).toEqual([202, 202, 202]);
    expect(dropped).toBe(2);
    expect(forwarder.stats()[0]).toMatchObject({ forwarded: 3, refused: 0 });
  });

  it('refuses to start without a target', () => {
    expect(() => new WebhookForwarder([])).toThrow('webhook forwarder: no target');
  });
});
