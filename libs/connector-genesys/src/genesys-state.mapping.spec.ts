import { toAcdChange, toAcdState, type GenesysPresenceDefinition } from './genesys-state.mapping';

const defs = new Map<string, GenesysPresenceDefinition>([
  ['q', { id: 'q', systemPresence: 'ON_QUEUE', label: 'On Queue', deactivated: false }],
  ['a', { id: 'a', systemPresence: 'AVAILABLE', label: 'Available', deactivated: false }],
  ['o', { id: 'o', systemPresence: 'OFFLINE', label: 'Offline', deactivated: false }],
  ['l', { id: 'l', systemPresence: 'MEAL', label: 'Lunch', deactivated: false }],
]);

describe(toAcdState.name, () => {
  it.each([
    [{ presence: { definitionId: 'q' }, routing: { status: 'IDLE' } }, { state: 'Available' }],
    [{ presence: { definitionId: 'a' }, routing: { status: 'OFF_QUEUE' } }, { state: 'Available' }],
    [{ presence: { definitionId: 'o' } }, { state: 'Offline' }],
    [{ presence: { definitionId: 'l' } }, { state: 'Unavailable', code: 'Lunch' }],
    [{ presence: { systemPresence: 'BREAK' } }, { state: 'Unavailable', code: 'Break' }],
    [{ presence: { definitionId: 'l' }, routing: { status: 'INTERACTING' } }, { state: 'Busy' }],
    [{ presence: { definitionId: 'q' }, routing: { status: 'COMMUNICATING' } }, { state: 'Busy' }],
    [{ presence: { definitionId: 'q' }, routing: { status: 'NOT_RESPONDING' } }, { state: 'Unavailable', code: 'Not Responding' }],
    [{ presence: { definitionId: 'q' }, routing: { status: 'INTERACTING' }, afterCallWork: { conversationId: 'c', since: 5 } }, { state: 'AfterWork' }],
  ])('%j → %j', (view, state) => {
    expect(toAcdState(view, defs)).toEqual(state);
  });

  it('gives a repeated state the same event id, and a new one a new id', () => {
    const view = { presence: { definitionId: 'l', modifiedAt: 1000 }, routing: { status: 'OFF_QUEUE', startAt: 900 } };
    const a = toAcdChange('u1', view, defs, 5000);
    expect(a).toMatchObject({ occurredAt: 1000, state: { state: 'Unavailable', code: 'Lunch' } });
    expect(toAcdChange('u1', view, defs, 6000).eventId).toBe(a.eventId);
    expect(toAcdChange('u1', { ...view, presence: { definitionId: 'q', modifiedAt: 2000 } }, defs, 6000).eventId).not.toBe(a.eventId);
  });
});
