import { AgentRecordStore, SyncTrigger, type AgentRecord, type CommitExtras } from '@presence-sync/domain';
import type { Transition } from './agent-transitions';
import { hasDueChanges, scheduleOf, type DueSettle } from './due-schedule';
import { AuditFeed } from './sources';

/** Thrown when one agent's record kept changing under a transition: the run is tried again later. */
export class RecordContentionError extends Error {
  constructor(agentId: string, tries: number) {
    super(`the record of agent ${agentId} changed under ${tries} tries in a row`);
    this.name = RecordContentionError.name;
  }
}

const MAX_TRIES = 25;

/** `more`: the inbox the transition popped from still holds entries behind them (false without a pop). */
export type RunResult<V> = { kind: 'stored'; verdict: V; more: boolean } | { kind: 'moved' };

export interface RunOptions<V> {
  /** Inbox entries this transition consumes. */
  pop?: CommitExtras['pop'];
  /** The due entry the transition ends, given its verdict (the last step of a scheduled run). */
  settle?: (verdict: V) => DueSettle | undefined;
}

/**
 * Runs one transition: load the record, compute the new one with a pure function, store it with a
 * compare-and-set together with its audit records, its inbox pops and the schedule its effects ask for (the
 * partition's due set), all in one atomic step; then start the syncs wanted now. A record changed meanwhile
 * (another worker or replica) is read again and the transition computed again. A record the store answered from
 * its cache is good enough to compute a change (the compare-and-set checks it), not to conclude there is none.
 */
export class TransitionRunner {
  constructor(
    private readonly store: AgentRecordStore,
    private readonly trigger: SyncTrigger,
    private readonly feed: AuditFeed,
    /** How long a sync started here may run before the partition's owner runs it again from the due set, ms. */
    private readonly guardMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  async run<V>(agentId: string, compute: (record: AgentRecord) => Transition<V>, options: RunOptions<V> = {}): Promise<RunResult<V>> {
    const { pop } = options;
    let fresh = false;
    let more = false;
    for (let tries = 1; tries <= MAX_TRIES; tries++) {
      const record = await this.store.load(agentId, fresh);
      const cached = this.store.fromCache(record);
      const t = compute(record);
      const { due, runNow } = scheduleOf(agentId, t.effects, {
        now: this.now(), here: this.trigger.runsHere(agentId), guardMs: this.guardMs, settle: options.settle?.(t.verdict),
      });
      if (t.record !== record || t.audit.length > 0 || pop) {
        const result = await this.store.commit(agentId, record.rev, t.record, { audit: t.audit, pop, ...(hasDueChanges(due) ? { due } : {}) });
        if (result === 'conflict') {
          fresh = true;
          continue;
        }
        if (result === 'moved') return { kind: 'moved' };
        more = result === 'more';
      } else if (cached) {
        // Nothing to store is a decision the compare-and-set never checks: take it from the stored record only.
        fresh = true;
        continue;
      } else if (hasDueChanges(due)) {
        await this.store.schedule(agentId, due);
      }
      this.feed.recorded(t.audit);
      if (runNow.length > 0) this.trigger.committed(agentId, runNow);
      return { kind: 'stored', verdict: t.verdict, more };
    }
    throw new RecordContentionError(agentId, MAX_TRIES);
  }
}
