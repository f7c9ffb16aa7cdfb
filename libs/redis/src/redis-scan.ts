import type Redis from 'ioredis';
import type { Cluster } from 'ioredis';

/**
 * Every key matching `pattern`, by SCAN (never KEYS). On a Redis Cluster each master is scanned: a pattern with
 * a partition's hash tag matches on one node only, but which one is the cluster's business.
 */
export async function scanKeys(redis: Redis | Cluster, pattern: string): Promise<string[]> {
  const nodes: Redis[] = redis.isCluster ? (redis as Cluster).nodes('master') : [redis as Redis];
  const found: string[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== '0');
  }
  return found;
}
