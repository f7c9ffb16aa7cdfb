import { WebexConnector, type WebexConnectorOptions } from '@presence-sync/connector-webex';
import { PermanentWriteError } from '@presence-sync/domain';
import { InMemoryRefreshTokenStore } from '../in-memory-refresh-token.store';
import { ContactCenterEmulator } from '../contact-center-emulator';
import { WebexEmulator } from './webex-emulator';
import { webexSeedOf } from './webex-sandbox.acd';
import type { WebexEmulatorOptions } from './webex-emulator.types';

const SECRET = 'connector-spec-subscription-secret-0123456789';
const HOOK = 'https://sync.example.com/v1/acd/webex/events';

describe(WebexConnector.name, () => {
  let emulator: WebexEmulator;
  const connectors: WebexConnector[] = [];

  async function startEmulator(options: Partial<WebexEmulatorOptions> = {}): Promise<void> {
    emulator = new WebexEmulator({ ...webexSeedOf(ContactCenterEmulator.sandboxCatalog(4)), ...options });
    await emulator.start();
  }

  function connector(options: Partial<WebexConnectorOptions> = {}): WebexConnector {
    const c = new WebexConnector({
      apiBaseUrl: emulator.url, tokenUrl: emulator.tokenUrl, orgId: emulator.orgId, clientId: emulator.credentials.clientId,
      clientSecret: emulator.credentials.clientSecret, refreshToken: emulator.credentials.refreshToken, webhookUrl: HOOK, webhookSecret: SECRET,
      readRetryDelayMs: 5, ...options,
    });
    connectors.push(c);
    return c;
  }

  afterEach(async () => {
    for (const c of connectors.splice(0)) await c.stop();
    await emulator.stop();
  });

  it('two replicas starting together leave one subscription, and a restart changes nothing', async () => {
    await startEmulator();
    await Promise.all([connector().start(), connector().start()]);
    expect(emulator.listSubscriptions()).toHaveLength(1);
    const [sub] = emulator.listSubscriptions();
    expect(sub).toMatchObject({ destinationUrl: HOOK, status: 'active', secret: SECRET, eventTypes: ['agent:login', 'agent:logout', 'agent:state_change'] });
    await connector().start();
    expect(emulator.listSubscriptions()).toEqual([sub]);
  });

  it('updates the subscription when the URL or the secret changes, and sets an inactive one active again', async () => {
    await startEmulator();
    await connector().start();
    const newSecret = `${SECRET}-rotated`;
    const moved = connector({ webhookUrl: 'https://sync2.example.com/hook', webhookSecret: newSecret });
    await moved.start();
    const [sub] = emulator.listSubscriptions();
    expect(sub).toMatchObject({ destinationUrl: 'https://sync2.example.com/hook', secret: newSecret });
    emulator.deactivateSubscription(sub.id);
    const health = await moved.health();
    expect(health.up).toBe(false);
    expect(health.detail).toMatch(/inactive/);
    expect(emulator.listSubscriptions()[0].status).toBe('active');
    expect((await moved.health()).up).toBe(true);
  });

  it('keeps the refresh token Webex answers in the store, shared by replicas', async () => {
    await startEmulator({ rotateRefreshTokens: true });
    const store = new InMemoryRefreshTokenStore();
    const a = connector({ refreshTokens: store });
    await a.start();
    const first = await store.get();
    expect(first?.token).toBeDefined();
    expect(first?.token).not.toBe(emulator.credentials.refreshToken);
    // Another replica refreshes from the stored token, not from the configured one.
    emulator.revokeAccessTokens();
    const b = connector({ refreshTokens: store });
    await b.listTeams();
    expect((await store.get())?.token).not.toBe(first?.token);
    expect(store.writes).toBe(2);
  });

  it('a revoked authorization fails writes for good without showing a secret', async () => {
    await startEmulator();
    const c = connector();
    await c.start();
    emulator.revokeRefreshTokens();
    const [agent] = emulator.snapshot();
    const error = await c.setState({ agentId: agent.id, state: { state: 'Available' }, requestId: 'r1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentWriteError);
    expect((error as PermanentWriteError).reason).toBe('unauthorized');
    for (const secret of [emulator.credentials.clientSecret, emulator.credentials.refreshToken, SECRET]) expect((error as Error).message).not.toContain(secret);
  });

  it('maps a 403 to a permanent error naming the supervisor right', async () => {
    await startEmulator();
    const c = connector();
    await c.start();
    const [agent] = emulator.snapshot();
    emulator.failNext(1, 403);
    const error = await c.setState({ agentId: agent.id, state: { state: 'Offline' }, requestId: 'r2' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentWriteError);
    expect((error as PermanentWriteError).message).toMatch(/Change Agent States/);
  });

  it('logs an agent out (Offline) with a 202 and the logout event follows', async () => {
    await startEmulator();
    const c = connector();
    await c.start();
    const agent = emulator.snapshot().find((a) => a.loggedIn && a.channelState !== 'connected');
    if (!agent) throw new Error('no logged-in agent in the catalog');
    const loggedOut = new Promise<boolean>((resolve) => emulator.once('state', () => resolve(!emulator.getAgent(agent.id)?.loggedIn)));
    expect(await c.setState({ agentId: agent.id, state: { state: 'Offline' }, requestId: 'r3' })).toEqual({ kind: 'accepted' });
    expect(await loggedOut).toBe(true);
    expect((await c.listAgents()).find((a) => a.agentId === agent.id)?.state).toEqual({ state: 'Offline' });
  });
});
