import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NoAnswer, WebexApiClient } from './webex-api.client';
import type { WebexTokenSource } from './webex-token.source';

/** Hands out tok-1, then tok-2 once tok-1 was refused. */
function tokens(): WebexTokenSource & { refused: string[] } {
  let current = 'tok-1';
  const refused: string[] = [];
  return {
    refused,
    token: async () => current,
    invalidate: (token: string) => { refused.push(token); current = 'tok-2'; },
    secrets: () => [],
  } as unknown as WebexTokenSource & { refused: string[] };
}

describe('WebexApiClient', () => {
  let server: Server;
  let base: string;
  let handle: (req: IncomingMessage, res: ServerResponse, body: string) => void;
  const clients: WebexApiClient[] = [];
  const client = (timeoutMs = 2000, source = tokens()) => {
    const c = new WebexApiClient({ baseUrl: base, tokens: source, timeoutMs });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => { body += c.toString(); });
      req.on('end', () => handle(req, res, body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends the bearer token and a JSON body, and answers status, headers and text', async () => {
    const seen: string[] = [];
    handle = (req, res, body) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization} ${req.headers['content-type']} ${body}`);
      res.writeHead(429, { 'Retry-After': '7', 'Content-Type': 'application/json' }).end('{"ok":false}');
    };
    const answer = await client().call('PUT', '/v1/agents/a-1/state?x=1', { state: 'Idle' });
    expect(seen).toEqual(['PUT /v1/agents/a-1/state?x=1 Bearer tok-1 application/json {"state":"Idle"}']);
    expect([answer.status, answer.header('retry-after'), answer.text]).toEqual([429, '7', '{"ok":false}']);
  });

  it('a 401 drops the token and sends the call once more with a new one', async () => {
    const auth: string[] = [];
    handle = (req, res) => {
      auth.push(String(req.headers.authorization));
      res.writeHead(req.headers.authorization === 'Bearer tok-1' ? 401 : 200).end('{}');
    };
    const source = tokens();
    expect((await client(2000, source).call('GET', '/v1/teams')).status).toBe(200);
    expect(auth).toEqual(['Bearer tok-1', 'Bearer tok-2']);
    expect(source.refused).toEqual(['tok-1']);
  });

  it('a server that does not answer in time is a timeout; one that cannot be reached is a network failure', async () => {
    handle = () => undefined; // never answers
    await expect(client(150).call('GET', '/v1/teams')).rejects.toMatchObject({ kind: 'timeout' });
    const closed = new WebexApiClient({ baseUrl: 'http://127.0.0.1:1', tokens: tokens(), timeoutMs: 2000 });
    const failure = await closed.call('GET', '/v1/teams').catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(NoAnswer);
    expect(failure).toMatchObject({ kind: 'network' });
    expect((failure as NoAnswer).detail).toMatch(/^could not reach 127\.0\.0\.1:1: network error ECONNREFUSED/);
  });

  it('does not follow a redirect (the token would go along)', async () => {
    handle = (_req, res) => { res.writeHead(302, { Location: 'http://example.invalid/steal' }).end(); };
    expect((await client().call('GET', '/v1/teams')).status).toBe(302);
  });
});
