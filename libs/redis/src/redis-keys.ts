import { createHash } from 'node:crypto';

/**
 * Redis key names under one prefix (docs/architecture.md, "Redis keys"). An agent's record, audit trail and
 * inbox share the hash tag `{agentId}`, so one transition's script touches one Cluster slot.
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}
  agent(agentId: string): string { return `${this.prefix}:agent:{${agentId}}`; }
  audit(agentId: string): string { return `${this.prefix}:audit:{${agentId}}`; }
  /** An inbox (see `inboxId`): an agent's, or a Salesforce user's the directory did not know at intake. */
  inbox(id: string): string {
    return id.startsWith(USER_INBOX) ? `${this.prefix}:inbox-user:{${id.slice(USER_INBOX.length)}}` : `${this.prefix}:inbox:{${id.slice(AGENT_INBOX.length)}}`;
  }
  /** SCAN patterns of every inbox key. */
  get inboxPatterns(): string[] { return [`${this.prefix}:inbox:*`, `${this.prefix}:inbox-user:*`]; }
  /** The inbox id of an inbox key (the inverse of `inbox`). */
  inboxIdOf(key: string): string | undefined {
    const m = /^(.*):(inbox|inbox-user):\{(.*)\}$/.exec(key);
    if (!m || m[1] !== this.prefix) return undefined;
    return m[2] === 'inbox' ? agentInbox(m[3]) : userInbox(m[3]);
  }
  seen(side: string, eventId: string): string { return `${this.prefix}:seen:${side}:${eventId}`; }
  checkpoint(name: string): string { return `${this.prefix}:checkpoint:${name}`; }
  /** BullMQ's own key prefix. */
  get queuePrefix(): string { return `${this.prefix}:q`; }
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
