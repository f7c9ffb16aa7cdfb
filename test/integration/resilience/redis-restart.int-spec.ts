import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signGenericWebhook } from '@presence-sync/contact-center';
import { QUEUES } from '@presence-sync/redis';
import { freePort, startRedisServer, type RedisServerHandle, type WebhookAttempt } from '@presence-sync/testing';
import { DaemonHarness, SECRET, waitFor } from '../../support/daemon-harness';
import { mulberry32, type Rng } from '../../support/seeded-random';
import { nextPair, pause, sameState, STATE_PAIRS } from '../../support/both-way-load';

/*
 * Redis restarted under load. The daemon runs on a redis-server of its own (AOF with `appendfsync always`, its
 * own data directory, a fixed port), while both sides keep changing a few dozen agents. Redis is killed mid-load
 * with SIGKILL — no shutdown, no final AOF rewrite: with `appendfsync always` every write Redis acknowledged is
 * already on disk, so that is what a crash must preserve (SIGTERM would be the gentler case) — and started
 * again on the same port and directory. Meanwhile both sides keep going: the contact center's webhooks must not
 * be acknowledged (no 202) while Redis is away, so the contact center sends them again; Salesforce changes wait
 * in the stream's delivery. After the restart every
 * agent must end in the state of its last change on both sides, no write may be applied twice, nothing may be
 * given up on, and the daemon must report ready again.
 *
 * Agents: the Tier 1 / Tier 2 agents of the sandbox catalog (rule `tiers`, conflictPolicy latest), without the
 * two with their own rules. Half are driven from the contact center, half from Salesforce, so the last change of
 * each agent is unambiguous. States are the three that map one-to-one both ways. Seeded: RESILIENCE_SEED.
 */

const SEED = Number.parseInt(process.env.RESILIENCE_SEED ?? '20261121', 10) >>> 0;
const CATALOG_SIZE = 40;
const ROUNDS_BEFORE = 3;
const ROUNDS_DURING = 2;
const ROUNDS_AFTER = 2;
/** Pacing of the load generator (agents change state seconds apart in real life; here a round every few ms). */
const ROUND_GAP_MS = 15;


/**
 * A webhook try the daemon did not acknowledge. The contract (contact-center.md: 202 only "once the events are
 * durably queued") needs a refusal for no loss. The daemon answers 503 + Retry-After at once while it knows
 * Redis is away; a try already inside the enqueue when Redis died gets its 503 after the intake deadline (5 s),
 * after this contact center's 1.5 s client timeout, so it ends without an answer.
 */
const notAcknowledged = (status: number | undefined) => status === undefined || status === 0 || status >= 500;

describe('resilience: Redis restarted under load', () => {
  let redis: RedisServerHandle | undefined;
  let dir: string;
  let port: number;
  let h: DaemonHarness;
  const rng: Rng = mulberry32(SEED);

  const startRedis = () => startRedisServer({ port, dir, appendonly: true });

  /** GET with a deadline: the status, or 0 when no answer came in time. */
  const statusWithin = (url: string, ms: number): Promise<number> =>
    fetch(url, { signal: AbortSignal.timeout(ms) }).then((r) => r.status, () => 0);

  /** A signed webhook with a deadline, as a contact center with a client timeout sends it. */
  function postWithin(body: unknown, ms: number): Promise<number> {
    const raw = JSON.stringify(body);
    const ts = Math.floor(Date.now() / 1000);
    return fetch(`${h.url}/v1/acd/events`, {
      method: 'POST', body: raw, signal: AbortSignal.timeout(ms),
      headers: { 'content-type': 'application/json', 'x-presence-timestamp': String(ts), 'x-presence-signature': signGenericWebhook(SECRET, ts, raw) },
    }).then((r) => r.status, () => 0);
  }



  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'presence-sync-redis-restart-'));
    port = await freePort();
    redis = await startRedis();
    h = await DaemonHarness.start({
      agents: CATALOG_SIZE,
      env: {
        REDIS_URL: redis.url, SYNC_ATTEMPTS: '20', SYNC_BACKOFF_MS: '50', SF_CONFIRM_TIMEOUT_MS: '3000',
        WORKER_LOCK_DURATION_MS: '2000', WORKER_STALLED_INTERVAL_MS: '1000', SHUTDOWN_TIMEOUT_MS: '3000',
      },
    });
  }, 30_000);

  afterAll(async () => {
    await h?.stop();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('the daemon reconnects and nothing is lost', async () => {
    const agents = h.cc.snapshot()
      .filter((a, i) => a.teamId !== 't-backoffice' && i !== 1 && i !== 2)
      .map((a, i) => ({ agentId: a.agentId, userId: h.userOf(a.agentId), fromAcd: i % 2 === 0, last: -1 }));
    expect(agents.length).toBeGreaterThanOrEqual(30);
    // The contact center retries for longer than the outage lasts (its retry pause doubles from 50 ms).
    const attempts: { at: number; attempt: WebhookAttempt }[] = [];
    h.cc.on('webhook', (attempt) => attempts.push({ at: Date.now(), attempt }));
    h.cc.setWebhook({ url: `${h.url}/v1/acd/events`, secret: SECRET, retryDelayMs: 50, maxAttempts: 12, timeoutMs: 1500 });

    // Logged-out agents take no state but Offline: every agent starts Available (and Salesforce follows).
    const loggedOut = agents.filter((a) => h.acdState(a.agentId)?.state !== 'Available');
    for (const a of loggedOut) h.cc.agentSetState(a.agentId, { state: 'Available' });
    await waitFor(async () => loggedOut.every((a) => h.sf.statusOf(a.userId) === 'Available_Chat') && (await h.idle()),
      'the initial states are synced', 15_000);

    /** One change of every agent, from its side, to a state other than its current one. */
    function round(): void {
      for (const a of agents) {
        const pair = nextPair(rng, a);
        if (a.fromAcd) h.cc.agentSetState(a.agentId, pair.acd);
        else h.sf.agentSetStatus(a.userId, pair.sf);
      }
    }

    for (let r = 0; r < ROUNDS_BEFORE; r++) {
      round();
      await pause(ROUND_GAP_MS);
    }
    // An event the daemon already took, to send again by hand during and after the outage.
    const delivered = attempts.find((x) => x.attempt.ok)!.attempt.events[0];

    // Mid-load (webhooks and sync jobs in flight), Redis goes away.
    const queueErrors: Error[] = [];
    for (const name of Object.values(QUEUES)) for (const q of h.queues(name)) q.on('error', (e) => queueErrors.push(e));
    let inFlight = h.cc.webhookDeliveries.pending;
    for (const name of Object.values(QUEUES)) {
      inFlight += Object.values(await h.jobCounts(name, 'waiting', 'active', 'delayed', 'prioritized')).reduce((x, y) => x + y, 0);
    }
    expect(inFlight).toBeGreaterThan(0);
    const down = Date.now();
    await redis!.stop('SIGKILL');
    for (let r = 0; r < ROUNDS_DURING; r++) {
      round();
      await pause(ROUND_GAP_MS);
    }
    // While Redis is away nothing is acknowledged: the contact center's tries fail, so it sends again later.
    await waitFor(() => attempts.filter((x) => x.at > down && !x.attempt.ok).length >= 3, 'webhook tries fail during the outage', 10_000);
    const byHand = await postWithin(delivered, 2000);
    const ready = await statusWithin(`${h.url}/ready`, 2000);
    const live = await statusWithin(`${h.url}/health`, 2000);
    await waitFor(() => queueErrors.length > 0, 'the daemon noticed the outage');
    const up = Date.now();
    redis = await startRedis();

    const duringOutage = attempts.filter((x) => x.at > down && x.at < up);
    const acknowledged = duringOutage.filter((x) => x.attempt.ok && x.attempt.events.some((e) => Date.parse(e.occurredAt) >= down));
    expect(acknowledged).toEqual([]);
    for (const x of duringOutage.filter((y) => !y.attempt.ok)) expect(notAcknowledged(x.attempt.status)).toBe(true);
    // Sent once Redis is known to be away: refused at once, and /ready says why.
    expect(byHand).toBe(503);
    expect(ready).toBe(503);
    // Not the process's fault: liveness holds (the workers retry), so an orchestrator does not restart it.
    expect(live).toBe(200);

    for (let r = 0; r < ROUNDS_AFTER; r++) {
      round();
      await pause(ROUND_GAP_MS);
    }

    const wrong = () => agents.filter((a) => !sameState(h.acdState(a.agentId), STATE_PAIRS[a.last].acd) || h.sf.statusOf(a.userId) !== STATE_PAIRS[a.last].sf);
    await waitFor(async () => wrong().length === 0 && h.cc.webhookDeliveries.pending === 0 && (await h.idle()), 'every agent in its last state on both sides', 40_000)
      .catch((e: Error) => {
        throw new Error(`${e.message}\n${JSON.stringify(wrong().map((a) => ({ ...a, acd: h.acdState(a.agentId), sf: h.sf.statusOf(a.userId), want: STATE_PAIRS[a.last] })))}`);
      });
    await waitFor(async () => (await fetch(`${h.url}/ready`)).status === 200, 'the daemon is ready again', 15_000);

    // The event sent by hand during the outage, sent again: a duplicate, whatever became of the unanswered try.
    expect(await h.postEvents(delivered)).toEqual({ status: 202, body: { accepted: 0, duplicates: 1 } });

    expect([...h.cc.appliedKeys].filter(([, n]) => n > 1)).toEqual([]);
    expect(h.cc.webhookDeliveries.dropped).toBe(0);
    // Salesforce: a re-sent command carries its first send's id and status (the console applies an id once).
    const statusOfCommand = new Map<string, string>();
    for (const c of h.sf.commands) {
      expect(statusOfCommand.get(c.commandId) ?? c.status).toBe(c.status);
      statusOfCommand.set(c.commandId, c.status);
    }
    expect(await h.failedCount(QUEUES.syncAcd)).toBe(0);
    console.log(`redis-restart: ${inFlight} jobs and webhooks in flight at the kill; outage ${up - down} ms; ` +
      `webhook tries during the outage: ${duringOutage.filter((x) => !x.attempt.ok && (x.attempt.status ?? 0) >= 500).length} answered 5xx, ` +
      `${duringOutage.filter((x) => !x.attempt.ok && x.attempt.status === undefined).length} without an answer; by hand: ${byHand || 'no answer'}, /ready: ${ready || 'no answer'}`);
    for (const a of agents) {
      const failed = (await h.audit(a.agentId)).filter((r) => r.outcome === 'failed');
      expect({ agent: a.agentId, failed }).toEqual({ agent: a.agentId, failed: [] });
    }
  }, 60_000);
});
