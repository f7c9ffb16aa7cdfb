import { randomUUID } from 'node:crypto';
import {
  acdStateKey, AuditLog, Clock, type AcdState, type AuditRecord, type InboundChange, type Side, type SyncDirection,
} from '@presence-sync/domain';
import { publish, subscribe } from '@presence-sync/rules';
import type { ResolvedAgent } from './agent-directory';
import { AgentStateStore, SyncTrigger, type AgentRecord, type ObserveOutcome, type ObserveResult, type SideValue } from '@presence-sync/domain';
import { EngineSettings } from './engine-settings';
import { DirectorySource, RuleSetSource } from './sources';

export type IngestOutcome =
  | ObserveOutcome
  | 'unknown-agent'
  | 'queued'
  | 'no-change'
  | 'no-rule'
  | 'unmapped'
  | 'unlinked'
  | 'no-previous'
  | 'conflict'
  | 'superseded';

export interface IngestResult {
  outcome: IngestOutcome;
  agentId?: string;
}

interface Observed {
  agent: ResolvedAgent;
  change: InboundChange;
  side: Side;
  value: SideValue;
  key: string;
  result: ObserveResult;
}

/** A change seen by drift repair rather than reported by the vendor. */
export type ChangeReason = 'sync' | 'reconcile';

const other = (side: Side): Side => (side === 'acd' ? 'salesforce' : 'acd');
const directionOf = (side: Side): SyncDirection => (side === 'acd' ? 'acd->salesforce' : 'salesforce->acd');

/**
 * Takes one inbound change: records what the source side now shows (dropping stale events and recognising
 * our own echoes), decides with the agent's rule what the other side must show, and triggers the sync.
 * Idempotent per event: a re-run after a crash re-decides and finds the same want.
 */
export class IngestChange {
  constructor(
    private readonly store: AgentStateStore,
    private readonly audit: AuditLog,
    private readonly trigger: SyncTrigger,
    private readonly rules: RuleSetSource,
    private readonly directory: DirectorySource,
    private readonly settings: EngineSettings,
    private readonly clock: Clock,
  ) {}

  async run(change: InboundChange, reason: ChangeReason = 'sync'): Promise<IngestResult> {
    const observed = await this.observe(change);
    return observed ? this.conclude(observed, observed.result.record, reason) : this.unknown(change);
  }

  /**
   * Several changes of one agent seen together (drift repair reads both sides at once): every one is recorded
   * before any is decided, so a decision never acts on a side whose fresh state is about to be recorded.
   */
  async runTogether(changes: InboundChange[], reason: ChangeReason): Promise<IngestResult[]> {
    const observed = await Promise.all(changes.map((c) => this.observe(c)));
    const results: IngestResult[] = [];
    for (let i = 0; i < changes.length; i++) {
      const o = observed[i];
      if (!o) { results.push(this.unknown(changes[i])); continue; }
      const record = o.result.outcome === 'recorded' ? await this.store.get(o.agent.agentId) : o.result.record;
      results.push(await this.conclude(o, record, reason));
    }
    return results;
  }

  private unknown(change: InboundChange): IngestResult {
    return { outcome: 'unknown-agent', agentId: change.side === 'acd' ? change.agentId : undefined };
  }

  private async observe(change: InboundChange): Promise<Observed | undefined> {
    const dir = this.directory.current();
    const agent = change.side === 'acd' ? dir.byAgent(change.agentId) : dir.bySalesforceUser(change.userId);
    if (!agent) return undefined;
    const side = change.side;
    const value: SideValue = side === 'acd' ? change.state : change.status;
    const key = side === 'acd' ? acdStateKey(change.state) : change.status;
    const result = await this.store.observe(
      agent.agentId, side,
      { value, key, at: change.occurredAt, seq: side === 'acd' ? change.sequence : undefined, eventId: change.eventId },
      this.clock.now(),
      // A write of ours overtaken while in flight can still land until its command expires.
      this.settings.commandTtlMs,
    );
    return { agent, change, side, value, key, result };
  }

  private async conclude(observed: Observed, record: AgentRecord, reason: ChangeReason): Promise<IngestResult> {
    const { agent, change, side, value, key } = observed;
    const now = this.clock.now();
    const base: Omit<AuditRecord, 'outcome'> = {
      at: now, agentId: agent.agentId, direction: reason === 'reconcile' ? 'reconcile' : directionOf(side),
      source: { side: reason === 'reconcile' ? 'reconcile' : side, eventId: change.eventId, occurredAt: change.occurredAt, state: value },
    };

    switch (observed.result.outcome) {
      case 'unchanged':
        return { outcome: 'unchanged', agentId: agent.agentId };
      case 'stale': {
        const known = record.obs[side];
        await this.audit.append({ ...base, outcome: 'stale', detail: `older than the known ${side} state ${known?.key ?? ''} (${known ? new Date(known.at).toISOString() : '-'}): dropped` });
        return { outcome: 'stale', agentId: agent.agentId };
      }
      case 'echo':
        await this.onEcho(agent, side, key, observed.result.echoWriteId, record, base, now);
        return { outcome: 'echo', agentId: agent.agentId };
      case 'overtaken':
        return this.onOvertaken(agent, side, key, change, observed.result, record, base, now);
      case 'recorded':
      case 'replayed':
        return this.decide(agent, side, value, key, change, record, reason, base, now);
    }
  }

  /** Our own write reported back: never synced back; on Salesforce it is also the write's confirmation. */
  private async onEcho(
    agent: ResolvedAgent, side: Side, key: string, writeId: string | undefined, record: AgentRecord,
    base: Omit<AuditRecord, 'outcome'>, now: number,
  ): Promise<void> {
    const want = record.want[side];
    if (side === 'salesforce' && want && want.writeId === writeId && want.version > record.done.salesforce) {
      await this.store.finish(agent.agentId, 'salesforce', want.version);
      await this.store.setPendingConfirm(agent.agentId, undefined);
      if (record.pendingSalesforce?.writeId === writeId) await this.trigger.cancelConfirm(writeId, record.pendingSalesforce.attempt);
      await this.audit.append({
        at: now, agentId: agent.agentId, direction: want.reason === 'reconcile' ? 'reconcile' : 'acd->salesforce', outcome: 'confirmed',
        rule: want.rule, row: want.row, wanted: want.value, writeId: want.writeId, latencyMs: now - want.receivedAt,
        source: { side: want.sourceSide, eventId: want.sourceEventId, occurredAt: want.sourceAt },
        detail: `Salesforce shows ${key}`,
      });
    }
    await this.audit.append({ ...base, outcome: 'echo', writeId, detail: `our own write of ${key} reported back: not synced back` });
  }

  /**
   * A write of ours landed after a real change on that side overtook it. If it is still the write we want (the
   * real change lost the conflict), it is an echo. Otherwise the side now shows a state nobody wants any more:
   * it is not synced onward, and the state that overtook it is written back.
   */
  private async onOvertaken(
    agent: ResolvedAgent, side: Side, key: string, change: InboundChange, result: ObserveResult, record: AgentRecord,
    base: Omit<AuditRecord, 'outcome'>, now: number,
  ): Promise<IngestResult> {
    const writeId = result.echoWriteId;
    const want = record.want[side];
    if (want && want.writeId === writeId && want.version > record.done[side]) {
      await this.onEcho(agent, side, key, writeId, record, base, now);
      return { outcome: 'echo', agentId: agent.agentId };
    }
    const previous = result.previous;
    if (!previous || previous.key === key) {
      await this.audit.append({ ...base, outcome: 'echo', writeId, detail: `our dropped write of ${key} landed late: not synced back` });
      return { outcome: 'echo', agentId: agent.agentId };
    }
    const stored = await this.store.setWant(agent.agentId, side, {
      value: previous.value, key: previous.key, writeId: randomUUID(), sourceSide: side, sourceEventId: change.eventId,
      sourceAt: change.occurredAt, receivedAt: change.receivedAt, rule: want?.rule ?? '', row: 'restore-after-late-write', reason: 'sync',
    });
    if (stored) await this.trigger.trigger(side, agent.agentId);
    await this.audit.append({
      ...base, outcome: 'superseded', writeId, wanted: previous.value,
      detail: `our dropped write of ${key} landed after ${side} had changed to ${previous.key}: not synced onward; ${previous.key} is written back`,
    });
    return { outcome: 'superseded', agentId: agent.agentId };
  }

  private async decide(
    agent: ResolvedAgent, side: Side, value: SideValue, key: string, change: InboundChange, record: AgentRecord,
    reason: ChangeReason, base: Omit<AuditRecord, 'outcome'>, now: number,
  ): Promise<IngestResult> {
    const agentId = agent.agentId;
    const match = this.rules.current()?.ruleFor(agent);
    if (!match) {
      await this.audit.append({ ...base, outcome: 'no-rule', detail: 'no rule is assigned to this agent, its e-mail or its team' });
      return { outcome: 'no-rule', agentId };
    }
    const rule = match.rule;
    const withRule = { ...base, rule: rule.name };

    // A change from one side while our write toward that same side is still unconfirmed: conflictPolicy.
    const towardSource = record.want[side];
    if (towardSource && towardSource.version > record.done[side] && towardSource.sourceEventId !== change.eventId) {
      const sourceWins = rule.conflictPolicy === side || (rule.conflictPolicy === 'latest' && change.occurredAt > towardSource.sourceAt);
      if (!sourceWins) {
        await this.audit.append({ ...withRule, outcome: 'conflict', detail: `a write of ${towardSource.key} toward ${side} is pending and wins (conflictPolicy ${rule.conflictPolicy}): this change is not synced` });
        return { outcome: 'conflict', agentId };
      }
      await this.store.finish(agentId, side, towardSource.version);
      await this.audit.append({
        at: now, agentId, direction: directionOf(other(side)), outcome: 'superseded', rule: towardSource.rule, row: towardSource.row,
        wanted: towardSource.value, writeId: towardSource.writeId,
        detail: `the ${side} side changed to ${key} (conflictPolicy ${rule.conflictPolicy}): the pending write is dropped`,
      });
    }

    const target = other(side);
    let wanted: SideValue;
    let wantedKey: string;
    let row: string | undefined;
    let detail: string | undefined;
    if (side === 'acd') {
      const d = publish(rule, value as AcdState);
      if (d.kind === 'unmapped') {
        await this.audit.append({ ...withRule, outcome: 'unmapped', detail: `no publisher row of rule "${rule.name}" matches ${key}` });
        return { outcome: 'unmapped', agentId };
      }
      if (!agent.salesforceUserId) {
        await this.audit.append({ ...withRule, outcome: 'unlinked', row: d.row, detail: 'the agent is linked to no Salesforce user (e-mail or map file)' });
        return { outcome: 'unlinked', agentId };
      }
      wanted = d.status;
      wantedKey = d.status;
      row = d.row;
    } else {
      const d = subscribe(rule, value as string, {
        previous: record.prevAcd, teamCodes: agent.teamCodes, defaultUnavailableCode: this.settings.defaultUnavailableCode,
      });
      if (d.kind !== 'write') {
        await this.audit.append({ ...withRule, outcome: d.kind, row: d.kind === 'no-previous' ? d.row : undefined, detail: d.detail });
        return { outcome: d.kind, agentId };
      }
      wanted = d.state;
      wantedKey = acdStateKey(d.state);
      row = d.row ?? d.via;
      detail = d.detail;
    }

    const otherObs = record.obs[target];
    const otherWant = record.want[target];
    const otherPending = otherWant !== undefined && otherWant.version > record.done[target];
    if (otherObs?.key === wantedKey && (!otherPending || otherWant?.key === wantedKey)) {
      // Drift repair reads every agent: that both sides already agree is its report's business, not each
      // agent's audit trail (a first run would otherwise write two records for every agent).
      if (reason !== 'reconcile') await this.audit.append({ ...withRule, outcome: 'no-change', row, wanted, detail: `${target} already shows ${wantedKey}` });
      return { outcome: 'no-change', agentId };
    }
    const stored = await this.store.setWant(agentId, target, {
      value: wanted, key: wantedKey, writeId: randomUUID(), sourceSide: reason === 'reconcile' ? 'reconcile' : side,
      sourceEventId: change.eventId, sourceAt: change.occurredAt, receivedAt: change.receivedAt, rule: rule.name, row, reason,
    });
    if (!stored) {
      await this.audit.append({ ...withRule, outcome: 'superseded', row, wanted, detail: 'a newer change already decided what the other side shows' });
      return { outcome: 'superseded', agentId };
    }
    await this.trigger.trigger(target, agentId);
    if (stored.created) {
      await this.audit.append({ ...withRule, outcome: 'queued', row, wanted, writeId: stored.want.writeId, detail, latencyMs: now - change.receivedAt });
    }
    return { outcome: 'queued', agentId };
  }
}
