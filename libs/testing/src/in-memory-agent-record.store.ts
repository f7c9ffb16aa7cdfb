import {
  AgentRecordStore, emptyAgentRecord, type AgentRecord, type AuditRecord, type CommitExtras, type CommitResult,
  type DueChanges, type InboundChange, type InboxEntry,
} from '@presence-sync/domain';

/**
 * `AgentRecordStore` in memory, with the same compare-and-set and inbox semantics as the Redis store, for fast
 * tests of the engine. Records are copied in and out, as a real store would.
 */
export class InMemoryAgentRecordStore extends AgentRecordStore {
  private readonly records = new Map<string, AgentRecord>();
  private readonly inboxes = new Map<string, string[]>();
  readonly audit = new Map<string, AuditRecord[]>();
  /** The due set (one for all partitions): member → when. */
  readonly due = new Map<string, number>();

  async load(agentId: string): Promise<AgentRecord> {
    const r = this.records.get(agentId);
    return r ? structuredClone(r) : emptyAgentRecord();
  }

  async commit(agentId: string, expectedRev: number, next: AgentRecord, extras: CommitExtras = {}): Promise<CommitResult> {
    const rev = this.records.get(agentId)?.rev ?? 0;
    if (rev !== expectedRev) return 'conflict';
    if (extras.pop && !this.headIs(extras.pop.inbox, extras.pop.entries)) return 'moved';
    if (extras.pop) this.inboxes.get(extras.pop.inbox)?.splice(0, extras.pop.entries.length);
    this.records.set(agentId, { ...structuredClone(next), rev: rev + 1 });
    if (extras.audit?.length) this.audit.set(agentId, [...[...extras.audit].reverse(), ...(this.audit.get(agentId) ?? [])]);
    if (extras.due) await this.schedule(agentId, extras.due);
    return extras.pop && (this.inboxes.get(extras.pop.inbox)?.length ?? 0) > 0 ? 'more' : 'ok';
  }

  async schedule(_agentId: string, due: DueChanges): Promise<void> {
    for (const member of due.remove) this.due.delete(member);
    for (const [member, at] of due.settle ?? []) if (this.due.get(member) === at) this.due.delete(member);
    for (const [member, at] of due.add) this.due.set(member, Math.min(this.due.get(member) ?? Infinity, at));
  }

  async peek(inbox: string, limit: number): Promise<InboxEntry[]> {
    return (this.inboxes.get(inbox) ?? []).slice(0, limit).map((raw) => ({ raw, change: JSON.parse(raw) as InboundChange }));
  }

  async discard(inbox: string, entries: string[]): Promise<CommitResult> {
    if (!this.headIs(inbox, entries)) return 'moved';
    this.inboxes.get(inbox)?.splice(0, entries.length);
    return 'ok';
  }

  /** Appends a change to an inbox, as intake does. */
  push(inbox: string, change: InboundChange): void {
    const list = this.inboxes.get(inbox) ?? [];
    list.push(JSON.stringify(change));
    this.inboxes.set(inbox, list);
  }

  /** Audit records of an agent, oldest first. */
  auditOf(agentId: string): AuditRecord[] {
    return [...(this.audit.get(agentId) ?? [])].reverse();
  }

  private headIs(inbox: string, entries: string[]): boolean {
    const list = this.inboxes.get(inbox) ?? [];
    return entries.every((e, i) => list[i] === e);
  }
}
