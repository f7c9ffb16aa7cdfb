import {
  AuditLog, Clock, ContactCenterPort, PermanentWriteError, RateLimitedError, SalesforcePort,
  type AcdState, type AuditRecord, type SettableAcdState, type Side,
} from '@presence-sync/domain';
import { AgentStateStore, SyncTrigger, type PendingConfirm, type Want } from '@presence-sync/domain';
import { EngineSettings } from './engine-settings';
import { DirectorySource } from './sources';

/**
 * What a sync run asks of the queue: `done` (complete the job), `retry` (throw, backoff), `rate-limited`
 * (pause the queue for `retryAfterMs`, no attempt lost), `permanent` (fail without retry; already audited).
 */
export type SyncOutcome =
  | { kind: 'done'; detail: string }
  | { kind: 'retry'; error: Error }
  | { kind: 'rate-limited'; retryAfterMs: number; error: Error }
  | { kind: 'permanent'; error: Error };

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e)).slice(0, 500);

/**
 * Brings one side of one agent to the latest wanted state. The job that runs it carries only the agent id:
 * the want is read here, so a burst of changes ends in one write of the newest state.
 */
export class SyncAgent {
  constructor(
    private readonly store: AgentStateStore,
    private readonly audit: AuditLog,
    private readonly trigger: SyncTrigger,
    private readonly contactCenter: ContactCenterPort,
    private readonly salesforce: SalesforcePort,
    private readonly directory: DirectorySource,
    private readonly settings: EngineSettings,
    private readonly clock: Clock,
  ) {}

  /** @param attempt 1-based attempt of the job that runs this. */
  async run(target: Side, agentId: string, attempt = 1): Promise<SyncOutcome> {
    const record = await this.store.get(agentId);
    const want = record.want[target];
    if (!want || want.version <= record.done[target]) return { kind: 'done', detail: 'nothing pending' };
    const now = this.clock.now();
    const base = this.auditBase(agentId, target, want, now, attempt);

    // "Already shown" is only trusted when no earlier write toward that side has an unknown outcome: a write
    // whose answer was lost (crash, timeout) or was deferred may have changed the side behind our back.
    if (record.obs[target]?.key === want.key && !record.inFlight[target]) {
      await this.store.finish(agentId, target, want.version);
      await this.audit.append({ ...base, outcome: 'already', detail: `${target} already shows ${want.key}` });
      return { kind: 'done', detail: 'already' };
    }
    return target === 'acd' ? this.writeAcd(agentId, want, record.obs.acd?.value as AcdState | undefined, base, attempt)
      : this.writeSalesforce(agentId, want, record.pendingSalesforce?.writeId === want.writeId ? record.pendingSalesforce : undefined, base, attempt);
  }

  private async writeAcd(agentId: string, want: Want, observed: AcdState | undefined, base: AuditRecord, attempt: number): Promise<SyncOutcome> {
    const now = this.clock.now();
    await this.store.beginWrite(agentId, 'acd', want.writeId, want.key, now + this.settings.echoWindowMs, observed);
    try {
      const timings = { receivedAt: want.receivedAt, sentAt: this.clock.now() };
      const result = await this.contactCenter.setState({ agentId, state: want.value as SettableAcdState, requestId: want.writeId });
      const at = this.clock.now();
      if (result.kind === 'applied') {
        await this.store.recordWritten(agentId, 'acd', want.value, want.key, want.writeId);
        await this.store.finish(agentId, 'acd', want.version);
        await this.audit.append({ ...base, at, outcome: 'applied', latencyMs: at - want.receivedAt, timings });
      } else {
        await this.store.finish(agentId, 'acd', want.version);
        await this.audit.append({ ...base, at, outcome: 'deferred', latencyMs: at - want.receivedAt, timings, detail: 'the agent is on a contact: the contact center applies it next' });
      }
      return { kind: 'done', detail: result.kind };
    } catch (e) {
      return this.failure('acd', agentId, want, e, base, attempt);
    }
  }

  private async writeSalesforce(agentId: string, want: Want, pending: PendingConfirm | undefined, base: AuditRecord, attempt: number): Promise<SyncOutcome> {
    // A command for this want already reached the console: the confirm job owns it from here. Scheduling it
    // again is a no-op when it exists (its id is fixed) and recovers it when a crash lost it.
    if (pending) {
      await this.trigger.scheduleConfirm(agentId, want.writeId, pending.attempt, Math.max(0, pending.deadline - this.clock.now()));
      return { kind: 'done', detail: 'awaiting confirmation' };
    }
    const userId = this.directory.current().byAgent(agentId)?.salesforceUserId;
    if (!userId) {
      await this.store.finish(agentId, 'salesforce', want.version);
      await this.audit.append({ ...base, outcome: 'unlinked', detail: 'the agent is linked to no Salesforce user' });
      return { kind: 'done', detail: 'unlinked' };
    }
    return this.sendCommand(agentId, userId, want, 1, base, attempt);
  }

  private async sendCommand(agentId: string, userId: string, want: Want, send: number, base: AuditRecord, attempt: number): Promise<SyncOutcome> {
    const now = this.clock.now();
    await this.store.beginWrite(agentId, 'salesforce', want.writeId, want.key, now + this.settings.echoWindowMs);
    try {
      const timings = { receivedAt: want.receivedAt, sentAt: this.clock.now() };
      const result = await this.salesforce.sendStatus({
        userId, status: want.value as string, commandId: want.writeId, expiresAt: now + this.settings.commandTtlMs,
      });
      const at = this.clock.now();
      if (result.kind === 'applied') {
        await this.store.recordWritten(agentId, 'salesforce', want.value, want.key, want.writeId);
        await this.store.finish(agentId, 'salesforce', want.version);
        await this.audit.append({ ...base, at, outcome: 'applied', latencyMs: at - want.receivedAt, timings });
        return { kind: 'done', detail: 'applied' };
      }
      // The check first: a pending write with no check would wait forever.
      await this.trigger.scheduleConfirm(agentId, want.writeId, send, this.settings.confirmTimeoutMs);
      await this.store.setPendingConfirm(agentId, { writeId: want.writeId, version: want.version, attempt: send, deadline: at + this.settings.confirmTimeoutMs });
      await this.audit.append({ ...base, at, outcome: 'sent', latencyMs: at - want.receivedAt, timings, detail: `command sent to the console (send ${send} of ${this.settings.confirmAttempts}); waiting for Salesforce to show ${want.key}` });
      return { kind: 'done', detail: 'sent' };
    } catch (e) {
      return this.failure('salesforce', agentId, want, e, base, attempt);
    }
  }

  /**
   * Runs when a sent command's confirmation deadline passes: nothing if Salesforce showed it (or a newer want
   * replaced it); else the command is sent again, up to `confirmAttempts` sends, then failed and audited.
   */
  async confirm(agentId: string, writeId: string, send: number, attempt = 1): Promise<SyncOutcome> {
    const record = await this.store.get(agentId);
    const want = record.want.salesforce;
    if (!want || want.writeId !== writeId || want.version <= record.done.salesforce) return { kind: 'done', detail: 'confirmed or replaced' };
    const now = this.clock.now();
    const base = this.auditBase(agentId, 'salesforce', want, now, attempt);
    if (record.obs.salesforce?.key === want.key) {
      // Salesforce shows the wanted status, but no echo of this command came: the console found it already set
      // (the agent went X → Y → X faster than our X command was confirmed) and had nothing to change. Sending
      // it again would be refused as a duplicate and end as a false failure.
      await this.store.closeEcho(agentId, 'salesforce', writeId);
      await this.store.finish(agentId, 'salesforce', want.version);
      await this.store.setPendingConfirm(agentId, undefined);
      await this.audit.append({ ...base, outcome: 'confirmed', latencyMs: now - want.receivedAt, detail: `Salesforce already shows ${want.key}` });
      return { kind: 'done', detail: 'already shown' };
    }
    if (send >= this.settings.confirmAttempts) {
      await this.store.closeEcho(agentId, 'salesforce', writeId);
      await this.store.finish(agentId, 'salesforce', want.version);
      await this.store.setPendingConfirm(agentId, undefined);
      await this.audit.append({ ...base, outcome: 'failed', detail: `Salesforce did not show ${want.key} within ${this.settings.confirmTimeoutMs} ms after ${send} sends (console closed or the status was refused)` });
      return { kind: 'done', detail: 'failed: not confirmed' };
    }
    const userId = this.directory.current().byAgent(agentId)?.salesforceUserId;
    if (!userId) return { kind: 'done', detail: 'unlinked' };
    await this.audit.append({ ...base, outcome: 'retrying', detail: `not confirmed within ${this.settings.confirmTimeoutMs} ms: sending again` });
    return this.sendCommand(agentId, userId, want, send + 1, base, attempt);
  }

  private auditBase(agentId: string, target: Side, want: Want, now: number, attempt: number): AuditRecord {
    return {
      at: now, agentId, outcome: 'queued',
      direction: want.reason === 'reconcile' ? 'reconcile' : target === 'salesforce' ? 'acd->salesforce' : 'salesforce->acd',
      source: { side: want.sourceSide, eventId: want.sourceEventId, occurredAt: want.sourceAt },
      rule: want.rule, row: want.row, wanted: want.value, writeId: want.writeId, attempt,
    };
  }

  private async failure(target: Side, agentId: string, want: Want, e: unknown, base: AuditRecord, attempt: number): Promise<SyncOutcome> {
    const error = e instanceof Error ? e : new Error(String(e));
    const at = this.clock.now();
    if (e instanceof RateLimitedError) {
      await this.audit.append({ ...base, at, outcome: 'rate-limited', detail: `${errorText(e)}; the ${target} queue pauses ${e.retryAfterMs} ms` });
      return { kind: 'rate-limited', retryAfterMs: e.retryAfterMs, error };
    }
    const permanent = e instanceof PermanentWriteError;
    if (permanent || attempt >= this.settings.syncAttempts) {
      await this.store.closeEcho(agentId, target, want.writeId);
      await this.store.finish(agentId, target, want.version);
      const why = permanent ? `refused (${e.reason}): ${errorText(e)}` : `gave up after ${attempt} attempts: ${errorText(e)}`;
      await this.audit.append({ ...base, at, outcome: 'failed', detail: why });
      return { kind: 'permanent', error };
    }
    await this.audit.append({ ...base, at, outcome: 'retrying', detail: `attempt ${attempt} of ${this.settings.syncAttempts} failed: ${errorText(e)}` });
    return { kind: 'retry', error };
  }
}
