import {
  ContactCenterEmulator, SalesforceEmulator, salesforceEmulatorSandboxSeed, SANDBOX_STATUSES,
} from '@presence-sync/testing';
import { liveSalesforceEnv } from '../support/live-salesforce';
import { runProcess, type Run } from '../support/run-process';

/*
 * `presence-sync salesforce setup` and `check` as an admin runs them (the CLI from source, in a clean
 * environment with the daemon's settings): the sandbox's contact center and Salesforce org, the shipped
 * rules, and one agent whose profile lacks a status its rule sets.
 */

const TOKEN = 'cc-token-for-status-access';
const SECRET = 'webhook-secret-for-status-access-0123';

function cli(args: string[], env: Record<string, string>): Promise<Run> {
  const main = `require('./apps/presence-sync/src/cli.ts').main(['node', 'presence-sync', ${args.map((a) => JSON.stringify(a)).join(', ')}]).then((code) => process.exit(code));`;
  return runProcess(process.execPath, ['-r', './test/support/ts-register.js', '-e', main], { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, 90_000);
}

describe('presence-sync salesforce setup / check: status access', () => {
  const catalog = ContactCenterEmulator.sandboxCatalog(20);
  const lacking = catalog.agents[0];
  let contactCenter: ContactCenterEmulator;
  let env: Record<string, string>;
  const orgs: SalesforceEmulator[] = [];

  beforeAll(async () => {
    contactCenter = new ContactCenterEmulator({ token: TOKEN, ...catalog });
    const { baseUrl } = await contactCenter.start();
    env = { ACD_BASE_URL: baseUrl, ACD_TOKEN: TOKEN, ACD_WEBHOOK_SECRET: SECRET, RULES_DIR: 'rules', LOG_LEVEL: 'silent' };
  });

  afterAll(async () => {
    await contactCenter?.stop();
    await Promise.all(orgs.map((o) => o.stop()));
  });

  /** The sandbox org, optionally with the first agent on a profile without Lunch. */
  async function org(restrictFirstAgent: boolean): Promise<SalesforceEmulator> {
    const seed = salesforceEmulatorSandboxSeed(catalog.agents.map((a) => a.email));
    const restricted = 'Restricted Agent';
    const sf = new SalesforceEmulator({
      ...seed,
      ...(restrictFirstAgent ? {
        profiles: [{ name: restricted, statuses: SANDBOX_STATUSES.map((s) => s.developerName).filter((s) => s !== 'Lunch') }],
        users: seed.users.map((u, i) => (i === 0 ? { ...u, profile: restricted } : u)),
      } : {}),
    });
    orgs.push(sf);
    await sf.start();
    return sf;
  }

  it('the sandbox org passes: every agent may use every status the shipped rules set', async () => {
    const sf = await org(false);
    const settings = { ...env, ...liveSalesforceEnv(sf) };
    const setup = await cli(['salesforce', 'setup'], settings);
    expect(setup.stdout).toMatch(/^status access: ok — all \d+ mapped agents may use every status their rules set or map/m);
    expect(setup.code).toBe(0);
    const check = await cli(['salesforce', 'check'], settings);
    expect(check.stdout).toMatch(/^status access: ok/m);
    expect(check.stdout).toMatch(/^check: ok$/m);
    expect(check).toMatchObject({ code: 0, stderr: '' });
  }, 200_000);

  it('check exits 1 naming the agent whose profile lacks Lunch, which its rule sets; setup says what to grant and grants nothing', async () => {
    const sf = await org(true);
    const settings = { ...env, ...liveSalesforceEnv(sf) };
    const setup = await cli(['salesforce', 'setup'], settings);
    expect(setup.code).toBe(1);
    expect(setup.stdout).toMatch(/^PushTopic PresenceSyncUSP: created/m);
    expect(setup.stdout).toMatch(/^ {2}to fix: in Setup, .*Service Presence Status Access → Edit/m);
    expect(sf.hasStatusAccess(lacking.email, 'Lunch')).toBe(false);

    const check = await cli(['salesforce', 'check'], settings);
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/^status access: failed — 1 of \d+ mapped agents lack a status their rule sets/m);
    expect(check.stdout).toContain(`  Lunch (set by rule tier1-blended): 1 agent without it — ${lacking.agentId} (${lacking.email}); their profiles: Restricted Agent (1); granted now by profile "Service Agent"`);
    expect(check.stdout).toMatch(/^check: 1 problem$/m);
    expect(check.stderr).toBe('');
  }, 200_000);
});
