import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { explain, formatExplain, loadRuleSet, validateRuleFiles, type Catalog, type RuleSet } from './index';

const ROOT = join(__dirname, '..', '..', '..');
const SANDBOX = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'rules', 'sandbox-catalog.json'), 'utf8')) as Catalog;

describe(explain.name, () => {
  let ruleSet: RuleSet;
  beforeAll(async () => {
    const result = await loadRuleSet(join(ROOT, 'rules'), { catalog: SANDBOX });
    ruleSet = result.ruleSet!;
  });

  const ana = { agentId: 'a-1001', email: 'ana.silva@example.com', teamId: 't-tier1', teamName: 'Tier 1' };

  it('explains a Salesforce change: rule, row, and the ACD write', () => {
    const result = explain(ruleSet, ana, { salesforce: 'Lunch' });
    expect(result).toEqual({
      ruleSetVersion: ruleSet.version,
      agent: ana,
      direction: 'salesforce->acd',
      input: { side: 'salesforce', status: 'Lunch' },
      rule: {
        name: 'tier1-blended',
        file: expect.stringMatching(/tier1-blended\.json$/),
        via: 'team',
        conflictPolicy: 'latest',
        skipUnavailableCodeValidation: false,
      },
      table: 'subscriber',
      row: { ref: 'subscriber[2]', table: 'subscriber', index: 2, salesforce: 'Lunch', acd: { state: 'Unavailable', code: 'Lunch' } },
      outcome: 'write',
      write: { side: 'acd', state: { state: 'Unavailable', code: 'Lunch' }, via: 'row' },
      decision: expect.objectContaining({ kind: 'write', row: 'subscriber[2]' }),
      reason: 'subscriber[2] sets Unavailable:Lunch',
      notes: [],
    });
    // JSON output is the result itself: plain data survives a round trip.
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  });

  it('formats a few readable lines', () => {
    const text = formatExplain(explain(ruleSet, ana, { acd: { state: 'Unavailable', code: 'Meeting' } }));
    expect(text.replace(/\(\S*tier1-blended\.json\)/, '(rules/tier1-blended.json)')).toBe(
      [
        'agent:  a-1001 <ana.silva@example.com> team "Tier 1"',
        'change: ACD state becomes Unavailable:Meeting (acd -> salesforce)',
        'rule:   tier1-blended (rules/tier1-blended.json), assigned to team "Tier 1"',
        'row:    publisher[3] {"acd":{"state":"Unavailable"},"salesforce":"Busy"}',
        'result: set Salesforce status "Busy"',
        'why:    publisher[3] matches any Unavailable (no row for code "Meeting"), so Salesforce shows "Busy"',
      ].join('\n'),
    );
  });

  it('says so when nothing happens, and why', () => {
    const tier2 = { agentId: 'a-2002', teamId: 't-tier2' };
    const unmapped = explain(ruleSet, tier2, { salesforce: 'Busy' });
    expect(unmapped).toMatchObject({ outcome: 'unmapped', table: 'subscriber', rule: { name: 'tier2-chat-first' } });
    expect(unmapped.write).toBeUndefined();
    expect(formatExplain(unmapped)).toContain('result: nothing happens (unmapped)\nwhy:    no subscriber row for "Busy": the ACD state is not changed');

    const noPrevious = explain(ruleSet, tier2, { salesforce: 'Chat_Done' });
    expect(noPrevious).toMatchObject({ outcome: 'no-previous', row: { ref: 'subscriber[5]', acd: { previous: true } } });

    const restored = explain(ruleSet, tier2, { salesforce: 'Chat_Done' }, { previous: { state: 'Available' } });
    expect(restored).toMatchObject({ outcome: 'write', write: { side: 'acd', state: { state: 'Available' }, via: 'previous' } });

    const publishUnmapped = explain(ruleSet, { agentId: 'a-3001', teamName: 'Back Office' }, { acd: { state: 'Busy' } });
    expect(formatExplain(publishUnmapped)).toContain('row:    no publisher row\nresult: nothing happens (unmapped)');
  });

  it('shows the default Unavailable of a rule that skips code validation', () => {
    const result = explain(ruleSet, { agentId: 'a-3001', teamId: 't-backoffice' }, { salesforce: 'Training' }, {
      teamCodes: ['Lunch', 'Break', 'Admin', 'System'],
      defaultUnavailableCode: 'System',
    });
    expect(result).toMatchObject({
      outcome: 'write',
      row: { ref: 'subscriber[3]' },
      write: { side: 'acd', state: { state: 'Unavailable', code: 'System' }, via: 'default-unavailable' },
    });
  });

  it('says when the answer rests on team codes it does not know (the daemon may fall back to the default)', () => {
    const omar = { agentId: 'a-3001', teamId: 't-backoffice' };
    const unknown = explain(ruleSet, omar, { salesforce: 'Training' }, { defaultUnavailableCode: 'System' });
    expect(unknown).toMatchObject({ write: { state: { state: 'Unavailable', code: 'Training' }, via: 'row' } });
    expect(unknown.notes).toEqual([
      'the Unavailable codes of the agent\'s team are not known here, so code "Training" was taken as enabled; if the team lacks it, the daemon sets the default Unavailable:System instead',
    ]);
    expect(formatExplain(unknown).split('\n').at(-1)).toBe(`note:   ${unknown.notes[0]}`);
    // Known codes: the answer is the daemon's, and rests on nothing missing.
    expect(explain(ruleSet, omar, { salesforce: 'Training' }, { teamCodes: ['Training'], defaultUnavailableCode: 'System' }).notes).toEqual([]);
    // A rule that validates its codes never falls back: nothing to say.
    expect(explain(ruleSet, ana, { salesforce: 'Lunch' }).notes).toEqual([]);
  });

  it('reports a user assignment over the team', () => {
    const sam = { agentId: 'a-1013', email: 'maya.meyer@example.com', teamId: 't-tier2' };
    expect(explain(ruleSet, sam, { salesforce: 'Lunch' }).rule).toMatchObject({ name: 'tier1-blended', via: 'user' });
    expect(formatExplain(explain(ruleSet, sam, { salesforce: 'Lunch' }))).toContain(', assigned to the user');
  });

  it('says when no rule covers the agent', () => {
    const result = explain(ruleSet, { agentId: 'a-9', teamName: 'Night Shift' }, { salesforce: 'Lunch' });
    expect(result).toMatchObject({ outcome: 'no-rule', direction: 'salesforce->acd' });
    expect(result.rule).toBeUndefined();
    expect(formatExplain(result)).toBe(
      [
        'agent:  a-9 team "Night Shift"',
        'change: Salesforce status becomes "Lunch" (salesforce -> acd)',
        'rule:   none',
        'result: nothing happens (no-rule)',
        'why:    no rule is assigned to a-9 team "Night Shift" (by user or team): the agent is not synced',
      ].join('\n'),
    );
  });
});

describe(`${explain.name} with Omni-Channel work`, () => {
  const FIXTURE = join(ROOT, 'test', 'fixtures', 'rules', 'valid', 'workload');
  const catalog = JSON.parse(readFileSync(join(FIXTURE, 'catalog.json'), 'utf8')) as Catalog;
  let ruleSet: RuleSet;
  beforeAll(() => {
    // The fixture directory also holds catalog.json, which is no rule file: read the rule files only.
    const files = ['blended.json', 'warnings.json'].map((name) => ({ file: name, text: readFileSync(join(FIXTURE, name), 'utf8') }));
    ruleSet = validateRuleFiles(files, { catalog }).ruleSet!;
  });
  const ana = { agentId: 'a-1001', email: 'ana.silva@example.com', teamId: 't-tier1', teamName: 'Tier 1' };
  const chat = { channels: { sfdc_liveagent: 1 }, load: 1, capacity: 3 };

  it('names the workload row that applies to work alone, and the state set in place of Available', () => {
    const result = explain(ruleSet, ana, { workload: chat });
    expect(result).toMatchObject({
      direction: 'salesforce->acd',
      input: { side: 'workload', work: { workload: chat, atCapacity: false } },
      rule: { name: 'blended-workload' },
      table: 'workload',
      row: { ref: 'workload[0]', table: 'workload', index: 0, channel: 'sfdc_liveagent', acd: { state: 'Unavailable', code: 'Chat' } },
      outcome: 'write',
      write: { side: 'acd', state: { state: 'Unavailable', code: 'Chat' }, via: 'workload' },
    });
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
    expect(formatExplain(result).replace(/\(\S*blended\.json\)/, '(blended.json)')).toBe(
      [
        'agent:  a-1001 <ana.silva@example.com> team "Tier 1"',
        'change: Omni-Channel work becomes 1 open "sfdc_liveagent", not at capacity (load 1 of 3) (salesforce -> acd)',
        'rule:   blended-workload (blended.json), assigned to team "Tier 1"',
        'row:    workload[0] {"channel":"sfdc_liveagent","acd":{"state":"Unavailable","code":"Chat"}}',
        'result: set ACD state Unavailable:Chat in place of Available',
        'why:    workload[0] matches (open "sfdc_liveagent" work): while it does, an agent who would be Available on the ACD is set to Unavailable:Chat instead (other states are left alone); when no row matches any more, the state from before is restored',
      ].join('\n'),
    );
  });

  it.each<[string, { channels: Record<string, number>; load: number; capacity: number }, string | undefined]>([
    ['at capacity with cases: the exception row keeps Available', { channels: { sfdc_case: 3 }, load: 3, capacity: 3 }, 'workload[1]'],
    ['at capacity with other work', { channels: { sfdc_phone: 1 }, load: 3, capacity: 3 }, 'workload[2]'],
    ['chat wins over at capacity: it comes first', { channels: { sfdc_liveagent: 1, sfdc_case: 2 }, load: 3, capacity: 3 }, 'workload[0]'],
    ['cases below capacity', { channels: { sfdc_case: 1 }, load: 1, capacity: 3 }, undefined],
  ])('%s', (_name, workload, ref) => {
    const result = explain(ruleSet, ana, { workload });
    expect(result.row?.ref).toBe(ref);
    expect(result.outcome).toBe(ref ? 'write' : 'unmapped');
    if (!ref) expect(result.reason).toBe('no workload row matches 1 open "sfdc_case", not at capacity (load 1 of 3): the ACD state is left as the other rows decide');
  });

  it('replaces an Available the subscriber would set, and says so', () => {
    const result = explain(ruleSet, ana, { salesforce: 'Available_All', workload: chat });
    expect(result).toMatchObject({
      table: 'subscriber',
      row: { ref: 'subscriber[0]' },
      workload: { row: { ref: 'workload[0]' }, applied: true },
      outcome: 'write',
      write: { side: 'acd', state: { state: 'Unavailable', code: 'Chat' }, via: 'workload' },
      reason: 'subscriber[0] sets Available; workload[0] matches (open "sfdc_liveagent" work), so Unavailable:Chat is set in place of Available until no workload row matches',
    });
    expect(formatExplain(result)).toContain('work:   workload[0] {"channel":"sfdc_liveagent","acd":{"state":"Unavailable","code":"Chat"}}\nresult: set ACD state Unavailable:Chat\n');
  });

  it('leaves a status the agent chose alone: only Available is replaced', () => {
    const result = explain(ruleSet, ana, { salesforce: 'Lunch', workload: chat });
    expect(result).toMatchObject({
      workload: { row: { ref: 'workload[0]' }, applied: false },
      write: { side: 'acd', state: { state: 'Unavailable', code: 'Lunch' }, via: 'row' },
      reason: 'subscriber[2] sets Unavailable:Lunch',
    });
    expect(result.workload?.detail).toBe('workload[0] matches (open "sfdc_liveagent" work), but it only replaces Available and the subscriber sets Unavailable:Lunch, not Available');
    expect(formatExplain(result)).toContain('(not applied)');
  });

  it('matches no row through a misspelt channel, and needs a rule', () => {
    const sam = { agentId: 'a-2001', email: 'sam.lee@example.com', teamId: 't-tier2' };
    // warnings.json has "sfdc_liveagnt" (validation warns about it): open chats match none of its rows.
    expect(explain(ruleSet, sam, { workload: chat })).toMatchObject({ rule: { name: 'workload-warnings', via: 'user' }, outcome: 'unmapped' });
    expect(explain(ruleSet, sam, { workload: { channels: { sfdc_liveagent: 3 }, load: 3, capacity: 3 } })).toMatchObject({ outcome: 'write', row: { ref: 'workload[0]' } });
    expect(explain(ruleSet, { agentId: 'x', teamName: 'Nobody' }, { workload: chat }).outcome).toBe('no-rule');
  });
});

describe(`${explain.name} for a rule without a workload table`, () => {
  it('says Omni-Channel work changes nothing', async () => {
    const ruleSet = (await loadRuleSet(join(ROOT, 'rules'), { catalog: SANDBOX })).ruleSet!;
    // Back Office's rule has no workload table.
    const ana = { agentId: 'a-1018', teamId: 't-backoffice' };
    const result = explain(ruleSet, ana, { workload: { channels: { sfdc_liveagent: 2 }, load: 3, capacity: 3 } });
    expect(result).toMatchObject({ outcome: 'unmapped', table: 'workload', reason: 'the rule has no workload table: Omni-Channel work does not change the ACD state' });
    const withStatus = explain(ruleSet, ana, { salesforce: 'Available_All', workload: { channels: {}, load: 0, capacity: 3 } });
    expect(explain(ruleSet, { agentId: 'a-1001', teamId: 't-tier1' }, { workload: { channels: { sfdc_liveagent: 1 }, load: 1, capacity: 3 } })).toMatchObject({ table: 'workload', rule: { name: 'tier1-blended' } });
    expect(withStatus.workload).toEqual({ applied: false, detail: 'the rule has no workload table: Omni-Channel work does not change the ACD state' });
    expect(withStatus.write).toMatchObject({ via: 'row', state: { state: 'Available' } });
  });
});
