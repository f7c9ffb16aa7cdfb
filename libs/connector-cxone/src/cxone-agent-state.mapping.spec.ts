import type { AcdState } from '@presence-sync/domain';
import { parseCxoneDate, stateEventId, toAcdChange, toAcdState, type CxoneAgentStateRecord } from './cxone-agent-state.mapping';

const base: CxoneAgentStateRecord = { agentId: 30130001, agentStateName: 'Available', startDate: '2026-11-21T10:15:02.120Z' };

describe('CXone state mapping', () => {
  const table: Array<[string, Partial<CxoneAgentStateRecord>, AcdState]> = [
    ['Available', { agentStateName: 'Available' }, { state: 'Available' }],
    ['Unavailable with a code', { agentStateName: 'Unavailable', outStateId: 401, outStateDescription: 'Lunch' }, { state: 'Unavailable', code: 'Lunch' }],
    ['Unavailable without a code', { agentStateName: 'Unavailable' }, { state: 'Unavailable' }],
    ['ACW (isACW)', { agentStateName: 'Unavailable', isACW: true, outStateId: 404, outStateDescription: 'Wrap-up' }, { state: 'AfterWork', code: 'Wrap-up' }],
    ['ACW (isAcw casing)', { agentStateName: 'Unavailable', isAcw: true, outStateDescription: 'Wrap-up' }, { state: 'AfterWork', code: 'Wrap-up' }],
    ['InboundContact', { agentStateName: 'InboundContact', contactId: 5000000001 }, { state: 'Busy' }],
    ['OutboundContact', { agentStateName: 'OutboundContact' }, { state: 'Busy' }],
    ['InboundConsult', { agentStateName: 'InboundConsult' }, { state: 'Busy' }],
    ['OutboundConsult', { agentStateName: 'OutboundConsult' }, { state: 'Busy' }],
    ['Dialer', { agentStateName: 'Dialer' }, { state: 'Busy' }],
    ['DialerPending', { agentStateName: 'DialerPending' }, { state: 'Busy' }],
    ['Working (digital)', { agentStateName: 'Working' }, { state: 'Busy' }],
    ['LoggedOut', { agentStateName: 'LoggedOut' }, { state: 'Offline' }],
    ['LoggedIn (just after login)', { agentStateName: 'LoggedIn' }, { state: 'Unavailable' }],
    ['an unknown state with a contact', { agentStateName: 'Supervising', contactId: 77 }, { state: 'Busy' }],
    ['an unknown state without a contact', { agentStateName: 'Mystery', outStateDescription: 'Coaching' }, { state: 'Unavailable', code: 'Coaching' }],
  ];
  it.each(table)('%s', (_label, fields, expected) => {
    expect(toAcdState({ ...base, ...fields })).toEqual(expected);
  });

  it('gives the same report the same event id, and any change a new one', () => {
    const lunch = { ...base, agentStateName: 'Unavailable', outStateId: 401, outStateDescription: 'Lunch' };
    const at = parseCxoneDate(lunch.startDate) as number;
    expect(stateEventId(lunch, at)).toBe(stateEventId({ ...lunch, lastUpdateTime: '2026-11-21T11:00:00Z' }, at));
    const ids = new Set([
      stateEventId(lunch, at),
      stateEventId({ ...lunch, outStateId: 402 }, at),
      stateEventId({ ...lunch, isACW: true }, at),
      stateEventId(lunch, at + 1),
      stateEventId({ ...lunch, agentStateName: 'Available' }, at),
    ]);
    expect(ids.size).toBe(5);
  });

  it('builds a change from startDate, read as UTC even without a zone', () => {
    const change = toAcdChange({ ...base, startDate: '2026-11-21T10:15:02.120' }, 99);
    expect(change).toMatchObject({ side: 'acd', agentId: '30130001', occurredAt: Date.parse('2026-11-21T10:15:02.120Z'), state: { state: 'Available' }, receivedAt: 99 });
    expect(toAcdChange({ ...base, startDate: undefined }, 99).occurredAt).toBe(99);
  });
});
