import type { AuditRecord } from '@presence-sync/domain';
import { QUEUES } from '@presence-sync/redis';
import type { EmulatorWrite } from '@presence-sync/testing';
import { DaemonHarness, waitFor } from '../../support/daemon-harness';
import { mulberry32, type Rng } from '../../support/seeded-random';
import { nextPair, pause, sameState, STATE_PAIRS } from '../../support/both-way-load';

/*
 * The contact center answering bursts of 5xx and 429 under load (contract v1, contact-center.md: "429 with
 * Retry-After · 5xx retry with backoff"). A few dozen agents change state in Salesforce (each change is a PUT to
 * the contact center) and some in the contact center (commands toward Salesforce), in rounds, while the
 * emulator answers bursts of 503, 500 and 429 `Retry-After: 1` to PUTs (ContactCenterEmulator.failNext).
 *
 * Every change must end applied exactly once (per Idempotency-Key), a 5xx must be retried with the same key after
 * the sync backoff, a 429 must pause the whole sync-acd queue for the Retry-After without costing the job an
 * attempt (audited `rate-limited`), and nothing may fail for good. Seeded: RESILIENCE_SEED.
 */

const SEED = Number.parseInt(process.env.RESILIENCE_SEED ?? '20261121', 10) >>> 0;
const CATALOG_SIZE = 40;
const ROUNDS = 8;
/** Pacing of the load generator (agents change state seconds apart in real life; here a round every few ms). */
const ROUND_GAP_MS = 40;
const BACKOFF_MS = 50;
const RETRY_AFTER_SEC = 1;
/**
 * Fault bursts, injected before the given round (they queue up: the emulator takes them in order). The 429 burst
 * hits the last round's writes, so they are not replaced by newer wants and must be retried as they are.
 */
const BURSTS: { round: number; count: number; status: number; retryAfterSec?: number }[] = [
  { round: 1, count: 6, status: 503 },
  { round: 3, count: 4, status: 500 },
  { round: 5, count: 4, status: 503 },
  { round: 7, count: 5, status: 429, retryAfterSec: RETRY_AFTER_SEC },
];


describe('resilience: the contact center answering bursts of 5xx and 429', () => {
  let h: DaemonHarness;
  const rng: Rng = mulberry32(SEED ^ 0x5a5a);

  beforeAll(async () => {
    h = await DaemonHarness.start({
      agents: CATALOG_SIZE,
      env: { SYNC_ATTEMPTS: '10', SYNC_BACKOFF_MS: String(BACKOFF_MS), ACD_TIMEOUT_MS: '2000', SF_CONFIRM_TIMEOUT_MS: '3000' },
    });
  }, 30_000);

  afterAll(async () => {
    await h?.stop();
  }, 30_000);



  it('every change ends applied exactly once; 5xx is retried with backoff, 429 pauses the queue', async () => {
    const agents = h.cc.snapshot()
      .filter((a, i) => a.teamId !== 't-backoffice' && i !== 1 && i !== 2)
      .map((a, i) => ({ agentId: a.agentId, userId: h.userOf(a.agentId), fromAcd: i % 4 === 0, last: -1 }));
    expect(agents.length).toBeGreaterThanOrEqual(30);

    // Logged-out agents take no state but Offline (a PUT would get 409): every agent starts Available.
    const loggedOut = agents.filter((a) => h.acdState(a.agentId)?.state !== 'Available');
    for (const a of loggedOut) h.cc.agentSetState(a.agentId, { state: 'Available' });
    await waitFor(async () => loggedOut.every((a) => h.sf.statusOf(a.userId) === 'Available_Chat') && (await h.idle()),
      'the initial states are synced', 15_000);
    const firstWrite = h.cc.writes.length;

    function round(): void {
      for (const a of agents) {
        const pair = nextPair(rng, a);
        if (a.fromAcd) h.cc.agentSetState(a.agentId, pair.acd);
        else h.sf.agentSetStatus(a.userId, pair.sf);
      }
    }
    for (let r = 0; r < ROUNDS; r++) {
      // The last round is written alone (no newer want can replace its writes): its 429s are retried as they are.
      if (r === ROUNDS - 1) await waitFor(() => h.idle(), 'the earlier rounds are written', 20_000);
      for (const b of BURSTS.filter((x) => x.round === r)) h.cc.failNext(b.count, b.status, { retryAfterSec: b.retryAfterSec });
      round();
      await pause(ROUND_GAP_MS);
    }
    const injectedTotal = BURSTS.reduce((n, b) => n + b.count, 0);

    const wrong = () => agents.filter((a) => !sameState(h.acdState(a.agentId), STATE_PAIRS[a.last].acd) || h.sf.statusOf(a.userId) !== STATE_PAIRS[a.last].sf);
    await waitFor(async () => wrong().length === 0 && h.cc.writes.filter((w) => w.injected).length === injectedTotal && (await h.idle()),
      'every agent in its last state on both sides, every fault answered', 40_000)
      .catch((e: Error) => {
        throw new Error(`${e.message}\n${JSON.stringify(wrong().map((a) => ({ ...a, acd: h.acdState(a.agentId), sf: h.sf.statusOf(a.userId), want: STATE_PAIRS[a.last] })))}`);
      });

    const writes = h.cc.writes.slice(firstWrite);
    const injected = writes.filter((w) => w.injected);
    expect(injected.map((w) => w.status).sort()).toEqual(BURSTS.flatMap((b) => Array<number>(b.count).fill(b.status)).sort());

    // Exactly once: no Idempotency-Key applied twice, and the last write of every Salesforce-driven agent applied
    // once (or found the contact center already showing it).
    expect([...h.cc.appliedKeys].filter(([, n]) => n > 1)).toEqual([]);
    const audits = new Map<string, AuditRecord[]>();
    for (const a of agents) audits.set(a.agentId, (await h.audit(a.agentId)).reverse());
    for (const a of agents.filter((x) => !x.fromAcd)) {
      const end = [...audits.get(a.agentId)!].reverse().find((r) => r.direction === 'salesforce->acd' && (r.outcome === 'applied' || r.outcome === 'already'));
      const applied = end?.outcome === 'already' ? 1 : h.cc.appliedCount(end?.writeId ?? '');
      expect({ agent: a.agentId, end: end?.outcome, wanted: end?.wanted, applied }).toEqual({ agent: a.agentId, end: end?.outcome, wanted: STATE_PAIRS[a.last].acd, applied: 1 });
    }

    // Every failed try was followed by a try with the same key (or its want was replaced by a newer one of the
    // same agent, which was applied). 5xx: after the sync backoff. 429: after Retry-After.
    const after = (w: EmulatorWrite) => writes.filter((x) => x.agentId === w.agentId && x.at >= w.at && x !== w);
    for (const w of injected) {
      const retry = after(w).find((x) => x.idempotencyKey === w.idempotencyKey);
      const replaced = after(w).some((x) => x.idempotencyKey !== w.idempotencyKey && x.status === 200);
      expect({ key: w.idempotencyKey, status: w.status, followedUp: retry !== undefined || replaced }).toEqual({ key: w.idempotencyKey, status: w.status, followedUp: true });
      if (!retry) continue;
      const minGap = w.status === 429 ? RETRY_AFTER_SEC * 1000 - 50 : BACKOFF_MS - 5;
      expect({ key: w.idempotencyKey, status: w.status, waitedEnough: retry.at - w.at >= minGap })
        .toEqual({ key: w.idempotencyKey, status: w.status, waitedEnough: true });
    }

    // 429 pauses the whole sync-acd queue: after the first 429 (and the PUTs already on their way), no PUT of any
    // agent reaches the contact center before Retry-After.
    const first429 = injected.find((w) => w.status === 429)!;
    const duringPause = writes.filter((w) => w.at > first429.at + 500 && w.at < first429.at + RETRY_AFTER_SEC * 1000 - 100);
    expect(duringPause).toEqual([]);

    // Audited: `retrying` for 5xx, `rate-limited` for 429, which costs no attempt (the next try of that write
    // has the same attempt number).
    for (const w of injected) {
      const records = audits.get(w.agentId)!.filter((r) => r.writeId === w.idempotencyKey);
      const outcome = w.status === 429 ? 'rate-limited' : 'retrying';
      const i = records.findIndex((r) => r.outcome === outcome && r.detail?.includes(`HTTP ${w.status}`));
      expect({ key: w.idempotencyKey, status: w.status, audited: i >= 0 }).toEqual({ key: w.idempotencyKey, status: w.status, audited: true });
      if (w.status !== 429) continue;
      const next = records.slice(i + 1).find((r) => r.attempt !== undefined && r.outcome !== 'queued');
      if (next) expect({ key: w.idempotencyKey, attempt: next.attempt }).toEqual({ key: w.idempotencyKey, attempt: records[i].attempt });
    }

    // Nothing failed for good.
    expect(await h.failedCount(QUEUES.syncAcd)).toBe(0);
    console.log(`contact-center-faults: ${writes.length} PUTs, ${injected.length} answered with an injected fault, ` +
      `${injected.filter((w) => after(w).some((x) => x.idempotencyKey === w.idempotencyKey)).length} of them retried with the same key`);
    for (const a of agents) {
      const failed = audits.get(a.agentId)!.filter((r) => r.outcome === 'failed');
      expect({ agent: a.agentId, failed }).toEqual({ agent: a.agentId, failed: [] });
    }
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toMatch(/presence_sync_write_failures_total\{side="acd",class="rate-limited"\} [1-9]/);
    expect(metrics).toMatch(/presence_sync_write_failures_total\{side="acd",class="retryable"\} [1-9]/);
  }, 60_000);
});
