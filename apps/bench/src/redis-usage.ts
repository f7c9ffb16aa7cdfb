import type { Cluster, Redis } from 'ioredis';

/** What the Redis servers have done so far: commands run and CPU spent, summed over the nodes. */
export interface RedisUsage {
  /**
   * Commands run, from `INFO commandstats` (the `calls` of every command). A script's own commands count as
   * well as the EVALSHA that ran them. INFO is left out: only the benchmark sends it.
   */
  commands: number;
  /** Of these, script and function calls (EVAL, EVALSHA, FCALL and their read-only forms). */
  scriptCalls: number;
  /** Redis CPU (user + system), ms. */
  cpuMs: number;
}

const SCRIPT_COMMANDS = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro']);
/** Commands only the benchmark itself sends while it measures. */
const OWN_COMMANDS = new Set(['info']);

/** Reads the `INFO cpu commandstats` text of one server. */
export function parseRedisUsage(info: string): RedisUsage {
  const usage: RedisUsage = { commands: 0, scriptCalls: 0, cpuMs: 0 };
  for (const line of info.split(/\r?\n/)) {
    const stat = /^cmdstat_([^:]+):.*?\bcalls=(\d+)/.exec(line);
    if (stat) {
      // Subcommands are reported as `config|get`; they count as the command they are.
      const name = stat[1].split('|')[0].toLowerCase();
      if (OWN_COMMANDS.has(name)) continue;
      usage.commands += Number(stat[2]);
      if (SCRIPT_COMMANDS.has(name)) usage.scriptCalls += Number(stat[2]);
      continue;
    }
    const cpu = /^used_cpu_(?:sys|user):([\d.]+)$/.exec(line.trim());
    if (cpu) usage.cpuMs += Number(cpu[1]) * 1000;
  }
  return usage;
}

export function addUsage(a: RedisUsage, b: RedisUsage): RedisUsage {
  return { commands: a.commands + b.commands, scriptCalls: a.scriptCalls + b.scriptCalls, cpuMs: a.cpuMs + b.cpuMs };
}

export function usageBetween(before: RedisUsage, after: RedisUsage): RedisUsage {
  return { commands: after.commands - before.commands, scriptCalls: after.scriptCalls - before.scriptCalls, cpuMs: after.cpuMs - before.cpuMs };
}

export const totalUsage = (nodes: RedisUsage[]): RedisUsage => nodes.reduce(addUsage, { commands: 0, scriptCalls: 0, cpuMs: 0 });

/** The usage of one server, or of each master of a cluster (in the order of their addresses). */
export async function readRedisUsage(redis: Redis | Cluster): Promise<RedisUsage[]> {
  const nodes = redis.isCluster ? (redis as Cluster).nodes('master') : [redis as Redis];
  const byAddress = (n: Redis) => `${n.options.host ?? ''}:${String(n.options.port ?? 0).padStart(5, '0')}`;
  const sorted = [...nodes].sort((a, b) => byAddress(a).localeCompare(byAddress(b)));
  return (await Promise.all(sorted.map((node) => node.info('cpu', 'commandstats')))).map(parseRedisUsage);
}

/** The keys of one BullMQ queue that hold its backlog (BullMQ's `queue.keys`). */
export interface QueueBacklogKeys {
  wait: string;
  active: string;
  prioritized: string;
}

/** The backlog keys among a BullMQ queue's keys (`queue.keys`). */
export function backlogKeys(keys: Record<string, string>): QueueBacklogKeys {
  return { wait: keys.wait, active: keys.active, prioritized: keys.prioritized };
}

/**
 * Queue depths read with plain commands the benchmark counts, so that its own reads can be taken out of the
 * Redis commands it measures (BullMQ's getJobCounts runs a script whose inner commands vary).
 */
export class BacklogProbe {
  /** Commands this probe has had answered. */
  commandsSent = 0;

  constructor(private readonly redis: Redis | Cluster) {}

  /** Waiting + active + prioritized jobs of each queue. */
  async depths(queues: readonly QueueBacklogKeys[]): Promise<number[]> {
    // One command at a time per key rather than a pipeline: on a cluster the queues may sit on different nodes.
    return Promise.all(queues.map(async (q) => {
      const [wait, active, prioritized] = await Promise.all([this.redis.llen(q.wait), this.redis.llen(q.active), this.redis.zcard(q.prioritized)]);
      this.commandsSent += 3;
      return wait + active + prioritized;
    }));
  }
}
