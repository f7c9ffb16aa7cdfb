import { randomUUID } from 'node:crypto';
import { signGenericWebhook } from '@presence-sync/contact-center';
import { SECRET, waitFor } from '../../support/daemon-harness';
import { ReplicaCluster } from '../../support/replica-cluster';

/*
 * SIGTERM with SHUTDOWN_DRAIN_MS, on the real process (`presence-sync start`): during a rolling update the
 * orchestrator sends SIGTERM and takes the pod out of the service at about the same time, so requests keep
 * arriving for a moment. The daemon must fail readiness at once but keep taking (and syncing) changes until the
 * drain is over, and only then stop in order and exit 0.
 */

const DRAIN_MS = 3_000;

async function statusOf(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json().catch(() => undefined) };
}

describe('SIGTERM with SHUTDOWN_DRAIN_MS', () => {
  let cluster: ReplicaCluster;

  beforeAll(async () => {
    cluster = new ReplicaCluster(4, process.env.REDIS_URL, { SHUTDOWN_DRAIN_MS: String(DRAIN_MS) });
    await cluster.start(1);
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 30_000);

  it('is not ready at once, still takes and syncs a change during the drain, then stops and exits 0', async () => {
    const replica = cluster.replicas[0];
    const agent = cluster.catalog.agents[0];
    const email = cluster.emailOf(0);
    expect((await statusOf(`${replica.url}/ready`)).status).toBe(200);
    const exitCode = new Promise<number | null>((resolve) => replica.proc.once('exit', (code) => resolve(code)));

    const signalledAt = Date.now();
    replica.proc.kill('SIGTERM');
    await waitFor(async () => (await statusOf(`${replica.url}/ready`)).status === 503, 'readiness fails after SIGTERM', 2_000);
    const ready = await statusOf(`${replica.url}/ready`);
    expect(ready.body).toMatchObject({ error: { intake: { status: 'down', state: 'draining' } } });
    // Liveness holds: the orchestrator must not kill a replica that is stopping on purpose.
    expect((await statusOf(`${replica.url}/health`)).status).toBe(200);

    // A request the load balancer routed here before it noticed: taken (202), not refused, and synced.
    const raw = JSON.stringify({ eventId: randomUUID(), occurredAt: new Date().toISOString(), agentId: agent.agentId, state: { state: 'Unavailable', code: 'Lunch' } });
    const ts = Math.floor(Date.now() / 1000);
    const posted = await fetch(`${replica.url}/v1/acd/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-presence-timestamp': String(ts), 'x-presence-signature': signGenericWebhook(SECRET, ts, raw) },
      body: raw,
    });
    expect(posted.status).toBe(202);
    expect(Date.now() - signalledAt).toBeLessThan(DRAIN_MS);
    await waitFor(() => cluster.sf.statusOf(email) === 'Lunch', 'the change taken during the drain reaches Salesforce', DRAIN_MS);

    expect(await exitCode).toBe(0);
    // Not before the drain was over.
    expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(DRAIN_MS);
    expect(replica.log).toContain(`SIGTERM: draining for ${DRAIN_MS} ms`);
    expect(replica.log).toContain('presence-sync stopped');
  }, 30_000);
});
