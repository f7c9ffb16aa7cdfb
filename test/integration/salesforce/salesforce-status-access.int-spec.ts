import type { AcdAgent, AcdTeam } from '@presence-sync/domain';
import { validateRuleFiles, type RuleSet } from '@presence-sync/rules';
import { DEFAULT_AGENT_PROFILE, DEFAULT_INTEGRATION_PROFILE } from '@presence-sync/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSalesforceCheck, runSalesforceSetup, statusAccessSource, type StatusAccessSource } from '../../../apps/presence-sync/src/cli/salesforce.commands';
import type { CliIo } from '../../../apps/presence-sync/src/cli/rules.commands';
import { AGENTS, SalesforceEmulator, settingsFor, startEmulator as startBare } from './salesforce-test-kit';

/**
 * `salesforce check` / `setup` against the emulator: whether every agent the daemon would sync may use the
 * statuses its rule sets (Service Presence Status Access of a profile or permission set), read from
 * SetupEntityAccess and PermissionSetAssignment as a real org stores them.
 */

const ALL_BUT_LUNCH = ['Available_Chat', 'Available_All', 'Busy', 'Busy_On_Call', 'Break', 'Training', 'Chat_Done'];
const TEAMS: AcdTeam[] = [
  { teamId: 't1', name: 'Tier 1', unavailableCodes: ['Lunch', 'Training'] },
  { teamId: 't2', name: 'Tier 2', unavailableCodes: ['Lunch'] },
];

/** Tier 1's rule: sets Available_All and Lunch (publisher), maps Training (subscriber only). Tier 2 has no rule. */
function rules(): RuleSet {
  const rule = {
    name: 'tier1',
    publisher: [
      { acd: { state: 'Available' }, salesforce: 'Available_All' },
      { acd: { state: 'Unavailable', code: 'Lunch' }, salesforce: 'Lunch' },
      { acd: { state: 'Offline' }, salesforce: 'Offline' },
    ],
    subscriber: [
      { salesforce: 'Available_All', acd: { state: 'Available' } },
      { salesforce: 'Training', acd: { state: 'Unavailable', code: 'Training' } },
    ],
    assign: { teams: ['Tier 1'] },
  };
  const loaded = validateRuleFiles([{ file: 'rules/tier1.json', text: JSON.stringify(rule) }]);
  if (!loaded.ruleSet) throw new Error(JSON.stringify(loaded.errors));
  return loaded.ruleSet;
}

/** a-1/a-2 (Tier 1) are mapped and covered; a-3 is in Tier 2 (no rule); a-4 has no Salesforce user. */
const AGENTS_OF_CC: AcdAgent[] = [
  { agentId: 'a-1', email: AGENTS[0], teamId: 't1' },
  { agentId: 'a-2', email: AGENTS[1], teamId: 't1' },
  { agentId: 'a-3', email: AGENTS[2], teamId: 't2' },
  { agentId: 'a-4', email: 'nobody@acme.example', teamId: 't1' },
];

const source = (agents: AcdAgent[] = AGENTS_OF_CC, explicitMap?: Record<string, string>): StatusAccessSource => ({
  rules: rules(), contactCenter: async () => ({ agents, teams: TEAMS, ...(explicitMap ? { explicitMap } : {}) }),
});

function capture(): CliIo & { text(): string } {
  const out: string[] = [];
  return { out: (l) => out.push(l), err: (l) => out.push(`ERR ${l}`), text: () => out.join('\n') };
}

/** An emulator after `salesforce setup` (PushTopic and channel as setup makes them), so only status access can fail a check. */
async function startEmulator(options: Parameters<typeof startBare>[0] = {}): Promise<SalesforceEmulator> {
  const emulator = await startBare({ ...options, bare: true });
  if (options.bare) return emulator;
  const io = capture();
  if (await runSalesforceSetup(settingsFor(emulator), io) !== 0) throw new Error(`setup failed:\n${io.text()}`);
  return emulator;
}

/** The REST calls the status access step costs: the check with it, minus the same check without it. */
async function callsOfStatusAccess(emulator: SalesforceEmulator, statusAccess: StatusAccessSource): Promise<number> {
  const settings = settingsFor(emulator);
  const before = emulator.apiCalls;
  await runSalesforceCheck(settings, capture());
  const plain = emulator.apiCalls - before;
  const again = emulator.apiCalls;
  await runSalesforceCheck(settings, capture(), { statusAccess });
  return emulator.apiCalls - again - plain;
}

describe('salesforce check: status access', () => {
  let emulator: SalesforceEmulator;
  afterEach(() => emulator.stop());

  it('passes when every mapped agent may use the statuses its rule sets and maps (agents with no rule or no user need nothing)', async () => {
    emulator = await startEmulator({ profiles: [{ name: 'Tier 2 Agent', statuses: [] }], users: [
      { username: AGENTS[0], email: AGENTS[0] }, { username: AGENTS[1], email: AGENTS[1] }, { username: AGENTS[2], email: AGENTS[2], profile: 'Tier 2 Agent' },
    ] });
    const io = capture();
    expect(await runSalesforceCheck(settingsFor(emulator), io, { statusAccess: source() })).toBe(0);
    expect(io.text()).toMatch(/^status access: ok — all 2 mapped agents may use every status their rules set or map \(3 statuses checked\)$/m);
    expect(io.text()).toMatch(/^check: ok$/m);
  });

  it('exits 1 naming the agent without a status its rule sets, its profile, where the status is granted and what to grant', async () => {
    emulator = await startEmulator({
      profiles: [{ name: 'Restricted Agent', statuses: ALL_BUT_LUNCH }],
      permissionSets: [{ name: 'Lunch_Access', label: 'Lunch Access', statuses: ['Lunch'] }],
      users: [{ username: AGENTS[0], email: AGENTS[0], profile: 'Restricted Agent' }, { username: AGENTS[1], email: AGENTS[1] }, { username: AGENTS[2], email: AGENTS[2] }],
    });
    const settings = settingsFor(emulator);
    const io = capture();
    expect(await runSalesforceCheck(settings, io, { statusAccess: source() })).toBe(1);
    const text = io.text();
    expect(text).toMatch(/^status access: failed — 1 of 2 mapped agents lack a status their rule sets: Omni-Channel refuses it in their console, so those writes fail$/m);
    expect(text).toContain(`\n  Lunch (set by rule tier1): 1 agent without it — a-1 (${AGENTS[0]}); their profiles: Restricted Agent (1); granted now by permission set "Lunch Access", profile "${DEFAULT_AGENT_PROFILE}"\n`);
    expect(text).toMatch(/^ {2}to fix: in Setup, .*Service Presence Status Access → Edit/m);
    expect(text).toMatch(/^check: 1 problem$/m);

    // The admin assigns the permission set that grants Lunch: the check passes.
    emulator.assignPermissionSet(AGENTS[0], 'Lunch_Access');
    const fixed = capture();
    expect(await runSalesforceCheck(settings, fixed, { statusAccess: source() })).toBe(0);
    expect(fixed.text()).toMatch(/^status access: ok/m);
  });

  it('only warns (exit 0) when an agent cannot pick a status its rule merely maps', async () => {
    emulator = await startEmulator();
    emulator.addProfile({ name: 'No Training', statuses: ALL_BUT_LUNCH.filter((s) => s !== 'Training').concat('Lunch') });
    emulator.setUserProfile(AGENTS[1], 'No Training');
    const io = capture();
    expect(await runSalesforceCheck(settingsFor(emulator), io, { statusAccess: source() })).toBe(0);
    expect(io.text()).toMatch(/^status access: warning — 1 of 2 mapped agents cannot pick a status their rule maps/m);
    expect(io.text()).toContain(`  Training (picked, not set, in rule tier1: that subscriber row never applies to them): 1 agent without it — a-2 (${AGENTS[1]})`);
  });

  it('links agents as the daemon does: the explicit map beats the e-mail', async () => {
    emulator = await startEmulator();
    emulator.addProfile({ name: 'Restricted Agent', statuses: ALL_BUT_LUNCH });
    emulator.setUserProfile(AGENTS[2], 'Restricted Agent');
    // a-1's e-mail is AGENTS[0], but the map links it to AGENTS[2]'s user, who lacks Lunch.
    const io = capture();
    expect(await runSalesforceCheck(settingsFor(emulator), io, { statusAccess: source(AGENTS_OF_CC.slice(0, 2), { 'a-1': AGENTS[2] }) })).toBe(1);
    expect(io.text()).toContain(`Lunch (set by rule tier1): 1 agent without it — a-1 (${AGENTS[0]}); their profiles: Restricted Agent (1)`);
  });

  it('costs five REST calls for a small team: users, statuses, grants, assignments (filtered by user) and the lacking agents\' profiles', async () => {
    emulator = await startEmulator({ profiles: [{ name: 'Restricted Agent', statuses: ALL_BUT_LUNCH }] });
    emulator.setUserProfile(AGENTS[0], 'Restricted Agent');
    expect(await callsOfStatusAccess(emulator, source())).toBe(5);
  });

  it('a large org: the assignments are read without a user filter, the report is capped with counts, and the calls stay few', async () => {
    const users = Array.from({ length: 700 }, (_, i) => ({ username: `agent${i}@acme.example`, email: `agent${i}@acme.example`, ...(i < 650 ? { profile: 'Restricted Agent' } : {}) }));
    emulator = await startEmulator({ users, profiles: [{ name: 'Restricted Agent', statuses: ALL_BUT_LUNCH }], queryBatchSize: 500 });
    const agents: AcdAgent[] = users.map((u, i) => ({ agentId: `a-${String(i).padStart(3, '0')}`, email: u.email, teamId: 't1' }));
    const io = capture();
    expect(await runSalesforceCheck(settingsFor(emulator), io, { statusAccess: source(agents) })).toBe(1);
    const text = io.text();
    expect(text).toMatch(/^status access: failed — 650 of 700 mapped agents lack a status their rule sets/m);
    expect(text).toContain('  Lunch (set by rule tier1): 650 agents without it — a-000 (agent0@acme.example), a-001 (agent1@acme.example), a-002 (agent2@acme.example), a-003 (agent3@acme.example), a-004 (agent4@acme.example), and 645 more; their profiles: Restricted Agent (200); granted now by profile "Service Agent"');
    // Users: 701 rows in 2 pages of 500; statuses 1; grants 1; assignments to granting sets (the 700 agents'
    // profile sets; more than ASSIGNEE_FILTER_MAX users, so unfiltered) 2 pages; profiles of the first 200 lacking agents 1.
    expect(await callsOfStatusAccess(emulator, source(agents))).toBe(7);
  });

  it('names "View Setup and Configuration" when the integration user may not read the grants', async () => {
    emulator = await startEmulator({ profiles: [{ name: DEFAULT_INTEGRATION_PROFILE, statuses: [], viewAllData: true, viewSetup: false }] });
    const io = capture();
    expect(await runSalesforceCheck(settingsFor(emulator), io, { statusAccess: source() })).toBe(1);
    expect(io.text()).toMatch(/^status access: failed — could not read the status grants \(INVALID_TYPE: .*\): reading SetupEntityAccess needs "View Setup and Configuration"/m);
  });

  it('says why it did not check: skipped is a warning, an unreachable contact center a problem', async () => {
    emulator = await startEmulator();
    const skipped = capture();
    expect(await runSalesforceCheck(settingsFor(emulator), skipped, { statusAccess: { skipped: 'no contact-center settings' } })).toBe(0);
    expect(skipped.text()).toMatch(/^status access: warning — not checked: no contact-center settings$/m);
    const unreachable = capture();
    const down: StatusAccessSource = { rules: rules(), contactCenter: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:9')) };
    expect(await runSalesforceCheck(settingsFor(emulator), unreachable, { statusAccess: down })).toBe(1);
    expect(unreachable.text()).toMatch(/^status access: failed — not checked: the contact center's agents could not be read \(connect ECONNREFUSED 127\.0\.0\.1:9\)$/m);
  });
});

describe('salesforce setup: status access', () => {
  let emulator: SalesforceEmulator;
  afterEach(() => emulator.stop());

  it('reports the missing access and what to grant, and grants nothing', async () => {
    emulator = await startEmulator({ bare: true, profiles: [{ name: 'Restricted Agent', statuses: ALL_BUT_LUNCH }] });
    emulator.setUserProfile(AGENTS[1], 'Restricted Agent');
    const grants = emulator.records('SetupEntityAccess').length;
    const io = capture();
    expect(await runSalesforceSetup(settingsFor(emulator), io, { requiredStatuses: ['Available_All', 'Lunch', 'Training'], statusAccess: source() })).toBe(1);
    expect(io.text()).toMatch(/^PushTopic PresenceSyncUSP: created/m);
    expect(io.text()).toMatch(/^status access: failed — 1 of 2 mapped agents lack a status their rule sets/m);
    expect(io.text()).toContain(`  Lunch (set by rule tier1): 1 agent without it — a-2 (${AGENTS[1]}); their profiles: Restricted Agent (1)`);
    expect(io.text()).toMatch(/^ {2}to fix: .*presence-sync grants nothing itself$/m);
    expect(io.text()).toMatch(/^setup: 1 problem$/m);
    expect(emulator.records('SetupEntityAccess')).toHaveLength(grants);
    expect(emulator.hasStatusAccess(AGENTS[1], 'Lunch')).toBe(false);
  });
});

describe(statusAccessSource.name, () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  });

  it('skips, saying why, when the rules are invalid or the daemon\'s contact-center settings are missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'status-access-'));
    try {
      writeFileSync(join(dir, 'broken.json'), '{ "name": ');
      expect(await statusAccessSource(dir)).toEqual({ skipped: `the rules in ${dir} are invalid (run "presence-sync rules validate ${dir}")` });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    for (const key of Object.keys(process.env)) if (key.startsWith('ACD_')) delete process.env[key];
    const missing = await statusAccessSource('rules');
    expect(missing).toEqual({ skipped: expect.stringMatching(/^the agents are unknown without the daemon's contact-center settings \(.*ACD_BASE_URL/) });
  });

  it('reads the agents from the configured contact center once the settings load', async () => {
    Object.assign(process.env, { ACD_CONNECTOR: 'generic', ACD_BASE_URL: 'http://127.0.0.1:9/cc', ACD_TOKEN: 'token', ACD_WEBHOOK_SECRET: 'secret-of-sixteen-chars' });
    const found = await statusAccessSource('rules');
    if ('skipped' in found) throw new Error(found.skipped);
    expect(found.rules.rules.map((r) => r.name)).toContain('tier1-blended');
    // Nothing listens on port 9: the step reports this as a problem.
    await expect(found.contactCenter()).rejects.toThrow();
  });
});
