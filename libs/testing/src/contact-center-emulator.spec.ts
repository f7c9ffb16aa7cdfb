import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AcdState } from '@presence-sync/domain';
import {
  ContactCenterEmulator,
  type ContactCenterEmulatorOptions,
  type EmulatorWebhookEvent,
  type StateChangeCause,
} from './contact-center-emulator';

// Talks to the emulator with plain fetch and checks signatures with node:crypto, so the emulator is held to
// the contract text and not to what libs/contact-center happens to do.

const TOKEN = 'emulator-token-1';
const SECRET = 'emulator-webhook-secret';
const auth = { Authorization: `Bearer ${TOKEN}` };

interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
}

/** A webhook receiver that answers with the statuses queued in `answers` (then 202). */
async function startReceiver(): Promise<{ url: string; received: Received[]; answers: number[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const answers: number[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = answers.shift() ?? 202;
      if (status < 300) received.push({ headers: req.headers, raw: Buffer.concat(chunks).toString() });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/acd/events`,
    received,
    answers,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function eventsOf(received: Received[]): EmulatorWebhookEvent[] {
  return received.flatMap((r) => {
    const body = JSON.parse(r.raw) as EmulatorWebhookEvent | { events: EmulatorWebhookEvent[] };
    return 'events' in body ? body.events : [body];
  });
}

function catalog(): Pick<ContactCenterEmulatorOptions, 'teams' | 'agents'> {
  return {
    teams: [
      { teamId: 't-1', name: 'Tier 1', unavailableCodes: ['Lunch', 'Break'] },
      { teamId: 't-2', name: 'Tier 2', unavailableCodes: ['Coaching'] },
    ],
    agents: [
      { agentId: 'a-1', email: 'one@example.com', teamId: 't-1', state: { state: 'Available' } },
      { agentId: 'a-2', email: 'two@example.com', teamId: 't-2', state: { state: 'Offline' } },
      { agentId: 'a/3', email: 'three@example.com', teamId: 't-1', state: { state: 'Unavailable', code: 'Break' } },
    ],
  };
}

describe(ContactCenterEmulator.name, () => {
  let emulator: ContactCenterEmulator;
  let baseUrl: string;

  const start = async (options: Partial<ContactCenterEmulatorOptions> = {}) => {
    emulator = new ContactCenterEmulator({ token: TOKEN, ...catalog(), ...options });
    ({ baseUrl } = await emulator.start());
  };
  /** `key` null sends no Idempotency-Key. */
  const put = (agentId: string, body: unknown, key: string | null) =>
    fetch(`${baseUrl}/agents/${encodeURIComponent(agentId)}/state`, {
      method: 'PUT',
      headers: { ...auth, 'Content-Type': 'application/json', ...(key === null ? {} : { 'Idempotency-Key': key }) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const set = (agentId: string, state: AcdState, requestId: string) => put(agentId, { ...state, requestId }, requestId);
  const problemOf = async (res: Response) => (await res.json()) as { error: string; message: string };

  afterEach(async () => {
    await emulator?.stop();
  });

  describe('sandboxCatalog', () => {
    it('uses exactly the three sandbox teams', () => {
      expect(ContactCenterEmulator.sandboxCatalog().teams).toEqual([
        { teamId: 't-tier1', name: 'Tier 1', unavailableCodes: ['Lunch', 'Break', 'Training', 'Meeting', 'Chat', 'System'] },
        { teamId: 't-tier2', name: 'Tier 2', unavailableCodes: ['Lunch', 'Break', 'Coaching', 'Chat', 'System'] },
        { teamId: 't-backoffice', name: 'Back Office', unavailableCodes: ['Lunch', 'Break', 'Admin', 'System'] },
      ]);
    });

    it('is deterministic, spread over every team, Available or Offline', () => {
      const { agents } = ContactCenterEmulator.sandboxCatalog();
      expect(agents).toEqual(ContactCenterEmulator.sandboxCatalog(20).agents);
      expect(agents).toHaveLength(20);
      expect(agents[0]).toEqual({ agentId: 'a-1001', email: 'ada.adams@example.com', teamId: 't-tier1', state: { state: 'Available' } });
      expect(agents.at(-1)?.agentId).toBe('a-1020');
      expect(new Set(agents.map((a) => a.teamId))).toEqual(new Set(['t-tier1', 't-tier2', 't-backoffice']));
      expect(new Set(agents.map((a) => a.state.state))).toEqual(new Set(['Available', 'Offline']));
      for (const agent of agents) expect(agent.email).toMatch(/^[a-z]+\.[a-z]+\d*@example\.com$/);
    });

    it('gives 50,000 agents unique ids and e-mails', () => {
      const { agents } = ContactCenterEmulator.sandboxCatalog(50_000);
      expect(new Set(agents.map((a) => a.agentId)).size).toBe(50_000);
      expect(new Set(agents.map((a) => a.email)).size).toBe(50_000);
    });
  });

  describe('GET /agents and /teams', () => {
    it('refuses requests without the bearer token', async () => {
      await start();
      for (const headers of [{}, { Authorization: 'Bearer wrong' }, { Authorization: TOKEN }] as Record<string, string>[]) {
        const res = await fetch(`${baseUrl}/agents`, { headers });
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
      }
    });

    it('pages with cursor / next and ignores parameters the contract does not define', async () => {
      await start({ pageSize: 2 });
      type Page = { agents: Array<{ agentId: string; since: string }>; next: string | null };
      const first = (await (await fetch(`${baseUrl}/agents?limit=50`, { headers: auth })).json()) as Page;
      expect(first.agents.map((a) => a.agentId)).toEqual(['a-1', 'a-2']);
      expect(typeof first.next).toBe('string');
      const second = (await (await fetch(`${baseUrl}/agents?cursor=${encodeURIComponent(String(first.next))}`, { headers: auth })).json()) as Page;
      expect(second).toEqual({
        agents: [{ agentId: 'a/3', email: 'three@example.com', teamId: 't-1', state: { state: 'Unavailable', code: 'Break' }, since: expect.any(String) }],
        next: null,
      });
      expect(Number.isNaN(Date.parse(second.agents[0].since))).toBe(false);
      expect((await fetch(`${baseUrl}/agents?cursor=nonsense`, { headers: auth })).status).toBe(400);
    });

    it('lists teams with their codes', async () => {
      await start();
      const body = await (await fetch(`${baseUrl}/teams`, { headers: auth })).json();
      expect(body).toEqual({ teams: catalog().teams });
    });

    it('serves 50,000 agents through paging', async () => {
      await start({ ...ContactCenterEmulator.sandboxCatalog(50_000), pageSize: 1_000 });
      let cursor: string | null = null;
      let count = 0;
      do {
        const query: string = cursor ? `?cursor=${encodeURIComponent(cursor)}` : '';
        const page = (await (await fetch(`${baseUrl}/agents${query}`, { headers: auth })).json()) as { agents: unknown[]; next: string | null };
        count += page.agents.length;
        cursor = page.next;
      } while (cursor);
      expect(count).toBe(50_000);
    });

    it('serves under a base path', async () => {
      await start({ basePath: '/cc/v1/' });
      expect(baseUrl).toMatch(/\/cc\/v1$/);
      expect((await fetch(`${baseUrl}/teams`, { headers: auth })).status).toBe(200);
      expect((await fetch(`${baseUrl.replace('/cc/v1', '')}/teams`, { headers: auth })).status).toBe(404);
    });

    it('answers 405 for a wrong method and 404 for an unknown path', async () => {
      await start();
      const res = await fetch(`${baseUrl}/teams`, { method: 'POST', headers: auth });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET');
      expect((await fetch(`${baseUrl}/nothing`, { headers: auth })).status).toBe(404);
    });
  });

  describe('PUT /agents/{id}/state', () => {
    it('applies a state at once when the agent is idle: 200 with the state', async () => {
      await start();
      const res = await set('a-1', { state: 'Unavailable', code: 'Lunch' }, 'r-1');
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ state: { state: 'Unavailable', code: 'Lunch' } });
      expect(emulator.getAgent('a-1')?.state).toEqual({ state: 'Unavailable', code: 'Lunch' });
      expect(emulator.appliedCount('r-1')).toBe(1);
      expect(emulator.writes).toEqual([
        { agentId: 'a-1', body: { state: 'Unavailable', code: 'Lunch', requestId: 'r-1' }, idempotencyKey: 'r-1', status: 200, replayed: false, injected: false, at: expect.any(Number) },
      ]);
    });

    it('decodes the agent id in the path', async () => {
      await start();
      expect((await set('a/3', { state: 'Available' }, 'r-slash')).status).toBe(200);
      expect(emulator.getAgent('a/3')?.state).toEqual({ state: 'Available' });
    });

    it('answers a re-sent Idempotency-Key with the first answer and does not apply it again', async () => {
      await start();
      const first = await set('a-1', { state: 'Unavailable', code: 'Lunch' }, 'r-same');
      emulator.agentSetState('a-1', { state: 'Available' });
      const again = await set('a-1', { state: 'Unavailable', code: 'Lunch' }, 'r-same');
      expect(again.status).toBe(first.status);
      expect(await again.json()).toEqual({ state: { state: 'Unavailable', code: 'Lunch' } });
      expect(emulator.getAgent('a-1')?.state).toEqual({ state: 'Available' });
      expect(emulator.appliedCount('r-same')).toBe(1);
      expect(emulator.replayedCount).toBe(1);
      expect(emulator.writes.map((w) => w.replayed)).toEqual([false, true]);
    });

    it.each<[string, unknown, string | null, RegExp]>([
      ['no Idempotency-Key', { state: 'Available', requestId: 'k' }, null, /Idempotency-Key header is required/],
      ['a body that is not JSON', '{state:', 'k', /must be JSON/],
      ['an array body', [], 'k', /JSON object/],
      ['a state that cannot be set', { state: 'Busy', requestId: 'k' }, 'k', /one of Available, Unavailable, Offline/],
      ['an unknown state', { state: 'Lunch', requestId: 'k' }, 'k', /one of Available, Unavailable, Offline/],
      ['an empty code', { state: 'Unavailable', code: '', requestId: 'k' }, 'k', /code must be a non-empty string/],
      ['a code with Available', { state: 'Available', code: 'Lunch', requestId: 'k' }, 'k', /only allowed with Unavailable/],
      ['no requestId', { state: 'Available' }, 'k', /requestId is required/],
      ['a requestId other than the key', { state: 'Available', requestId: 'other' }, 'k', /must equal the Idempotency-Key/],
    ])('answers 400 to %s and keeps the key usable', async (_label, body, key, message) => {
      await start();
      const res = await put('a-1', body, key);
      expect(res.status).toBe(400);
      expect((await problemOf(res)).message).toMatch(message);
      expect(emulator.getAgent('a-1')?.state).toEqual({ state: 'Available' });
      if (key) expect((await set('a-1', { state: 'Offline' }, key)).status).toBe(200);
    });

    it.each<[string, string, AcdState, number, string]>([
      ['an unknown agent', 'a-404', { state: 'Available' }, 404, 'unknown-agent'],
      ['a logged-out agent set Available', 'a-2', { state: 'Available' }, 409, 'agent-logged-out'],
      ['a logged-out agent set Unavailable', 'a-2', { state: 'Unavailable', code: 'Coaching' }, 409, 'agent-logged-out'],
      ['a code not enabled for the team', 'a-1', { state: 'Unavailable', code: 'Coaching' }, 422, 'unknown-code'],
    ])('refuses %s', async (_label, agentId, state, status, error) => {
      await start();
      const res = await set(agentId, state, 'r-x');
      expect(res.status).toBe(status);
      expect((await problemOf(res)).error).toBe(error);
      expect(emulator.appliedCount('r-x')).toBe(0);
    });

    it('lets a logged-out agent be set Offline (nothing changes)', async () => {
      await start();
      expect((await set('a-2', { state: 'Offline' }, 'r-off')).status).toBe(200);
      expect(emulator.getAgent('a-2')).toMatchObject({ state: { state: 'Offline' }, sequence: 0 });
    });

    it('defers a state while the agent is on a contact and applies it when wrap-up ends', async () => {
      await start();
      const causes: Array<[AcdState, StateChangeCause]> = [];
      emulator.on('state', (_id, state, cause) => causes.push([state, cause]));
      emulator.startCall('a-1');
      const busy = await set('a-1', { state: 'Unavailable', code: 'Break' }, 'r-busy');
      expect(busy.status).toBe(202);
      expect(await busy.json()).toEqual({ pending: true });
      emulator.endCall('a-1');
      const wrap = await set('a-1', { state: 'Unavailable', code: 'Lunch' }, 'r-wrap');
      expect(wrap.status).toBe(202);
      expect(emulator.getAgent('a-1')).toMatchObject({ state: { state: 'AfterWork' }, next: { state: 'Unavailable', code: 'Lunch' } });
      emulator.endWrapUp('a-1');
      expect(emulator.getAgent('a-1')?.state).toEqual({ state: 'Unavailable', code: 'Lunch' });
      expect(emulator.getAgent('a-1')?.next).toBeUndefined();
      expect(emulator.appliedCount('r-busy')).toBe(0);
      expect(emulator.appliedCount('r-wrap')).toBe(1);
      expect(causes).toEqual([
        [{ state: 'Busy' }, 'contact'],
        [{ state: 'AfterWork' }, 'contact'],
        [{ state: 'Unavailable', code: 'Lunch' }, 'api-deferred'],
      ]);
    });

    it('ends wrap-up in Available when nothing is pending, and the agent overrides a pending state', async () => {
      await start();
      emulator.startCall('a-1');
      emulator.endCall('a-1');
      emulator.endWrapUp('a-1');
      expect(emulator.getAgent('a-1')?.state).toEqual({ state: 'Available' });
      emulator.startCall('a-1');
      await set('a-1', { state: 'Offline' }, 'r-late');
      emulator.agentSetState('a-1', { state: 'Unavailable', code: 'Break' });
      expect(emulator.getAgent('a-1')?.next).toBeUndefined();
      expect(emulator.appliedCount('r-late')).toBe(0);
    });

    it('refuses impossible simulated actions', async () => {
      await start();
      expect(() => emulator.startCall('a-2')).toThrow(/logged out/);
      expect(() => emulator.endCall('a-1')).toThrow(/not Busy/);
      expect(() => emulator.endWrapUp('a-1')).toThrow(/not AfterWork/);
      expect(() => emulator.agentSetState('a-1', { state: 'Unavailable', code: 'Coaching' })).toThrow(/not enabled/);
      expect(() => emulator.agentSetState('a-1', { state: 'Busy' })).toThrow(/startCall/);
      expect(() => emulator.getAgent('nobody')).not.toThrow();
      expect(() => emulator.startCall('nobody')).toThrow(/unknown agent/);
    });
  });

  describe('failNext', () => {
    it('injects 429 with Retry-After, then 503, then lets requests through; the key stays usable', async () => {
      await start();
      emulator.failNext(1, 429, { retryAfterSec: 7 });
      emulator.failNext(1, 503);
      const limited = await set('a-1', { state: 'Offline' }, 'r-f');
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('7');
      expect((await set('a-1', { state: 'Offline' }, 'r-f')).status).toBe(503);
      expect((await set('a-1', { state: 'Offline' }, 'r-f')).status).toBe(200);
      expect(emulator.writes.map((w) => [w.status, w.injected])).toEqual([[429, true], [503, true], [200, false]]);
      expect(emulator.appliedCount('r-f')).toBe(1);
    });

    it('hits GETs only when asked, and checks the token first', async () => {
      await start();
      emulator.failNext(1, 500, { method: 'GET' });
      expect((await fetch(`${baseUrl}/teams`)).status).toBe(401);
      expect((await set('a-1', { state: 'Offline' }, 'r-g')).status).toBe(200);
      expect((await fetch(`${baseUrl}/teams`, { headers: auth })).status).toBe(500);
      expect((await fetch(`${baseUrl}/teams`, { headers: auth })).status).toBe(200);
    });

    it('can drop the connection or never answer', async () => {
      await start();
      emulator.failNext(1, 'reset');
      await expect(set('a-1', { state: 'Offline' }, 'r-r')).rejects.toThrow();
      emulator.failNext(1, 'hang');
      await expect(
        fetch(`${baseUrl}/agents/a-1/state`, {
          method: 'PUT',
          headers: { ...auth, 'Idempotency-Key': 'r-h' },
          body: JSON.stringify({ state: 'Offline', requestId: 'r-h' }),
          signal: AbortSignal.timeout(100),
        }),
      ).rejects.toThrow();
      expect(emulator.getAgent('a-1')?.state).toEqual({ state: 'Available' });
    });
  });

  describe('webhooks', () => {
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    beforeEach(async () => {
      receiver = await startReceiver();
    });
    afterEach(async () => {
      await emulator?.stop();
      await receiver.close();
    });

    const verify = (r: Received) => {
      const ts = String(r.headers['x-presence-timestamp']);
      const expected = createHmac('sha256', SECRET).update(`${ts}.${r.raw}`).digest('hex');
      expect(r.headers['x-presence-signature']).toBe(`sha256=${expected}`);
      expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(5);
    };

    it('reports every change, from the API and from the agent, signed, in order, with previous and sequence', async () => {
      await start({ webhook: { url: receiver.url, secret: SECRET } });
      await set('a-1', { state: 'Unavailable', code: 'Lunch' }, 'r-w1');
      emulator.agentSetState('a-1', { state: 'Available' });
      emulator.startCall('a-1');
      emulator.endCall('a-1');
      emulator.endWrapUp('a-1');
      await emulator.flushWebhooks();
      receiver.received.forEach(verify);
      const events = eventsOf(receiver.received);
      expect(events.map((e) => [e.sequence, e.previous, e.state])).toEqual([
        [1, { state: 'Available' }, { state: 'Unavailable', code: 'Lunch' }],
        [2, { state: 'Unavailable', code: 'Lunch' }, { state: 'Available' }],
        [3, { state: 'Available' }, { state: 'Busy' }],
        [4, { state: 'Busy' }, { state: 'AfterWork' }],
        [5, { state: 'AfterWork' }, { state: 'Available' }],
      ]);
      // Only the change the PUT caused names it; the agent's own and the contact's do not carry the field.
      expect(events.map((e) => ('requestId' in e ? e.requestId : '-'))).toEqual(['r-w1', '-', '-', '-', '-']);
      for (const e of events) {
        expect(e.agentId).toBe('a-1');
        expect(e.eventId).toMatch(/^[0-9a-f-]{36}$/);
        expect(e.occurredAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      }
      expect(new Set(events.map((e) => e.eventId)).size).toBe(5);
      expect(emulator.webhookDeliveries).toMatchObject({ delivered: 5, requestsOk: 5, pending: 0, dropped: 0 });
    });

    it('retries a failed delivery with backoff and keeps one agent’s order', async () => {
      await start({ webhook: { url: receiver.url, secret: SECRET, retryDelayMs: 5 } });
      receiver.answers.push(500, 503);
      emulator.agentSetState('a-1', { state: 'Unavailable', code: 'Lunch' });
      emulator.agentSetState('a-1', { state: 'Unavailable', code: 'Break' });
      emulator.agentSetState('a-1', { state: 'Available' });
      await emulator.waitFor(() => emulator.webhookDeliveries.delivered === 3, 5_000, 'three deliveries');
      expect(eventsOf(receiver.received).map((e) => e.sequence)).toEqual([1, 2, 3]);
      expect(emulator.webhookDeliveries).toMatchObject({ failedAttempts: 2, dropped: 0, lastError: 'HTTP 503' });
    });

    it('drops events after the last attempt and says so', async () => {
      await start({ webhook: { url: receiver.url, secret: SECRET, retryDelayMs: 1, maxAttempts: 2 } });
      receiver.answers.push(500, 500);
      const finals: boolean[] = [];
      emulator.on('webhook', (attempt) => finals.push(attempt.final));
      emulator.agentSetState('a-1', { state: 'Offline' });
      await emulator.flushWebhooks();
      expect(emulator.webhookDeliveries).toMatchObject({ delivered: 0, dropped: 1, failedAttempts: 2, pending: 0 });
      expect(finals).toEqual([false, true]);
    });

    it('retries when the receiver is not reachable', async () => {
      const closed = await startReceiver();
      await closed.close();
      await start({ webhook: { url: closed.url, secret: SECRET, retryDelayMs: 1, maxAttempts: 2 } });
      emulator.agentSetState('a-1', { state: 'Offline' });
      await emulator.flushWebhooks();
      expect(emulator.webhookDeliveries.dropped).toBe(1);
      expect(emulator.webhookDeliveries.lastError).toMatch(/ECONNREFUSED/);
    });

    it('sends batches of { events } in batch mode, at most maxBatchSize each', async () => {
      await start({
        ...ContactCenterEmulator.sandboxCatalog(30),
        webhook: { url: receiver.url, secret: SECRET, batch: true, maxBatchSize: 10, flushIntervalMs: 5 },
      });
      for (let i = 0; i < 30; i++) emulator.agentSetState(`a-${1001 + i}`, { state: 'Unavailable', code: 'Lunch' });
      await emulator.flushWebhooks();
      receiver.received.forEach(verify);
      const bodies = receiver.received.map((r) => JSON.parse(r.raw) as { events: unknown[] });
      expect(bodies.every((b) => Array.isArray(b.events) && b.events.length <= 10)).toBe(true);
      expect(eventsOf(receiver.received)).toHaveLength(30);
      expect(new Set(eventsOf(receiver.received).map((e) => e.agentId)).size).toBe(30);
    });

    it('sends the next event twice, or holds it back until the one after it, when asked', async () => {
      await start({ webhook: { url: receiver.url, secret: SECRET } });
      emulator.duplicateNextWebhook();
      emulator.agentSetState('a-1', { state: 'Unavailable', code: 'Lunch' });
      emulator.reorderNextWebhook();
      emulator.agentSetState('a-1', { state: 'Unavailable', code: 'Break' });
      emulator.agentSetState('a-1', { state: 'Available' });
      emulator.startCall('a-1');
      emulator.endCall('a-1', { wrapUpCode: 'Resolved' });
      await emulator.flushWebhooks();
      const events = eventsOf(receiver.received);
      expect(events.map((e) => e.sequence)).toEqual([1, 1, 3, 2, 4, 5]);
      expect(events[0].eventId).toBe(events[1].eventId);
      expect(events[5].state).toEqual({ state: 'AfterWork', code: 'Resolved' });
    });

    it('can be pointed at a receiver later', async () => {
      await start();
      emulator.agentSetState('a-1', { state: 'Offline' });
      emulator.setWebhook({ url: receiver.url, secret: SECRET });
      emulator.agentSetState('a/3', { state: 'Available' });
      await emulator.flushWebhooks();
      expect(eventsOf(receiver.received).map((e) => e.agentId)).toEqual(['a/3']);
    });
  });

  describe('lifecycle', () => {
    it('waitFor resolves on a condition and rejects on timeout', async () => {
      await start();
      const waiting = emulator.waitFor(() => emulator.getAgent('a-1')?.state.state === 'Offline', 1_000);
      emulator.agentSetState('a-1', { state: 'Offline' });
      await expect(waiting).resolves.toBeUndefined();
      await expect(emulator.waitFor(() => false, 30, 'never')).rejects.toThrow('never not met within 30 ms');
    });

    it('starts once however often start is called, and lists a snapshot of every agent', async () => {
      await start();
      expect(await emulator.start()).toEqual({ baseUrl });
      expect(emulator.snapshot().map((a) => [a.agentId, a.state.state])).toEqual([['a-1', 'Available'], ['a-2', 'Offline'], ['a/3', 'Unavailable']]);
    });

    it('stops idempotently, also when never started, and cannot be restarted', async () => {
      const idle = new ContactCenterEmulator({ token: TOKEN, ...catalog() });
      await Promise.all([idle.stop(), idle.stop()]);
      await start();
      await Promise.all([emulator.stop(), emulator.stop()]);
      await expect(emulator.start()).rejects.toThrow(/stopped/);
      await expect(fetch(`${baseUrl}/teams`, { headers: auth })).rejects.toThrow();
    });

    it.each<[string, Partial<ContactCenterEmulatorOptions>, RegExp]>([
      ['an empty token', { token: '' }, /token/],
      ['a duplicate agent', { agents: [...catalog().agents, catalog().agents[0]] }, /listed twice/],
      ['an agent of an unknown team', { agents: [{ agentId: 'x', email: 'x@example.com', teamId: 'nope', state: { state: 'Available' } }] }, /unknown team/],
      ['a zero page size', { pageSize: 0 }, /pageSize/],
    ])('refuses %s', (_label, change, message) => {
      expect(() => new ContactCenterEmulator({ token: TOKEN, ...catalog(), ...change })).toThrow(message);
    });
  });
});
