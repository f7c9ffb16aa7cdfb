import { randomUUID } from 'node:crypto';
import { Clock, ContactCenterPort, SALESFORCE_OFFLINE, SalesforcePort, type AcdChange, type SalesforceChange } from '@presence-sync/domain';
import { chain, ingest, repairDrift, type IngestOutcome, type RepairVerdict, type Transition } from './agent-transitions';
import { EngineSettings } from './engine-settings';
import { IngestChange } from './ingest-change.use-case';
import { DirectorySource, RuleSetSource } from './sources';
import { TransitionRunner } from './transition-runner';

export interface ReconcileReport {
  runId: string;
  agents: number;
  /** Snapshot states that differed from what the engine knew (missed events), fed through ingest. */
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

const MISSED: readonly IngestOutcome[] = ['queued', 'no-change', 'no-rule', 'unmapped', 'unlinked', 'no-previous', 'conflict', 'held', 'superseded', 'confirmed'];

/**
 * Drift repair: reads both sides for every linked agent. A side whose state differs from what the engine knew
 * is a missed change, fed through ingest as a snapshot (the truth when it was read, whatever times the record
 * holds). Then agents whose two sides disagree with their rule are repaired: the side that changed last wins.
 * Both happen in one transition per agent. Two sides agree when either table maps one to the other, so an
 * agent's own choice among equivalent statuses is left alone.
 */
export class Reconcile {
  constructor(
    private readonly ingestChange: IngestChange,
    private readonly runner: TransitionRunner,
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
    // Anything reported after this moment is newer than what the listings show.
    const readAt = started;
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
      const acdChange: AcdChange = {
        side: 'acd', eventId: `reconcile:${runId}:acd:${agent.agentId}`, agentId: agent.agentId,
        occurredAt: acdAgent.since ?? 0, state: acdAgent.state, receivedAt: now,
      };
      const sfChange: SalesforceChange = {
        side: 'salesforce', eventId: `reconcile:${runId}:sf:${agent.salesforceUserId}`, userId: agent.salesforceUserId,
        occurredAt: sf?.since ?? 0, status: sf?.status ?? SALESFORCE_OFFLINE, receivedAt: now,
        // The open work as read now: a load change the stream missed is caught up like a status.
        ...(sf?.workload ? { workload: sf.workload } : {}),
      };
      const result = await this.runner.run(agent.agentId, (record) => {
        const ctx = this.ingestChange.context(agent);
        const a = ingest(record, acdChange, { ...ctx, snapshot: { readAt, undated: acdAgent.since === undefined } });
        const b = ingest(a.record, sfChange, { ...ctx, snapshot: { readAt, undated: sf === undefined } });
        const missed = MISSED.includes(a.verdict.outcome) || MISSED.includes(b.verdict.outcome);
        const c: Transition<RepairVerdict | 'caught-up'> = missed
          ? { verdict: 'caught-up', record: b.record, audit: [], effects: [] }
          : repairDrift(b.record, { now, agent, rule: ctx.rule, settings: this.settings, runId, newWriteId: randomUUID });
        return chain([a, b, c], c.verdict, c.record);
      });
      if (result.kind !== 'stored') return;
      if (result.verdict === 'caught-up') report.caughtUp++;
      else if (result.verdict === 'repaired') report.repaired++;
    });
    report.durationMs = this.clock.now() - started;
    return report;
  }
}

