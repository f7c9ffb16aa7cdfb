import {
  acdStateKey, isSettable, pendingWant, syncBackoffMs, type AcdState, type AgentRecord, type AuditOutcome, type AuditRecord, type InboundChange,
  type Observation, type OpenWrite, type Side, type SideRecord, type SideValue, type SyncDirection, type Want,
} from '@presence-sync/domain';
import { matchWorkload, publish, subscribe, workloadRowRef, type CompiledRule } from '@presence-sync/rules';
import type { ResolvedAgent } from './agent-directory';

/*
 * The engine's decisions, as pure functions: (the agent's record, what happened, the time) → (the new record,
 * the audit records that say what happened, the effects to run once the record is stored). Nothing here does
 * I/O; the use cases load a record, call one of these, and store the result in one compare-and-set.
 */

/** The tunables the decisions read (from the validated config). */
export interface CoreSettings {
  /** How long a write's report is recognised as ours, ms (ECHO_WINDOW_MS). */
  echoWindowMs: number;
  /** How long a write deferred by the contact center (agent on a contact) is expected to land, ms. */
  deferredWindowMs: number;
  /** Per agent and side: at most one write per this window while changes keep coming, ms (0 = off). */
  burstWindowMs: number;
  confirmTimeoutMs: number;
  confirmAttempts: number;
  defaultUnavailableCode?: string;
  /**
   * The contact center refuses state writes during a contact instead of queueing them as the next state
   * (`ConnectorCapabilities.onContact === 'refused'`): the engine holds such a write and sends it when the contact ends.
   */
  acdRefusesOnContact?: boolean;
  /**
   * The sync backoff (SYNC_BACKOFF_MS): after its nth failed attempt a write is not sent again for backoff × 2^(n-1)
   * ms, whatever starts its sync meanwhile (a repeat of its decision, drift repair), as the retry queue waits.
   */
  retryBackoffMs?: number;
}

/** Side effects to run after the transition is stored (each is idempotent). */
export type Effect =
  | { kind: 'trigger'; target: Side; delayMs: number }
  | { kind: 'schedule-confirm'; writeId: string; send: number; delayMs: number }
  | { kind: 'cancel-confirm'; writeId: string; send: number };

export interface Transition<V> {
  verdict: V;
  record: AgentRecord;
  audit: AuditRecord[];
  effects: Effect[];
}

/**
 * How precise each side's clock is, ms. Salesforce stamps presence rows to the second, so a Salesforce time
 * within a second of another is a tie, not an order.
 */
export const CLOCK_RESOLUTION_MS: Record<Side, number> = { acd: 1, salesforce: 1000 };

/** At most this many open writes are kept per side (the oldest are dropped). */
export const MAX_OPEN_WRITES = 16;

/**
 * Several transitions applied one after another, as one: their audit records and effects in order, the last
 * record, and the verdict given.
 */
export function chain<V>(steps: readonly Transition<unknown>[], verdict: V, record: AgentRecord): Transition<V> {
  return { verdict, record, audit: steps.flatMap((s) => s.audit), effects: steps.flatMap((s) => s.effects) };
}

export const otherSide = (side: Side): Side => (side === 'acd' ? 'salesforce' : 'acd');
const directionOf = (side: Side): SyncDirection => (side === 'acd' ? 'acd->salesforce' : 'salesforce->acd');
const directionToward = (target: Side): SyncDirection => directionOf(otherSide(target));
const valueKey = (side: Side, value: SideValue): string => (side === 'acd' ? acdStateKey(value as AcdState) : (value as string));

/**
 * A deep copy of plain data (records are JSON documents: objects, arrays, strings, numbers, booleans, null,
 * undefined). Several times cheaper than `structuredClone`, which ran on every transition.
 */
function copy<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(copy) as T;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = copy((value as Record<string, unknown>)[key]);
  return out as T;
}

/**
 * A write whose outcome is not known yet: while one is open, "the side already shows it" is not trusted. Past its
 * window (`until`) a write can no longer be matched to a report, so it no longer counts either.
 */
export const isUncertain = (w: OpenWrite, now: number): boolean => w.phase !== 'applied' && w.until >= now;

/** Drops the writes whose window has passed: no report can be matched to them any more. */
function pruneExpired(side: SideRecord, now: number): void {
  if (side.writes.some((w) => w.until < now)) side.writes = side.writes.filter((w) => w.until >= now);
}

/** How long to hold a write toward `side` back so that a burst yields at most one write per window. */
export function burstDelay(side: SideRecord, now: number, windowMs: number): number {
  if (windowMs <= 0 || side.lastWriteAt === undefined) return 0;
  const since = now - side.lastWriteAt;
  return since >= 0 && since < windowMs ? windowMs - since : 0;
}

/**
 * The settable ACD state the agent was in before now: the current one if settable, else the one the contact
 * center named as previous (when it names one), else the last settable one seen (before the contact began).
 */
export function settableBefore(record: AgentRecord): AcdState | undefined {
  const obs = record.acd.obs;
  if (obs && isSettable(obs.value as AcdState)) return obs.value as AcdState;
  if (obs?.previous && isSettable(obs.previous)) return obs.previous;
  return record.settledAcd;
}

/** Which of two observations changed last, with each side's clock resolution; a tie goes to the one received later. */
export function changedLast(acd: Observation, sf: Observation): Side {
  if (acd.at + CLOCK_RESOLUTION_MS.acd <= sf.at) return 'salesforce';
  if (sf.at + CLOCK_RESOLUTION_MS.salesforce <= acd.at) return 'acd';
  return sf.receivedAt > acd.receivedAt ? 'salesforce' : 'acd';
}

// ---------------------------------------------------------------------------------------------------------------
// Ingest: one reported change of one side.
// ---------------------------------------------------------------------------------------------------------------

export type ObserveVerdict = 'duplicate' | 'stale' | 'unchanged' | 'echo' | 'confirmed' | 'late-landing' | 'recorded';

export type IngestOutcome =
  | 'duplicate' | 'stale' | 'unchanged' | 'echo' | 'confirmed'
  | 'queued' | 'no-change' | 'no-rule' | 'unmapped' | 'unlinked' | 'no-previous' | 'conflict' | 'held' | 'superseded'
  | 'first-sight';

export interface IngestVerdict {
  observed: ObserveVerdict;
  outcome: IngestOutcome;
}

export interface IngestContext {
  now: number;
  agent: ResolvedAgent;
  /** The agent's rule, if one covers it. */
  rule?: CompiledRule;
  settings: CoreSettings;
  /** A fresh write id (random in production, predictable in tests). */
  newWriteId: () => string;
  /**
   * Drift repair reads each side's current state: `readAt` is when. A snapshot is the truth at that time, so it
   * is stale only if a report received after the read says otherwise; `undated` when the vendor gave no time.
   */
  snapshot?: { readAt: number; undated: boolean };
}

function valueOf(change: InboundChange): SideValue {
  return change.side === 'acd' ? change.state : change.status;
}

function isStale(obs: Observation, change: InboundChange, at: number, seq: number | undefined, ctx: IngestContext, lastWriteAt?: number): boolean {
  // A snapshot is older than any report received, and any write of ours begun, after it was read.
  if (ctx.snapshot) return obs.receivedAt > ctx.snapshot.readAt || (lastWriteAt ?? 0) > ctx.snapshot.readAt;
  // A sequence orders a sender's events exactly; one that goes backwards while time moves on is a restarted
  // sender (its counter began again), not an old event.
  if (seq !== undefined && obs.seq !== undefined) return seq <= obs.seq && at <= obs.at;
  return at + CLOCK_RESOLUTION_MS[change.side] <= obs.at;
}

/** The open write a report of `key` is the echo of: by write identity when the side reports one, else by state. */
function matchWrite(writes: OpenWrite[], key: string, requestId: string | undefined, now: number): number {
  if (requestId) {
    const byId = writes.findIndex((w) => w.writeId === requestId);
    if (byId >= 0) return byId;
  }
  return writes.findIndex((w) => w.key === key && w.until >= now);
}

/**
 * One reported change of one side: its value first (echo, stale, conflict, the rule's row), then, for a Salesforce
 * change that carries the user's work, the workload rows (docs/rules.md, "workload").
 */
export function ingest(before: AgentRecord, change: InboundChange, ctx: IngestContext): Transition<IngestVerdict> {
  if (change.side !== 'salesforce' || change.workload === undefined) return ingestReport(before, change, ctx);
  // The work is recorded first, so that the status's own row already sees it (Available under open work).
  // A snapshot's work is the work when it was read, whatever time its status began.
  const at = ctx.snapshot ? ctx.snapshot.readAt : Math.min(change.occurredAt, change.receivedAt);
  const newer = !before.work || before.work.at <= at;
  const first = ingestReport(newer ? { ...before, work: { ...copy(change.workload), at } } : before, change, ctx);
  if (first.verdict.observed === 'duplicate' || first.verdict.observed === 'stale') return { ...first, record: before };
  if (!newer) return first; // an older read of the work
  const second = applyWorkload(first.record, change, ctx);
  if (!second) return first;
  // The work's decision is the one to report when it queued a write, or when the status itself said nothing new.
  const workDecides = second.verdict.outcome === 'queued' || first.verdict.outcome === 'unchanged';
  return chain([first, second], workDecides ? { observed: first.verdict.observed, outcome: second.verdict.outcome } : first.verdict, second.record);
}

function ingestReport(before: AgentRecord, change: InboundChange, ctx: IngestContext): Transition<IngestVerdict> {
  const record = copy(before);
  const side = change.side;
  const s = record[side];
  const value = valueOf(change);
  const key = valueKey(side, value);
  const { now } = ctx;
  const receivedAt = ctx.snapshot ? ctx.snapshot.readAt : change.receivedAt;
  // A sender's clock ahead of ours is bounded by when we received the change.
  let at = Math.min(change.occurredAt, receivedAt);
  const seq = change.side === 'acd' ? change.sequence : undefined;
  const reconcile = ctx.snapshot !== undefined;
  const audit: AuditRecord[] = [];
  const effects: Effect[] = [];
  const base: AuditRecord = {
    at: now, agentId: ctx.agent.agentId, outcome: 'queued', direction: reconcile ? 'reconcile' : directionOf(side),
    source: { side: reconcile ? 'reconcile' : side, eventId: change.eventId, occurredAt: change.occurredAt, state: value },
  };
  const done = (observed: ObserveVerdict, outcome: IngestOutcome): Transition<IngestVerdict> => ({ verdict: { observed, outcome }, record, audit, effects });
  const note = (outcome: AuditOutcome, fields: Partial<AuditRecord>) => audit.push({ ...base, ...fields, outcome });

  pruneExpired(s, now);
  const obs = s.obs;
  if (obs && obs.eventId === change.eventId) return { verdict: { observed: 'duplicate', outcome: 'duplicate' }, record: before, audit: [], effects: [] };
  if (obs && isStale(obs, change, at, seq, ctx, s.lastWriteAt)) {
    note('stale', { detail: `older than the known ${side} state ${obs.key} (${new Date(obs.at).toISOString()}): dropped` });
    return { verdict: { observed: 'stale', outcome: 'stale' }, record: before, audit, effects: [] };
  }
  if (ctx.snapshot) {
    // A snapshot with no time of its own that differs from what we knew: a change we missed at an unknown time.
    // It is dated no later than what we knew, so it never outranks a real, dated change of the other side.
    if (ctx.snapshot.undated) at = obs?.at ?? 0;
    else if (obs) at = Math.max(at, obs.at);
  }
  const previous = change.side === 'acd' ? change.previous : undefined;
  const fresh: Observation = { value, key, at, receivedAt, eventId: change.eventId };
  if (seq !== undefined) fresh.seq = seq;
  if (previous) fresh.previous = previous;
  /** The known observation, marked as reported again by this event (its value and start time stay). */
  const reported = (o: Observation, extra: Partial<Observation> = {}): Observation => ({ ...o, eventId: change.eventId, ...(seq !== undefined ? { seq } : {}), ...extra });
  const settle = () => {
    if (side === 'acd' && isSettable(value as AcdState)) record.settledAcd = copy(value as AcdState);
  };

  // Our own write, reported back.
  const requestId = change.side === 'acd' ? change.requestId : undefined;
  const matched = matchWrite(s.writes, key, requestId, now);
  if (matched >= 0) {
    const w = s.writes[matched];
    // Writes toward one side are reported in the order they were made: the ones before this one are over.
    const consumed = s.writes.slice(0, matched + 1);
    s.writes = s.writes.slice(matched + 1);
    if (obs?.byWrite && s.writes.some((x) => x.writeId === obs.byWrite)) {
      // The report of an earlier write, after a later write of ours was answered as applied: it tells nothing new
      // about the value (the later write's value stands); only the vendor's clock moves on.
      s.obs = reported(obs, { at: fresh.at, receivedAt: fresh.receivedAt });
    } else {
      s.obs = { ...fresh, byWrite: w.writeId };
      settle();
    }
    const want = pendingWant(s);
    for (const c of consumed) if (c.send !== undefined && c.phase === 'sent') effects.push({ kind: 'cancel-confirm', writeId: c.writeId, send: c.send });
    if (want && want.writeId === w.writeId) {
      s.done = want.version;
      const how = side === 'salesforce' ? `Salesforce shows ${key}`
        : w.phase === 'deferred' ? `the contact center applied ${key}, set while the agent was on a contact` : `the contact center shows ${key}`;
      audit.push(wantRecord(want, 'confirmed', now, ctx.agent.agentId, { detail: how, latencyMs: now - want.receivedAt }));
      note('echo', { writeId: w.writeId, detail: `our own write of ${key} reported back: not synced back` });
      return done('confirmed', 'confirmed');
    }
    // A write of ours lands after a real change of that side overtook it, and nobody wants it any more: the
    // state the agent chose is written back (never a contact state: those the contact center sets itself).
    const overtakenBy = w.overtaken && obs && !obs.byWrite && obs.key !== w.key ? obs : undefined;
    if (overtakenBy && !want) {
      if (side === 'salesforce' || isSettable(overtakenBy.value as AcdState)) {
        const restore = newWant(record, side, overtakenBy.value, overtakenBy.key, change, ctx, { rule: before[side].want?.rule ?? ctx.rule?.name ?? '', row: 'restore-after-late-write' });
        effects.push({ kind: 'trigger', target: side, delayMs: burstDelay(s, now, ctx.settings.burstWindowMs) });
        note('superseded', {
          writeId: w.writeId, wanted: overtakenBy.value,
          detail: `our write of ${key} landed after ${side} had changed to ${overtakenBy.key}: not synced onward; ${overtakenBy.key} is written back (write ${restore.writeId})`,
        });
        return done('late-landing', 'superseded');
      }
      // The agent's state then was a contact state, which cannot be written back: the late write stands as the
      // side's state and is decided like a change of that side.
      s.obs = fresh;
    } else {
      note('echo', { writeId: w.writeId, detail: `our own write of ${key} reported back: not synced back` });
      return done('echo', 'echo');
    }
  } else if (requestId) {
    // The contact center names one of our writes that is no longer open (reported twice, or late): still ours.
    if (!obs || obs.key !== key) s.obs = { ...fresh, byWrite: requestId };
    else s.obs = reported(obs);
    settle();
    note('echo', { writeId: requestId, detail: `our own write of ${key} reported back again: not synced back` });
    return done('echo', 'echo');
  } else if (obs && obs.key === key) {
    // The same state again: the time it began stays (a repeat must not make this side look newer).
    s.obs = reported(obs, previous ? { previous } : {});
    return done('unchanged', 'unchanged');
  } else {
    s.obs = fresh;
  }

  // A real change of this side.
  settle();
  // Drift repair's first look at a side, or at an agent whose other side is not known yet: nothing to decide
  // from one snapshot. The repair that follows decides with both sides (the side that changed last wins, and a
  // first sight with no time of its own never outranks a known, dated state). Deciding here would queue a
  // write that the second snapshot then supersedes: two records per agent at every first boot.
  if (reconcile && (!obs || !record[otherSide(side)].obs)) return done('recorded', 'first-sight');
  const settableNow = side === 'salesforce' || isSettable(value as AcdState);
  // A change the agent made before our write to that side began, read only after the write was applied: the
  // side now shows our write, which overwrote the change. Who wins is the conflict policy's call, as if the two
  // had met while the write was pending.
  const overwrote = ctx.rule ? s.writes.find((w) => w.phase === 'applied' && w.at > change.receivedAt && w.key !== key) : undefined;
  if (overwrote && ctx.rule) {
    const by = s.want?.writeId === overwrote.writeId ? s.want : undefined;
    const agentWins = ctx.rule.conflictPolicy === side || (ctx.rule.conflictPolicy === 'latest' && at + CLOCK_RESOLUTION_MS[side] > (by?.sourceAt ?? 0));
    s.obs = { ...fresh, value: copy(overwrote.value), key: overwrote.key, byWrite: overwrote.writeId };
    if (!agentWins) {
      note('conflict', { rule: ctx.rule.name, writeId: overwrote.writeId, detail: `${key} was chosen before our write of ${overwrote.key} was applied, which wins (conflictPolicy ${ctx.rule.conflictPolicy}): not synced` });
      return done('recorded', 'conflict');
    }
    const restore = newWant(record, side, value, key, change, ctx, { rule: ctx.rule.name, row: 'restore-overwritten' });
    effects.push({ kind: 'trigger', target: side, delayMs: 0 });
    note('superseded', {
      rule: ctx.rule.name, writeId: overwrote.writeId, wanted: value,
      detail: `${key} was chosen before our write of ${overwrote.key} was applied over it, and wins (conflictPolicy ${ctx.rule.conflictPolicy}): ${key} is written back (write ${restore.writeId})`,
    });
  }
  // The contact ended while the engine held a write for it (a contact center that queues no next state): the
  // write goes out now. The state the contact center chose after the contact is not the agent's choice, so it is
  // neither synced to Salesforce nor a conflict with the held write.
  const held = side === 'acd' && settableNow && obs && !isSettable(obs.value as AcdState) ? s.writes.find((w) => w.phase === 'deferred' && w.held) : undefined;
  if (held) {
    s.writes = s.writes.filter((w) => w !== held && w.phase !== 'applied');
    effects.push({ kind: 'trigger', target: 'acd', delayMs: 0 });
    note('held', { rule: ctx.rule?.name, writeId: held.writeId, wanted: held.value, detail: `the contact ended (${key}): ${held.key}, held during the contact, is sent now` });
    return done('recorded', 'held');
  }
  // Writes answered as applied happened before this report; a deferred write dies when the agent picks a state
  // themselves (the contact center replaces the next state). Writes in flight may still land (late landing).
  const dropped = s.writes.filter((w) => (w.phase === 'applied' && w !== overwrote) || (w.phase === 'deferred' && side === 'acd' && settableNow));
  s.writes = s.writes.filter((w) => !dropped.includes(w));
  const towardSource = overwrote ? undefined : pendingWant(s);

  // A contact began or moved on while a write toward the contact center waits for it to end: the contact center
  // applies our write after the contact, and Salesforce keeps the state the agent chose meanwhile.
  if (side === 'acd' && !settableNow && (towardSource || s.writes.some((w) => w.phase === 'deferred'))) {
    const waiting = towardSource?.key ?? s.writes.find((w) => w.phase === 'deferred')?.key;
    note('held', { rule: ctx.rule?.name, detail: `the agent is on a contact (${key}); ${waiting} is applied when it ends: Salesforce keeps the agent's choice` });
    return done('recorded', 'held');
  }

  if (!ctx.rule) {
    note('no-rule', { detail: 'no rule is assigned to this agent, its e-mail or its team' });
    return done('recorded', 'no-rule');
  }
  const rule = ctx.rule;
  const withRule: Partial<AuditRecord> = { rule: rule.name };

  if (towardSource) {
    const sourceWins = rule.conflictPolicy === side || (rule.conflictPolicy === 'latest' && at + CLOCK_RESOLUTION_MS[side] > towardSource.sourceAt);
    if (!sourceWins) {
      note('conflict', { ...withRule, detail: `a write of ${towardSource.key} toward ${side} is pending and wins (conflictPolicy ${rule.conflictPolicy}): this change is not synced` });
      // Its write is gone (the contact center dropped a deferred one when the agent chose): it is written again.
      if (!s.writes.some((w) => w.writeId === towardSource.writeId)) effects.push({ kind: 'trigger', target: side, delayMs: 0 });
      return done('recorded', 'conflict');
    }
    s.done = towardSource.version;
    const open = s.writes.find((w) => w.writeId === towardSource.writeId);
    if (open) open.overtaken = true;
    const droppedOwn = dropped.find((w) => w.writeId === towardSource.writeId);
    const fate = droppedOwn
      ? `our deferred write of ${towardSource.key} was dropped by the contact center when the agent chose ${key} there`
      : open
      ? `our write of ${towardSource.key} was already ${open.phase === 'sent' ? 'sent to the console' : open.phase === 'deferred' ? 'waiting for the contact to end' : 'on its way'}: if it lands, ${key} is written back`
      : `the pending write of ${towardSource.key} is dropped before it was sent`;
    audit.push(wantRecord(towardSource, 'superseded', now, ctx.agent.agentId, { detail: `the ${side} side changed to ${key} (conflictPolicy ${rule.conflictPolicy}): ${fate}` }));
  } else {
    for (const w of dropped.filter((d) => d.phase === 'deferred')) {
      note('superseded', { ...withRule, writeId: w.writeId, wanted: w.value, detail: `the agent chose ${key} in the contact center: our deferred write of ${w.key} will not be applied` });
    }
  }

  const target = otherSide(side);
  let wanted: SideValue;
  let row: string | undefined;
  let detail: string | undefined;
  if (side === 'acd') {
    const d = publish(rule, value as AcdState);
    if (d.kind === 'unmapped') {
      note('unmapped', { ...withRule, detail: `no publisher row of rule "${rule.name}" matches ${key}` });
      return done('recorded', 'unmapped');
    }
    if (!ctx.agent.salesforceUserId) {
      note('unlinked', { ...withRule, row: d.row, detail: 'the agent is linked to no Salesforce user (e-mail or map file)' });
      return done('recorded', 'unlinked');
    }
    wanted = d.status;
    row = d.row;
  } else {
    const d = subscribe(rule, value as string, {
      previous: record.prevAcd?.state, teamCodes: ctx.agent.teamCodes, defaultUnavailableCode: ctx.settings.defaultUnavailableCode,
    });
    if (d.kind !== 'write') {
      note(d.kind, { ...withRule, row: d.kind === 'no-previous' ? d.row : undefined, detail: d.detail });
      return done('recorded', d.kind);
    }
    wanted = d.state;
    row = d.row ?? d.via;
    detail = d.detail;
    // Open Omni-Channel work keeps the agent off the contact center's routing: Available becomes the workload
    // row's state while a row matches; any other choice of the agent ends the overlay.
    const overlay = record.work ? matchWorkload(rule, record.work) : undefined;
    if (overlay && (wanted as AcdState).state === 'Available') {
      record.workOverlay = { row: workloadRowRef(overlay), key: acdStateKey(overlay.acd), restore: copy(wanted as AcdState) };
      detail = `${detail ? `${detail}; ` : ''}${acdStateKey(wanted as AcdState)} becomes ${acdStateKey(overlay.acd)} while ${workloadRowRef(overlay)} matches the agent's Omni-Channel work`;
      wanted = copy(overlay.acd);
      row = `${row}+${workloadRowRef(overlay)}`;
    } else if (record.workOverlay) {
      record.workOverlay = undefined;
    }
  }
  const wantedKey = valueKey(target, wanted);
  const t = record[target];
  const pendingTarget = pendingWant(t);
  // "Already shows it" is trusted only while no write toward that side has an unknown outcome.
  if (pendingTarget ? pendingTarget.key === wantedKey : t.obs?.key === wantedKey && !t.writes.some((w) => isUncertain(w, now))) {
    // A want already on its way is nudged (idempotent): its trigger may have been lost with a crash.
    if (pendingTarget) effects.push({ kind: 'trigger', target, delayMs: burstDelay(t, now, ctx.settings.burstWindowMs) });
    if (!reconcile) {
      note('no-change', { ...withRule, row, wanted, detail: pendingTarget ? `a write of ${wantedKey} toward ${target} is already on its way` : `${target} already shows ${wantedKey}` });
    }
    return done('recorded', 'no-change');
  }
  const want = newWant(record, target, wanted, wantedKey, change, ctx, { rule: rule.name, row, reconcile });
  effects.push({ kind: 'trigger', target, delayMs: burstDelay(t, now, ctx.settings.burstWindowMs) });
  note('queued', { ...withRule, row, wanted, writeId: want.writeId, detail, latencyMs: now - change.receivedAt });
  return done('recorded', 'queued');
}

function newWant(
  record: AgentRecord, target: Side, value: SideValue, key: string, change: InboundChange, ctx: IngestContext,
  from: { rule: string; row?: string; reconcile?: boolean },
): Want {
  record.ver += 1;
  const want: Want = {
    value: copy(value), key, version: record.ver, writeId: ctx.newWriteId(),
    sourceSide: from.reconcile ? 'reconcile' : change.side, sourceEventId: change.eventId,
    sourceAt: Math.min(change.occurredAt, change.receivedAt), receivedAt: change.receivedAt,
    rule: from.rule, row: from.row, reason: from.reconcile ? 'reconcile' : 'sync',
  };
  record[target].want = want;
  return want;
}

/**
 * The agent's Omni-Channel work changed. A workload row that starts to match sets the ACD to its state in place of
 * Available; when none matches any more, the state from before is set back, unless the ACD shows something else
 * by then (the agent or a status change moved on, and that stands). Undefined when the work changes nothing.
 */
function applyWorkload(before: AgentRecord, change: InboundChange & { side: 'salesforce' }, ctx: IngestContext): Transition<IngestVerdict> | undefined {
  const workload = change.workload;
  if (!workload) return undefined;
  const record = copy(before);
  const audit: AuditRecord[] = [];
  const effects: Effect[] = [];
  const { now } = ctx;
  const result = (outcome: IngestOutcome): Transition<IngestVerdict> => ({ verdict: { observed: 'recorded', outcome }, record, audit, effects });
  const rule = ctx.rule;
  if (!rule || rule.workload.length === 0) return result('unchanged');
  const acd = record.acd;
  const pending = pendingWant(acd);
  const current = (pending?.value ?? acd.obs?.value) as AcdState | undefined;
  const currentKey = current ? acdStateKey(current) : undefined;
  const row = matchWorkload(rule, workload);
  const active = record.workOverlay;
  const base: AuditRecord = {
    at: now, agentId: ctx.agent.agentId, outcome: 'queued', direction: 'salesforce->acd', rule: rule.name,
    source: { side: 'salesforce', eventId: change.eventId, occurredAt: change.occurredAt, state: change.status },
  };
  const what = `open work ${Object.entries(workload.channels).map(([c, n]) => `${c}×${n}`).join(', ') || 'none'}, load ${workload.load}/${workload.capacity}`;
  const want = (value: AcdState, rowRef: string, detail: string): Transition<IngestVerdict> => {
    const key = acdStateKey(value);
    if (currentKey === key && !acd.writes.some((w) => isUncertain(w, now))) {
      audit.push({ ...base, outcome: 'no-change', row: rowRef, wanted: value, detail: `${detail}; the contact center already shows ${key}` });
      return result('no-change');
    }
    const w = newWant(record, 'acd', value, key, change, ctx, { rule: rule.name, row: rowRef });
    effects.push({ kind: 'trigger', target: 'acd', delayMs: burstDelay(acd, now, ctx.settings.burstWindowMs) });
    audit.push({ ...base, row: rowRef, wanted: value, writeId: w.writeId, detail, latencyMs: now - change.receivedAt });
    return result('queued');
  };
  if (row) {
    const ref = workloadRowRef(row);
    const key = acdStateKey(row.acd);
    if (active) {
      if (active.row === ref && active.key === key) return result('unchanged');
      if (currentKey !== active.key) {
        record.workOverlay = undefined;
        return result('unchanged');
      }
      record.workOverlay = { ...active, row: ref, key };
      return want(row.acd, ref, `${ref} now matches (${what}): ${key} in place of ${active.key}`);
    }
    if (current?.state !== 'Available' || !ctx.agent.salesforceUserId) {
      audit.push({ ...base, outcome: 'no-change', row: ref, detail: `${ref} matches (${what}), but the agent is ${currentKey ?? 'unknown'} on the contact center, not Available: nothing to replace` });
      return result('no-change');
    }
    record.workOverlay = { row: ref, key, restore: copy(current) };
    return want(row.acd, ref, `${ref} matches (${what}): ${key} in place of ${currentKey} until the work drops`);
  }
  if (!active) return result('unchanged');
  record.workOverlay = undefined;
  if (currentKey !== active.key) {
    audit.push({ ...base, outcome: 'no-change', row: active.row, detail: `the work dropped (${what}), but the contact center shows ${currentKey ?? 'unknown'}, not ${active.key}: that stands` });
    return result('no-change');
  }
  return want(active.restore, active.row, `the work dropped (${what}): ${acdStateKey(active.restore)} is set back`);
}

/** An audit record about a want (its write, its end). */
function wantRecord(want: Want, outcome: AuditOutcome, now: number, agentId: string, fields: Partial<AuditRecord> = {}): AuditRecord {
  const target: Side = typeof want.value === 'string' ? 'salesforce' : 'acd';
  return {
    at: now, agentId, outcome, direction: want.reason === 'reconcile' ? 'reconcile' : directionToward(target),
    source: { side: want.sourceSide, eventId: want.sourceEventId, occurredAt: want.sourceAt },
    rule: want.rule, row: want.row, wanted: want.value, writeId: want.writeId, ...fields,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Writes: begin, answer, confirm.
// ---------------------------------------------------------------------------------------------------------------

export type BeginVerdict =
  | { kind: 'nothing'; detail: string }
  | { kind: 'already' }
  | { kind: 'wait'; delayMs: number }
  | { kind: 'waiting-contact' }
  | { kind: 'await-confirm' }
  | { kind: 'refused'; detail: string }
  | { kind: 'write'; want: Want; send: number };

export interface WriteContext {
  now: number;
  agentId: string;
  settings: CoreSettings;
  attempt?: number;
}

/** Before a write toward `target`: is one needed, and if so the record that says it is being made. */
export function beginWrite(before: AgentRecord, target: Side, ctx: WriteContext): Transition<BeginVerdict> {
  const record = copy(before);
  const t = record[target];
  const audit: AuditRecord[] = [];
  const effects: Effect[] = [];
  pruneExpired(t, ctx.now);
  const want = pendingWant(t);
  const out = (verdict: BeginVerdict, changed = true): Transition<BeginVerdict> => ({ verdict, record: changed ? record : before, audit, effects });
  if (!want) return out({ kind: 'nothing', detail: 'nothing pending' }, false);
  const { now } = ctx;
  const open = t.writes.find((w) => w.writeId === want.writeId);
  if (open?.phase === 'deferred') return out({ kind: 'waiting-contact' }, false);
  if (open?.phase === 'sent') {
    // The confirmation job owns it; scheduling it again is a no-op when it exists and recovers it if lost.
    effects.push({ kind: 'schedule-confirm', writeId: open.writeId, send: open.send ?? 1, delayMs: Math.max(0, (open.deadline ?? now) - now) });
    return out({ kind: 'await-confirm' }, false);
  }
  if (!open && t.obs?.key === want.key && !t.writes.some((w) => isUncertain(w, now))) {
    t.done = want.version;
    audit.push(wantRecord(want, 'already', now, ctx.agentId, { attempt: ctx.attempt, detail: `${target} already shows ${want.key}` }));
    return out({ kind: 'already' });
  }
  if (target === 'acd' && !isSettable(want.value as AcdState)) {
    t.done = want.version;
    const detail = `${want.key} is a state the contact center sets itself: never written`;
    audit.push(wantRecord(want, 'failed', now, ctx.agentId, { detail }));
    return out({ kind: 'refused', detail });
  }
  if (target === 'acd' && ctx.settings.acdRefusesOnContact && t.obs && !isSettable(t.obs.value as AcdState)) {
    holdForContact(record, want, now, ctx, open);
    audit.push(wantRecord(want, 'deferred', now, ctx.agentId, {
      attempt: ctx.attempt, detail: `the agent is on a contact (${t.obs.key}) and this contact center queues no next state: ${want.key} is sent when the contact ends`,
    }));
    return out({ kind: 'waiting-contact' });
  }
  // An open write is sent again at once, unless its last attempt failed and its backoff is not over yet.
  const delayMs = open ? Math.max(0, (open.notBefore ?? now) - now) : burstDelay(t, now, ctx.settings.burstWindowMs);
  if (delayMs > 0) {
    effects.push({ kind: 'trigger', target, delayMs });
    return out({ kind: 'wait', delayMs }, false);
  }
  if (target === 'acd' && record.prevAcd?.writeId !== want.writeId) {
    const prior = settableBefore(record);
    if (prior) record.prevAcd = { state: copy(prior), writeId: want.writeId };
  }
  const send = open?.send ?? 1;
  if (open) open.notBefore = undefined;
  if (!open) {
    t.writes.push({
      writeId: want.writeId, key: want.key, value: copy(want.value), version: want.version, phase: 'sending', at: now,
      until: now + ctx.settings.echoWindowMs, ...(target === 'salesforce' ? { send } : {}),
    });
    while (t.writes.length > MAX_OPEN_WRITES) t.writes.shift();
  }
  t.lastWriteAt = now;
  return out({ kind: 'write', want: copy(want), send });
}

/** Keeps `want` as a deferred write the engine holds (nothing was, or will be, sent before the contact ends). */
function holdForContact(record: AgentRecord, want: Want, now: number, ctx: WriteContext, open?: OpenWrite): void {
  const t = record.acd;
  const w = open ?? { writeId: want.writeId, key: want.key, value: copy(want.value), version: want.version, phase: 'deferred' as const, at: now, until: 0 };
  w.phase = 'deferred';
  w.held = true;
  w.until = now + ctx.settings.deferredWindowMs;
  if (!open) {
    t.writes.push(w);
    while (t.writes.length > MAX_OPEN_WRITES) t.writes.shift();
  }
}

export type WriteAnswer =
  | { kind: 'applied' }
  /** `held`: the contact center refused because the agent is on a contact; the engine sends it again when the contact ends. */
  | { kind: 'deferred'; held?: boolean }
  | { kind: 'sent'; send: number }
  | { kind: 'console-closed'; detail: string; recheckMs: number }
  | { kind: 'failed'; detail: string; outcome?: 'unlinked' }
  | { kind: 'retrying'; detail: string }
  | { kind: 'rate-limited'; detail: string };

/** The vendor's answer to a write (or its failure). `timings`: when the source change arrived and the call went out. */
export function answerWrite(
  before: AgentRecord, target: Side, writeId: string, answer: WriteAnswer, ctx: WriteContext, timings?: { receivedAt: number; sentAt: number },
): Transition<WriteAnswer['kind']> {
  const record = copy(before);
  const t = record[target];
  const audit: AuditRecord[] = [];
  const effects: Effect[] = [];
  const { now } = ctx;
  const w = t.writes.find((x) => x.writeId === writeId);
  const want = t.want?.writeId === writeId ? t.want : undefined;
  const current = want !== undefined && want.version > t.done;
  const about = (outcome: AuditOutcome, fields: Partial<AuditRecord>): void => {
    if (want) audit.push(wantRecord(want, outcome, now, ctx.agentId, { attempt: ctx.attempt, ...fields }));
    else audit.push({ at: now, agentId: ctx.agentId, direction: directionToward(target), outcome, writeId, attempt: ctx.attempt, ...fields });
  };
  const latency = want ? { latencyMs: now - want.receivedAt } : {};
  switch (answer.kind) {
    case 'applied': {
      // Its echo came first and already confirmed it: nothing new to record.
      if (!w && !current) break;
      if (w) {
        w.phase = 'applied';
        // The side shows it now, unless the agent changed that side since the write began (that change is newer).
        // A report of an earlier write of ours is not newer: this write was made after it.
        if (!t.obs || t.obs.receivedAt <= w.at || (t.obs.byWrite !== undefined && t.obs.byWrite !== writeId)) {
          t.obs = { value: copy(w.value), key: w.key, at: t.obs?.at ?? 0, receivedAt: t.obs?.receivedAt ?? 0, eventId: t.obs?.eventId ?? '', byWrite: writeId };
          if (target === 'acd' && isSettable(w.value as AcdState)) record.settledAcd = copy(w.value as AcdState);
        }
      }
      if (current) t.done = want.version;
      about('applied', { ...latency, timings, ...(current ? {} : { detail: 'applied; a newer change has replaced it meanwhile' }) });
      break;
    }
    case 'deferred':
      if (w) {
        w.phase = 'deferred';
        w.until = now + ctx.settings.deferredWindowMs;
        if (answer.held) w.held = true;
      }
      about('deferred', {
        ...latency, timings, detail: answer.held
          ? 'the agent is on a contact and the contact center refused the write: it is sent again when the contact ends'
          : 'the agent is on a contact: the contact center applies it when the contact ends',
      });
      break;
    case 'sent':
      if (!w) break; // confirmed by its echo before the answer came back: nothing left to wait for
      w.phase = 'sent';
      w.send = answer.send;
      w.deadline = now + ctx.settings.confirmTimeoutMs;
      effects.push({ kind: 'schedule-confirm', writeId, send: answer.send, delayMs: ctx.settings.confirmTimeoutMs });
      about('sent', {
        ...latency, timings, detail: target === 'salesforce'
          ? `command sent to the console (send ${answer.send} of ${ctx.settings.confirmAttempts}); waiting for Salesforce to show ${w.key}`
          : `accepted by the contact center (send ${answer.send} of ${ctx.settings.confirmAttempts}); waiting for it to report ${w.key}`,
      });
      break;
    case 'failed':
      t.writes = t.writes.filter((x) => x.writeId !== writeId);
      if (current) t.done = want.version;
      about(answer.outcome ?? 'failed', { detail: answer.detail });
      break;
    case 'console-closed':
      // Nothing reached the console: the want stays pending and waits for the console to open (the adapter
      // announces it), with a late check in case that announcement never comes. No retries are spent on it.
      t.writes = t.writes.filter((x) => x.writeId !== writeId);
      if (current) effects.push({ kind: 'trigger', target, delayMs: answer.recheckMs });
      about('held', { detail: `${answer.detail}; the write waits for the console to open (checked again in ${Math.round(answer.recheckMs / 1000)} s)` });
      break;
    case 'retrying':
      if (w && ctx.settings.retryBackoffMs) w.notBefore = now + syncBackoffMs(ctx.settings.retryBackoffMs, ctx.attempt ?? 1);
      about('retrying', { detail: answer.detail });
      break;
    case 'rate-limited':
      about('rate-limited', { detail: answer.detail });
      break;
  }
  return { verdict: answer.kind, record, audit, effects };
}

export type ConfirmVerdict = 'nothing' | 'confirmed' | 'failed' | 'resend';

/**
 * A sent command's confirmation is due: nothing if Salesforce showed it (or a newer want replaced it); confirmed
 * if Salesforce shows the status anyway; failed after the last send; else sent again.
 */
export function confirmDue(before: AgentRecord, writeId: string, send: number, ctx: WriteContext): Transition<ConfirmVerdict> {
  const record = copy(before);
  const t = record.salesforce;
  const audit: AuditRecord[] = [];
  const want = pendingWant(t);
  const w = t.writes.find((x) => x.writeId === writeId);
  if (!want || want.writeId !== writeId || !w || w.phase !== 'sent' || w.send !== send) return { verdict: 'nothing', record: before, audit, effects: [] };
  const { now } = ctx;
  const end = () => {
    t.writes = t.writes.filter((x) => x.writeId !== writeId);
    t.done = want.version;
  };
  if (t.obs?.key === want.key) {
    // Salesforce shows it though no echo came: the console found the status already set (the agent went X → Y → X
    // faster than our X was confirmed). Sending it again would only be refused.
    end();
    audit.push(wantRecord(want, 'confirmed', now, ctx.agentId, { attempt: ctx.attempt, latencyMs: now - want.receivedAt, detail: `Salesforce already shows ${want.key}` }));
    return { verdict: 'confirmed', record, audit, effects: [] };
  }
  if (send >= ctx.settings.confirmAttempts) {
    end();
    audit.push(wantRecord(want, 'failed', now, ctx.agentId, {
      attempt: ctx.attempt, detail: `Salesforce did not show ${want.key} within ${ctx.settings.confirmTimeoutMs} ms after ${send} sends (console closed or the status was refused)`,
    }));
    return { verdict: 'failed', record, audit, effects: [] };
  }
  // The sync job sends it again (with its own retries): a re-send that fails here would otherwise be stranded.
  w.phase = 'sending';
  w.send = send + 1;
  w.until = Math.max(w.until, now + ctx.settings.echoWindowMs);
  audit.push(wantRecord(want, 'retrying', now, ctx.agentId, { attempt: ctx.attempt, detail: `not confirmed within ${ctx.settings.confirmTimeoutMs} ms: sending again` }));
  return { verdict: 'resend', record, audit, effects: [{ kind: 'trigger', target: 'salesforce', delayMs: 0 }] };
}

// ---------------------------------------------------------------------------------------------------------------
// Drift repair: both sides known, nothing pending, and they disagree with the rule.
// ---------------------------------------------------------------------------------------------------------------

export type RepairVerdict = 'in-step' | 'busy' | 'unknown' | 'no-rule' | 'cannot' | 'repaired';

export interface RepairContext {
  now: number;
  agent: ResolvedAgent;
  rule?: CompiledRule;
  settings: CoreSettings;
  runId: string;
  newWriteId: () => string;
}

export function repairDrift(before: AgentRecord, ctx: RepairContext): Transition<RepairVerdict> {
  const out = (verdict: RepairVerdict): Transition<RepairVerdict> => ({ verdict, record: before, audit: [], effects: [] });
  const rule = ctx.rule;
  if (!rule) return out('no-rule');
  const acd = before.acd.obs;
  const sf = before.salesforce.obs;
  if (!acd || !sf) return out('unknown');
  const busy = (s: SideRecord) => pendingWant(s) !== undefined || s.writes.some((w) => isUncertain(w, ctx.now));
  if (busy(before.acd) || busy(before.salesforce)) {
    // Work is pending: drift repair leaves it alone but nudges its sync (idempotent), in case a trigger was lost.
    const effects: Effect[] = (['acd', 'salesforce'] as const).filter((s) => busy(before[s])).map((target) => ({ kind: 'trigger', target, delayMs: 0 }));
    return { verdict: 'busy', record: before, audit: [], effects };
  }
  // A workload row in force explains the ACD state: Salesforce work keeps the agent off routing.
  if (before.workOverlay && before.workOverlay.key === acd.key) return out('in-step');
  const published = publish(rule, acd.value as AcdState);
  if (published.kind === 'write' && published.status === sf.key) return out('in-step');
  const subscribed = subscribe(rule, sf.key, { previous: before.prevAcd?.state, teamCodes: ctx.agent.teamCodes, defaultUnavailableCode: ctx.settings.defaultUnavailableCode });
  if (subscribed.kind === 'write' && acdStateKey(subscribed.state) === acd.key) return out('in-step');

  const winner = changedLast(acd, sf);
  let value: SideValue;
  let row: string | undefined;
  if (winner === 'acd') {
    if (published.kind !== 'write') return out('cannot');
    value = published.status;
    row = published.row;
  } else {
    // A `previous` row is not replayed by drift repair: the previous state is about a moment that has passed.
    if (subscribed.kind !== 'write' || subscribed.via === 'previous') return out('cannot');
    value = subscribed.state;
    row = subscribed.row;
  }
  const target = otherSide(winner);
  const record = copy(before);
  const source = winner === 'acd' ? acd : sf;
  record.ver += 1;
  const want: Want = {
    value: copy(value), key: valueKey(target, value), version: record.ver, writeId: ctx.newWriteId(), sourceSide: 'reconcile',
    sourceEventId: `reconcile:${ctx.runId}:${ctx.agent.agentId}`, sourceAt: source.at, receivedAt: ctx.now, rule: rule.name, row, reason: 'reconcile',
  };
  record[target].want = want;
  return {
    verdict: 'repaired',
    record,
    effects: [{ kind: 'trigger', target, delayMs: 0 }],
    audit: [{
      at: ctx.now, agentId: ctx.agent.agentId, direction: 'reconcile', outcome: 'queued', rule: rule.name, row, wanted: value, writeId: want.writeId,
      source: { side: 'reconcile', eventId: `reconcile:${ctx.runId}`, state: source.value },
      detail: `drift: acd shows ${acd.key}, salesforce shows ${sf.key}; the ${winner} side changed last and wins`,
    }],
  };
}
