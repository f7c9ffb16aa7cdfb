import { DEFAULT_SYNC_PARTITIONS } from '@presence-sync/config';
import { waitFor } from '../../support/daemon-harness';
import { ReplicaCluster } from '../../support/replica-cluster';

/**
 * Real daemon processes on one Redis: the partitions spread over the replicas, and a replica stopped with SIGTERM
 * hands its partitions over within 3 s (issue 13). The owner of a partition is the value of its lease key: the
 * replica id, which carries the process id.
 */
describe('partitions across daemon replicas', () => {
  const cluster = new ReplicaCluster(6);
  const owners = async (): Promise<(string | null)[]> =>
    Promise.all(Array.from({ length: DEFAULT_SYNC_PARTITIONS }, (_, n) => cluster.redis.get(cluster.keys.owner(n))));
  const pidOf = (owner: string | null) => Number(owner?.split(':')[1]);

  beforeAll(async () => { await cluster.start(2); }, 120_000);
  afterAll(async () => { await cluster.stop(); });

  it('two replicas share the partitions; SIGTERM to one hands its share to the other within 3 s', async () => {
    const [a, b] = cluster.replicas;
    await waitFor(async () => {
      const pids = (await owners()).map(pidOf);
      return pids.filter((p) => p === a.proc.pid).length === DEFAULT_SYNC_PARTITIONS / 2 && pids.filter((p) => p === b.proc.pid).length === DEFAULT_SYNC_PARTITIONS / 2;
    }, 'the partitions split 4 + 4', 20_000);

    const stoppedAt = Date.now();
    b.proc.kill('SIGTERM');
    await waitFor(async () => (await owners()).every((o) => pidOf(o) === a.proc.pid), 'replica a works every partition', 10_000);
    const handover = Date.now() - stoppedAt;
    process.stdout.write(`partition handover after SIGTERM: ${handover} ms\n`);
    expect(handover).toBeLessThan(3_000);
    await b.exit;

    // Still syncing, now through the one replica: a change of every agent whose team has Lunch reaches Salesforce.
    const lunch = cluster.catalog.agents.map((a, i) => ({ a, i }))
      .filter(({ a }) => cluster.catalog.teams.find((t) => t.teamId === a.teamId)?.unavailableCodes.includes('Lunch'));
    expect(lunch.length).toBeGreaterThan(1);
    for (const { a } of lunch) cluster.cc.agentSetState(a.agentId, { state: 'Unavailable', code: 'Lunch' });
    await waitFor(() => lunch.every(({ i }) => cluster.sf.statusOf(cluster.emailOf(i)) === 'Lunch'), 'those agents show Lunch in Salesforce', 20_000);
  }, 60_000);
});
