import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { AcdState } from '@presence-sync/domain';
import type { Catalog } from '@presence-sync/rules';
import { runRulesExplain, runRulesValidate, type CliIo } from './rules.commands';

const ROOT = join(__dirname, '..', '..', '..', '..');
const EXAMPLES = join(ROOT, 'rules');
const SANDBOX = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'rules', 'sandbox-catalog.json'), 'utf8')) as Catalog;
const AGENTS = [
  { agentId: 'a-1001', email: 'ana.silva@example.com', teamId: 't-tier1' },
  { agentId: 'a-1013', email: 'maya.meyer@example.com', teamId: 't-tier2' },
  { agentId: 'a-3001', email: 'omar.haddad@example.com', teamId: 't-backoffice' },
];
const fullCatalog = async (): Promise<Catalog> => ({ ...SANDBOX, agents: AGENTS });

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

  it('prints a warning per unreachable catalog, and still exits 0', async () => {
    const io = capture();
    expect(await runRulesValidate({ dir: EXAMPLES }, io, async () => ({ salesforceStatuses: SANDBOX.salesforceStatuses }))).toBe(0);
    expect(io.stdout).toEqual([
      // tier1-blended's workload table names a service channel.
      expect.stringMatching(/: warning: Salesforce service channel catalog not reachable: workload channels not checked$/),
      expect.stringMatching(/: warning: contact-center agent catalog not reachable: users not checked$/),
      expect.stringMatching(/: warning: contact-center team catalog not reachable: teams and Unavailable codes not checked$/),
      'ok: 3 rules in 3 files, 3 warnings',
    ]);
  });

  it('reports a catalog loader that throws as a warning', async () => {
    const io = capture();
    const failing = async (): Promise<Catalog> => {
      throw new Error('ECONNREFUSED');
    };
    expect(await runRulesValidate({ dir: EXAMPLES }, io, failing)).toBe(0);
    expect(io.stdout).toContain(`${EXAMPLES}: warning: catalogs could not be loaded: ECONNREFUSED`);
    expect(io.stdout.at(-1)).toBe('ok: 3 rules in 3 files, 5 warnings');
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
    expect(await runRulesValidate({ dir, json: true }, io)).toBe(1);
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
    expect(await runRulesValidate({ dir: join(tmp, 'nope') }, io)).toBe(1);
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
      expect(await runRulesValidate({ dir, limits: { maxIssues: 5 } }, io, fullCatalog)).toBe(1);
      expect(io.stdout).toHaveLength(5 + 2);
      expect(io.stdout.slice(-2)).toEqual(['(and 1,195 more errors not shown)', `1,200 errors, 0 warnings in 3 files (${dir}/)`]);

      const json = capture();
      await runRulesValidate({ dir, json: true, limits: { maxIssues: 5 } }, json, fullCatalog);
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
  const deps = { loadCatalog: fullCatalog };

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
    const code = await runRulesExplain({ dir: EXAMPLES, agent: 'a-1013', salesforce: 'Chat_Done', json: true }, io, { ...deps, loadPrevious });
    expect(code).toBe(0);
    expect(loadPrevious).toHaveBeenCalledWith('a-1013');
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
    const code = await runRulesExplain({ dir: EXAMPLES, agent: 'a-1013', salesforce: 'Chat_Done', previous: 'Busy' }, io, { ...deps, loadPrevious });
    expect(code).toBe(0);
    expect(loadPrevious).not.toHaveBeenCalled();
    expect(io.stdout).toContain('result: nothing happens (no-previous)');
  });

  it('explains an ACD change with the default Unavailable fallback of a skip rule', async () => {
    const io = capture();
    const code = await runRulesExplain({ dir: EXAMPLES, agent: 'omar.haddad@example.com', salesforce: 'Training' }, io, { ...deps, defaultUnavailableCode: 'System' });
    expect(code).toBe(0);
    expect(io.stdout).toContain('result: set ACD state Unavailable:System');
  });

  it('uses --team when the agent list cannot be reached', async () => {
    const io = capture();
    // Without the team catalog a team is known only by what the rule file says: tier2-chat-first names the team.
    expect(await runRulesExplain({ dir: EXAMPLES, agent: 'a-777', acd: 'Unavailable:Coaching', team: 'Tier 2' }, io)).toBe(0);
    expect(io.stdout).toContain('result: set Salesforce status "Training"');
    expect(io.stderr).toEqual(['note: 4 warnings in the rules (run "presence-sync rules validate ' + EXAMPLES + '" to see them)']);
  });

  it('explains a user assigned directly even without the agent list', async () => {
    const io = capture();
    expect(await runRulesExplain({ dir: EXAMPLES, agent: 'maya.meyer@example.com', acd: 'Offline' }, io)).toBe(0);
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
    ['a bad --previous state', { salesforce: 'Chat_Done', previous: 'Lunch' }, 'error: --previous "Lunch" is not an ACD state (use State[:Code], State one of Available, Unavailable, Busy, AfterWork, Offline)'],
    ['an empty --salesforce', { salesforce: ' ' }, 'error: --salesforce needs a status DeveloperName, or Offline'],
  ])('exits 2 for %s', async (_name, flags, expected) => {
    const io = capture();
    const loadCatalog = jest.fn(fullCatalog);
    expect(await runRulesExplain({ dir: EXAMPLES, agent: 'a-1001', ...flags }, io, { loadCatalog })).toBe(2);
    expect(io.stderr).toEqual([expected]);
    expect(loadCatalog).not.toHaveBeenCalled();
  });
});

describe(`${runRulesExplain.name} with Omni-Channel work`, () => {
  /** The workload fixture's rule with its catalog (the fixture directory also holds the catalog). */
  function workloadRules(): { dir: string; loadCatalog: () => Promise<Catalog> } {
    const fixture = join(ROOT, 'test', 'fixtures', 'rules', 'valid', 'workload');
    const dir = join(tmp, 'rules');
    cpSync(join(fixture, 'blended.json'), join(dir, 'blended.json'), { recursive: true });
    const catalog = JSON.parse(readFileSync(join(fixture, 'catalog.json'), 'utf8')) as Catalog;
    return { dir, loadCatalog: async () => catalog };
  }

  it('answers --work: which workload row applies and what the ACD is set to', async () => {
    const { dir, loadCatalog } = workloadRules();
    const io = capture();
    expect(await runRulesExplain({ dir, agent: 'a-1001', work: ['sfdc_liveagent'] }, io, { loadCatalog })).toBe(0);
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
    const { dir, loadCatalog } = workloadRules();
    const io = capture();
    expect(await runRulesExplain({ dir, agent: 'ana.silva@example.com', json: true, ...flags }, io, { loadCatalog })).toBe(0);
    expect(JSON.parse(io.stdout.join('\n'))).toMatchObject(expected);
  });
});
