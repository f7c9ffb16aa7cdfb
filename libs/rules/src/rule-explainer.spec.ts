import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { explain, formatExplain, loadRuleSet, type Catalog, type RuleSet } from './index';

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
