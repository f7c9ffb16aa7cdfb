import { randomUUID } from 'node:crypto';
import { AgentRecordStore, Clock, type AgentRecord, type InboundChange, type InboxEntry } from '@presence-sync/domain';
import type { ResolvedAgent } from './agent-directory';
import { chain, ingest, type IngestContext, type IngestOutcome, type IngestVerdict, type Transition } from './agent-transitions';
import { EngineSettings } from './engine-settings';
import { DirectorySource, RuleSetSource } from './sources';
import { TransitionRunner } from './transition-runner';

export interface DrainResult {
  /** Outcome of each change applied, in order. */
  outcomes: IngestOutcome[];
  /** The change at the head of the inbox whose agent the directory does not know (left in place unless discarded). */
  unknown?: InboundChange;
}

/** How many inbox entries one transition may take (one record load and one store for all of them). */
const DRAIN_BATCH = 32;

/**
 * Takes reported changes: records what the source side now shows (dropping stale reports, recognising our own
 * writes coming back), decides with the agent's rule what the other side must show, and triggers the sync.
 * Changes arrive through per-agent inboxes and are applied in inbox order, each exactly once: the transition
 * that applies a change also pops it, in one compare-and-set, so neither a crash nor a second replica draining
 * the same inbox can apply it twice or out of order.
 */
export class IngestChange {
  constructor(
    private readonly store: AgentRecordStore,
    private readonly runner: TransitionRunner,
    private readonly rules: RuleSetSource,
    private readonly directory: DirectorySource,
    private readonly settings: EngineSettings,
    private readonly clock: Clock,
    private readonly newWriteId: () => string = randomUUID,
  ) {}

  /**
   * Applies an inbox's changes in order until the transition that pops the last of them finds the inbox empty.
   * @param discardUnknown drop a change whose agent the directory does not know (else stop and report it)
   */
  async drain(inbox: string, discardUnknown = false): Promise<DrainResult> {
    const outcomes: IngestOutcome[] = [];
    for (;;) {
      const entries = await this.store.peek(inbox, DRAIN_BATCH);
      if (entries.length === 0) return { outcomes };
      const agent = this.agentOf(entries[0].change);
      if (!agent) {
        if (!discardUnknown) return { outcomes, unknown: entries[0].change };
        await this.store.discard(inbox, [entries[0].raw]);
        continue;
      }
      // The leading run of entries of this agent, applied together.
      const run: InboxEntry[] = [];
      for (const e of entries) {
        if (this.agentOf(e.change)?.agentId !== agent.agentId) break;
        run.push(e);
      }
      const result = await this.runner.run(agent.agentId, (record) => this.fold(record, run.map((e) => e.change), agent), { pop: { inbox, entries: run.map((e) => e.raw) } });
      if (result.kind === 'stored') {
        outcomes.push(...result.verdict.map((v) => v.outcome));
        // The pop said whether anything is queued behind: no read to find the inbox empty. (What the store
        // answered for the head may have been its guess: a pop of entries that were not the head is `moved`.)
        if (!result.more) return { outcomes };
      }
      // `moved`: another worker applied them first, or the head was not what the store expected; read it again.
    }
  }

  /**
   * Applies one change now, outside any inbox (drift repair's snapshots). `snapshot` marks it as the side's
   * state read at `readAt`.
   */
  async apply(change: InboundChange, snapshot?: IngestContext['snapshot']): Promise<IngestOutcome | 'unknown-agent'> {
    const agent = this.agentOf(change);
    if (!agent) return 'unknown-agent';
    const result = await this.runner.run(agent.agentId, (record) => ingest(record, change, this.context(agent, snapshot)));
    return result.kind === 'stored' ? result.verdict.outcome : 'duplicate';
  }

  agentOf(change: InboundChange): ResolvedAgent | undefined {
    const dir = this.directory.current();
    return change.side === 'acd' ? dir.byAgent(change.agentId) : dir.bySalesforceUser(change.userId);
  }

  context(agent: ResolvedAgent, snapshot?: IngestContext['snapshot']): IngestContext {
    return {
      now: this.clock.now(), agent, rule: this.rules.current()?.ruleFor(agent)?.rule, settings: this.settings, newWriteId: this.newWriteId, snapshot,
    };
  }

  /** Several changes of one agent in order, as one transition. */
  private fold(record: AgentRecord, changes: InboundChange[], agent: ResolvedAgent): Transition<IngestVerdict[]> {
    const steps: Transition<IngestVerdict>[] = [];
    let current = record;
    for (const change of changes) {
      const t = ingest(current, change, this.context(agent));
      steps.push(t);
      current = t.record;
    }
    return chain(steps, steps.map((t) => t.verdict), current);
  }
}
