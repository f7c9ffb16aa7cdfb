import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { AcdState } from '@presence-sync/domain';
import type { AppConfig } from '@presence-sync/config';
import type { Catalog } from '@presence-sync/rules';
import { runRulesExplain, runRulesValidate, type CliIo, type RuleCheck } from './rules.commands';

const ROOT = join(__dirname, '..', '..', '..', '..');
const EXAMPLES = join(ROOT, 'rules');
const SANDBOX = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'rules', 'sandbox-catalog.json'), 'utf8')) as Catalog;
const AGENTS = [
  { agentId: 'a-1001', email: 'ana.silva@example.com', teamId: 't-tier1' },
  { agentId: 'a-1013', email: 'maya.meyer@example.com', teamId: 't-tier2' },
  { agentId: 'a-3001', email: 'omar.haddad@example.com', teamId: 't-backoffice' },
];
/** What the rules are checked against: these catalogs (read), and these options and problems. */
const checkWith = (catalog: Catalog, extra: Partial<RuleCheck> = {}) => async (): Promise<RuleCheck> => ({
  catalogs: { salesforce: 'read', contactCenter: 'read' }, problems: [], ...extra, options: { catalog, ...extra.options },
});
const fullCatalog = checkWith({ ...SANDBOX, agents: AGENTS });
/** No catalog read (none configured), as with no settings at all. */
const noCatalog = checkWith({ missing: { salesforce: 'not configured (test)', contactCenter: 'not configured (test)' } }, {
  catalogs: { salesforce: 'not configured', contactCenter: 'not configured' },
});

function capture(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (line) => stdout.push(line), err: (line) => stderr.push(line) };
}

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'presence-rules-cli-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

/** A copy of the example rules with one file rewritten. */
function brokenCopy(file: string, edit: (text: string) => string): string {
  const dir = join(tmp, 'rules');
  cpSync(EXAMPLES, dir, { recursive: true });
  writeFileSync(join(dir, file), edit(readFileSync(join(dir, file), 'utf8')));
  return dir;
}

describe(runRulesValidate.name, () => {
  it('passes the example rules against the sandbox catalog', async () => {
    const io = capture();
    expect(await runRulesValidate({ dir: EXAMPLES }, io, fullCatalog)).toBe(0);
    expect(io.stdout).toEqual(['ok: 3 rules in 3 files, 0 warnings']);
  });

  it('prints a warning per catalog not read, saying why, and exits 0 when none is configured', async () => {
    const io = capture();
    const statusesOnly = checkWith({ salesforceStatuses: SANDBOX.salesforceStatuses, missing: { contactCenter: 'not configured (no contact-center settings)' } }, {
      catalogs: { salesforce: 'read', contactCenter: 'not configured' },
    });
    expect(await runRulesValidate({ dir: EXAMPLES }, io, statusesOnly)).toBe(0);
    expect(io.stdout).toEqual([
      // tier1-blended's workload table names a service channel.
      expect.stringMatching(/: warning: Salesforce service channel catalog not reachable: workload channels not checked$/),
      expect.stringMatching(/: warning: contact-center agent catalog not configured \(no contact-center settings\): users not checked$/),
      expect.stringMatching(/: warning: contact-center team catalog not configured \(no contact-center settings\): teams and Unavailable codes not checked$/),
      'ok: 3 rules in 3 files, 3 warnings',
    ]);
    expect(io.stderr).toEqual([]);
  });

  it('fails (exit 1) when a configured catalog cannot be read, even with no error in the files: a gate must not pass what it could not check', async () => {
    const io = capture();
    const unreachable = checkWith({ missing: {} }, {
      catalogs: { salesforce: 'not reachable', contactCenter: 'not reachable' },
      problems: ['Salesforce catalogs (SALESFORCE_MODE=live at http://sf) not reachable: ECONNREFUSED', 'contact-center catalogs (generic connector) not reachable: ECONNREFUSED'],
    });
    expect(await runRulesValidate({ dir: EXAMPLES }, io, unreachable)).toBe(1);
    expect(io.stderr).toEqual([
      'error: Salesforce catalogs (SALESFORCE_MODE=live at http://sf) not reachable: ECONNREFUSED',
      'error: contact-center catalogs (generic connector) not reachable: ECONNREFUSED',
    ]);
    expect(io.stdout).toContain(`${relative(process.cwd(), EXAMPLES)}: warning: Salesforce status catalog not reachable: statuses not checked`);
    expect(io.stdout.at(-1)).toBe('not verified: 3 rules in 3 files, 4 warnings, but 2 configured catalogs could not be read; fix that, or give --offline to check without the catalogs');

    const json = capture();
    expect(await runRulesValidate({ dir: EXAMPLES, json: true }, json, unreachable)).toBe(1);
    expect(JSON.parse(json.stdout[0])).toMatchObject({ ok: false, errorCount: 0, catalogs: { salesforce: 'not reachable' }, problems: expect.arrayContaining([expect.stringMatching(/ECONNREFUSED/)]) });
  });

  it('--offline: says in the warnings and the summary that the catalogs were skipped', async () => {
    const io = capture();
    const offline = checkWith({ missing: { salesforce: 'skipped (--offline)', contactCenter: 'skipped (--offline)' } }, {
      catalogs: { salesforce: 'offline', contactCenter: 'offline' },
    });
    expect(await runRulesValidate({ dir: EXAMPLES, offline: true }, io, offline)).toBe(0);
    expect(io.stdout).toContain(`${relative(process.cwd(), EXAMPLES)}: warning: Salesforce status catalog skipped (--offline): statuses not checked`);
    expect(io.stdout.at(-1)).toBe('ok (offline: catalogs not checked): 3 rules in 3 files, 4 warnings');
  });

  it('checks what the connector can set and the default code exactly as the options say (the daemon\'s own options)', async () => {
    const dir = brokenCopy('tier1-blended.json', (text) => text.replace('"acd": { "state": "Unavailable", "code": "Lunch" } }', '"acd": { "state": "Unavailable" } }'));
    const connect = { name: 'amazon-connect', settable: ['Available', 'Unavailable', 'Offline'], unavailableNeedsCode: true };
    const io = capture();
    expect(await runRulesValidate({ dir }, io, checkWith({ ...SANDBOX, agents: AGENTS }, { options: { connector: connect, defaultUnavailableCode: 'System' } }))).toBe(1);
    expect(io.stdout).toEqual([
      expect.stringMatching(/tier1-blended\.json:\d+:\d+ subscriber\[\d\]\.acd: the amazon-connect connector cannot set Unavailable without a code/),
      `1 error, 0 warnings in 3 files (${dir}/)`,
    ]);
  });

  it('prints every error with position and exits 1 on a broken copy', async () => {
    const dir = brokenCopy('tier2-chat-first.json', (text) => text.replace('"state": "Busy" }', '"state": "Bsy" }'));
    const io = capture();
    expect(await runRulesValidate({ dir }, io, fullCatalog)).toBe(1);
    expect(io.stdout).toEqual([
      `${dir}/tier2-chat-first.json:12:25 publisher[5].acd.state: must be one of Available, Unavailable, Busy, AfterWork, Offline (did you mean "Busy"?)`,
      `1 error, 0 warnings in 3 files (${dir}/)`,
    ]);
  });

  it('checks the catalog once the files are well-formed', async () => {
    const dir = brokenCopy('tier2-chat-first.json', (text) => text.replace('"salesforce": "Lunch",', '"salesforce": "Lunchh",'));
    const io = capture();
    expect(await runRulesValidate({ dir }, io, fullCatalog)).toBe(1);
    expect(io.stdout).toEqual([
      `${dir}/tier2-chat-first.json:19:21 subscriber[2].salesforce: unknown Salesforce status "Lunchh" (did you mean "Lunch"?)`,
      `1 error, 0 warnings in 3 files (${dir}/)`,
    ]);
  });

  it('prints one JSON document with --json', async () => {
    const dir = brokenCopy('back-office.json', (text) => text.replace('"name": "back-office"', '"name": "tier1-blended"'));
    const io = capture();
    expect(await runRulesValidate({ dir, json: true }, io, noCatalog)).toBe(1);
    expect(io.stdout).toHaveLength(1);
    const report = JSON.parse(io.stdout[0]) as { ok: boolean; errors: { file: string; message: string }[]; warnings: unknown[]; files: string[] };
    expect(report).toMatchObject({ ok: false, version: null, rules: [], files: expect.any(Array) });
    expect(report.errors).toEqual([
      expect.objectContaining({ file: `${dir}/tier1-blended.json`, path: 'name', message: `rule name "tier1-blended" is also used in ${dir}/back-office.json` }),
    ]);
    expect(report.warnings).toHaveLength(4);
  });

  it('reports a missing directory', async () => {
    const io = capture();
    expect(await runRulesValidate({ dir: join(tmp, 'nope') }, io, noCatalog)).toBe(1);
    expect(io.stdout).toEqual([`${tmp}/nope: cannot read the rules directory: not found`, `1 error, 0 warnings in 0 files (${tmp}/nope/)`]);
  });

  describe('hostile files (issue 9)', () => {
    it('reports 2,000 nested brackets as one positioned error, not a stack trace', async () => {
      const dir = brokenCopy('back-office.json', (text) => text.replace('"back-office",', `"back-office", "description": ${'['.repeat(2000)}${']'.repeat(2000)},`));
      const io = capture();
      expect(await runRulesValidate({ dir }, io, fullCatalog)).toBe(1);
      expect(io.stdout).toEqual([
        expect.stringMatching(/^.*\/back-office\.json:3:\d+ description(\[0\]){31}: nested deeper than 32 levels \(a rule file needs 4; setting RULES_MAX_DEPTH\)$/),
        `1 error, 0 warnings in 3 files (${dir}/)`,
      ]);
    });

    it('prints the first N errors, how many more there are, and the full count', async () => {
      const rows = Array.from({ length: 1200 }, () => ({ acd: { state: 'Nope' }, salesforce: 'Busy' }));
      const dir = brokenCopy('back-office.json', (text) => text.replace('"publisher": [', `"publisher": [${rows.map((r) => JSON.stringify(r)).join(',')},`));
      const io = capture();
      const fewIssues = checkWith({ ...SANDBOX, agents: AGENTS }, { options: { limits: { maxIssues: 5 } } });
      expect(await runRulesValidate({ dir }, io, fewIssues)).toBe(1);
      expect(io.stdout).toHaveLength(5 + 2);
      expect(io.stdout.slice(-2)).toEqual(['(and 1,195 more errors not shown)', `1,200 errors, 0 warnings in 3 files (${dir}/)`]);

      const json = capture();
      await runRulesValidate({ dir, json: true }, json, fewIssues);
      expect(JSON.parse(json.stdout[0])).toMatchObject({ ok: false, errorCount: 1200, warningCount: 0, errors: expect.any(Array) });
      expect((JSON.parse(json.stdout[0]) as { errors: unknown[] }).errors).toHaveLength(5);
    });

    it('refuses a FIFO named x.json instead of hanging', async () => {
      const dir = brokenCopy('back-office.json', (text) => text);
      execFileSync('mkfifo', [join(dir, 'x.json')]);
      const io = capture();
      expect(await runRulesValidate({ dir }, io, fullCatalog)).toBe(1);
      expect(io.stdout).toEqual([`${dir}/x.json: not a regular file (a FIFO): a rule file must be a plain file`, `1 error, 0 warnings in 3 files (${dir}/)`]);
    });
  });
});

describe(runRulesExplain.name, () => {
  const deps = { check: fullCatalog };
  const config = {} as AppConfig;
  const withConfig = checkWith({ ...SANDBOX, agents: AGENTS }, { config });

  it('explains a Salesforce change for an agent found by e-mail, team from the catalog', async () => {
    const io = capture();
    expect(await runRulesExplain({ dir: EXAMPLES, agent: 'ANA.SILVA@example.com', salesforce: 'Lunch' }, io, deps)).toBe(0);
    expect(io.stdout).toEqual([
      'agent:  a-1001 <ana.silva@example.com> team "Tier 1"',
      'change: Salesforce status becomes "Lunch" (salesforce -> acd)',
      `rule:   tier1-blended (${join(relative(process.cwd(), EXAMPLES), 'tier1-blended.json')}), assigned to team "Tier 1"`,
      'row:    subscriber[2] {"salesforce":"Lunch","acd":{"state":"Unavailable","code":"Lunch"}}',
      'result: set ACD state Unavailable:Lunch',
      'why:    subscriber[2] sets Unavailable:Lunch',
    ]);
    expect(io.stderr).toEqual([]);
  });

  it('prints JSON with --json, using the previous state the daemon keeps', async () => {
    const io = capture();
    const loadPrevious = jest.fn(async (): Promise<AcdState> => ({ state: 'Unavailable', code: 'Break' }));
    const code = await runRulesExplain({ dir: EXAMPLES, agent: 'a-1013', salesforce: 'Chat_Done', json: true }, io, { check: withConfig, loadPrevious });
    expect(code).toBe(0);
    expect(loadPrevious).toHaveBeenCalledWith('a-1013', config);
    expect(JSON.parse(io.stdout.join('\n'))).toMatchObject({
      agent: { agentId: 'a-1013', email: 'maya.meyer@example.com', teamId: 't-tier2', teamName: 'Tier 2' },
      rule: { name: 'tier1-blended', via: 'user' },
      row: { ref: 'subscriber[5]', acd: { previous: true } },
      outcome: 'write',
      write: { side: 'acd', state: { state: 'Unavailable', code: 'Break' }, via: 'previous' },
    });
  });

  it('lets --previous override the kept previous state, and explains "nothing happens" with exit 0', async () => {
    const io = capture();
    const loadPrevious = jest.fn(async () => undefined);
    const code = await runRulesExplain({ dir: EXAMPLES, agent: 'a-1013', salesforce: 'Chat_Done', previous: 'Busy' }, io, { check: withConfig, loadPrevious });
    expect(code).toBe(0);
    expect(loadPrevious).not.toHaveBeenCalled();
    expect(io.stdout).toContain('result: nothing happens (no-previous)');
  });

  it('explains an ACD change with the default Unavailable fallback of a skip rule', async () => {
    const io = capture();
    const check = checkWith({ ...SANDBOX, agents: AGENTS }, { options: { defaultUnavailableCode: 'System' } });
    const code = await runRulesExplain({ dir: EXAMPLES, agent: 'omar.haddad@example.com', salesforce: 'Training' }, io, { check });
    expect(code).toBe(0);
    expect(io.stdout).toContain('result: set ACD state Unavailable:System');
    expect(io.stdout.filter((l) => l.startsWith('note:'))).toEqual([]);
  });

  it('says so when the answer rests on catalogs it could not read (the daemon, which has them, may answer otherwise)', async () => {
    const io = capture();
    // No contact-center catalog: the team comes from --team, and its codes are unknown.
    const check = checkWith({ salesforceStatuses: SANDBOX.salesforceStatuses, missing: { contactCenter: 'not configured (test)' } }, {
      catalogs: { salesforce: 'read', contactCenter: 'not configured' }, options: { defaultUnavailableCode: 'System' },
    });
    expect(await runRulesExplain({ dir: EXAMPLES, agent: 'a-3001', team: 'Back Office', salesforce: 'Training' }, io, { check })).toBe(0);
    expect(io.stdout).toContain('result: set ACD state Unavailable:Training');
    expect(io.stdout).toContain('note:   the Unavailable codes of the agent\'s team are not known here, so code "Training" was taken as enabled; if the team lacks it, the daemon sets the default Unavailable:System instead');
  });

  it('notes that the previous state was not read when the answer depends on it', async () => {
    const io = capture();
    expect(await runRulesExplain({ dir: EXAMPLES, agent: 'a-1013', salesforce: 'Chat_Done' }, io, { check: fullCatalog })).toBe(0);
    expect(io.stdout).toContain('result: nothing happens (no-previous)');
    expect(io.stdout.at(-1)).toBe('note:   the previous ACD state the daemon keeps was not read (the daemon\'s Redis settings were not loaded): the daemon may know one and restore it; give --previous <State[:Code]> to assume one');

    const unreachable = capture();
    const failing = jest.fn(async () => {
      throw new Error('cannot reach Redis at redis://127.0.0.1:1');
    });
    expect(await runRulesExplain({ dir: EXAMPLES, agent: 'a-1013', salesforce: 'Chat_Done' }, unreachable, { check: withConfig, loadPrevious: failing })).toBe(0);
    expect(unreachable.stderr).toEqual(['warning: the previous ACD state could not be read: cannot reach Redis at redis://127.0.0.1:1']);
    expect(unreachable.stdout.at(-1)).toMatch(/^note: {3}the previous ACD state the daemon keeps was not read \(cannot reach Redis at redis:\/\/127\.0\.0\.1:1\)/);
  });

  it('refuses a Salesforce status the org does not have, with a did-you-mean (exit 1)', async () => {
    const io = capture();
    expect(await runRulesExplain({ dir: EXAMPLES, agent: 'a-1001', salesforce: 'Lunchh' }, io, deps)).toBe(1);
    expect(io.stderr).toEqual(['error: unknown Salesforce status "Lunchh" (did you mean "Lunch"?)']);
    expect(io.stdout).toEqual([]);
  });

  it('without the status catalog, notes a status no rule names, with a did-you-mean, and still explains', async () => {
    const io = capture();
    const check = checkWith({ teams: SANDBOX.teams, agents: AGENTS, missing: { salesforce: 'not configured (test)' } }, { catalogs: { salesforce: 'not configured', contactCenter: 'read' } });
    expect(await runRulesExplain({ dir: EXAMPLES, agent: 'a-1001', salesforce: 'Lunchh' }, io, { check })).toBe(0);
    expect(io.stdout).toContain('result: nothing happens (unmapped)');
    expect(io.stdout).toContain('note:   no rule names the Salesforce status "Lunchh" (did you mean "Lunch"?), and the org\'s statuses were not read (not configured) to tell whether it exists');
  });

  it('notes an Unavailable code no team has, with a did-you-mean', async () => {
    const io = capture();
    expect(await runRulesExplain({ dir: EXAMPLES, agent: 'a-1001', acd: 'Unavailable:Lnch' }, io, deps)).toBe(0);
    expect(io.stdout).toContain('note:   no team of the contact center has the Unavailable code "Lnch" (did you mean "Lunch"?)');
  });

  it('prints why a configured catalog could not be read, and explains anyway', async () => {
    const io = capture();
    const check = checkWith({}, { catalogs: { salesforce: 'not reachable', contactCenter: 'not reachable' }, problems: ['contact-center catalogs (generic connector) not reachable: ECONNREFUSED'] });
    expect(await runRulesExplain({ dir: EXAMPLES, agent: 'a-1001', team: 'Tier 1', acd: 'Unavailable:Lunch' }, io, { check })).toBe(0);
    expect(io.stderr[0]).toBe('warning: contact-center catalogs (generic connector) not reachable: ECONNREFUSED');
    expect(io.stdout).toContain('result: set Salesforce status "Lunch"');
  });

  it('says why an agent cannot be looked up without the agent list: not configured, or not reachable', async () => {
    const io = capture();
    expect(await runRulesExplain({ dir: EXAMPLES, agent: 'a-1001', acd: 'Unavailable:Lunch' }, io, { check: noCatalog })).toBe(1);
    expect(io.stderr.at(-1)).toBe('error: agent "a-1001" cannot be looked up (the contact-center agent list is not configured); give --team <team> to explain it by team, or the daemon\'s settings (the environment, or --settings-file <file>) to look it up');
  });

  it('uses --team when the agent list cannot be reached', async () => {
    const io = capture();
    // Without the team catalog a team is known only by what the rule file says: tier2-chat-first names the team.
    expect(await runRulesExplain({ dir: EXAMPLES, agent: 'a-777', acd: 'Unavailable:Coaching', team: 'Tier 2' }, io, { check: noCatalog })).toBe(0);
    expect(io.stdout).toContain('result: set Salesforce status "Training"');
    expect(io.stderr).toEqual(['note: 4 warnings in the rules (run "presence-sync rules validate ' + EXAMPLES + '" to see them)']);
  });

  it('explains a user assigned directly even without the agent list', async () => {
    const io = capture();
    expect(await runRulesExplain({ dir: EXAMPLES, agent: 'maya.meyer@example.com', acd: 'Offline' }, io, { check: noCatalog })).toBe(0);
    expect(io.stdout).toContain('result: set Salesforce status "Offline"');
  });

  it('exits 1 for an unknown agent without --team', async () => {
    const io = capture();
    expect(await runRulesExplain({ dir: EXAMPLES, agent: 'ghost@example.com', salesforce: 'Lunch' }, io, deps)).toBe(1);
    expect(io.stderr).toEqual(['error: agent "ghost@example.com" is not in the contact-center agent list; give --team <team> to explain it by team']);
    expect(io.stdout).toEqual([]);
  });

  it('exits 1 when the rules are invalid', async () => {
    const dir = brokenCopy('tier1-blended.json', (text) => text.replace('"latest"', '"newest"'));
    const io = capture();
    expect(await runRulesExplain({ dir, agent: 'a-1001', salesforce: 'Lunch' }, io, deps)).toBe(1);
    expect(io.stderr).toEqual([
      `${dir}/tier1-blended.json:6:21 conflictPolicy: must be one of latest, acd, salesforce`,
      `error: the rules in ${dir}/ are invalid (1 error): nothing to explain`,
    ]);
  });

  it.each([
    ['neither --salesforce nor --acd nor work', {}, 'error: give one of --salesforce <Status> or --acd <State[:Code]>, or Omni-Channel work (--work <channel>, --at-capacity)'],
    ['work with --acd', { acd: 'Available', atCapacity: true }, 'error: --work and --at-capacity are Omni-Channel work (salesforce -> acd): give them alone or with --salesforce, not with --acd'],
    ['an empty --work', { work: [' '] }, 'error: --work needs a service channel DeveloperName, e.g. sfdc_liveagent'],
    ['both --salesforce and --acd', { salesforce: 'Lunch', acd: 'Available' }, 'error: give exactly one of --salesforce <Status> or --acd <State[:Code]>'],
    ['a bad --acd state', { acd: 'Bsy:Lunch' }, 'error: --acd "Bsy:Lunch" is not an ACD state (use State[:Code], State one of Available, Unavailable, Busy, AfterWork, Offline)'],
    ['an --acd with two codes', { acd: 'Unavailable:Lunch:extra' }, 'error: --acd "Unavailable:Lunch:extra" has more than one ":" (use State[:Code], State one of Available, Unavailable, Busy, AfterWork, Offline)'],
    ['an --acd with an empty code', { acd: 'Unavailable:' }, 'error: --acd "Unavailable:" has an empty code (use State[:Code], State one of Available, Unavailable, Busy, AfterWork, Offline; leave out ":" for no code)'],
    ['a --previous with two codes', { salesforce: 'Chat_Done', previous: 'Unavailable:a:b' }, 'error: --previous "Unavailable:a:b" has more than one ":" (use State[:Code], State one of Available, Unavailable, Busy, AfterWork, Offline)'],
    ['a bad --previous state', { salesforce: 'Chat_Done', previous: 'Lunch' }, 'error: --previous "Lunch" is not an ACD state (use State[:Code], State one of Available, Unavailable, Busy, AfterWork, Offline)'],
    ['an empty --salesforce', { salesforce: ' ' }, 'error: --salesforce needs a status DeveloperName, or Offline'],
  ])('exits 2 for %s', async (_name, flags, expected) => {
    const io = capture();
    const check = jest.fn(fullCatalog);
    expect(await runRulesExplain({ dir: EXAMPLES, agent: 'a-1001', ...flags }, io, { check })).toBe(2);
    expect(io.stderr).toEqual([expected]);
    expect(check).not.toHaveBeenCalled();
  });
});

describe(`${runRulesExplain.name} with Omni-Channel work`, () => {
  /** The workload fixture's rule with its catalog (the fixture directory also holds the catalog). */
  function workloadRules(): { dir: string; check: () => Promise<RuleCheck> } {
    const fixture = join(ROOT, 'test', 'fixtures', 'rules', 'valid', 'workload');
    const dir = join(tmp, 'rules');
    cpSync(join(fixture, 'blended.json'), join(dir, 'blended.json'), { recursive: true });
    const catalog = JSON.parse(readFileSync(join(fixture, 'catalog.json'), 'utf8')) as Catalog;
    return { dir, check: checkWith(catalog) };
  }

  it('answers --work: which workload row applies and what the ACD is set to', async () => {
    const { dir, check } = workloadRules();
    const io = capture();
    expect(await runRulesExplain({ dir, agent: 'a-1001', work: ['sfdc_liveagent'] }, io, { check })).toBe(0);
    expect(io.stdout).toEqual([
      'agent:  a-1001 <ana.silva@example.com> team "Tier 1"',
      'change: Omni-Channel work becomes 1 open "sfdc_liveagent", not at capacity (load 1 of 2) (salesforce -> acd)',
      `rule:   blended-workload (${join(dir, 'blended.json')}), assigned to team "Tier 1"`,
      'row:    workload[0] {"channel":"sfdc_liveagent","acd":{"state":"Unavailable","code":"Chat"}}',
      'result: set ACD state Unavailable:Chat in place of Available',
      'why:    workload[0] matches (open "sfdc_liveagent" work): while it does, an agent who would be Available on the ACD is set to Unavailable:Chat instead (other states are left alone); when no row matches any more, the state from before is restored',
    ]);
  });

  it.each<[string, Partial<{ work: string[]; atCapacity: boolean; salesforce: string }>, object]>([
    ['--at-capacity alone', { atCapacity: true }, { row: { ref: 'workload[2]' }, write: { state: { state: 'Unavailable', code: 'Omni_Busy' }, via: 'workload' } }],
    ['cases at capacity', { work: ['sfdc_case', 'sfdc_case'], atCapacity: true }, { row: { ref: 'workload[1]' }, write: { state: { state: 'Available' } } }],
    ['cases below capacity', { work: ['sfdc_case'] }, { outcome: 'unmapped', table: 'workload' }],
    ['--salesforce with work', { salesforce: 'Available_All', work: ['sfdc_liveagent'] }, { row: { ref: 'subscriber[0]' }, workload: { applied: true }, write: { state: { state: 'Unavailable', code: 'Chat' } } }],
  ])('%s (--json)', async (_name, flags, expected) => {
    const { dir, check } = workloadRules();
    const io = capture();
    expect(await runRulesExplain({ dir, agent: 'ana.silva@example.com', json: true, ...flags }, io, { check })).toBe(0);
    expect(JSON.parse(io.stdout.join('\n'))).toMatchObject(expected);
  });
});
