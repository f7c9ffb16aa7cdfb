import { validateRuleFiles, type Catalog, type RuleSet } from './index';

function ruleSetOf(rules: Record<string, object>, catalog?: Catalog): RuleSet {
  const files = Object.entries(rules).map(([name, json]) => ({ file: `${name}.json`, text: JSON.stringify({ name, ...json }) }));
  const result = validateRuleFiles(files, { catalog });
  if (!result.ruleSet) throw new Error(result.errors.map((e) => e.message).join('; '));
  return result.ruleSet;
}

describe('RuleSet', () => {
  describe('ruleFor', () => {
    const ruleSet = ruleSetOf({
      'by-team-name': { assign: { teams: ['Tier 1'] } },
      'by-team-id': { assign: { teams: ['t-tier2'] } },
      'by-email': { assign: { users: ['Jane.Doe@Example.com'] } },
      'by-id': { assign: { users: ['a-42'] } },
    });

    it.each([
      ['a team by name, ignoring case', { agentId: 'a-1', teamName: 'tier 1' }, 'by-team-name', 'team'],
      ['a team by id', { agentId: 'a-1', teamId: 't-tier2' }, 'by-team-id', 'team'],
      ['the team id before the team name', { agentId: 'a-1', teamId: 't-tier2', teamName: 'Tier 1' }, 'by-team-id', 'team'],
      ['a user by e-mail, ignoring case, beats the team', { agentId: 'a-1', email: 'jane.doe@example.COM', teamName: 'Tier 1' }, 'by-email', 'user'],
      ['a user by agent id beats the team', { agentId: 'A-42', teamId: 't-tier2' }, 'by-id', 'user'],
      ['the agent id before the e-mail', { agentId: 'a-42', email: 'jane.doe@example.com' }, 'by-id', 'user'],
    ])('finds %s', (_name, agent, rule, via) => {
      expect(ruleSet.ruleFor(agent)).toMatchObject({ rule: { name: rule }, via });
    });

    it('finds nothing for an agent covered by no rule', () => {
      expect(ruleSet.ruleFor({ agentId: 'a-9', email: 'x@example.com', teamId: 't-9', teamName: 'Tier 9' })).toBeUndefined();
    });

    it('resolves every identity the catalog knows for an assignment', () => {
      const catalog: Catalog = {
        salesforceStatuses: [],
        teams: [{ teamId: 't-tier1', name: 'Tier 1', unavailableCodes: [] }],
        agents: [{ agentId: 'a-7', email: 'sam@example.com', teamId: 't-tier1' }],
      };
      const withCatalog = ruleSetOf({ team: { assign: { teams: ['Tier 1'] } }, sam: { assign: { users: ['sam@example.com'] } } }, catalog);
      expect(withCatalog.ruleFor({ agentId: 'a-1', teamId: 't-tier1' })).toMatchObject({ rule: { name: 'team' }, via: 'team' });
      expect(withCatalog.ruleFor({ agentId: 'a-7' })).toMatchObject({ rule: { name: 'sam' }, via: 'user' });
    });
  });

  it('is immutable', () => {
    const ruleSet = ruleSetOf({ r: { assign: { teams: ['T'] } } });
    expect(Object.isFrozen(ruleSet)).toBe(true);
    expect(Object.isFrozen(ruleSet.rules)).toBe(true);
    expect(ruleSet.ruleNamed('r')?.name).toBe('r');
    expect(ruleSet.files).toEqual(['r.json']);
  });
});
