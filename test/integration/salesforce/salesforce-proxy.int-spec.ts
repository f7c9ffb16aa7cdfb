import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RetryableWriteError } from '@presence-sync/domain';
import { JsforceSalesforceAdapter, type BayeuxMessage } from '@presence-sync/salesforce';
import {
  AGENTS, CLIENT_SECRET, INTEGRATION, MemoryCheckpoints, PUSH_TOPIC, RecordingSink, SalesforceEmulator, settingsFor, startEmulator, until,
} from './salesforce-test-kit';
import { ForwardProxy } from '../../support/forward-proxy';

/** A local port nothing listens on: connecting to it is refused. */
async function refusingPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The Bayeux messages of a carried request or response body. */
function bayeux(text: string | undefined): BayeuxMessage[] {
  if (!text) return [];
  try {
    const parsed: unknown = JSON.parse(text);
    return (Array.isArray(parsed) ? parsed : [parsed]) as BayeuxMessage[];
  } catch {
    return [];
  }
}

let emulator: SalesforceEmulator;
let proxy: ForwardProxy;
let adapter: JsforceSalesforceAdapter | undefined;

beforeEach(async () => {
  emulator = await startEmulator();
  proxy = await new ForwardProxy().start();
});
afterEach(async () => {
  await adapter?.stop();
  adapter = undefined;
  await emulator.stop();
  await proxy.close();
});

describe('SALESFORCE_PROXY_URL', () => {
  it('carries login, queries, the push and the CometD stream through the proxy', async () => {
    const emulatorAuthority = new URL(emulator.baseUrl).host;
    adapter = new JsforceSalesforceAdapter({ settings: { ...settingsFor(emulator), proxyUrl: proxy.url }, checkpoints: new MemoryCheckpoints() });
    const sink = new RecordingSink();

    // REST: login and the status catalog.
    const identity = await adapter.connect();
    expect(identity.userId).toBe(emulator.userId(INTEGRATION.username));
    const statuses = await adapter.listStatuses();
    expect(statuses.map((s) => s.developerName)).toContain('Available_Chat');

    // Streaming: a presence change made in Salesforce reaches the sink.
    await adapter.start(sink);
    const omar = emulator.userId(AGENTS[1]);
    emulator.agentSetStatus(AGENTS[1], 'Lunch');
    await until(() => sink.statusesOf(omar).includes('Lunch'), 'the change over the stream');

    // REST: the console command push; the console applies it and the stream shows it.
    await emulator.openConsole(AGENTS[0]);
    const ana = emulator.userId(AGENTS[0]);
    await expect(adapter.sendStatus({ userId: ana, status: 'Available_Chat', commandId: randomUUID(), expiresAt: Date.now() + 30_000 }))
      .resolves.toEqual({ kind: 'confirm-pending' });
    expect(emulator.pushes.at(-1)?.userIds).toEqual([ana]);
    await until(() => sink.statusesOf(ana).includes('Available_Chat'), 'the pushed status over the stream');

    // REST went through CONNECT tunnels to the emulator — every REST call the emulator answered.
    expect(proxy.tunnels.length).toBeGreaterThan(0);
    expect(new Set(proxy.tunnels)).toEqual(new Set([emulatorAuthority]));
    const rest = proxy.rest();
    expect(rest.filter((r) => r.method === 'POST' && r.path === '/services/oauth2/token')).toHaveLength(1);
    expect(rest.some((r) => r.method === 'GET' && r.path.startsWith('/services/data/v62.0/query') && r.path.includes('ServicePresenceStatus'))).toBe(true);
    expect(rest.some((r) => r.method === 'POST' && /^\/services\/data\/v62\.0\/sobjects\/StreamingChannel\/\w+\/push$/.test(r.path))).toBe(true);
    expect(rest.filter((r) => r.path.startsWith('/services/data/'))).toHaveLength(emulator.apiCalls);

    // CometD went through the proxy as absolute-URI requests: handshake, subscribe, and the long-poll that
    // brought the events, all of the one client the emulator knows for the integration user.
    const cometd = proxy.cometd();
    expect(cometd.length).toBeGreaterThan(0);
    expect(cometd.every((r) => r.via === 'absolute-uri' && r.authority === emulatorAuthority && r.path === '/cometd/62.0')).toBe(true);
    const sent = cometd.flatMap((r) => bayeux(r.body));
    const received = cometd.flatMap((r) => bayeux(r.response));
    expect(sent.some((m) => m.channel === '/meta/handshake')).toBe(true);
    expect(sent.some((m) => m.channel === '/meta/subscribe' && m.subscription === `/topic/${PUSH_TOPIC}`)).toBe(true);
    const [client] = emulator.streamingClients(INTEGRATION.username);
    expect(client?.channels).toEqual([`/topic/${PUSH_TOPIC}`]);
    expect(sent.some((m) => m.channel === '/meta/connect' && m.clientId === client.clientId)).toBe(true);
    const events = received.filter((m) => m.channel === `/topic/${PUSH_TOPIC}`);
    const userIds = events.map((m) => (m.data as { sobject?: { UserId?: string } }).sobject?.UserId);
    expect(userIds).toEqual(expect.arrayContaining([omar, ana]));
  });

  it('fails the login with one clear line, no secret in it, when the proxy refuses connections', async () => {
    const port = await refusingPort();
    const proxyPassword = 'proxy-pass-93c1e';
    adapter = new JsforceSalesforceAdapter({
      settings: { ...settingsFor(emulator), proxyUrl: `http://relay:${proxyPassword}@127.0.0.1:${port}` }, checkpoints: new MemoryCheckpoints(),
    });
    const error = await adapter.connect().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(RetryableWriteError);
    const e = error as RetryableWriteError;
    expect(e.reason).toBe('network');
    expect(e.message.split('\n')).toHaveLength(1);
    // Names the proxy (the refusing party), its credentials redacted.
    expect(e.message).toBe(`Salesforce login (SALESFORCE_AUTH=password) could not reach ${emulator.baseUrl} through the proxy http://***@127.0.0.1:${port}: ECONNREFUSED`);
    for (const secret of [INTEGRATION.password, INTEGRATION.securityToken, CLIENT_SECRET, proxyPassword]) expect(e.message).not.toContain(secret);
  });
});
