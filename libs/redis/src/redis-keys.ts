import { createHash } from 'node:crypto';

/** The most partitions a deployment may have (REDIS_PARTITIONS). */
export const MAX_PARTITIONS = 1024;

/**
 * The partition of an id among `partitions`: FNV-1a (32 bit) of its UTF-8 bytes, modulo the count. Stable
 * across processes, versions and replicas; changing the count moves agents, so a deployment keeps its count
 * (`RedisKeys.layout` records it and the daemon refuses to boot with another).
 */
export function partitionOf(id: string, partitions: number): number {
  if (partitions <= 1) return 0;
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(id, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitions;
}

/**
 * Redis key names under one prefix (docs/architecture.md, "Redis keys"). Agents are spread over `partitions`
 * partitions; every key and queue of partition n carries the hash tag `{pn}` (`ps:{p3}:agent:a-1`), so on a
 * Redis Cluster a partition lives in one slot: each script touches one slot, and the partitions spread over the
 * nodes. Deployment-wide keys (leases, checkpoints, locks, the member list) carry no partition.
 */
export class RedisKeys {
  constructor(readonly prefix: string, readonly partitions = 1) {
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
      throw new Error(`RedisKeys: partitions must be an integer from 1 to ${MAX_PARTITIONS}, got ${partitions}`);
    }
    if (/[{}]/.test(prefix)) throw new Error(`RedisKeys: the prefix must not contain { or } (they make Redis Cluster hash tags), got ${JSON.stringify(prefix)}`);
  }

  /** The partition of an agent (its record, audit, inbox and sync jobs). */
  partitionOfAgent(agentId: string): number { return partitionOf(agentId, this.partitions); }

  /** The partition of an inbox: an agent's is the agent's; a Salesforce user's (agent unknown at intake) is the user id's. */
  partitionOfInbox(inbox: string): number {
    return inbox.startsWith(USER_INBOX) ? partitionOf(inbox.slice(USER_INBOX.length), this.partitions) : partitionOf(inbox.slice(AGENT_INBOX.length), this.partitions);
  }

  /** What every key of partition n starts with: the prefix and the partition's hash tag. */
  partition(n: number): string { return `${this.prefix}:{p${n}}`; }

  agent(agentId: string): string { return `${this.partition(this.partitionOfAgent(agentId))}:agent:${agentId}`; }
  audit(agentId: string): string { return `${this.partition(this.partitionOfAgent(agentId))}:audit:${agentId}`; }
  /** An inbox (see `inboxId`): an agent's, or a Salesforce user's the directory did not know at intake. */
  inbox(id: string): string {
    const p = this.partition(this.partitionOfInbox(id));
    return id.startsWith(USER_INBOX) ? `${p}:inbox-user:${id.slice(USER_INBOX.length)}` : `${p}:inbox:${id.slice(AGENT_INBOX.length)}`;
  }
  /** SCAN patterns of every inbox key of partition n. */
  inboxPatterns(n: number): string[] { return [`${this.partition(n)}:inbox:*`, `${this.partition(n)}:inbox-user:*`]; }
  /** The inbox id of an inbox key (the inverse of `inbox`). */
  inboxIdOf(key: string): string | undefined {
    const m = /^(.*):\{p\d+\}:(inbox|inbox-user):(.*)$/.exec(key);
    if (!m || m[1] !== this.prefix) return undefined;
    return m[2] === 'inbox' ? agentInbox(m[3]) : userInbox(m[3]);
  }
  /**
   * The intake de-duplication marker of a change: per side, inbox (agent, or unknown Salesforce user) and event id,
   * in the inbox's partition. An event id names an event of one agent: the same id for another agent is not a
   * duplicate, whichever partitions the two agents are in.
   */
  seen(inbox: string, side: string, eventId: string): string { return `${this.partition(this.partitionOfInbox(inbox))}:seen:${side}:${inbox}:${eventId}`; }
  /** The inboxes of partition n waiting for their owner to apply them (a sorted set: inbox id → when queued). */
  ready(n: number): string { return `${this.partition(n)}:ready`; }
  /** What partition n's owner runs at a time: syncs and confirmation checks (a sorted set: `dueMember` → epoch ms). */
  due(n: number): string { return `${this.partition(n)}:due`; }
  /** BullMQ's key prefix for the queues of partition n. */
  queuePrefix(n: number): string { return `${this.partition(n)}:q`; }
  /** Which replica works partition n (a lease). */
  owner(n: number): string { return `${this.partition(n)}:owner`; }

  checkpoint(name: string): string { return `${this.prefix}:checkpoint:${name}`; }
  /** The current refresh token, sealed (a hash), and the lock replicas refresh under. A connector's store has its own prefix. */
  get refreshToken(): string { return `${this.prefix}:salesforce:refresh-token`; }
  get refreshLock(): string { return `${this.prefix}:salesforce:refresh-lock`; }
  /** The live replicas (a sorted set: member = replica id, score = when its heartbeat expires). */
  get members(): string { return `${this.prefix}:members`; }
  /** The deployment's key layout (its partition count), written at first boot. */
  get layout(): string { return `${this.prefix}:layout`; }
}

const AGENT_INBOX = 'agent/';
const USER_INBOX = 'user/';
/** The inbox id of an agent. */
export const agentInbox = (agentId: string): string => `${AGENT_INBOX}${agentId}`;
/** The agent of an agent inbox id (undefined for a user inbox). */
export const agentIdOfInbox = (id: string): string | undefined => (id.startsWith(AGENT_INBOX) ? id.slice(AGENT_INBOX.length) : undefined);
/** The inbox id of a Salesforce user whose agent was not known at intake. */
export const userInbox = (userId: string): string => `${USER_INBOX}${userId}`;

/** A BullMQ-safe job id (no colons, bounded length) derived from any text. */
export function jobIdOf(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}
