import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import Redis from 'ioredis';
import { DEFAULT_SYNC_PARTITIONS, loadConfig } from '@presence-sync/config';
import { AuditLog, SalesforcePort, type AuditRecord } from '@presence-sync/domain';
import { agentInbox, PartitionQueues, QUEUES, RedisKeys } from '@presence-sync/redis';
import { JsforceSalesforceAdapter } from '@presence-sync/salesforce';
import {
  ContactCenterEmulator, SalesforceEmulator, salesforceEmulatorSandboxSeed, SANDBOX_SALESFORCE, type StreamEvent,
} from '@presence-sync/testing';
import { createDaemon } from '../../../apps/presence-sync/src/daemon.bootstrap';
import { dropPrefix, ENGINE_RULES, SECRET, TOKEN, waitFor } from '../../support/daemon-harness';
import { mulberry32, type Rng } from '../../support/seeded-random';
import { nextPair, pause, sameState, STATE_PAIRS } from '../../support/both-way-load';

/*
 * Salesforce token revoked under load. The daemon runs with the jsforce adapter (SALESFORCE_MODE=live) against
 * the Salesforce emulator (OAuth, REST, CometD on faye, one emulated console per agent) while agents change state
 * on both sides. Mid-load the integration user's session is revoked (SalesforceEmulator.revokeTokens: REST
 * answers 401 INVALID_SESSION_ID, the CometD client is told `401::Authentication invalid` with advice
 * `none`), and Salesforce-side changes go on meanwhile.
 *
 * The adapter must log in again and rebuild the streaming client, which resumes from the stored replay id: every
 * presence change made in Salesforce reaches the daemon (none lost while the stream was down, none taken twice),
 * every command after the revocation is pushed with the new token, no contact-center write is applied twice,
 * and every agent ends in its last state on both sides. Seeded: RESILIENCE_SEED.
 */

const SEED = Number.parseInt(process.env.RESILIENCE_SEED ?? '20261121', 10) >>> 0;
const CATALOG_SIZE = 30;
const PUSH_TOPIC = 'PresenceSyncUSP';
const CHANNEL = `/topic/${PUSH_TOPIC}`;
const USP_QUERY = 'SELECT Id, UserId, ServicePresenceStatusId, IsCurrentState, IsAway, StatusStartDate, StatusEndDate FROM UserServicePresence';
const ROUNDS_BEFORE = 3;
const ROUNDS_AFTER = 3;
/** Pacing of the load generator (agents change state seconds apart in real life; here a round every few ms). */
const ROUND_GAP_MS = 40;


describe('resilience: Salesforce token revoked under load', () => {
  let cc: ContactCenterEmulator;
  let sf: SalesforceEmulator;
  let app: INestApplication | undefined;
  let redis: Redis;
  const prefix = `t${randomUUID().slice(0, 8)}`;
  const keys = new RedisKeys(prefix, DEFAULT_SYNC_PARTITIONS);
  const catalog = ContactCenterEmulator.sandboxCatalog(CATALOG_SIZE);
  const rng: Rng = mulberry32(SEED ^ 0x7070);

  beforeAll(async () => {
    cc = new ContactCenterEmulator({ token: TOKEN, ...catalog });
    const { baseUrl } = await cc.start();
    // Logged-out agents take no state but Offline: every agent starts Available, in both systems.
    for (const a of catalog.agents) if (a.state.state !== 'Available') cc.agentSetState(a.agentId, { state: 'Available' });
    const seed = salesforceEmulatorSandboxSeed(catalog.agents.map((a) => a.email), { initialStatus: () => 'Available_Chat' });
    sf = new SalesforceEmulator({ ...seed, cometdTimeoutMs: 5_000, provision: { ...seed.provision, pushTopics: [{ name: PUSH_TOPIC, query: USP_QUERY }] } });
    await sf.start();
    for (const a of catalog.agents) await sf.openConsole(a.email.toLowerCase());
    const config = loadConfig({
      REDIS_URL: process.env.REDIS_URL, REDIS_PREFIX: prefix, ACD_BASE_URL: baseUrl, ACD_TOKEN: TOKEN, ACD_WEBHOOK_SECRET: SECRET,
      HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', RULES_DIR: ENGINE_RULES, RULES_WATCH: 'false', ADMIN_DASHBOARD: 'off', LOG_LEVEL: 'silent',
      SYNC_BACKOFF_MS: '50', SYNC_ATTEMPTS: '10', DIRECTORY_REFRESH_INTERVAL_MS: '0', RECONCILE_INTERVAL_MS: '0', DEFAULT_UNAVAILABLE_CODE: 'System',
      SF_CONFIRM_TIMEOUT_MS: '3000', WORKER_LOCK_DURATION_MS: '2000', WORKER_STALLED_INTERVAL_MS: '1000', SHUTDOWN_TIMEOUT_MS: '3000',
      SALESFORCE_MODE: 'live', SALESFORCE_LOGIN_URL: sf.baseUrl, SALESFORCE_AUTH: 'password',
      SALESFORCE_CLIENT_ID: SANDBOX_SALESFORCE.clientId, SALESFORCE_CLIENT_SECRET: SANDBOX_SALESFORCE.clientSecret,
      SALESFORCE_USERNAME: SANDBOX_SALESFORCE.username, SALESFORCE_PASSWORD: SANDBOX_SALESFORCE.password,
      SALESFORCE_SECURITY_TOKEN: SANDBOX_SALESFORCE.securityToken, SALESFORCE_OFFLINE_HOLD_MS: '300', SALESFORCE_PUSH_TOPIC: PUSH_TOPIC,
    });
    app = await createDaemon(config);
    await app.listen(0, '127.0.0.1');
    cc.setWebhook({ url: `${(await app.getUrl()).replace('[::1]', '127.0.0.1')}/v1/acd/events`, secret: SECRET, retryDelayMs: 20 });
    redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  }, 30_000);

  afterAll(async () => {
    await app?.close();
    await sf?.stop();
    await cc?.stop();
    if (redis) {
      await dropPrefix(redis, prefix);
      redis.disconnect();
    }
  }, 30_000);

  const audit = (agentId: string): Promise<AuditRecord[]> => app!.get(AuditLog).list(agentId, 1000);

  it('the adapter logs in again, the stream resumes from its replay id, nothing is lost or applied twice', async () => {
    const adapter = app!.get(SalesforcePort);
    expect(adapter).toBeInstanceOf(JsforceSalesforceAdapter);
    const session = (adapter as JsforceSalesforceAdapter).session;
    const stream = (adapter as JsforceSalesforceAdapter).stream;
    const logins: { at: number; reason: string }[] = [];
    session.onToken(({ reason }) => logins.push({ at: Date.now(), reason }));
    const subscriptions: { at: number; clientId: string }[] = [];
    sf.on('subscribe', (client, channel) => { if (channel === CHANNEL) subscriptions.push({ at: Date.now(), clientId: client.clientId }); });
    await waitFor(() => stream.subscribed, 'the presence stream is subscribed');
    const integrationUser = sf.userId(SANDBOX_SALESFORCE.username);

    const agents = catalog.agents
      .map((a, i) => ({ agentId: a.agentId, teamId: a.teamId, email: a.email.toLowerCase(), i }))
      .filter((a) => a.teamId !== 't-backoffice' && a.i !== 1 && a.i !== 2)
      .map((a, n) => ({ ...a, fromAcd: n % 2 === 0, last: 0 }));
    expect(agents.length).toBeGreaterThanOrEqual(20);
    const agentOfUser = new Map(agents.map((a) => [sf.userId(a.email), a]));

    function round(which: 'both' | 'salesforce' = 'both'): void {
      for (const a of agents) {
        if (which === 'salesforce' && a.fromAcd) continue;
        const pair = nextPair(rng, a);
        if (a.fromAcd) cc.agentSetState(a.agentId, pair.acd);
        else sf.agentSetStatus(a.email, pair.sf);
      }
    }

    for (let r = 0; r < ROUNDS_BEFORE; r++) {
      round();
      await pause(ROUND_GAP_MS);
    }
    // Mid-load: the integration user's session is revoked; Salesforce changes go on in the same tick, while the
    // streaming client learns that its token is gone.
    const tokenBefore = session.accessToken;
    const revokedAt = Date.now();
    expect(sf.revokeTokens(SANDBOX_SALESFORCE.username)).toBeGreaterThanOrEqual(1);
    round('salesforce');
    await pause(ROUND_GAP_MS);
    round();

    // REST and streaming log in again: a new token, and a new CometD client on it subscribed to the PushTopic.
    await waitFor(() => logins.length > 0 && session.accessToken !== tokenBefore, 'the adapter logged in again', 15_000);
    await waitFor(() => subscriptions.some((s) => s.at >= revokedAt) && stream.subscribed, 'the stream subscribed again', 15_000);
    // Rows created after the revocation, before a client on the new token subscribed: the new client must take
    // them by replay from the stored replay id.
    const resubscribedAt = subscriptions.find((x) => x.at >= revokedAt)!.at;
    const whileDown = sf.streamEvents(CHANNEL).filter((e) => isCreated(e) && e.createdAt >= revokedAt && e.createdAt < resubscribedAt);
    expect(whileDown.length).toBeGreaterThanOrEqual(agents.filter((a) => !a.fromAcd).length);

    // Then the session expires as a REST call sees it first (Salesforce's session timeout hits whichever call
    // comes first): one command push is answered 401 INVALID_SESSION_ID. The call logs in again and is sent
    // once more; the stream, told about the new token, rebuilds its client from the stored replay id.
    const expiredAt = Date.now();
    sf.failNext(1, { status: 401, method: 'POST', path: /\/push$/ });
    for (let r = 0; r < ROUNDS_AFTER; r++) {
      round();
      await pause(ROUND_GAP_MS);
    }
    await waitFor(() => logins.some((l) => l.at >= expiredAt && l.reason === 'session expired'), 'the push logged in again', 15_000);
    await waitFor(() => subscriptions.some((s) => s.at >= expiredAt) && stream.subscribed, 'the stream rebuilt its client on the new token', 15_000);

    const wrong = () => agents.filter((a) => !sameState(cc.getAgent(a.agentId)?.state, STATE_PAIRS[a.last].acd) || sf.statusOf(a.email) !== STATE_PAIRS[a.last].sf);
    const idle = async () => {
      for (const name of Object.values(QUEUES)) {
        const counts = await app!.get(PartitionQueues).counts(name, 'waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
        if (Object.values(counts).some((n) => n > 0)) return false;
      }
      for (const a of agents) {
        const rec = await redis.hgetall(keys.agent(a.agentId));
        if (rec['pending:salesforce'] || rec['inflight:acd'] || rec['inflight:salesforce']) return false;
      }
      return true;
    };
    await waitFor(async () => {
      if (wrong().length > 0 || cc.webhookDeliveries.pending > 0) return false;
      await stream.drained(); // every event received so far is in the inbound queue
      return idle();
    }, 'every agent in its last state on both sides, everything ingested', 40_000)
      .catch((e: Error) => {
        throw new Error(`${e.message}\n${JSON.stringify(wrong().map((a) => ({ ...a, acd: cc.getAgent(a.agentId)?.state, sf: sf.statusOf(a.email), want: STATE_PAIRS[a.last] })))}`);
      });

    // Re-authenticated, REST and streaming: the old token is refused everywhere, a new client carries the stream.
    const streamClients = sf.streamingClients(integrationUser).filter((c) => c.channels.includes(CHANNEL));
    expect(streamClients).toHaveLength(1);
    expect(subscriptions.filter((s) => s.at >= expiredAt).map((s) => s.clientId)).toContain(streamClients[0].clientId);
    expect(subscriptions.filter((s) => s.at < revokedAt).map((s) => s.clientId)).not.toContain(streamClients[0].clientId);
    const pushesAfter = sf.pushes.filter((p) => p.at > revokedAt);
    expect(pushesAfter.length).toBeGreaterThan(0);

    // No change lost, none taken twice: every presence row created since shortly before the revocation (an
    // agent's click, or a console applying our command) reached the engine (audited by the ingest, whatever it
    // decided: queued, echo, stale…), and never twice (no ingest outcome repeated for one event id). The stored
    // replay id is the newest event's.
    const ingested = new Map<string, string[]>();
    for (const a of agents) {
      for (const r of await audit(a.agentId)) {
        // Ingest records carry no job attempt; sync records (applied, retrying…) do.
        const eventId = r.source?.side === 'salesforce' && r.attempt === undefined ? r.source.eventId : undefined;
        if (eventId) ingested.set(eventId, [...(ingested.get(eventId) ?? []), r.outcome]);
      }
    }
    const created = sf.streamEvents(CHANNEL).filter((e) => isCreated(e) && e.createdAt >= revokedAt - 2_000);
    expect(created.length).toBeGreaterThan(agents.length);
    const missing: string[] = [];
    const twice: string[] = [];
    for (const e of created) {
      const row = (e.data as { sobject: { Id: string; UserId: string } }).sobject;
      if (!agentOfUser.has(row.UserId)) continue;
      const outcomes = ingested.get(`usp:${row.Id}:created`) ?? [];
      if (outcomes.length === 0) {
        const a = agentOfUser.get(row.UserId)!;
        missing.push(`usp:${row.Id}:created (replay id ${e.replayId}) agent ${a.agentId} fromAcd ${a.fromAcd} at ${e.createdAt - revokedAt} seen ${await redis.get(keys.seen(agentInbox(a.agentId), 'salesforce', `usp:${row.Id}:created`))} ${JSON.stringify(e.data)}`);
        for (const r of (await audit(a.agentId)).reverse()) missing.push(`   ${r.at - revokedAt} ${JSON.stringify(r)}`);
      }
      if (new Set(outcomes).size !== outcomes.length) twice.push(`usp:${row.Id}:created: ${outcomes.join(', ')}`);
    }
    expect(twice).toEqual([]);
    expect(missing).toEqual([]);
    const lastReplayId = Math.max(...sf.streamEvents(CHANNEL).map((e) => e.replayId));
    // The stream stores its replay id at most once a second: the last one is there within that.
    const storedReplayId = async () => Number(await redis.get(keys.checkpoint(`salesforce:replay:${CHANNEL}`)));
    await waitFor(async () => (await storedReplayId()) === lastReplayId, 'the last replay id stored', 5_000).catch(() => undefined);
    expect(await storedReplayId()).toBe(lastReplayId);

    // Nothing applied twice on the contact center; a console applies a command id once (it drops repeats, as the
    // relay does); nothing failed.
    expect([...cc.appliedKeys].filter(([, n]) => n > 1)).toEqual([]);
    for (const a of agents) {
      const failed = (await audit(a.agentId)).filter((r) => r.outcome === 'failed');
      expect({ agent: a.agentId, failed }).toEqual({ agent: a.agentId, failed: [] });
    }
    // The revoked session never reached the engine as an error: REST calls that got 401 INVALID_SESSION_ID were
    // re-sent once after the new login (SalesforceSession.call), and commands went on.
    for (const a of agents) {
      const sessionErrors = (await audit(a.agentId)).filter((r) => /INVALID_SESSION_ID|session-expired|auth-failed/.test(r.detail ?? ''));
      expect({ agent: a.agentId, sessionErrors }).toEqual({ agent: a.agentId, sessionErrors: [] });
    }
    console.log(`salesforce-token: logins ${JSON.stringify(logins.map((l) => l.reason))}, REST calls refused with 401 after the revocation: ` +
      `${sf.refusedApiCalls}, stream resubscribed ${resubscribedAt - revokedAt} ms after the revocation, ${whileDown.length} rows created meanwhile`);
    expect((await fetch(`${(await app!.getUrl()).replace('[::1]', '127.0.0.1')}/ready`)).status).toBe(200);
  }, 60_000);

  /** A new USP row: an agent's click or a console applying our command. */
  function isCreated(e: StreamEvent): boolean {
    return (e.data as { event: { type: string } }).event.type === 'created';
  }
});
