import type { DueChanges, Side } from '@presence-sync/domain';
import type { Effect } from './agent-transitions';

/**
 * What the due set of a partition holds: a sync of one side of one agent, or the confirmation check of one sent
 * Salesforce command. The partition's owner runs each at its time; a transition that asks for one stores it
 * together with the record, so a crash between the transition and the run loses nothing.
 */
export type DueTask =
  | { kind: 'sync'; target: Side; agentId: string }
  | { kind: 'confirm'; agentId: string; writeId: string; send: number };

/** The due set's member of a task (JSON, so ids with any character round-trip). */
export function dueMember(task: DueTask): string {
  return task.kind === 'sync' ? JSON.stringify(['s', task.target, task.agentId]) : JSON.stringify(['c', task.agentId, task.writeId, task.send]);
}

/** The task of a due set member; undefined for anything else. */
export function dueTaskOf(member: string): DueTask | undefined {
  let parts: unknown;
  try {
    parts = JSON.parse(member);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parts)) return undefined;
  const [kind, a, b, c] = parts as unknown[];
  if (kind === 's' && (a === 'acd' || a === 'salesforce') && typeof b === 'string') return { kind: 'sync', target: a, agentId: b };
  if (kind === 'c' && typeof a === 'string' && typeof b === 'string' && typeof c === 'number') return { kind: 'confirm', agentId: a, writeId: b, send: c };
  return undefined;
}

export interface ScheduleOptions {
  now: number;
  /** This process runs the agent's syncs itself: a sync wanted now runs at once, its due entry is only a guard. */
  here: boolean;
  /** How long a guard waits before the owner runs the sync from the due set (the run here ended or died). */
  guardMs: number;
  /** The due entry this transition ends (the run it belongs to is over), if it is still at the run's time. */
  settle?: DueSettle;
}

/** A run's own entry in the due set: its member and the time it was set to when the run began. */
export interface DueSettle {
  member: string;
  at: number;
}

/**
 * The due set changes of a transition's effects, and the syncs to run now. A sync wanted now is stored as a guard
 * `guardMs` ahead when it runs here at once (the run's last transition removes it), or as due now for the owner
 * to take (another replica works the partition). Several triggers of one side keep the earliest time.
 */
export function scheduleOf(agentId: string, effects: readonly Effect[], options: ScheduleOptions): { due: DueChanges; runNow: { target: Side; guardUntil: number }[] } {
  const { now, here, guardMs } = options;
  const add = new Map<string, number>();
  const remove: string[] = [];
  const runNow: { target: Side; guardUntil: number }[] = [];
  const at = (member: string, time: number) => add.set(member, Math.min(add.get(member) ?? Infinity, time));
  for (const e of effects) {
    if (e.kind === 'trigger') {
      const member = dueMember({ kind: 'sync', target: e.target, agentId });
      if (e.delayMs > 0) at(member, now + e.delayMs);
      else if (here) {
        at(member, now + guardMs);
        if (!runNow.some((r) => r.target === e.target)) runNow.push({ target: e.target, guardUntil: now + guardMs });
      } else at(member, now);
    } else if (e.kind === 'schedule-confirm') {
      at(dueMember({ kind: 'confirm', agentId, writeId: e.writeId, send: e.send }), now + e.delayMs);
    } else {
      remove.push(dueMember({ kind: 'confirm', agentId, writeId: e.writeId, send: e.send }));
    }
  }
  // Settled first: an entry asked for again is then set to the new time, not kept at the run's earlier one.
  const settle: [string, number][] = options.settle ? [[options.settle.member, options.settle.at]] : [];
  return { due: { add: [...add], remove, ...(settle.length > 0 ? { settle } : {}) }, runNow };
}

/** Whether a schedule changes anything. */
export const hasDueChanges = (due: DueChanges): boolean => due.add.length > 0 || due.remove.length > 0 || (due.settle?.length ?? 0) > 0;
