import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import Redis from 'ioredis';
import { loadConfig } from '@presence-sync/config';
import { AuditLog, type AuditOutcome, type AuditRecord } from '@presence-sync/domain';
import { USP_PUSH_TOPIC_QUERY } from '@presence-sync/salesforce';
import { ContactCenterEmulator, SalesforceEmulator, salesforceEmulatorSandboxSeed, SANDBOX_SALESFORCE, SANDBOX_STATUSES } from '@presence-sync/testing';
import { createDaemon } from '../../../apps/presence-sync/src/daemon.bootstrap';
import { ENGINE_RULES, SECRET, TOKEN, waitFor } from '../../support/daemon-harness';

/** The PushTopic query `salesforce setup` creates (capacity fields included). */
const USP_QUERY = USP_PUSH_TOPIC_QUERY;

/**
 * The whole product with the real jsforce adapter: the daemon in SALESFORCE_MODE=live against the Salesforce
 * emulator (OAuth, REST, CometD on faye, emulated consoles that apply commands like the relay) and the
 * contact-center emulator.
 */
describe('round trip through the daemon with the jsforce adapter', () => {
  let cc: ContactCenterEmulator;
  let sf: SalesforceEmulator;
  let app: INestApplication;
  let redis: Redis;
  const prefix = `t${randomUUID().slice(0, 8)}`;
  const catalog = ContactCenterEmulator.sandboxCatalog(6);
  const email = (agentId: string) => catalog.agents.find((a) => a.agentId === agentId)!.email;

  beforeAll(async () => {
    cc = new ContactCenterEmulator({ token: TOKEN, ...catalog });
    const { baseUrl } = await cc.start();
    const seed = salesforceEmulatorSandboxSeed(catalog.agents.map((a) => a.email), { initialStatus: () => 'Available_Chat' });
    sf = new SalesforceEmulator({ ...seed, cometdTimeoutMs: 5_000, provision: { ...seed.provision, pushTopics: [{ name: 'PresenceSyncUSP', query: USP_QUERY }] } });
    await sf.start();
    for (const a of catalog.agents) await sf.openConsole(a.email.toLowerCase());
    const config = loadConfig({
      REDIS_URL: process.env.REDIS_URL, REDIS_PREFIX: prefix, ACD_BASE_URL: baseUrl, ACD_TOKEN: TOKEN, ACD_WEBHOOK_SECRET: SECRET,
      HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', RULES_DIR: ENGINE_RULES, RULES_WATCH: 'false', ADMIN_DASHBOARD: 'off', LOG_LEVEL: 'silent',
      SYNC_BACKOFF_MS: '20', SYNC_ATTEMPTS: '3', DIRECTORY_REFRESH_INTERVAL_MS: '0', RECONCILE_INTERVAL_MS: '0', DEFAULT_UNAVAILABLE_CODE: 'System',
      SF_CONFIRM_TIMEOUT_MS: '5000', SALESFORCE_CONSOLE_POLL_MS: '5000',
      SALESFORCE_MODE: 'live', SALESFORCE_LOGIN_URL: sf.baseUrl, SALESFORCE_AUTH: 'password',
      SALESFORCE_CLIENT_ID: SANDBOX_SALESFORCE.clientId, SALESFORCE_CLIENT_SECRET: SANDBOX_SALESFORCE.clientSecret,
      SALESFORCE_USERNAME: SANDBOX_SALESFORCE.username, SALESFORCE_PASSWORD: SANDBOX_SALESFORCE.password,
      SALESFORCE_SECURITY_TOKEN: SANDBOX_SALESFORCE.securityToken, SALESFORCE_OFFLINE_HOLD_MS: '300',
    });
    app = await createDaemon(config);
    await app.listen(0, '127.0.0.1');
    cc.setWebhook({ url: `${(await app.getUrl()).replace('[::1]', '127.0.0.1')}/v1/acd/events`, secret: SECRET, retryDelayMs: 20 });
    redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  });

  afterAll(async () => {
    await app?.close();
    await sf?.stop();
    await cc?.stop();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  const audit = (agentId: string): Promise<AuditRecord[]> => app.get(AuditLog).list(agentId, 500);
  const has = async (agentId: string, outcome: AuditOutcome) => (await audit(agentId)).some((r) => r.outcome === outcome);
  const pushesTo = (agentId: string) => sf.pushes.filter((p) => p.userIds.includes(sf.userId(email(agentId).toLowerCase())));

  it('ACD change → console command → new USP row → confirmed, and nothing echoed back', async () => {
    cc.agentSetState('a-1001', { state: 'Unavailable', code: 'Lunch' });
    await waitFor(() => sf.statusOf(email('a-1001').toLowerCase()) === 'Lunch', 'the console applied Lunch');
    await waitFor(() => has('a-1001', 'confirmed'), 'the presence stream confirmed the write');
    await waitFor(() => has('a-1001', 'echo'), 'the USP change is recognised as our echo');
    expect(cc.writes.filter((w) => w.agentId === 'a-1001')).toHaveLength(0);
    expect(pushesTo('a-1001')).toHaveLength(1);
  });

  it('Salesforce change → ACD write, and the contact center\'s report of it is not synced back', async () => {
    sf.agentSetStatus(email('a-1002').toLowerCase(), 'Break');
    await waitFor(() => cc.getAgent('a-1002')?.state.code === 'Break', 'the ACD shows Unavailable:Break');
    await waitFor(() => has('a-1002', 'echo'), 'the webhook of our write is an echo');
    expect(pushesTo('a-1002')).toHaveLength(0);
  });

  it('logging out of Omni-Channel reaches the ACD as Offline', async () => {
    sf.agentSetStatus(email('a-1003').toLowerCase(), 'Offline');
    await waitFor(() => cc.getAgent('a-1003')?.state.state === 'Offline', 'the ACD shows Offline');
  });

  it('a write to a closed console is held without spending pushes, and lands when the console opens', async () => {
    const user = email('a-1005').toLowerCase();
    await sf.closeConsole(user);
    cc.agentSetState('a-1005', { state: 'Unavailable', code: 'Break' });
    await waitFor(async () => (await audit('a-1005')).some((r) => r.outcome === 'held' && /console/.test(r.detail ?? '')), 'audited held: console closed');
    // Held, not retried: one push found the console closed, and no attempt is spent while it stays closed.
    expect(pushesTo('a-1005')).toHaveLength(1);
    expect(await has('a-1005', 'failed')).toBe(false);
    await sf.openConsole(user);
    // The adapter's console poll (SALESFORCE_CONSOLE_POLL_MS) sees it subscribed again and the write is resumed.
    await waitFor(() => sf.statusOf(user) === 'Break', 'the console applies Break once it is open', 15_000);
    await waitFor(() => has('a-1005', 'confirmed'), 'confirmed by the presence stream');
    expect(pushesTo('a-1005')).toHaveLength(2);
  }, 30_000);

  it('a status the agent may not use: the console refuses every send, and the write ends failed after its re-sends', async () => {
    const user = email('a-1006').toLowerCase();
    sf.addProfile({ name: 'No Lunch', statuses: SANDBOX_STATUSES.map((s) => s.developerName).filter((s) => s !== 'Lunch') });
    sf.setUserProfile(user, 'No Lunch');
    cc.agentSetState('a-1006', { state: 'Unavailable', code: 'Lunch' });
    await waitFor(() => has('a-1006', 'failed'), 'audited failed: never confirmed', 40_000);
    expect(sf.statusOf(user)).toBe('Available_Chat');
    // Each send reached the open console and was refused there (Service Presence Status Access), none applied.
    expect(pushesTo('a-1006').length).toBeGreaterThan(1);
    expect(sf.consoleStats(user)).toMatchObject({ failed: pushesTo('a-1006').length, applied: 0 });
  }, 60_000);
});
