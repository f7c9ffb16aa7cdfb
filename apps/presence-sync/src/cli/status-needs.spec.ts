import { validateRuleFiles } from '@presence-sync/rules';
import { AgentDirectory } from '@presence-sync/sync';
import { agentStatusNeeds } from './status-needs';

const rule = (name: string, team: string, publisher: [string, string][], subscriber: [string, string][]) => ({
  file: `rules/${name}.json`,
  text: JSON.stringify({
    name,
    publisher: publisher.map(([state, salesforce]) => ({ acd: { state: state.split(':')[0], ...(state.includes(':') ? { code: state.split(':')[1] } : {}) }, salesforce })),
    subscriber: subscriber.map(([salesforce, state]) => ({ salesforce, acd: { state } })),
    assign: { teams: [team] },
  }),
});

describe(agentStatusNeeds.name, () => {
  const loaded = validateRuleFiles([
    rule('tier1', 'Tier 1', [['Available', 'Available_All'], ['Unavailable:Lunch', 'Lunch'], ['Unavailable', 'Lunch'], ['Offline', 'Offline']], [['Available_All', 'Available'], ['Training', 'Unavailable'], ['Offline', 'Offline']]),
    rule('tier2', 'Tier 2', [['Available', 'Available_Chat']], [['Available_Chat', 'Available']]),
  ]);
  const directory = new AgentDirectory({
    teams: [{ teamId: 't1', name: 'Tier 1', unavailableCodes: ['Lunch'] }, { teamId: 't2', name: 'Tier 2', unavailableCodes: [] }, { teamId: 't3', name: 'Tier 3', unavailableCodes: [] }],
    agents: [
      { agentId: 'a-1', email: 'ana@example.com', teamId: 't1' },
      { agentId: 'a-2', email: 'ben@example.com', teamId: 't2' },
      { agentId: 'a-3', email: 'cem@example.com', teamId: 't3' },
      { agentId: 'a-4', email: 'dee@example.com', teamId: 't1' },
    ],
    users: ['ana', 'ben', 'cem'].map((n, i) => ({ userId: `00500000000000${i + 1}`, username: `${n}@example.com`, email: `${n}@example.com`, active: true })),
  });

  it('lists linked agents covered by a rule, with the statuses it sets and those it only maps, Offline left out', () => {
    if (!loaded.ruleSet) throw new Error(JSON.stringify(loaded.errors));
    expect(agentStatusNeeds(directory, loaded.ruleSet)).toEqual([
      { agentId: 'a-1', email: 'ana@example.com', userId: '005000000000001', rule: 'tier1', sets: ['Available_All', 'Lunch'], picks: ['Training'] },
      { agentId: 'a-2', email: 'ben@example.com', userId: '005000000000002', rule: 'tier2', sets: ['Available_Chat'], picks: [] },
    ]);
  });
});
