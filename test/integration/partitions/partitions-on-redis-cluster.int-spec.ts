import type { Cluster } from 'ioredis';
import { DEFAULT_SYNC_PARTITIONS } from '@presence-sync/config';
import { startRedisCluster, type RedisClusterHandle } from '@presence-sync/testing';
import { waitFor } from '../../support/daemon-harness';
import { ReplicaCluster } from '../../support/replica-cluster';

/**
 * Issue 13: on a Redis Cluster the daemon used to boot, answer /ready and process nothing (MOVED / CROSSSLOT).
 * Two real replicas on a local 3-master cluster: both directions sync, and the partitions sit on several nodes.
 */
describe('two replicas on a 3-master Redis Cluster', () => {
  let redis: RedisClusterHandle;
  let cluster: ReplicaCluster;

  beforeAll(async () => {
    redis = await startRedisCluster({ masters: 3 });
    cluster = new ReplicaCluster(6, undefined, { REDIS_CLUSTER_NODES: redis.nodesSetting });
    await cluster.start(2);
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
    await redis?.stop();
  });

  it('syncs both ways, with the partitions spread over the nodes', async () => {
    const withLunch = cluster.catalog.agents.map((a, i) => ({ a, i }))
      .filter(({ a }) => cluster.catalog.teams.find((t) => t.teamId === a.teamId)?.unavailableCodes.includes('Lunch'));
    expect(withLunch.length).toBeGreaterThan(1);
    for (const { a } of withLunch) cluster.cc.agentSetState(a.agentId, { state: 'Unavailable', code: 'Lunch' });
    await waitFor(() => withLunch.every(({ i }) => cluster.sf.statusOf(cluster.emailOf(i)) === 'Lunch'), 'contact center → Salesforce', 30_000);

    const [{ a, i }] = withLunch;
    cluster.sf.agentSetStatus(cluster.emailOf(i), 'Break');
    await waitFor(() => cluster.cc.getAgent(a.agentId)?.state.code === 'Break', 'Salesforce → contact center', 30_000);

    // Each partition's owner key lives on the node of its slot: all 8 are held, and on more than one node.
    const masters = (cluster.redis as unknown as Cluster).nodes('master');
    const perNode = await Promise.all(masters.map((node) => node.keys(`${cluster.prefix}:{p*}:owner`)));
    expect(perNode.flat()).toHaveLength(DEFAULT_SYNC_PARTITIONS);
    expect(perNode.filter((keys) => keys.length > 0).length).toBeGreaterThan(1);
  }, 90_000);
});
