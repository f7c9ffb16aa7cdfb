import { AgentDirectory } from './agent-directory';

const teams = [{ teamId: 't1', name: 'Tier 1', unavailableCodes: ['Lunch'] }];
const users = [
  { userId: '005A', username: 'ada@corp.example', email: 'Ada.Adams@Example.com', active: true },
  { userId: '005B', username: 'ben.sf@corp.example', email: 'ben@example.com', federationId: 'BEN-FED', active: true },
  { userId: '005C', username: 'gone@corp.example', email: 'cara@example.com', active: false },
];
const agents = [
  { agentId: 'a-1', email: 'ada.adams@example.com', teamId: 't1' },
  { agentId: 'a-2', email: 'ben.other@example.com', teamId: 't1' },
  { agentId: 'a-3', email: 'cara@example.com', teamId: 't1' },
];

describe(AgentDirectory.name, () => {
  it('links by e-mail, case-insensitively, and skips inactive users', () => {
    const d = new AgentDirectory({ agents, teams, users });
    expect(d.byAgent('a-1')).toMatchObject({ salesforceUserId: '005A', teamName: 'Tier 1', teamCodes: ['Lunch'] });
    expect(d.byAgent('a-2')?.salesforceUserId).toBeUndefined();
    expect(d.byAgent('a-3')?.salesforceUserId).toBeUndefined();
    expect(d.bySalesforceUser('005A')?.agentId).toBe('a-1');
    expect(d.find('ADA.ADAMS@example.com')?.agentId).toBe('a-1');
    expect(d.stats).toMatchObject({ agents: 3, linked: 1, unlinked: 2 });
  });

  it('lets the explicit map win, by user id, username or federation id, and reports bad entries', () => {
    const d = new AgentDirectory({ agents, teams, users, explicitMap: { 'a-2': 'ben-fed', 'a-1': '005B', 'a-9': '005A', 'a-3': 'nobody@corp.example' } });
    expect(d.byAgent('a-1')?.salesforceUserId).toBe('005B');
    expect(d.byAgent('a-2')?.salesforceUserId).toBeUndefined();
    expect(d.stats.mapProblems).toEqual([
      'agent "a-9" in the map file is not in the contact center',
      'Salesforce user "nobody@corp.example" for agent "a-3" was not found (or is inactive)',
      'Salesforce user "ben.sf@corp.example" is linked to agent "a-1" already; agent "a-2" is left unlinked',
    ]);
    const alone = new AgentDirectory({ agents, teams, users, explicitMap: { 'a-2': 'ben-fed' } });
    expect(alone.byAgent('a-2')?.salesforceUserId).toBe('005B');
  });
});
