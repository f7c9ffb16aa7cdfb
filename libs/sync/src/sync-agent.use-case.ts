import {
  Clock, ContactCenterPort, ON_CONTACT_REASON, PermanentWriteError, RateLimitedError, RetryableWriteError, SalesforcePort, type SettableAcdState, type Side, type Want,
} from '@presence-sync/domain';
import { answerWrite, beginWrite, confirmDue, type WriteAnswer, type WriteContext } from './agent-transitions';
import { dueMember, type DueSettle } from './due-schedule';
import { EngineSettings } from './engine-settings';
import { DirectorySource } from './sources';
import { TransitionRunner } from './transition-runner';

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
 * Brings one side of one agent to the latest wanted state. The job that runs it carries only the agent id: the
 * want is read here, so a burst of changes ends in one write of the newest state. Each step (begin, answer,
 * confirm) is one transition of the agent's record (libs/sync/agent-transitions), stored by compare-and-set.
 */
export class SyncAgent {
  constructor(
    private readonly runner: TransitionRunner,
    private readonly contactCenter: ContactCenterPort,
    private readonly salesforce: SalesforcePort,
    private readonly directory: DirectorySource,
    private readonly settings: EngineSettings,
    private readonly clock: Clock,
  ) {}

  /**
   * @param attempt 1-based attempt of the run.
   * @param settle the due entry this run was started for (its guard): removed by the step that ends the run, so it
   *   stays while the vendor call is out and for a retry that must still be queued.
   */
  async run(target: Side, agentId: string, attempt = 1, settle?: DueSettle): Promise<SyncOutcome> {
    const begun = await this.runner.run(agentId, (record) => beginWrite(record, target, this.context(agentId, attempt)), {
      settle: (verdict) => (verdict.kind === 'write' ? undefined : settle),
    });
    if (begun.kind !== 'stored') return { kind: 'done', detail: 'moved' };
    const verdict = begun.verdict;
    switch (verdict.kind) {
      case 'write':
        return this.write(target, agentId, verdict.want, verdict.send, attempt, settle);
      case 'nothing':
        return { kind: 'done', detail: verdict.detail };
      case 'refused':
        return { kind: 'done', detail: 'refused' };
      case 'wait':
        return { kind: 'done', detail: 'held back (burst window or retry backoff)' };
      case 'waiting-contact':
        return { kind: 'done', detail: 'deferred' };
      case 'await-confirm':
        return { kind: 'done', detail: 'awaiting confirmation' };
      case 'already':
        return { kind: 'done', detail: 'already' };
    }
  }

  /**
   * Runs when a sent command's confirmation is due: nothing if Salesforce showed it (or a newer want replaced
   * it); else the command is sent again, up to `confirmAttempts` sends, then failed and audited.
   */
  /** @param guardUntil the time the due set holds the check at while it runs (its claim), if it came from there */
  async confirm(agentId: string, writeId: string, send: number, attempt = 1, guardUntil?: number): Promise<SyncOutcome> {
    const settle = guardUntil === undefined ? undefined : { member: dueMember({ kind: 'confirm', agentId, writeId, send }), at: guardUntil };
    const due = await this.runner.run(agentId, (record) => confirmDue(record, writeId, send, this.context(agentId, attempt)), { settle: () => settle });
    // A re-send is the sync job's (triggered by the transition), so it has its own retries.
    return { kind: 'done', detail: due.kind === 'stored' ? due.verdict : 'moved' };
  }

  private context(agentId: string, attempt: number): WriteContext {
    return { now: this.clock.now(), agentId, settings: this.settings, attempt };
  }

  private async write(target: Side, agentId: string, want: Want, send: number, attempt: number, settle?: DueSettle): Promise<SyncOutcome> {
    const timings = { receivedAt: want.receivedAt, sentAt: this.clock.now() };
    let answer: WriteAnswer;
    let outcome: SyncOutcome;
    try {
      if (target === 'acd') {
        const result = await this.contactCenter.setState({ agentId, state: want.value as SettableAcdState, requestId: want.writeId });
        // `accepted`: the vendor reports the outcome later as a change; it confirms the write like a console's echo.
        answer = result.kind === 'accepted' ? { kind: 'sent', send } : { kind: result.kind };
      } else {
        const userId = this.directory.current().byAgent(agentId)?.salesforceUserId;
        if (!userId) {
          answer = { kind: 'failed', detail: 'the agent is linked to no Salesforce user', outcome: 'unlinked' };
          await this.answer(target, agentId, want.writeId, answer, attempt, timings, settle);
          return { kind: 'done', detail: 'unlinked' };
        }
        const result = await this.salesforce.sendStatus({
          userId, status: want.value as string, commandId: want.writeId, expiresAt: timings.sentAt + this.settings.commandTtlMs,
        });
        answer = result.kind === 'applied' ? { kind: 'applied' } : { kind: 'sent', send };
      }
      outcome = { kind: 'done', detail: answer.kind };
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      if (target === 'salesforce' && e instanceof RetryableWriteError && e.reason === 'console-closed' && this.salesforce.watchesConsoles) {
        answer = { kind: 'console-closed', detail: errorText(e), recheckMs: this.settings.consoleRecheckMs };
        outcome = { kind: 'done', detail: 'held: console closed' };
      } else if (e instanceof RateLimitedError) {
        answer = { kind: 'rate-limited', detail: `${errorText(e)}; the ${target} queue pauses ${e.retryAfterMs} ms` };
        outcome = { kind: 'rate-limited', retryAfterMs: e.retryAfterMs, error };
      } else if (target === 'acd' && e instanceof PermanentWriteError && e.reason === ON_CONTACT_REASON) {
        // The contact center queues no next state: the engine holds the write until the contact ends.
        answer = { kind: 'deferred', held: true };
        outcome = { kind: 'done', detail: 'held until the contact ends' };
      } else if (e instanceof PermanentWriteError || attempt >= this.settings.syncAttempts) {
        const why = e instanceof PermanentWriteError ? `refused (${e.reason}): ${errorText(e)}` : `gave up after ${attempt} attempts: ${errorText(e)}`;
        answer = { kind: 'failed', detail: why };
        outcome = { kind: 'permanent', error };
      } else {
        answer = { kind: 'retrying', detail: `attempt ${attempt} of ${this.settings.syncAttempts} failed: ${errorText(e)}` };
        outcome = { kind: 'retry', error };
      }
    }
    await this.answer(target, agentId, want.writeId, answer, attempt, timings, settle);
    return outcome;
  }

  /** Stores the answer; it ends the run (settles its due entry) unless a retry is still to be queued. */
  private async answer(target: Side, agentId: string, writeId: string, answer: WriteAnswer, attempt: number, timings: { receivedAt: number; sentAt: number }, settle?: DueSettle): Promise<void> {
    const ends = answer.kind !== 'retrying' && answer.kind !== 'rate-limited';
    await this.runner.run(agentId, (record) => answerWrite(record, target, writeId, answer, this.context(agentId, attempt), answer.kind === 'applied' || answer.kind === 'deferred' || answer.kind === 'sent' ? timings : undefined), {
      settle: () => (ends ? settle : undefined),
    });
  }
}
