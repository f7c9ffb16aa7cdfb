import { createHash } from 'node:crypto';

/** Redis key names under one prefix (docs/architecture.md, "Redis keys"). */
export class RedisKeys {
  constructor(readonly prefix: string) {}
  agent(agentId: string): string { return `${this.prefix}:agent:{${agentId}}`; }
  audit(agentId: string): string { return `${this.prefix}:audit:{${agentId}}`; }
  seen(side: string, eventId: string): string { return `${this.prefix}:seen:${side}:${eventId}`; }
  checkpoint(name: string): string { return `${this.prefix}:checkpoint:${name}`; }
  /** BullMQ's own key prefix. */
  get queuePrefix(): string { return `${this.prefix}:q`; }
}

/** A BullMQ-safe job id (no colons, bounded length) derived from any text. */
export function jobIdOf(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}
