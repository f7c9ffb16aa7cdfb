import {
  findStatusAccessGaps, statusAccessReport, statusAssignmentsSoql, statusGrantsSoql, userProfilesSoql,
  type AgentStatusNeed, type StatusAccess, type StatusRef,
} from './status-access';

const CATALOG: StatusRef[] = [
  { id: '0N5000000000001AAA', developerName: 'Available_All' },
  { id: '0N5000000000005AAA', developerName: 'Lunch' },
  { id: '0N5000000000007AAA', developerName: 'Training' },
];
const [AVAILABLE, LUNCH, TRAINING] = CATALOG.map((s) => s.id.slice(0, 15));

const need = (n: number, over: Partial<AgentStatusNeed> = {}): AgentStatusNeed => ({
  agentId: `a-${1000 + n}`, email: `agent${n}@example.com`, userId: `005${String(n).padStart(12, '0')}AAA`, rule: 'tier1',
  sets: ['Available_All', 'Lunch'], picks: ['Training'], ...over,
});

/** Access where the given users (by agent number) have the given status ids. */
function access(grants: Record<number, string[]>, grantedBy: Record<string, string[]> = {}): StatusAccess {
  return {
    grantedBy: new Map(Object.entries(grantedBy)),
    userStatuses: new Map(Object.entries(grants).map(([n, ids]) => [need(Number(n)).userId.slice(0, 15), new Set(ids)])),
  };
}

describe('status access queries', () => {
  it('reads the grants of the statuses with the permission set, its profile and the status', () => {
    expect(statusGrantsSoql(['0N5000000000005', '0N5000000000005', "0N5'x"])).toBe(
      "SELECT ParentId, Parent.Label, Parent.IsOwnedByProfile, Parent.Profile.Name, SetupEntityId FROM SetupEntityAccess WHERE SetupEntityId IN ('0N5000000000005', '0N5\\'x')",
    );
  });

  it('reads assignments through a semi-join on the grants, narrowed to the users when given', () => {
    const grants = "SELECT ParentId FROM SetupEntityAccess WHERE SetupEntityId IN ('0N5000000000005')";
    expect(statusAssignmentsSoql(['0N5000000000005'])).toBe(`SELECT AssigneeId, PermissionSetId FROM PermissionSetAssignment WHERE PermissionSetId IN (${grants})`);
    expect(statusAssignmentsSoql(['0N5000000000005'], ['005000000000001'])).toBe(
      `SELECT AssigneeId, PermissionSetId FROM PermissionSetAssignment WHERE PermissionSetId IN (${grants}) AND AssigneeId IN ('005000000000001')`,
    );
    expect(userProfilesSoql(['005000000000001'])).toBe("SELECT Id, Profile.Name FROM User WHERE Id IN ('005000000000001')");
  });
});

describe(findStatusAccessGaps.name, () => {
  it('groups the agents by the status they lack, statuses a rule sets before those it only maps', () => {
    const needs = [need(1), need(2), need(3, { rule: 'tier2' })];
    const found = findStatusAccessGaps(needs, CATALOG, access({ 1: [AVAILABLE, LUNCH, TRAINING], 2: [AVAILABLE], 3: [TRAINING] }, { [LUNCH]: ['profile "Service Agent"'] }));
    expect(found.unknown).toEqual([]);
    expect(found.checked).toBe(3);
    expect(found.gaps.map((g) => [g.status, g.set, g.agents.map((a) => a.agentId), g.rules, g.grantedBy])).toEqual([
      ['Lunch', true, ['a-1002', 'a-1003'], ['tier1', 'tier2'], ['profile "Service Agent"']],
      ['Available_All', true, ['a-1003'], ['tier2'], []],
      ['Training', false, ['a-1002'], ['tier1'], []],
    ]);
  });

  it('compares user ids by their first 15 characters and lists statuses the catalog lacks', () => {
    const found = findStatusAccessGaps([need(1, { userId: '005000000000001', sets: ['Lunch', 'Nap'], picks: [] })], CATALOG, access({ 1: [LUNCH] }));
    expect(found).toEqual({ gaps: [], unknown: ['Nap'], checked: 1 });
  });

  it('finds no gap when every agent has every status it needs', () => {
    const found = findStatusAccessGaps([need(1), need(2)], CATALOG, access({ 1: [AVAILABLE, LUNCH, TRAINING], 2: [AVAILABLE, LUNCH, TRAINING] }));
    expect(found.gaps).toEqual([]);
  });
});

describe(statusAccessReport.name, () => {
  it('fails naming the status, the rule, the agents, their profiles, where it is granted, and what to do', () => {
    const found = findStatusAccessGaps([need(1), need(2)], CATALOG, access({ 1: [AVAILABLE, TRAINING], 2: [AVAILABLE, LUNCH, TRAINING] }, { [LUNCH]: ['permission set "Lunch Access"'] }));
    const report = statusAccessReport(found, 2, new Map([[need(1).userId.slice(0, 15), 'Restricted Agent']]));
    expect(report.outcome).toBe('failed');
    expect(report.detail).toBe('1 of 2 mapped agents lack a status their rule sets: Omni-Channel refuses it in their console, so those writes fail');
    expect(report.lines[0]).toBe('Lunch (set by rule tier1): 1 agent without it — a-1001 (agent1@example.com); their profiles: Restricted Agent (1); granted now by permission set "Lunch Access"');
    expect(report.lines.at(-1)).toMatch(/^to fix: in Setup, .*Service Presence Status Access.*presence-sync grants nothing itself$/);
  });

  it('caps a large org: a few agents per status, a few statuses, and counts of the rest', () => {
    const needs = Array.from({ length: 40 }, (_, i) => need(i + 1, { sets: ['Available_All', 'Lunch', 'Training'], picks: [] }));
    const found = findStatusAccessGaps(needs, CATALOG, access({}));
    const report = statusAccessReport(found, 40, new Map(), { maxStatuses: 2, maxAgents: 3 });
    expect(report.outcome).toBe('failed');
    expect(report.detail).toMatch(/^40 of 40 mapped agents lack/);
    expect(report.lines.slice(0, 3)).toEqual([
      'Available_All (set by rule tier1): 40 agents without it — a-1001 (agent1@example.com), a-1002 (agent2@example.com), a-1003 (agent3@example.com), and 37 more; granted by no profile or permission set',
      'Lunch (set by rule tier1): 40 agents without it — a-1001 (agent1@example.com), a-1002 (agent2@example.com), a-1003 (agent3@example.com), and 37 more; granted by no profile or permission set',
      'and 1 more status lacked by 40 agents',
    ]);
  });

  it('only warns when agents cannot pick a status their rule merely maps', () => {
    const found = findStatusAccessGaps([need(1)], CATALOG, access({ 1: [AVAILABLE, LUNCH] }));
    const report = statusAccessReport(found, 1, new Map());
    expect(report.outcome).toBe('warning');
    expect(report.lines[0]).toMatch(/^Training \(picked, not set, in rule tier1: that subscriber row never applies to them\): 1 agent without it/);
  });

  it('fails on statuses the org does not have, and is ok when all is granted', () => {
    const unknown = statusAccessReport(findStatusAccessGaps([need(1, { sets: ['Nap'], picks: [] })], CATALOG, access({})), 1, new Map());
    expect(unknown.outcome).toBe('failed');
    expect(unknown.lines).toEqual([expect.stringMatching(/^not in the org's status catalog, so not checked: Nap/)]);
    const ok = statusAccessReport(findStatusAccessGaps([need(1), need(2)], CATALOG, access({ 1: [AVAILABLE, LUNCH, TRAINING], 2: [AVAILABLE, LUNCH, TRAINING] })), 2, new Map());
    expect(ok).toEqual({ outcome: 'ok', detail: 'all 2 mapped agents may use every status their rules set or map (3 statuses checked)', lines: [] });
  });

  it('warns that there is nothing to check when no agent is mapped and covered', () => {
    expect(statusAccessReport({ gaps: [], unknown: [], checked: 0 }, 0, new Map()).outcome).toBe('warning');
  });
});
