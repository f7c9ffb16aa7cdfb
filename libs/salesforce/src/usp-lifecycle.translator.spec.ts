import { isUspStreamMessage, UspLifecycleTranslator, type UspDecision, type UspRow, type UspStreamMessage } from './usp-lifecycle.translator';

const NOW = Date.parse('2026-03-02T10:00:00.000Z');
const STATUS = { '0N5000000000001AAA': 'Available_Chat', '0N5000000000005AAA': 'Lunch' } as Record<string, string>;
const names = (id: string) => STATUS[id];
const U1 = '005000000000001AAA';
const U2 = '005000000000002AAA';

let replay = 100;
function msg(type: string, row: Partial<UspRow> & { Id: string }, createdDate = '2026-03-02T09:59:59.000Z'): UspStreamMessage {
  replay += 1;
  return { event: { type, createdDate, replayId: replay }, sobject: { UserId: U1, ...row } };
}
const created = (id: string, statusId: string, user = U1, start = '2026-03-02T09:59:58.000Z') =>
  msg('created', { Id: id, UserId: user, ServicePresenceStatusId: statusId, IsCurrentState: true, StatusStartDate: start, StatusEndDate: null });
const closed = (id: string, user = U1, end = '2026-03-02T09:59:58.500Z') =>
  msg('updated', { Id: id, UserId: user, ServicePresenceStatusId: '0N5000000000001AAA', IsCurrentState: false, StatusEndDate: end });
const capacity = (id: string, user = U1) => msg('updated', { Id: id, UserId: user, ServicePresenceStatusId: '0N5000000000001AAA', IsCurrentState: true, IsAway: false });
/** A capacity update as the PushTopic with the capacity fields (USP_PUSH_TOPIC_QUERY) delivers it. */
const load = (id: string, user = U1, statusId = '0N5000000000001AAA') =>
  msg('updated', { Id: id, UserId: user, ServicePresenceStatusId: statusId, IsCurrentState: true, IsAway: false, ConfiguredCapacity: 3, AverageCapacity: 1.5, AtCapacityDuration: 0, IdleDuration: 12 });

/** What the translator does with a sequence, in short form: `status:<name>`, `offline?`, `ignore:<reason>`. */
function run(messages: UspStreamMessage[]): string[] {
  const t = new UspLifecycleTranslator(() => NOW);
  return messages.map((m) => short(t.translate(m, names)));
}
function short(d: UspDecision): string {
  if (d.kind === 'status') return `status:${d.change.status}`;
  if (d.kind === 'offline-candidate') return 'offline?';
  if (d.kind === 'workload') return `workload:${d.change.status}/${d.capacity}`;
  return `ignore:${d.reason}`;
}

describe(UspLifecycleTranslator.name, () => {
  it.each<[string, UspStreamMessage[], string[]]>([
    ['a login (created current row)', [created('0Bz1', '0N5000000000001AAA')], ['status:Available_Chat']],
    ['a status change, create first', [created('0Bz1', '0N5000000000001AAA'), created('0Bz2', '0N5000000000005AAA'), closed('0Bz1')],
      ['status:Available_Chat', 'status:Lunch', 'ignore:closes-previous-row']],
    ['a status change, close first (the stream holds the candidate)', [created('0Bz1', '0N5000000000001AAA'), closed('0Bz1'), created('0Bz2', '0N5000000000005AAA')],
      ['status:Available_Chat', 'offline?', 'status:Lunch']],
    ['a logout (only the update)', [created('0Bz1', '0N5000000000001AAA'), closed('0Bz1')], ['status:Available_Chat', 'offline?']],
    ['a close of a user whose current row is unknown (after a restart)', [closed('0Bz9')], ['offline?']],
    ['a capacity-only update from a topic without the capacity fields', [created('0Bz1', '0N5000000000001AAA'), capacity('0Bz1')], ['status:Available_Chat', 'ignore:attribute-update']],
    ['a capacity-only update of the current row: a load change, same status', [created('0Bz1', '0N5000000000005AAA'), load('0Bz1', U1, '0N5000000000005AAA')], ['status:Lunch', 'workload:Lunch/3']],
    ['a capacity update of a user whose current row is unknown (after a restart)', [load('0Bz7')], ['workload:Available_Chat/3']],
    ['a capacity update of a row that is no longer current', [created('0Bz1', '0N5000000000001AAA'), created('0Bz2', '0N5000000000005AAA'), load('0Bz1')],
      ['status:Available_Chat', 'status:Lunch', 'ignore:not-current-row']],
    ['a capacity update with an unknown status id', [load('0Bz1', U1, '0N5999999999999AAA')], ['ignore:unknown-status']],
    ['an unknown status id', [created('0Bz1', '0N5999999999999AAA')], ['ignore:unknown-status']],
    ['a logout after a row with an unknown status', [created('0Bz1', '0N5999999999999AAA'), closed('0Bz1')], ['ignore:unknown-status', 'offline?']],
    ['a deleted row (its event carries only the Id)', [msg('deleted', { Id: '0Bz1', UserId: undefined })], ['ignore:unsupported-type']],
    ['an undeleted row', [msg('undeleted', { Id: '0Bz1' })], ['ignore:unsupported-type']],
    ['a created row without its user', [msg('created', { Id: '0Bz1', UserId: undefined, IsCurrentState: true })], ['ignore:malformed']],
    ['a created row that is not current', [msg('created', { Id: '0Bz1', ServicePresenceStatusId: '0N5000000000001AAA', IsCurrentState: false })], ['ignore:not-current']],
    ['an update without IsCurrentState', [msg('updated', { Id: '0Bz1' })], ['ignore:malformed']],
    ['users are independent', [created('0Bz1', '0N5000000000001AAA', U1), created('0Bz2', '0N5000000000005AAA', U2), closed('0Bz1', U1)],
      ['status:Available_Chat', 'status:Lunch', 'offline?']],
  ])('%s', (_name, messages, expected) => {
    expect(run(messages)).toEqual(expected);
  });

  it('builds the change: event id from the row and its lifecycle step, time from StatusStartDate, received now', () => {
    const t = new UspLifecycleTranslator(() => NOW);
    const m = created('0Bz1', '0N5000000000001AAA');
    expect(t.translate(m, names)).toEqual({
      kind: 'status', rowId: '0Bz1',
      change: { side: 'salesforce', eventId: 'usp:0Bz1:created', userId: U1, occurredAt: Date.parse('2026-03-02T09:59:58.000Z'), status: 'Available_Chat', receivedAt: NOW },
    });
    expect(t.currentRowOf(U1)).toBe('0Bz1');
  });

  it('times Offline by StatusEndDate, else by the event date; a close of a row not seen opened just before', () => {
    const t = new UspLifecycleTranslator(() => NOW);
    t.translate(created('0Bz1', '0N5000000000001AAA'), names);
    const withEnd = t.translate(closed('0Bz1'), names);
    expect(withEnd.kind === 'offline-candidate' && withEnd.change).toMatchObject({ status: 'Offline', occurredAt: Date.parse('2026-03-02T09:59:58.500Z') });
    const noEnd = t.translate(msg('updated', { Id: '0Bz2', IsCurrentState: false, StatusEndDate: null }, '2026-03-02T09:00:00.000Z'), names);
    expect(noEnd.kind === 'offline-candidate' && noEnd.change.occurredAt).toBe(Date.parse('2026-03-02T09:00:00.000Z') - 1);
  });

  it('gives a load change its own event id and time, and a logout an empty workload', () => {
    const t = new UspLifecycleTranslator(() => NOW);
    t.translate(created('0Bz1', '0N5000000000001AAA'), names);
    const first = t.translate(load('0Bz1'), names);
    const second = t.translate(load('0Bz1'), names);
    expect(first).toMatchObject({
      kind: 'workload', rowId: '0Bz1', capacity: 3,
      change: { side: 'salesforce', userId: U1, status: 'Available_Chat', occurredAt: Date.parse('2026-03-02T09:59:59.000Z'), receivedAt: NOW },
    });
    expect(first.kind === 'workload' && first.change.eventId).toMatch(/^usp:0Bz1:work:\d+:\d+$/);
    expect(first.kind === 'workload' && second.kind === 'workload' && first.change.eventId !== second.change.eventId).toBe(true);
    // The adapter reads the work; the translator does not guess it.
    expect(first.kind === 'workload' && first.change.workload).toBeUndefined();
    const out = t.translate(closed('0Bz1'), names);
    expect(out.kind === 'offline-candidate' && out.change.workload).toEqual({ channels: {}, load: 0, capacity: 0 });
  });

  it('falls back to the event date when StatusStartDate is missing', () => {
    const t = new UspLifecycleTranslator(() => NOW);
    const d = t.translate(msg('created', { Id: '0Bz1', ServicePresenceStatusId: '0N5000000000001AAA', IsCurrentState: true }, '2026-03-02T08:00:00.000Z'), names);
    expect(d.kind === 'status' && d.change.occurredAt).toBe(Date.parse('2026-03-02T08:00:00.000Z'));
  });
});

describe(isUspStreamMessage.name, () => {
  it.each([
    [{ event: { type: 'created', replayId: 1 }, sobject: { Id: 'x' } }, true],
    [{ event: { type: 'created', replayId: '1' }, sobject: { Id: 'x' } }, false],
    [{ event: { type: 'created', replayId: 1 } }, false],
    [{ payload: 'generic' }, false],
    [null, false],
  ])('%j → %s', (data, ok) => {
    expect(isUspStreamMessage(data)).toBe(ok);
  });
});
