import { randomUUID } from 'node:crypto';
import type { Connection } from 'jsforce';
import {
  DEFAULT_AGENT_PROFILE, SalesforceEmulator, SANDBOX_SALESFORCE, toId18, type ConsoleCommand,
} from '@presence-sync/testing';
import { AGENTS, COMMAND_CHANNEL, failure, integrationLogin, newEmulator } from './salesforce-emulator.fixture';

const LUNCH = toId18('0N5000000000005');
const TRAINING = toId18('0N5000000000007');
const ALL_BUT_LUNCH = ['Available_Chat', 'Available_All', 'Busy', 'Busy_On_Call', 'Break', 'Training', 'Chat_Done'];

interface AccessRow {
  ParentId: string;
  SetupEntityId: string;
  SetupEntityType: string;
  Parent: { Label: string; IsOwnedByProfile: boolean; Profile: { Name: string } | null };
}

/**
 * Presence status access as Salesforce stores it (Object Reference: PermissionSet, PermissionSetAssignment,
 * SetupEntityAccess): a profile owns a permission set, users are assigned their profile's set and others,
 * and each "Service Presence Status Access" grant is a SetupEntityAccess row under a permission set. The
 * Omni-Channel toolkit refuses a status the agent was not given.
 */
describe(`${SalesforceEmulator.name} presence status access`, () => {
  let emulator: SalesforceEmulator;
  let conn: Connection;

  beforeEach(async () => {
    emulator = newEmulator({
      profiles: [{ name: 'Restricted Agent', statuses: ALL_BUT_LUNCH }],
      permissionSets: [{ name: 'Lunch_Access', label: 'Lunch Access', statuses: ['Lunch'] }],
    });
    const { loginUrl } = await emulator.start();
    conn = await integrationLogin(loginUrl);
  });

  afterEach(() => emulator.stop());

  it('gives the sandbox agents every status through their profile, and the integration user none', () => {
    for (const agent of AGENTS) expect(emulator.hasStatusAccess(agent, 'Lunch')).toBe(true);
    expect(emulator.hasStatusAccess(SANDBOX_SALESFORCE.username, 'Lunch')).toBe(false);
  });

  it('answers SetupEntityAccess with the permission set, its profile and the status id, nested as the REST API nests parents', async () => {
    emulator.setUserProfile(AGENTS[0], 'Restricted Agent');
    const soql = `SELECT ParentId, Parent.Label, Parent.IsOwnedByProfile, Parent.Profile.Name, SetupEntityId, SetupEntityType FROM SetupEntityAccess WHERE SetupEntityId IN ('${LUNCH.slice(0, 15)}')`;
    const rows = (await conn.query<AccessRow>(soql)).records;
    const grants = rows.map((r) => [r.Parent.IsOwnedByProfile ? `profile ${r.Parent.Profile?.Name}` : `set ${r.Parent.Label}`, r.SetupEntityId, r.SetupEntityType]).sort();
    expect(grants).toEqual([
      [`profile ${DEFAULT_AGENT_PROFILE}`, LUNCH, 'ServicePresenceStatus'],
      ['set Lunch Access', LUNCH, 'ServicePresenceStatus'],
    ]);
    const set = rows.find((r) => !r.Parent.IsOwnedByProfile) as AccessRow & { Parent: { attributes?: { type: string } } };
    // A permission set not owned by a profile has no profile: the nested record is null, not left out.
    expect(set.Parent).toEqual({ attributes: { type: 'PermissionSet', url: expect.stringMatching(/\/sobjects\/PermissionSet\/0PS\w{15}$/) }, Label: 'Lunch Access', IsOwnedByProfile: false, Profile: null });
  });

  it('selects assignments with a semi-join on SetupEntityAccess: only users whose profile or permission set grants the status', async () => {
    emulator.setUserProfile(AGENTS[0], 'Restricted Agent');
    emulator.setUserProfile(AGENTS[1], 'Restricted Agent');
    emulator.assignPermissionSet(AGENTS[1], 'Lunch_Access');
    const granted = `SELECT ParentId FROM SetupEntityAccess WHERE SetupEntityId IN ('${LUNCH}')`;
    const users = AGENTS.map((a) => `'${emulator.userId(a)}'`).join(', ');
    const rows = (await conn.query<{ AssigneeId: string }>(`SELECT AssigneeId, PermissionSetId FROM PermissionSetAssignment WHERE PermissionSetId IN (${granted}) AND AssigneeId IN (${users})`)).records;
    expect(rows.map((r) => r.AssigneeId).sort()).toEqual([emulator.userId(AGENTS[1]), emulator.userId(AGENTS[2])].sort());
    expect(emulator.hasStatusAccess(AGENTS[0], 'Lunch')).toBe(false);
    expect(emulator.hasStatusAccess(AGENTS[1], 'Lunch')).toBe(true);

    const lacking = (await conn.query<{ Id: string; Profile: { Name: string } }>(`SELECT Id, Profile.Name FROM User WHERE Id IN ('${emulator.userId(AGENTS[0])}')`)).records;
    expect(lacking.map((u) => u.Profile.Name)).toEqual(['Restricted Agent']);
  });

  it('follows an admin who changes a profile or removes an assignment', async () => {
    emulator.setProfileStatuses(DEFAULT_AGENT_PROFILE, ['Available_All']);
    for (const agent of AGENTS) expect(emulator.hasStatusAccess(agent, 'Training')).toBe(false);
    emulator.setPermissionSetStatuses('Training_Access', ['Training']);
    emulator.assignPermissionSet(AGENTS[2], 'Training_Access');
    expect(emulator.hasStatusAccess(AGENTS[2], 'Training')).toBe(true);
    const training = (await conn.query<AccessRow>(`SELECT Parent.Label, Parent.Profile.Name FROM SetupEntityAccess WHERE SetupEntityId = '${TRAINING}'`)).records;
    // Not the default agent profile any more; the other profile still grants it.
    expect(training.map((r) => r.Parent.Profile?.Name ?? r.Parent.Label).sort()).toEqual(['Restricted Agent', 'Training Access']);
    emulator.assignPermissionSet(AGENTS[2], 'Training_Access', false);
    expect(emulator.hasStatusAccess(AGENTS[2], 'Training')).toBe(false);
  });

  it('refuses SetupEntityAccess to a user without "View Setup and Configuration" as if the object did not exist', async () => {
    const noSetup = newEmulator({
      profiles: [{ name: 'No Setup', statuses: [], viewAllData: true, viewSetup: false }],
      integrationUser: { username: SANDBOX_SALESFORCE.username, email: SANDBOX_SALESFORCE.username, password: SANDBOX_SALESFORCE.password, securityToken: SANDBOX_SALESFORCE.securityToken, profile: 'No Setup' },
    });
    const { loginUrl } = await noSetup.start();
    try {
      const c = await integrationLogin(loginUrl);
      const refused = await failure(() => c.query(`SELECT ParentId FROM SetupEntityAccess WHERE SetupEntityId = '${LUNCH}'`));
      expect(refused.errorCode).toBe('INVALID_TYPE');
      const inSemiJoin = await failure(() => c.query(`SELECT AssigneeId FROM PermissionSetAssignment WHERE PermissionSetId IN (SELECT ParentId FROM SetupEntityAccess)`));
      expect(inSemiJoin.errorCode).toBe('INVALID_TYPE');
    } finally {
      await noSetup.stop();
    }
  });

  it('a console refuses a status the agent has no access to: counted failed, not remembered, so a re-send after the grant applies', async () => {
    emulator.setUserProfile(AGENTS[0], 'Restricted Agent');
    await emulator.openConsole(AGENTS[0]);
    const failed: string[] = [];
    emulator.on('command-failed', (_user, _command, message) => failed.push(message));
    const command: ConsoleCommand = {
      v: 1, type: 'setStatus', commandId: randomUUID(), userId: emulator.userId(AGENTS[0]), statusId: LUNCH, status: 'Lunch', expiresAt: Date.now() + 60_000,
    };
    const push = (): Promise<unknown> => conn.streaming.channel(COMMAND_CHANNEL).push({ payload: JSON.stringify(command), userIds: [emulator.userId(AGENTS[0])] });
    await push();
    await emulator.waitFor(() => failed.length === 1, 5_000, 'the refused command');
    expect(failed[0]).toMatch(/no access to this presence status/);
    expect(emulator.statusOf(AGENTS[0])).toBe('Offline');
    expect(emulator.consoleStats(AGENTS[0])).toMatchObject({ received: 1, applied: 0, failed: 1 });
    expect(() => emulator.agentSetStatus(AGENTS[0], 'Lunch')).toThrow(/does not offer it/);

    emulator.assignPermissionSet(AGENTS[0], 'Lunch_Access');
    await push();
    await emulator.waitFor(() => emulator.statusOf(AGENTS[0]) === 'Lunch', 5_000, 'the same command, re-sent after the grant');
    expect(emulator.consoleStats(AGENTS[0])).toMatchObject({ received: 2, applied: 1, failed: 1 });
  });
});
