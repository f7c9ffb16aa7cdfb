import type { Effect } from './agent-transitions';
import { dueMember, dueTaskOf, scheduleOf, type ScheduleOptions } from './due-schedule';

const sync = (target: 'acd' | 'salesforce') => dueMember({ kind: 'sync', target, agentId: 'a-1' });
const confirm = (writeId: string, send: number) => dueMember({ kind: 'confirm', agentId: 'a-1', writeId, send });
const base: ScheduleOptions = { now: 1_000, here: true, guardMs: 5_000 };

describe('scheduleOf: what a transition puts in the due set, and what runs now', () => {
  it.each<[string, Effect[], Partial<ScheduleOptions>, ReturnType<typeof scheduleOf>]>([
    ['no effects: nothing', [], {}, { due: { add: [], remove: [] }, runNow: [] }],
    ['a sync now, worked here: guarded, run now', [{ kind: 'trigger', target: 'acd', delayMs: 0 }], {},
      { due: { add: [[sync('acd'), 6_000]], remove: [] }, runNow: [{ target: 'acd', guardUntil: 6_000 }] }],
    ['a sync now, worked elsewhere: due now for the owner, nothing run here', [{ kind: 'trigger', target: 'acd', delayMs: 0 }], { here: false },
      { due: { add: [[sync('acd'), 1_000]], remove: [] }, runNow: [] }],
    ['a sync held back (burst): due at its time, not run now', [{ kind: 'trigger', target: 'salesforce', delayMs: 300 }], {},
      { due: { add: [[sync('salesforce'), 1_300]], remove: [] }, runNow: [] }],
    ['two triggers of one side: the earlier time, one run', [{ kind: 'trigger', target: 'acd', delayMs: 300 }, { kind: 'trigger', target: 'acd', delayMs: 0 }], {},
      { due: { add: [[sync('acd'), 1_300]], remove: [] }, runNow: [{ target: 'acd', guardUntil: 6_000 }] }],
    ['both sides now: one run each', [{ kind: 'trigger', target: 'acd', delayMs: 0 }, { kind: 'trigger', target: 'salesforce', delayMs: 0 }], {},
      { due: { add: [[sync('acd'), 6_000], [sync('salesforce'), 6_000]], remove: [] }, runNow: [{ target: 'acd', guardUntil: 6_000 }, { target: 'salesforce', guardUntil: 6_000 }] }],
    ['a confirmation check: due at its deadline', [{ kind: 'schedule-confirm', writeId: 'w1', send: 1, delayMs: 8_000 }], {},
      { due: { add: [[confirm('w1', 1), 9_000]], remove: [] }, runNow: [] }],
    ['a confirmed write: its check removed', [{ kind: 'cancel-confirm', writeId: 'w1', send: 2 }], {},
      { due: { add: [], remove: [confirm('w1', 2)] }, runNow: [] }],
    ['the last step of a run: its own entry settled at its time', [], { settle: { member: sync('acd'), at: 6_000 } },
      { due: { add: [], remove: [], settle: [[sync('acd'), 6_000]] }, runNow: [] }],
    ['a run that asks for itself again (console closed): settled, then set to the new time',
      [{ kind: 'trigger', target: 'salesforce', delayMs: 60_000 }], { settle: { member: sync('salesforce'), at: 6_000 } },
      { due: { add: [[sync('salesforce'), 61_000]], remove: [], settle: [[sync('salesforce'), 6_000]] }, runNow: [] }],
  ])('%s', (_what, effects, options, expected) => {
    expect(scheduleOf('a-1', effects, { ...base, ...options })).toEqual(expected);
  });
});

describe('due set members', () => {
  it.each([
    { kind: 'sync' as const, target: 'acd' as const, agentId: 'a:1 "x"' },
    { kind: 'confirm' as const, agentId: 'a-1', writeId: 'w\n1', send: 3 },
  ])('round-trip %j', (task) => {
    expect(dueTaskOf(dueMember(task))).toEqual(task);
  });

  it.each(['', 'not json', '["s","fax","a-1"]', '["c","a-1","w"]', '{"s":1}', '["x"]'])('%j is no task', (member) => {
    expect(dueTaskOf(member)).toBeUndefined();
  });
});
