import { AgentRecordStore, SyncTrigger, type AgentRecord, type CommitExtras, type Side } from '@presence-sync/domain';
import type { Effect, Transition } from './agent-transitions';
import { AuditFeed } from './sources';

/** Thrown when one agent's record kept changing under a transition: the job is retried. */
export class RecordContentionError extends Error {
  constructor(agentId: string, tries: number) {
    super(`the record of agent ${agentId} changed under ${tries} tries in a row`);
    this.name = RecordContentionError.name;
  }
}

const MAX_TRIES = 25;

export type RunResult<V> = { kind: 'stored'; verdict: V } | { kind: 'moved' };

/**
 * Runs one transition: load the record, compute the new one with a pure function, store it with a
 * compare-and-set (its audit records and inbox pops in the same atomic step), then run the effects. A record
 * changed meanwhile (another worker or replica) is read again and the transition computed again.
 */
export class TransitionRunner {
  constructor(private readonly store: AgentRecordStore, private readonly trigger: SyncTrigger, private readonly feed: AuditFeed) {}

  async run<V>(agentId: string, compute: (record: AgentRecord) => Transition<V>, pop?: CommitExtras['pop']): Promise<RunResult<V>> {
    for (let tries = 1; tries <= MAX_TRIES; tries++) {
      const record = await this.store.load(agentId);
      const t = compute(record);
      if (t.record !== record || t.audit.length > 0 || pop) {
        const result = await this.store.commit(agentId, record.rev, t.record, { audit: t.audit, pop });
        if (result === 'conflict') continue;
        if (result === 'moved') return { kind: 'moved' };
      }
      this.feed.recorded(t.audit);
      await runEffects(this.trigger, agentId, t.effects);
      return { kind: 'stored', verdict: t.verdict };
    }
    throw new RecordContentionError(agentId, MAX_TRIES);
  }
}

/** Runs a transition's effects for one agent; several triggers of one target collapse to the shortest delay. */
export async function runEffects(trigger: SyncTrigger, agentId: string, effects: readonly Effect[]): Promise<void> {
  const triggers = new Map<Side, number>();
  const calls: Promise<void>[] = [];
  for (const e of effects) {
    if (e.kind === 'trigger') triggers.set(e.target, Math.min(triggers.get(e.target) ?? Infinity, e.delayMs));
    else if (e.kind === 'schedule-confirm') calls.push(trigger.scheduleConfirm(agentId, e.writeId, e.send, e.delayMs));
    else calls.push(trigger.cancelConfirm(agentId, e.writeId, e.send));
  }
  for (const [target, delayMs] of triggers) calls.push(trigger.trigger(target, agentId, delayMs));
  await Promise.all(calls);
}
