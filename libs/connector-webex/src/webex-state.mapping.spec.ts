import { rollUpChannels, webexStateToAcd } from './webex-state.mapping';

describe('webexStateToAcd', () => {
  it.each([
    ['available', undefined, { state: 'Available' }],
    ['Idle', 'Lunch', { state: 'Unavailable', code: 'Lunch' }],
    ['not-responding', undefined, { state: 'Unavailable', code: 'RONA' }],
    ['ringing', undefined, { state: 'Busy' }],
    ['on-hold', undefined, { state: 'Busy' }],
    ['WrapUp', undefined, { state: 'AfterWork' }],
    ['LoggedOut', undefined, { state: 'Offline' }],
    ['wrapup-done', undefined, undefined],
  ])('%s (%s) → %j', (state, code, expected) => {
    expect(webexStateToAcd(state, code)).toEqual(expected);
  });

  it('rolls channels up: a contact on any channel wins, then Available, then Idle', () => {
    expect(rollUpChannels([{ currentState: 'idle', idleCodeName: 'Lunch' }, { currentState: 'connected' }])).toEqual({ state: 'Busy' });
    expect(rollUpChannels([{ currentState: 'idle', idleCodeName: 'Lunch' }, { currentState: 'available' }])).toEqual({ state: 'Available' });
    expect(rollUpChannels([{ currentState: 'idle', idleCodeName: 'Lunch' }])).toEqual({ state: 'Unavailable', code: 'Lunch' });
    expect(rollUpChannels([])).toBeUndefined();
  });
});
