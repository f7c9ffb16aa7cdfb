import type { AcdState, Workload } from '@presence-sync/domain';
import { isAtCapacity, matchWorkload, publish, subscribe, validateRuleFiles, type CompiledRule } from './index';

function ruleOf(json: object): CompiledRule {
  const result = validateRuleFiles([{ file: 'r.json', text: JSON.stringify({ name: 'r', assign: { teams: ['T'] }, ...json }) }]);
  if (!result.ruleSet) throw new Error(result.errors.map((e) => e.message).join('; '));
  return result.ruleSet.rules[0];
}

describe(publish.name, () => {
  const rule = ruleOf({
    publisher: [
      { acd: { state: 'Available' }, salesforce: 'Available_All' },
      { acd: { state: 'Unavailable' }, salesforce: 'Busy' },
      { acd: { state: 'Unavailable', code: 'Lunch' }, salesforce: 'Lunch' },
      { acd: { state: 'AfterWork', code: 'Chat' }, salesforce: 'Chat_Done' },
      { acd: { state: 'Offline' }, salesforce: 'Offline' },
    ],
  });

  it.each<[string, AcdState, ReturnType<typeof publish>]>([
    ['a code row beats the state-only row, wherever it stands', { state: 'Unavailable', code: 'Lunch' }, { kind: 'write', status: 'Lunch', row: 'publisher[2]' }],
    ['another code falls back to the state-only row', { state: 'Unavailable', code: 'Break' }, { kind: 'write', status: 'Busy', row: 'publisher[1]' }],
    ['no code matches the state-only row', { state: 'Unavailable' }, { kind: 'write', status: 'Busy', row: 'publisher[1]' }],
    ['a state-only row matches any code', { state: 'Available', code: 'Whatever' }, { kind: 'write', status: 'Available_All', row: 'publisher[0]' }],
    ['a code row never matches another code', { state: 'AfterWork', code: 'Call' }, { kind: 'unmapped' }],
    ['a code row never matches a state without a code', { state: 'AfterWork' }, { kind: 'unmapped' }],
    ['an empty code counts as no code', { state: 'AfterWork', code: '' }, { kind: 'unmapped' }],
    ['a state with no row is unmapped', { state: 'Busy' }, { kind: 'unmapped' }],
    ['Offline maps to the reserved Offline status', { state: 'Offline' }, { kind: 'write', status: 'Offline', row: 'publisher[4]' }],
  ])('%s', (_name, acd, expected) => {
    expect(publish(rule, acd)).toEqual(expected);
  });
});

describe(subscribe.name, () => {
  const subscriber = [
    { salesforce: 'Available_All', acd: { state: 'Available' } },
    { salesforce: 'Lunch', acd: { state: 'Unavailable', code: 'Lunch' } },
    { salesforce: 'Training', acd: { state: 'Unavailable', code: 'Training' } },
    { salesforce: 'Chat_Done', acd: { previous: true } },
    { salesforce: 'Offline', acd: { state: 'Offline' } },
  ];
  const strict = ruleOf({ subscriber });
  const lenient = ruleOf({ subscriber, skipUnavailableCodeValidation: true });

  it('writes the row state', () => {
    expect(subscribe(strict, 'Lunch')).toEqual({
      kind: 'write',
      state: { state: 'Unavailable', code: 'Lunch' },
      row: 'subscriber[1]',
      via: 'row',
      detail: 'subscriber[1] sets Unavailable:Lunch',
    });
    expect(subscribe(strict, 'Offline')).toMatchObject({ kind: 'write', state: { state: 'Offline' }, row: 'subscriber[4]' });
  });

  it('matches the status exactly (DeveloperNames are case-sensitive)', () => {
    expect(subscribe(strict, 'lunch')).toMatchObject({ kind: 'unmapped' });
  });

  describe('with skipUnavailableCodeValidation false', () => {
    it('changes nothing for a status with no row', () => {
      expect(subscribe(strict, 'Break', { defaultUnavailableCode: 'System' })).toEqual({
        kind: 'unmapped',
        detail: 'no subscriber row for "Break": the ACD state is not changed',
      });
    });

    it('trusts the row even when the team codes say otherwise (validation owns that check)', () => {
      expect(subscribe(strict, 'Training', { teamCodes: ['Lunch'] })).toMatchObject({ kind: 'write', via: 'row' });
    });
  });

  describe('with skipUnavailableCodeValidation true', () => {
    it('sets the default Unavailable with DEFAULT_UNAVAILABLE_CODE for a status with no row', () => {
      expect(subscribe(lenient, 'Break', { defaultUnavailableCode: 'System' })).toEqual({
        kind: 'write',
        state: { state: 'Unavailable', code: 'System' },
        via: 'default-unavailable',
        detail: 'no subscriber row for "Break"; the rule skips code validation, so the default Unavailable:System is set',
      });
    });

    it('sets plain Unavailable when no default code is configured', () => {
      expect(subscribe(lenient, 'Break')).toMatchObject({ kind: 'write', state: { state: 'Unavailable' }, via: 'default-unavailable' });
      expect(subscribe(lenient, 'Break', { defaultUnavailableCode: '' })).toMatchObject({ state: { state: 'Unavailable' } });
    });

    it("falls back when the row's code is not enabled for the agent's team", () => {
      expect(subscribe(lenient, 'Training', { teamCodes: ['Lunch', 'Admin'], defaultUnavailableCode: 'Admin' })).toEqual({
        kind: 'write',
        state: { state: 'Unavailable', code: 'Admin' },
        row: 'subscriber[2]',
        via: 'default-unavailable',
        detail:
          'subscriber[2] wants Unavailable:Training, but code "Training" is not enabled for the agent\'s team, so the default Unavailable:Admin is set',
      });
    });

    it('keeps the row when the code is enabled, or when the team codes are unknown', () => {
      expect(subscribe(lenient, 'Training', { teamCodes: ['Training'] })).toMatchObject({ via: 'row', state: { code: 'Training' } });
      expect(subscribe(lenient, 'Training', {})).toMatchObject({ via: 'row', state: { code: 'Training' } });
    });
  });

  describe('a previous row', () => {
    it('restores a settable previous state, code included', () => {
      expect(subscribe(strict, 'Chat_Done', { previous: { state: 'Unavailable', code: 'Lunch' } })).toEqual({
        kind: 'write',
        state: { state: 'Unavailable', code: 'Lunch' },
        row: 'subscriber[3]',
        via: 'previous',
        detail: 'subscriber[3] restores the previous ACD state Unavailable:Lunch',
      });
    });

    it('changes nothing when no previous state is known', () => {
      expect(subscribe(lenient, 'Chat_Done', {})).toEqual({
        kind: 'no-previous',
        row: 'subscriber[3]',
        detail: 'subscriber[3] restores the previous ACD state, but none is known: nothing is changed',
      });
    });

    it.each<AcdState>([{ state: 'Busy' }, { state: 'AfterWork', code: 'Wrap' }])('changes nothing when the previous state was %j (not settable)', (previous) => {
      const decision = subscribe(strict, 'Chat_Done', { previous });
      expect(decision).toMatchObject({ kind: 'no-previous', row: 'subscriber[3]' });
      expect(decision.detail).toContain('cannot be set: nothing is changed');
    });
  });
});

describe(matchWorkload.name, () => {
  const rule = ruleOf({
    workload: [
      { channel: 'sfdc_case', atCapacity: true, acd: { state: 'Available' } },
      { channel: 'sfdc_liveagent', acd: { state: 'Unavailable', code: 'Chat' } },
      { atCapacity: true, acd: { state: 'Unavailable', code: 'Omni_Busy' } },
    ],
  });
  const work = (channels: Record<string, number>, load: number, capacity: number): Workload => ({ channels, load, capacity });

  it.each<[string, Workload, string | undefined]>([
    ['no open work matches nothing', work({}, 0, 3), undefined],
    ['open work of a channel matches its row', work({ sfdc_liveagent: 1 }, 1, 3), 'workload[1]'],
    ['a channel with a zero count is no open work', work({ sfdc_liveagent: 0 }, 0, 3), undefined],
    ['a channel row with atCapacity needs both', work({ sfdc_case: 1 }, 1, 3), undefined],
    ['the first matching row in file order wins', work({ sfdc_case: 3, sfdc_liveagent: 0 }, 3, 3), 'workload[0]'],
    ['an earlier row wins over a later one that matches too', work({ sfdc_liveagent: 1, sfdc_case: 2 }, 3, 3), 'workload[0]'],
    ['at capacity alone matches the atCapacity row', work({ sfdc_phone: 1 }, 3, 3), 'workload[2]'],
    ['a load over capacity is at capacity', work({ sfdc_phone: 2 }, 4, 3), 'workload[2]'],
    ['an unknown capacity (0) is never at capacity', work({ sfdc_phone: 1 }, 1, 0), undefined],
  ])('%s', (_name, workload, expected) => {
    const row = matchWorkload(rule, workload);
    expect(row === undefined ? undefined : `workload[${row.index}]`).toBe(expected);
  });

  it('matches nothing for a rule without a workload table', () => {
    expect(matchWorkload(ruleOf({ subscriber: [] }), work({ sfdc_liveagent: 1 }, 3, 3))).toBeUndefined();
  });

  it.each<[Workload, boolean]>([
    [work({}, 0, 3), false],
    [work({}, 2.5, 3), false],
    [work({}, 3, 3), true],
    [work({}, 100, 0), false],
  ])('isAtCapacity(%j) is %s', (workload, expected) => {
    expect(isAtCapacity(workload)).toBe(expected);
  });
});
