import { emptyAgentRecord, type AgentRecordStore, type AuditRecord, type InboundChange } from '@presence-sync/domain';

/**
 * The behaviour every `AgentRecordStore` must have, run against the Redis store (integration) and the in-memory
 * one (unit): compare-and-set on the revision, audit records and inbox pops in the same all-or-nothing step.
 * `push` appends to an inbox the way intake does.
 */
export function agentRecordStoreContract(name: string, make: () => { store: AgentRecordStore; push: (inbox: string, change: InboundChange) => Promise<void>; audit: (agentId: string) => Promise<AuditRecord[]>; dueAt: (agentId: string, member: string) => Promise<number | undefined> }): void {
  const change = (eventId: string): InboundChange => ({ side: 'acd', eventId, agentId: 'a-1', occurredAt: 1, receivedAt: 1, state: { state: 'Available' } });
  const record = (ver: number) => ({ ...emptyAgentRecord(), ver });
  const note = (detail: string): AuditRecord => ({ at: 1, agentId: 'a-1', direction: 'acd->salesforce', outcome: 'queued', detail });
  let n = 0;
  const id = () => `agent-${name}-${++n}-${Math.random().toString(36).slice(2, 8)}`;

  describe(`${name}: the AgentRecordStore contract`, () => {
    it('an unknown agent is an empty record at revision 0', async () => {
      const { store } = make();
      expect(await store.load(id())).toEqual(emptyAgentRecord());
    });

    it('stores a record only at the revision it was read at', async () => {
      const { store } = make();
      const agent = id();
      expect(await store.commit(agent, 0, record(1))).toBe('ok');
      expect(await store.load(agent)).toMatchObject({ rev: 1, ver: 1 });
      expect(await store.commit(agent, 0, record(2))).toBe('conflict');
      expect(await store.commit(agent, 1, record(3))).toBe('ok');
      expect(await store.load(agent)).toMatchObject({ rev: 2, ver: 3 });
    });

    it('writes audit records with the record, newest first, and not at all on a conflict', async () => {
      const { store, audit } = make();
      const agent = id();
      expect(await store.commit(agent, 0, record(1), { audit: [note('one'), note('two')] })).toBe('ok');
      expect(await store.commit(agent, 0, record(1), { audit: [note('lost')] })).toBe('conflict');
      expect((await audit(agent)).map((r) => r.detail)).toEqual(['two', 'one']);
    });

    it('pops inbox entries with the record, only if they are still the head, and says whether more is queued behind them', async () => {
      const { store, push } = make();
      const agent = id();
      const inbox = `agent/${agent}`;
      await push(inbox, change('e1'));
      await push(inbox, change('e2'));
      await push(inbox, change('e3'));
      const head = await store.peek(inbox, 2);
      expect(head.map((e) => e.change.eventId)).toEqual(['e1', 'e2']);
      expect(await store.commit(agent, 0, record(1), { pop: { inbox, entries: head.map((e) => e.raw) } })).toBe('more');
      expect((await store.peek(inbox, 10)).map((e) => e.change.eventId)).toEqual(['e3']);
      // The same entries again: someone else took them; nothing is stored.
      expect(await store.commit(agent, 1, record(9), { pop: { inbox, entries: head.map((e) => e.raw) } })).toBe('moved');
      expect(await store.load(agent)).toMatchObject({ rev: 1, ver: 1 });
      const rest = await store.peek(inbox, 10);
      // The last entry: nothing behind it.
      expect(await store.commit(agent, 1, record(2), { pop: { inbox, entries: rest.map((e) => e.raw) } })).toBe('ok');
      expect(await store.peek(inbox, 10)).toEqual([]);
      expect(await store.discard(inbox, rest.map((e) => e.raw))).toBe('moved');
      await push(inbox, change('e4'));
      const last = await store.peek(inbox, 10);
      expect(await store.discard(inbox, last.map((e) => e.raw))).toBe('ok');
      expect(await store.peek(inbox, 10)).toEqual([]);
    });

    it('stores schedule changes with the record, not at all on a conflict; an earlier time wins unless the entry was removed', async () => {
      const { store, dueAt } = make();
      const agent = id();
      const [a, b] = ['["s","acd","x"]', '["c","x","w",1]'];
      expect(await store.commit(agent, 0, record(1), { due: { add: [[a, 5000], [b, 9000]], remove: [] } })).toBe('ok');
      expect(await store.commit(agent, 0, record(2), { due: { add: [[a, 1]], remove: [b] } })).toBe('conflict');
      expect([await dueAt(agent, a), await dueAt(agent, b)]).toEqual([5000, 9000]);
      await store.schedule(agent, { add: [[a, 7000], [b, 3000]], remove: [] });
      expect([await dueAt(agent, a), await dueAt(agent, b)]).toEqual([5000, 3000]);
      // Removed and added in one step: the new time stands, even when it is later.
      expect(await store.commit(agent, 1, record(2), { due: { add: [[a, 8000]], remove: [a, b] } })).toBe('ok');
      expect([await dueAt(agent, a), await dueAt(agent, b)]).toEqual([8000, undefined]);
      // Settled only while still at the run's own time: a newer time is somebody else's.
      await store.schedule(agent, { add: [], remove: [], settle: [[a, 5000]] });
      expect(await dueAt(agent, a)).toBe(8000);
      expect(await store.commit(agent, 2, record(3), { due: { add: [], remove: [], settle: [[a, 8000]] } })).toBe('ok');
      expect(await dueAt(agent, a)).toBeUndefined();
    });
  });
}
