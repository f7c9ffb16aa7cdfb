import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CxoneApiClient, CxoneAuthError, NoAnswer } from './cxone-api.client';

/*
 * The transport under the CXone connector: discovery, the password grant, then API calls, all over kept-alive
 * pools per origin. What a stalled or unreachable CXone turns into.
 */
describe('CxoneApiClient transport', () => {
  let server: Server;
  let base: string;
  let api: (req: IncomingMessage, res: ServerResponse) => void;
  const seen: string[] = [];
  const clients: CxoneApiClient[] = [];
  const client = (authUrl = base, timeoutMs = 2000) => {
    const c = new CxoneApiClient({ authUrl, apiBaseUrl: base, clientId: 'cid', clientSecret: 'csecret', accessKeyId: 'kid', accessKeySecret: 'ksecret', apiVersion: 'v34.0', timeoutMs });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      req.resume();
      req.on('end', () => {
        if (req.url === '/.well-known/openid-configuration') return res.writeHead(200).end(JSON.stringify({ token_endpoint: `${base}/auth/token` }));
        if (req.url === '/auth/token') return res.writeHead(200).end(JSON.stringify({ access_token: 'tok-1', expires_in: 3600 }));
        api(req, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => { seen.length = 0; });

  it('discovers the token endpoint, gets a token, and calls the API with it; the answer has status, headers and text', async () => {
    api = (req, res) => res.writeHead(429, { 'Retry-After': '3' }).end(`{"auth":"${req.headers.authorization}"}`);
    const answer = await client().call('GET', '/teams?top=1');
    expect(seen).toEqual(['GET /.well-known/openid-configuration', 'POST /auth/token', 'GET /inContactAPI/services/v34.0/teams?top=1']);
    expect([answer.status, answer.header('retry-after'), answer.text]).toEqual([429, '3', '{"auth":"Bearer tok-1"}']);
  });

  it('an API that does not answer in time is a timeout', async () => {
    api = () => undefined;
    await expect(client(base, 150).call('GET', '/teams')).rejects.toMatchObject({ kind: 'timeout' });
  });

  it('an unreachable issuer is a passing auth failure (network), not a credentials one', async () => {
    const failure = await client('http://127.0.0.1:1').call('GET', '/teams').catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(CxoneAuthError);
    expect(failure).toMatchObject({ credentials: false });
    expect(String((failure as Error).message)).toMatch(/ECONNREFUSED/);
  });

  it('a connection reset during an API call is a network failure', async () => {
    api = (req) => req.socket.destroy();
    const failure = await client().call('GET', '/teams').catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(NoAnswer);
    expect(failure).toMatchObject({ kind: 'network' });
  });
});
