import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import Redis from 'ioredis';
import { loadConfig } from '@presence-sync/config';
import {
  ContactCenterEmulator, SalesforceEmulator, salesforceEmulatorSandboxSeed, SANDBOX_SALESFORCE,
} from '@presence-sync/testing';
import { createDaemon } from '../../../apps/presence-sync/src/daemon.bootstrap';
import { StreamLeader } from '../../../apps/presence-sync/src/services/stream-leader.service';
import { dropPrefix, ENGINE_RULES, SECRET, TOKEN, waitFor } from '../../support/daemon-harness';
import { ForwardProxy } from '../../support/forward-proxy';

/*
 * The replica holding the Salesforce stream lease loses its own way to Salesforce (its egress, its proxy), while
 * Redis and the other replica are fine. Renewing the lease would keep the stream dead for everyone, so after
 * STREAM_LEASE_GIVE_UP_MS of a down stream the holder hands the lease on; the other replica subscribes and
 * resumes from the stored replay id, so a presence change made in Salesforce during the outage still reaches the
 * contact center. Both replicas are real daemons (jsforce against the Salesforce emulator); replica A reaches
 * Salesforce only through a forward proxy that the test cuts.
 */

const TTL_MS = 1_000;
const GIVE_UP_MS = 2_000;
const PUSH_TOPIC = 'PresenceSyncUSP';
const USP_QUERY = 'SELECT Id, UserId, ServicePresenceStatusId, IsCurrentState, IsAway, StatusStartDate, StatusEndDate FROM UserServicePresence';

describe('the stream holder gives up its lease when its stream stays down', () => {
  const prefix = `t${randomUUID().slice(0, 8)}`;
  const catalog = ContactCenterEmulator.sandboxCatalog(4);
  const apps: INestApplication[] = [];
  let cc: ContactCenterEmulator;
  let sf: SalesforceEmulator;
  let proxy: ForwardProxy;
  let redis: Redis;
  let ccBaseUrl: string;

  const boot = async (extra: Record<string, string>): Promise<{ app: INestApplication; leader: StreamLeader; url: string }> => {
    const config = loadConfig({
      REDIS_URL: process.env.REDIS_URL, REDIS_PREFIX: prefix, ACD_BASE_URL: ccBaseUrl, ACD_TOKEN: TOKEN, ACD_WEBHOOK_SECRET: SECRET,
      HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', RULES_DIR: ENGINE_RULES, RULES_WATCH: 'false', ADMIN_DASHBOARD: 'off', LOG_LEVEL: 'silent',
      SYNC_BACKOFF_MS: '50', DIRECTORY_REFRESH_INTERVAL_MS: '0', RECONCILE_INTERVAL_MS: '0', DEFAULT_UNAVAILABLE_CODE: 'System',
      SHUTDOWN_TIMEOUT_MS: '3000', STREAM_LEASE_TTL_MS: String(TTL_MS), STREAM_LEASE_GIVE_UP_MS: String(GIVE_UP_MS),
      SALESFORCE_MODE: 'live', SALESFORCE_LOGIN_URL: sf.baseUrl, SALESFORCE_AUTH: 'password',
      SALESFORCE_CLIENT_ID: SANDBOX_SALESFORCE.clientId, SALESFORCE_CLIENT_SECRET: SANDBOX_SALESFORCE.clientSecret,
      SALESFORCE_USERNAME: SANDBOX_SALESFORCE.username, SALESFORCE_PASSWORD: SANDBOX_SALESFORCE.password,
      SALESFORCE_SECURITY_TOKEN: SANDBOX_SALESFORCE.securityToken, SALESFORCE_OFFLINE_HOLD_MS: '300', SALESFORCE_PUSH_TOPIC: PUSH_TOPIC,
      ...extra,
    });
    const app = await createDaemon(config);
    apps.push(app);
    await app.listen(0, '127.0.0.1');
    return { app, leader: app.get(StreamLeader), url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
  };

  beforeAll(async () => {
    redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    cc = new ContactCenterEmulator({ token: TOKEN, ...catalog });
    ({ baseUrl: ccBaseUrl } = await cc.start());
    for (const a of catalog.agents) if (a.state.state !== 'Available') cc.agentSetState(a.agentId, { state: 'Available' });
    const seed = salesforceEmulatorSandboxSeed(catalog.agents.map((a) => a.email), { initialStatus: () => 'Available_Chat' });
    sf = new SalesforceEmulator({ ...seed, cometdTimeoutMs: 5_000, provision: { ...seed.provision, pushTopics: [{ name: PUSH_TOPIC, query: USP_QUERY }] } });
    await sf.start();
    proxy = await new ForwardProxy().start();
  }, 30_000);

  afterAll(async () => {
    for (const app of apps) await app.close().catch(() => undefined);
    await proxy?.close();
    await sf?.stop();
    await cc?.stop();
    await dropPrefix(redis, prefix);
    redis.disconnect();
  }, 30_000);

  it('hands the lease to the replica that reaches Salesforce, which resumes the stream without losing the change made meanwhile', async () => {
    // A boots first, so it holds the lease; its Salesforce traffic, stream included, goes through the proxy.
    const a = await boot({ SALESFORCE_PROXY_URL: proxy.url });
    const b = await boot({});
    expect([a.leader.isActive, a.leader.subscribed, b.leader.isActive]).toEqual([true, true, false]);
    expect(proxy.cometd().length).toBeGreaterThan(0);

    const cutAt = Date.now();
    proxy.cut();
    await waitFor(() => !a.leader.subscribed, 'replica A sees its stream down', GIVE_UP_MS);
    const seenDownMs = Date.now() - cutAt;
    // A down stream takes no replica out of the load balancer; monitoring sees it.
    expect((await fetch(`${a.url}/ready`)).status).toBe(200);
    const deps = await fetch(`${a.url}/dependencies`);
    expect(deps.status).toBe(503);
    expect(Object.keys(((await deps.json()) as { error: Record<string, unknown> }).error)).toEqual(['salesforceStream']);
    expect((await a.leader.status()).downSince).not.toBeNull();

    // Made in Salesforce while the holder's stream is down: nobody receives it until the stream moves.
    const agent = catalog.agents[0];
    sf.agentSetStatus(agent.email.toLowerCase(), 'Lunch');

    await waitFor(() => b.leader.isActive && b.leader.subscribed, 'replica B takes the lease and subscribes', GIVE_UP_MS + 8_000);
    const takenOverMs = Date.now() - cutAt;
    const aStatus = await a.leader.status();
    expect(aStatus.role).toBe('standby');
    // A gave up no sooner than GIVE_UP_MS after its stream went down (it was down from the cut on).
    expect(Date.parse(aStatus.since) - cutAt).toBeGreaterThanOrEqual(GIVE_UP_MS);
    expect(aStatus.holder).toBe((await b.leader.status()).replica);

    await waitFor(() => cc.getAgent(agent.agentId)?.state.code === 'Lunch', 'the change made during the outage reaches the contact center', 10_000);
    console.log(`stream-lease-give-up: after the cut, A saw its stream down at ${seenDownMs} ms, gave the lease up at ${Date.parse(aStatus.since) - cutAt} ms ` +
      `(STREAM_LEASE_GIVE_UP_MS ${GIVE_UP_MS}, TTL ${TTL_MS}); B subscribed at ${takenOverMs} ms; the change made meanwhile reached the contact center at ${Date.now() - cutAt} ms`);

    // A's way to Salesforce is back; the lease stays with B, and A stands by.
    proxy.restore();
    await new Promise((r) => setTimeout(r, TTL_MS * 2));
    expect([a.leader.isActive, b.leader.isActive, b.leader.subscribed]).toEqual([false, true, true]);
  }, 40_000);
});

