import { randomUUID } from 'node:crypto';
import {
  acdStateKey, AuditLog, Clock, ContactCenterPort, SALESFORCE_OFFLINE, SalesforcePort, type AcdState,
} from '@presence-sync/domain';
import { publish, subscribe } from '@presence-sync/rules';
import type { ResolvedAgent } from './agent-directory';
import { AgentStateStore, SyncTrigger } from '@presence-sync/domain';
import { EngineSettings } from './engine-settings';
import { IngestChange } from './ingest-change.use-case';
import { DirectorySource, RuleSetSource } from './sources';

export interface ReconcileReport {
  runId: string;
  agents: number;
  /** Snapshot states that were newer than what the engine knew (missed events), fed through ingest. */
  caughtUp: number;
  /** Agents whose two sides disagreed with their rule and were repaired. */
  repaired: number;
  skipped: number;
  durationMs: number;
}

/** Runs `fn` over `items` with at most `limit` at once. */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(lanes);
}

/**
 * Drift repair: reads both sides for every linked agent, feeds states newer than what the engine knew
 * through the normal ingest path (missed events), then repairs agents whose two sides disagree with their
 * rule. Two sides agree when either table maps one to the other (publisher: ACD → Salesforce, or
 * subscriber: Salesforce → ACD), so an agent's own choice among equivalent statuses is left alone. When they
 * disagree, the side that changed last wins. Everything it does is audited as `reconcile`.
 */
export class Reconcile {
  constructor(
    private readonly ingest: IngestChange,
    private readonly store: AgentStateStore,
    private readonly audit: AuditLog,
    private readonly trigger: SyncTrigger,
    private readonly contactCenter: ContactCenterPort,
    private readonly salesforce: SalesforcePort,
    private readonly rules: RuleSetSource,
    private readonly directory: DirectorySource,
    private readonly settings: EngineSettings,
    private readonly clock: Clock,
  ) {}

  async run(): Promise<ReconcileReport> {
    const started = this.clock.now();
    const runId = randomUUID();
    const [acdAgents, presence] = await Promise.all([this.contactCenter.listAgents(), this.salesforce.currentPresence()]);
    const presenceByUser = new Map(presence.map((p) => [p.userId, p]));
    const dir = this.directory.current();
    const report: ReconcileReport = { runId, agents: 0, caughtUp: 0, repaired: 0, skipped: 0, durationMs: 0 };

    await eachLimited(acdAgents, 32, async (acdAgent) => {
      const agent = dir.byAgent(acdAgent.agentId);
      if (!agent?.salesforceUserId || !acdAgent.state) { report.skipped++; return; }
      report.agents++;
      const now = this.clock.now();
      const sf = presenceByUser.get(agent.salesforceUserId);
      const sfStatus = sf?.status ?? SALESFORCE_OFFLINE;
      // A state with no start time (an Offline user has no presence row) is dated to this run when the engine
      // knew that side before (a missed logout is news), and as the oldest when it did not (first sight must not
      // overrule the other side's real state).
      const known = await this.store.get(agent.agentId);
      const undated = (side: 'acd' | 'salesforce') => (known.obs[side] ? started : 0);
      // Feed both snapshots through ingest: a state newer than what we knew is a missed event.
      const [acdResult, sfResult] = await this.ingest.runTogether([
        {
          side: 'acd', eventId: `reconcile:${runId}:acd:${agent.agentId}`, agentId: agent.agentId,
          occurredAt: acdAgent.since ?? undated('acd'), state: acdAgent.state, receivedAt: now,
        },
        {
          side: 'salesforce', eventId: `reconcile:${runId}:sf:${agent.salesforceUserId}`, userId: agent.salesforceUserId,
          occurredAt: sf?.since ?? undated('salesforce'), status: sfStatus, receivedAt: now,
        },
      ], 'reconcile');
      if (acdResult.outcome === 'recorded' || sfResult.outcome === 'recorded') { report.caughtUp++; return; }
      if (await this.repair(agent.agentId, agent, runId)) report.repaired++;
    });
    report.durationMs = this.clock.now() - started;
    return report;
  }

  private async repair(agentId: string, agent: ResolvedAgent, runId: string): Promise<boolean> {
    const rule = this.rules.current()?.ruleFor(agent)?.rule;
    if (!rule) return false;
    const record = await this.store.get(agentId);
    const acd = record.obs.acd;
    const sf = record.obs.salesforce;
    if (!acd || !sf) return false;
    const pending = (['acd', 'salesforce'] as const).some((s) => (record.want[s]?.version ?? 0) > record.done[s]);
    if (pending) return false;
    const published = publish(rule, acd.value as AcdState);
    if (published.kind === 'write' && published.status === sf.key) return false;
    const subscribed = subscribe(rule, sf.key, { previous: record.prevAcd, teamCodes: agent.teamCodes, defaultUnavailableCode: this.settings.defaultUnavailableCode });
    if (subscribed.kind === 'write' && acdStateKey(subscribed.state) === acd.key) return false;

    const now = this.clock.now();
    // The side that changed last wins; a `previous` row is not replayed by drift repair.
    const fromAcd = acd.at >= sf.at;
    if (fromAcd ? published.kind !== 'write' : subscribed.kind !== 'write' || subscribed.via === 'previous') return false;
    const target = fromAcd ? 'salesforce' : 'acd';
    const value = fromAcd ? (published as { status: string }).status : (subscribed as { state: AcdState }).state;
    const key = typeof value === 'string' ? value : acdStateKey(value);
    const row = fromAcd ? (published as { row: string }).row : (subscribed as { row?: string }).row;
    const source = fromAcd ? acd : sf;
    const stored = await this.store.setWant(agentId, target, {
      value, key, writeId: randomUUID(), sourceSide: 'reconcile', sourceEventId: `reconcile:${runId}:${agentId}`,
      sourceAt: source.at, receivedAt: now, rule: rule.name, row, reason: 'reconcile',
    });
    if (!stored) return false;
    await this.trigger.trigger(target, agentId);
    await this.audit.append({
      at: now, agentId, direction: 'reconcile', outcome: 'queued', rule: rule.name, row, wanted: value, writeId: stored.want.writeId,
      source: { side: 'reconcile', eventId: `reconcile:${runId}`, state: source.value },
      detail: `drift: acd shows ${acd.key}, salesforce shows ${sf.key}; the ${fromAcd ? 'acd' : 'salesforce'} side changed last and wins`,
    });
    return true;
  }
}
