import type { AcdState } from '@presence-sync/domain';
import { waitFor } from '../../support/daemon-harness';
import { ReplicaCluster } from '../../support/replica-cluster';

/*
 * The only replica is killed (SIGKILL) right after the contact center's 30th webhook was accepted, with Salesforce
 * changes on their way too, and started again with the default lock and lease settings: both sides of every agent
 * converge within 5 s of the new process answering /ready. (A killed process leaves its jobs locked and its stream
 * lease held; they come back after WORKER_LOCK_DURATION_MS and STREAM_LEASE_TTL_MS, 5 s and 3 s by default.)
 */
const LUNCH: AcdState = { state: 'Unavailable', code: 'Lunch' };
const CONVERGE_BOUND_MS = 5_000;

describe('a crashed replica\'s work resumes at once', () => {
  const cluster = new ReplicaCluster(40);
  const agents = cluster.catalog.agents.map((a, i) => ({ ...a, i })).filter((a) => a.teamId !== 't-backoffice');
  const fromAcd = agents.slice(0, 30);
  const fromSf = agents.slice(30);

  beforeAll(async () => { await cluster.start(1); }, 120_000);
  afterAll(async () => { await cluster.stop(); }, 60_000);

  it('kill -9 after 30 accepted webhooks, restart: both sides converge within 5 s of /ready', async () => {
    const [first] = cluster.replicas;
    const okBefore = cluster.cc.webhookDeliveries.requestsOk;
    for (const a of fromAcd) cluster.cc.agentSetState(a.agentId, LUNCH);
    for (const a of fromSf) cluster.sf.agentSetStatus(cluster.emailOf(a.i), 'Break');
    await waitFor(() => cluster.cc.webhookDeliveries.requestsOk - okBefore >= 30, '30 webhooks accepted', 15_000);
    first.proc.kill('SIGKILL');
    await first.exit;

    const second = cluster.startReplica('restarted');
    await cluster.whenListening(second);
    cluster.retarget(first, second);
    await waitFor(async () => (await fetch(`${second.url}/ready`).catch(() => undefined))?.status === 200, 'the restarted replica is ready', 30_000);
    const readyAt = Date.now();

    // Nothing the contact center sent was given up on (its retries outlast the restart).
    const converged = () => fromAcd.every((a) => cluster.sf.statusOf(cluster.emailOf(a.i)) === 'Lunch')
      && fromSf.every((a) => { const s = cluster.cc.getAgent(a.agentId)?.state; return s?.state === 'Unavailable' && s.code === 'Break'; });
    await waitFor(converged, 'both sides of every agent converge', 30_000);
    const tookMs = Date.now() - readyAt;
    process.stdout.write(`crash-resume: both sides converged ${tookMs} ms after the restarted replica was ready (bound ${CONVERGE_BOUND_MS} ms)\n`);
    expect(tookMs).toBeLessThanOrEqual(CONVERGE_BOUND_MS);
    expect(cluster.cc.webhookDeliveries.dropped).toBe(0);
    expect([...cluster.cc.appliedKeys].filter(([, n]) => n > 1)).toEqual([]);
    expect([...cluster.appliedCommands].filter(([, n]) => n > 1)).toEqual([]);
  }, 120_000);
});
