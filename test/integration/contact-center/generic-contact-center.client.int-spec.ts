import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ContactCenterReadError,
  GENERIC_MAX_ANSWER_BYTES,
  GenericContactCenterClient,
  type GenericContactCenterClientOptions,
} from '@presence-sync/contact-center';
import {
  PermanentWriteError,
  RateLimitedError,
  RetryableWriteError,
  type AcdWriteRequest,
} from '@presence-sync/domain';
// Deep import until libs/testing/src/index.ts exports the emulator.
import { ContactCenterEmulator } from '@presence-sync/testing';

const TOKEN = 'cc-token-5d1e9a7c3b';

/** Runs `call`, expects it to throw, and returns the error. */
async function failure(call: () => Promise<unknown>): Promise<Error> {
  try {
    await call();
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`threw a non-error: ${String(error)}`);
  }
  throw new Error('expected a failure, got a result');
}

function expectNoToken(error: Error, ...tokens: string[]): void {
  const everything = `${error.message}\n${String(error)}\n${JSON.stringify(error)}\n${error.stack ?? ''}`;
  for (const token of [TOKEN, ...tokens]) expect(everything).not.toContain(token);
}

/** A stand-in vendor for answers the emulator never gives (bad shapes, echoed headers). */
async function startStubVendor(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ baseUrl: string; server: Server; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => handler(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

describe(GenericContactCenterClient.name, () => {
  let emulator: ContactCenterEmulator;
  let client: GenericContactCenterClient;
  let baseUrl: string;
  let seq = 0;
  const request = (agentId: string, state: AcdWriteRequest['state']): AcdWriteRequest => ({ agentId, state, requestId: `req-${++seq}` });
  const clientFor = (options: Partial<GenericContactCenterClientOptions> = {}) =>
    new GenericContactCenterClient({ baseUrl, token: TOKEN, readRetryDelayMs: 5, ...options });

  beforeEach(async () => {
    emulator = new ContactCenterEmulator({ token: TOKEN, ...ContactCenterEmulator.sandboxCatalog(2_500), pageSize: 40, basePath: '/cc/v1' });
    ({ baseUrl } = await emulator.start());
    client = clientFor();
  });

  afterEach(async () => {
    await emulator.stop();
  });

  describe('listing', () => {
    it('pages through 2,500 agents with a small page size', async () => {
      const agents = await client.listAgents();
      expect(agents).toHaveLength(2_500);
      expect(agents.map((a) => a.agentId)).toEqual(ContactCenterEmulator.sandboxCatalog(2_500).agents.map((a) => a.agentId));
      expect(agents[0]).toEqual({
        agentId: 'a-1001',
        email: 'ada.adams@example.com',
        teamId: 't-tier1',
        state: { state: 'Available' },
        since: emulator.getAgent('a-1001')?.since,
      });
    });

    it('lists the teams with their unavailable codes', async () => {
      expect(await client.listTeams()).toEqual(ContactCenterEmulator.sandboxCatalog().teams);
    });

    it('retries a failed read and gives up with a retryable read error after its retries', async () => {
      emulator.failNext(2, 503, { method: 'GET' });
      expect(await client.listTeams()).toHaveLength(3);
      emulator.failNext(1, 429, { method: 'GET', retryAfterSec: 0 });
      expect(await client.listTeams()).toHaveLength(3);
      emulator.failNext(3, 500, { method: 'GET' });
      const error = await failure(() => client.listAgents());
      expect(error).toBeInstanceOf(ContactCenterReadError);
      expect(error).toMatchObject({ reason: 'server-error', httpStatus: 500, retryable: true });
      expect(error.message).toMatch(/^GET \/agents \(page 1\): HTTP 500: injected/);
    });

    it('hands a long rate limit on a read to the caller', async () => {
      emulator.failNext(1, 429, { method: 'GET', retryAfterSec: 60 });
      const error = await failure(() => client.listTeams());
      expect(error).toBeInstanceOf(RateLimitedError);
      expect(error).toMatchObject({ retryAfterMs: 60_000 });
    });

    it('reports a wrong token on reads as unauthorized, without any token', async () => {
      const wrong = 'wrong-token-88f2';
      const error = await failure(() => clientFor({ token: wrong }).listAgents());
      expect(error).toBeInstanceOf(ContactCenterReadError);
      expect(error).toMatchObject({ reason: 'unauthorized', httpStatus: 401, retryable: false });
      expect(error.message).toContain('ACD_TOKEN');
      expectNoToken(error, wrong);
    });
  });

  describe('setState', () => {
    it('200: applied, with the state the contact center reports', async () => {
      const result = await client.setState(request('a-1001', { state: 'Unavailable', code: 'Lunch' }));
      expect(result).toEqual({ kind: 'applied', state: { state: 'Unavailable', code: 'Lunch' } });
      expect(emulator.getAgent('a-1001')?.state).toEqual({ state: 'Unavailable', code: 'Lunch' });
      expect(emulator.writes.at(-1)).toMatchObject({
        body: { state: 'Unavailable', code: 'Lunch', requestId: `req-${seq}` },
        idempotencyKey: `req-${seq}`,
      });
    });

    it('202: deferred while the agent is on a contact, applied once the wrap-up ends', async () => {
      emulator.startCall('a-1001');
      const write = request('a-1001', { state: 'Unavailable', code: 'Break' });
      expect(await client.setState(write)).toEqual({ kind: 'deferred' });
      emulator.endCall('a-1001');
      expect(emulator.getAgent('a-1001')?.state).toEqual({ state: 'AfterWork' });
      emulator.endWrapUp('a-1001');
      expect(emulator.getAgent('a-1001')?.state).toEqual({ state: 'Unavailable', code: 'Break' });
      expect(emulator.appliedCount(write.requestId)).toBe(1);
    });

    it.each<[string, string, AcdWriteRequest['state'], string, number]>([
      ['404 unknown agent', 'a-999999', { state: 'Available' }, 'unknown-agent', 404],
      ['409 agent logged out', 'a-1004', { state: 'Available' }, 'precondition-failed', 409],
      ['422 code not enabled for the team', 'a-1001', { state: 'Unavailable', code: 'Coaching' }, 'unknown-code', 422],
    ])('%s: permanent, with the status and the vendor’s words', async (_label, agentId, state, reason, status) => {
      expect(emulator.getAgent('a-1004')?.state.state).toBe('Offline');
      const error = await failure(() => client.setState(request(agentId, state)));
      expect(error).toBeInstanceOf(PermanentWriteError);
      expect(error).toMatchObject({ reason, httpStatus: status });
      expect(error.message).toContain(`HTTP ${status}`);
      expect(error.message).toContain(agentId === 'a-999999' ? 'no agent a-999999' : agentId === 'a-1004' ? 'logged out' : 'Coaching');
      expectNoToken(error);
    });

    it('429: rate limited for the Retry-After seconds', async () => {
      emulator.failNext(1, 429, { retryAfterSec: 7 });
      const write = request('a-1001', { state: 'Offline' });
      const error = await failure(() => client.setState(write));
      expect(error).toBeInstanceOf(RateLimitedError);
      expect(error).toMatchObject({ retryAfterMs: 7_000 });
      expect(error.message).toContain('HTTP 429');
      expect(emulator.appliedCount(write.requestId)).toBe(0);
      expect(await client.setState(write)).toEqual({ kind: 'applied', state: { state: 'Offline' } });
    });

    it.each([500, 502, 503])('%d: retryable, and a retry with the same requestId applies once', async (status) => {
      emulator.failNext(1, status);
      const write = request('a-1001', { state: 'Unavailable', code: 'Lunch' });
      const error = await failure(() => client.setState(write));
      expect(error).toBeInstanceOf(RetryableWriteError);
      expect(error).toMatchObject({ reason: 'server-error', httpStatus: status });
      expect(error.message).toContain(`HTTP ${status}`);
      expect(await client.setState(write)).toEqual({ kind: 'applied', state: { state: 'Unavailable', code: 'Lunch' } });
      expect(emulator.appliedCount(write.requestId)).toBe(1);
    });

    it('a dropped connection is a retryable network error', async () => {
      emulator.failNext(1, 'reset');
      const error = await failure(() => client.setState(request('a-1001', { state: 'Offline' })));
      expect(error).toBeInstanceOf(RetryableWriteError);
      expect(error).toMatchObject({ reason: 'network' });
      expectNoToken(error);
    });

    it('no answer in time is a retryable timeout', async () => {
      emulator.failNext(1, 'hang');
      const error = await failure(() => clientFor({ timeoutMs: 150 }).setState(request('a-1001', { state: 'Offline' })));
      expect(error).toBeInstanceOf(RetryableWriteError);
      expect(error).toMatchObject({ reason: 'timeout' });
      expect(error.message).toContain('150 ms');
    });

    it('is idempotent: the same requestId twice is applied once and answered the same', async () => {
      const write = request('a-1001', { state: 'Unavailable', code: 'Lunch' });
      const first = await client.setState(write);
      emulator.agentSetState('a-1001', { state: 'Available' });
      const second = await client.setState(write);
      expect(second).toEqual(first);
      expect(emulator.appliedCount(write.requestId)).toBe(1);
      expect(emulator.replayedCount).toBe(1);
      expect(emulator.getAgent('a-1001')?.state).toEqual({ state: 'Available' });
      expect([...emulator.appliedKeys.values()].every((n) => n <= 1)).toBe(true);
    });

    it('a wrong token is a permanent unauthorized error naming ACD_TOKEN but no token', async () => {
      const wrong = 'wrong-token-1c4b';
      const error = await failure(() => clientFor({ token: wrong }).setState(request('a-1001', { state: 'Offline' })));
      expect(error).toBeInstanceOf(PermanentWriteError);
      expect(error).toMatchObject({ reason: 'unauthorized', httpStatus: 401 });
      expect(error.message).toContain('ACD_TOKEN');
      expectNoToken(error, wrong);
    });

    it('a contact center that is down is a retryable network error', async () => {
      await emulator.stop();
      const error = await failure(() => client.setState(request('a-1001', { state: 'Offline' })));
      expect(error).toBeInstanceOf(RetryableWriteError);
      expect(error).toMatchObject({ reason: 'network' });
      expect(error.message).toMatch(/ECONNREFUSED/);
    });
  });

  describe('against answers the emulator never gives', () => {
    let stub: Awaited<ReturnType<typeof startStubVendor>>;
    afterEach(async () => {
      await stub.close();
    });

    it('cuts the token out of a vendor error that echoes request headers', async () => {
      stub = await startStubVendor((req, res) => json(res, 400, { error: 'bad-request', message: `got headers ${JSON.stringify(req.headers)}` }));
      const error = await failure(() => new GenericContactCenterClient({ baseUrl: stub.baseUrl, token: TOKEN }).setState(request('a-1', { state: 'Offline' })));
      expect(error).toMatchObject({ reason: 'rejected', httpStatus: 400 });
      expect(error.message).toContain('[redacted]');
      expect(error.message.length).toBeLessThan(400);
      expectNoToken(error);
    });

    it('names the field of a listing with a bad shape', async () => {
      stub = await startStubVendor((_req, res) => json(res, 200, { agents: [{ agentId: 'a-1' }, { agentId: '' }], next: null }));
      const error = await failure(() => new GenericContactCenterClient({ baseUrl: stub.baseUrl, token: TOKEN }).listAgents());
      expect(error).toBeInstanceOf(ContactCenterReadError);
      expect(error.message).toBe('GET /agents (page 1) returned an unexpected body: agents[1].agentId must not be empty');
    });

    it('stops a listing whose cursor goes round in circles', async () => {
      stub = await startStubVendor((_req, res) => json(res, 200, { agents: [{ agentId: 'a-1' }], next: 'same' }));
      const error = await failure(() => new GenericContactCenterClient({ baseUrl: stub.baseUrl, token: TOKEN }).listAgents());
      expect(error.message).toMatch(/cursor it had returned before/);
    });

    it('does not follow a redirect with the token', async () => {
      let calls = 0;
      stub = await startStubVendor((_req, res) => {
        calls++;
        res.writeHead(307, { Location: 'http://127.0.0.1:1/elsewhere' }).end();
      });
      const error = await failure(() => new GenericContactCenterClient({ baseUrl: stub.baseUrl, token: TOKEN }).setState(request('a-1', { state: 'Offline' })));
      expect(error).toMatchObject({ reason: 'rejected', httpStatus: 307 });
      expect(calls).toBe(1);
    });

    it('takes a 200 without a state body as applied with the requested state', async () => {
      stub = await startStubVendor((_req, res) => res.writeHead(200).end());
      const result = await new GenericContactCenterClient({ baseUrl: stub.baseUrl, token: TOKEN }).setState(request('a-1', { state: 'Unavailable', code: 'Lunch' }));
      expect(result).toEqual({ kind: 'applied', state: { state: 'Unavailable', code: 'Lunch' } });
    });

    /** Streams `bytes` of a JSON string value, in 1 MiB pieces, as the answer body. */
    const hugeAnswer = (bytes: number) => (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const piece = 'x'.repeat(1024 * 1024);
      res.write('{"state":"Available","pad":"');
      let sent = 0;
      const more = () => {
        while (sent < bytes) {
          sent += piece.length;
          if (!res.write(piece)) return void res.once('drain', more);
        }
        res.end('"}');
      };
      more();
      res.on('error', () => undefined);
    };

    it('refuses a write answer over the size cap instead of reading it all: a permanent error, no retry', async () => {
      stub = await startStubVendor(hugeAnswer(GENERIC_MAX_ANSWER_BYTES + 1024 * 1024));
      const error = await failure(() => new GenericContactCenterClient({ baseUrl: stub.baseUrl, token: TOKEN }).setState(request('a-1', { state: 'Offline' })));
      expect(error).toBeInstanceOf(PermanentWriteError);
      expect(error).toMatchObject({ reason: 'rejected' });
      expect(error.message).toBe(`PUT /agents/a-1/state: answer body over ${GENERIC_MAX_ANSWER_BYTES} bytes (HTTP 200)`);
    });

    it('refuses a listing over the size cap as a bad response', async () => {
      stub = await startStubVendor(hugeAnswer(GENERIC_MAX_ANSWER_BYTES + 1024 * 1024));
      const error = await failure(() => new GenericContactCenterClient({ baseUrl: stub.baseUrl, token: TOKEN, readRetries: 0 }).listTeams());
      expect(error).toBeInstanceOf(ContactCenterReadError);
      expect(error).toMatchObject({ reason: 'bad-response' });
      expect(error.message).toContain(`answer body over ${GENERIC_MAX_ANSWER_BYTES} bytes`);
    });

    it('keeps its connection open between writes, and closes it at stop()', async () => {
      stub = await startStubVendor((_req, res) => json(res, 200, { state: 'Offline' }));
      const connections: Set<unknown> = new Set();
      let open = 0;
      stub.server.on('connection', (socket) => {
        connections.add(socket);
        open++;
        socket.on('close', () => open--);
      });
      const c = new GenericContactCenterClient({ baseUrl: stub.baseUrl, token: TOKEN });
      for (let i = 0; i < 20; i++) await c.setState(request('a-1', { state: 'Offline' }));
      expect(connections.size).toBe(1);
      expect(open).toBe(1);
      await c.stop();
      for (let i = 0; i < 100 && open > 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(open).toBe(0);
    });
  });
});
