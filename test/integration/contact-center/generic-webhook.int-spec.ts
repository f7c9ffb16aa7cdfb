import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  GenericContactCenterClient,
  parseGenericEvents,
  verifyGenericSignature,
  type GenericEventError,
} from '@presence-sync/contact-center';
import type { AcdChange } from '@presence-sync/domain';
// Deep import until libs/testing/src/index.ts exports the emulator.
import { ContactCenterEmulator, type EmulatorWebhookOptions } from '@presence-sync/testing';

const TOKEN = 'cc-token-webhooks';
const SECRET = 'whsec-integration-2f7a';

/**
 * The daemon's side of `POST /v1/acd/events` in miniature: verify, parse, answer 401 / 400 / 202. The real
 * controller is the lead's; this one checks that the emulator's output passes the library's checks.
 */
async function startReceiver(secret = SECRET) {
  const changes: AcdChange[] = [];
  const refusals: Array<{ status: number; reason?: string; errors?: GenericEventError[] }> = [];
  let requests = 0;
  const header = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests++;
      const rawBody = Buffer.concat(chunks);
      const signature = verifyGenericSignature({
        timestamp: header(req.headers['x-presence-timestamp']),
        signature: header(req.headers['x-presence-signature']),
        rawBody,
        secret,
        nowMs: Date.now(),
      });
      if (!signature.ok) {
        refusals.push({ status: 401, reason: signature.reason });
        res.writeHead(401).end();
        return;
      }
      const parsed = parseGenericEvents(rawBody, Date.now());
      if (!parsed.ok) {
        refusals.push({ status: 400, errors: parsed.errors });
        res.writeHead(400, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errors: parsed.errors }));
        return;
      }
      changes.push(...parsed.changes);
      res.writeHead(202, { 'Content-Type': 'application/json' }).end(JSON.stringify({ accepted: parsed.changes.length, duplicates: 0 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/acd/events`,
    changes,
    refusals,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('generic webhook: ContactCenterEmulator → verifyGenericSignature + parseGenericEvents', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let emulator: ContactCenterEmulator;
  let client: GenericContactCenterClient;

  const start = async (agentCount: number, webhook: Partial<EmulatorWebhookOptions> = {}) => {
    emulator = new ContactCenterEmulator({
      token: TOKEN,
      ...ContactCenterEmulator.sandboxCatalog(agentCount),
      webhook: { url: receiver.url, secret: SECRET, retryDelayMs: 5, ...webhook },
    });
    const { baseUrl } = await emulator.start();
    client = new GenericContactCenterClient({ baseUrl, token: TOKEN });
  };
  const waitForChanges = (n: number) => emulator.waitFor(() => receiver.changes.length >= n, 10_000, `${n} changes at the receiver`);

  beforeEach(async () => {
    receiver = await startReceiver();
  });

  afterEach(async () => {
    await emulator?.stop();
    await receiver.close();
  });

  it('reports writes made through the API and by the agent, verified and parsed, in order', async () => {
    await start(5);
    const before = Date.now();
    await client.setState({ agentId: 'a-1001', state: { state: 'Unavailable', code: 'Lunch' }, requestId: 'w-1' });
    emulator.agentSetState('a-1001', { state: 'Available' });
    emulator.startCall('a-1001');
    expect(await client.setState({ agentId: 'a-1001', state: { state: 'Unavailable', code: 'Training' }, requestId: 'w-2' })).toEqual({ kind: 'deferred' });
    emulator.endCall('a-1001');
    emulator.endWrapUp('a-1001');
    await waitForChanges(5);

    expect(receiver.refusals).toEqual([]);
    expect(receiver.changes.map((c) => [c.sequence, c.previous, c.state])).toEqual([
      [1, { state: 'Available' }, { state: 'Unavailable', code: 'Lunch' }],
      [2, { state: 'Unavailable', code: 'Lunch' }, { state: 'Available' }],
      [3, { state: 'Available' }, { state: 'Busy' }],
      [4, { state: 'Busy' }, { state: 'AfterWork' }],
      [5, { state: 'AfterWork' }, { state: 'Unavailable', code: 'Training' }],
    ]);
    // The API's writes come back naming their requestId, the deferred one too (applied when the wrap-up ended).
    expect(receiver.changes.map((c) => c.requestId)).toEqual(['w-1', undefined, undefined, undefined, 'w-2']);
    for (const change of receiver.changes) {
      expect(change).toMatchObject({ side: 'acd', agentId: 'a-1001' });
      expect(change.occurredAt).toBeGreaterThanOrEqual(before - 1);
      expect(change.receivedAt).toBeGreaterThanOrEqual(change.occurredAt);
    }
    expect(emulator.appliedCount('w-2')).toBe(1);
  });

  it('keeps each agent’s order across many agents, one request per event', async () => {
    await start(50, { concurrency: 4 });
    const online = ContactCenterEmulator.sandboxCatalog(50).agents.filter((a) => a.state.state === 'Available');
    for (const agent of online) {
      emulator.agentSetState(agent.agentId, { state: 'Unavailable', code: 'Break' });
      emulator.startCall(agent.agentId);
      emulator.endCall(agent.agentId);
      emulator.endWrapUp(agent.agentId);
    }
    await waitForChanges(online.length * 4);
    const byAgent = new Map<string, number[]>();
    for (const change of receiver.changes) byAgent.set(change.agentId, [...(byAgent.get(change.agentId) ?? []), change.sequence ?? -1]);
    expect(byAgent.size).toBe(online.length);
    for (const sequences of byAgent.values()) expect(sequences).toEqual([1, 2, 3, 4]);
  });

  it('sends batches that parse as { events } of at most 500', async () => {
    await start(1_200, { batch: true, flushIntervalMs: 10 });
    const online = ContactCenterEmulator.sandboxCatalog(1_200).agents.filter((a) => a.state.state === 'Available');
    for (const agent of online) emulator.agentSetState(agent.agentId, { state: 'Unavailable', code: 'Lunch' });
    await waitForChanges(online.length);
    expect(receiver.refusals).toEqual([]);
    expect(receiver.requests()).toBeGreaterThanOrEqual(2);
    expect(receiver.requests()).toBeLessThan(online.length);
    expect(new Set(receiver.changes.map((c) => c.eventId)).size).toBe(online.length);
  });

  it('retries deliveries the receiver refuses, then drops them (wrong secret)', async () => {
    await receiver.close();
    receiver = await startReceiver('not-the-emulator-secret');
    await start(3, { maxAttempts: 3, retryDelayMs: 1 });
    emulator.agentSetState('a-1001', { state: 'Offline' });
    await emulator.flushWebhooks();
    expect(receiver.changes).toEqual([]);
    expect(receiver.refusals).toEqual([
      { status: 401, reason: 'signature does not match' },
      { status: 401, reason: 'signature does not match' },
      { status: 401, reason: 'signature does not match' },
    ]);
    expect(emulator.webhookDeliveries).toMatchObject({ delivered: 0, dropped: 1, failedAttempts: 3 });
  });
});
