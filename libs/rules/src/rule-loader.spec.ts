import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { AcdTeam } from '@presence-sync/domain';
import { connectorLimits, formatIssue, isRuleFileName, loadRuleSet, validateRuleFiles, type Catalog } from './index';

const ROOT = join(__dirname, '..', '..', '..');
const EXAMPLES = join(ROOT, 'rules');
const SANDBOX = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'rules', 'sandbox-catalog.json'), 'utf8')) as Catalog;

const ok = (name: string, extra = '') =>
  `{ "name": "${name}", "publisher": [{ "acd": { "state": "Available" }, "salesforce": "Available_Chat" }], "assign": { "teams": ["${name}"] }${extra} }`;

describe(loadRuleSet.name, () => {
  let tmp: string;
  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'presence-rules-'));
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  describe('the example rules in rules/', () => {
    it('validate against the sandbox catalog with only the agent catalog missing', async () => {
      const result = await loadRuleSet(EXAMPLES, { catalog: SANDBOX });
      expect(result.errors.map(formatIssue)).toEqual([]);
      expect(result.warnings.map(formatIssue)).toEqual([
        `${relative(process.cwd(), EXAMPLES) || '.'}: warning: contact-center agent catalog not reachable: users not checked`,
      ]);
      expect(result.ruleSet?.rules.map((r) => r.name)).toEqual(['back-office', 'tier1-blended', 'tier2-chat-first']);
    });

    it('validate with the sandbox agents too (the user override is in Tier 2)', async () => {
      const agents = [{ agentId: 'a-1013', email: 'maya.meyer@example.com', teamId: 't-tier2' }];
      const result = await loadRuleSet(EXAMPLES, { catalog: { ...SANDBOX, agents }, defaultUnavailableCode: 'System' });
      expect([...result.errors, ...result.warnings].map(formatIssue)).toEqual([]);
      expect(result.ruleSet?.ruleFor({ agentId: 'a-1013', teamId: 't-tier2' })).toMatchObject({
        rule: { name: 'tier1-blended' },
        via: 'user',
      });
    });

    it('use `previous` in a subscriber row and skip code validation in one rule', async () => {
      const { ruleSet } = await loadRuleSet(EXAMPLES, { catalog: SANDBOX });
      expect(ruleSet?.rules.some((r) => r.subscriber.some((row) => 'previous' in row.acd))).toBe(true);
      expect(ruleSet?.ruleNamed('back-office')?.skipUnavailableCodeValidation).toBe(true);
    });
  });

  it('reads *.json only, sorted, skipping the schema and names starting with "." or "_"', async () => {
    writeFileSync(join(tmp, 'b.json'), ok('b'));
    writeFileSync(join(tmp, 'a.json'), ok('a'));
    writeFileSync(join(tmp, 'presence-rules.schema.json'), '{ "not": "a rule" }');
    writeFileSync(join(tmp, '_draft.json'), '{ broken');
    writeFileSync(join(tmp, '.swap.json'), '{ broken');
    writeFileSync(join(tmp, 'notes.md'), '# notes');
    mkdirSync(join(tmp, 'nested.json'));
    mkdirSync(join(tmp, 'archive'));
    writeFileSync(join(tmp, 'archive', 'old.json'), '{ broken');
    const result = await loadRuleSet(tmp, { catalog: { salesforceStatuses: [], teams: [], agents: [] } });
    expect(result.files.map((f) => f.replace(/^.*[\\/]/, ''))).toEqual(['a.json', 'b.json']);
    // The team check fails (empty catalog): proof that both files were read and checked.
    expect(result.errors.map((i) => i.message)).toEqual([
      'unknown Salesforce status "Available_Chat" (known: )',
      'unknown team "a" (known: )',
      'unknown Salesforce status "Available_Chat" (known: )',
      'unknown team "b" (known: )',
    ]);
  });

  it('reports a missing directory as one error naming it', async () => {
    const missing = join(tmp, 'nope');
    const result = await loadRuleSet(missing);
    expect(result).toEqual({
      errors: [expect.objectContaining({ file: missing, line: 0, message: 'cannot read the rules directory: not found' })],
      warnings: [],
      errorCount: 1,
      warningCount: 0,
      files: [],
    });
  });

  it('reports a directory without rule files as one error naming it', async () => {
    writeFileSync(join(tmp, 'readme.txt'), 'no rules here');
    const result = await loadRuleSet(tmp);
    expect(result.errors.map(formatIssue)).toEqual([`${tmp}: no rule files found (expected *.json files, one rule per file)`]);
    expect(result.ruleSet).toBeUndefined();
  });

  it('shows relative paths as given', async () => {
    writeFileSync(join(tmp, 'x.json'), '{ "name": 1 }');
    const rel = relative(process.cwd(), tmp);
    const result = await loadRuleSet(rel);
    expect(result.errors[0].file).toBe(join(rel, 'x.json'));
  });

  it('versions by content: same texts, same version; any change, another', async () => {
    writeFileSync(join(tmp, 'a.json'), ok('a'));
    const first = (await loadRuleSet(tmp)).ruleSet?.version;
    expect(first).toMatch(/^[0-9a-f]{12}$/);
    expect((await loadRuleSet(tmp)).ruleSet?.version).toBe(first);
    expect(validateRuleFiles([{ file: 'elsewhere/a.json', text: ok('a') }]).ruleSet?.version).toBe(first);
    writeFileSync(join(tmp, 'a.json'), `${ok('a')}\n`);
    expect((await loadRuleSet(tmp)).ruleSet?.version).not.toBe(first);
  });
});

describe(validateRuleFiles.name, () => {
  it('sets ruleSet only when there is no error; warnings do not block', () => {
    const good = validateRuleFiles([{ file: 'a.json', text: ok('a') }]);
    expect(good.errors).toEqual([]);
    expect(good.warnings).toHaveLength(3);
    expect(good.ruleSet?.rules[0]).toMatchObject({ name: 'a', conflictPolicy: 'latest', skipUnavailableCodeValidation: false });

    const bad = validateRuleFiles([{ file: 'a.json', text: ok('a') }, { file: 'b.json', text: '{' }]);
    expect(bad.errors.map(formatIssue)).toEqual(['b.json:1:2: expected "}": an object is not closed']);
    expect(bad.ruleSet).toBeUndefined();
  });

  it('compiles frozen rules with rows that keep their index', () => {
    const text = JSON.stringify({
      name: 'r',
      description: 'd',
      publisher: [
        { acd: { state: 'Available' }, salesforce: 'A' },
        { acd: { state: 'Unavailable', code: 'Lunch' }, salesforce: 'L' },
      ],
      subscriber: [{ salesforce: 'D', acd: { previous: true } }],
      workload: [
        { channel: 'sfdc_liveagent', atCapacity: true, acd: { state: 'Unavailable', code: 'Chat' } },
        { atCapacity: true, acd: { state: 'Unavailable' } },
      ],
      assign: { users: ['x@example.com'] },
    });
    const rule = validateRuleFiles([{ file: 'r.json', text }]).ruleSet?.rules[0];
    expect(rule).toEqual({
      name: 'r',
      file: 'r.json',
      description: 'd',
      skipUnavailableCodeValidation: false,
      conflictPolicy: 'latest',
      publisher: [
        { index: 0, acd: { state: 'Available' }, salesforce: 'A' },
        { index: 1, acd: { state: 'Unavailable', code: 'Lunch' }, salesforce: 'L' },
      ],
      subscriber: [{ index: 0, salesforce: 'D', acd: { previous: true } }],
      workload: [
        { index: 0, channel: 'sfdc_liveagent', atCapacity: true, acd: { state: 'Unavailable', code: 'Chat' } },
        { index: 1, atCapacity: true, acd: { state: 'Unavailable' } },
      ],
      assign: { teams: [], users: ['x@example.com'] },
    });
    expect(Object.isFrozen(rule)).toBe(true);
    expect(Object.isFrozen(rule?.publisher[1].acd)).toBe(true);
    expect(Object.isFrozen(rule?.workload[0].acd)).toBe(true);
    expect(Object.isFrozen(rule?.assign.users)).toBe(true);
  });

  it('strips a byte-order mark and points at columns of the text an editor shows', () => {
    const result = validateRuleFiles([{ file: 'a.json', text: '\ufeff{\n  "name": "a",\n  "conflictPolicy": "x"\n}' }]);
    expect(result.errors.map(formatIssue)).toEqual(['a.json:3:21 conflictPolicy: must be one of latest, acd, salesforce']);
  });

  it('warns when DEFAULT_UNAVAILABLE_CODE is missing for a team of a rule that skips code validation', () => {
    const text = JSON.stringify({ name: 'bo', skipUnavailableCodeValidation: true, publisher: [], subscriber: [{ salesforce: 'Lunch', acd: { state: 'Available' } }], assign: { teams: ['Back Office'] } });
    const catalog = { ...SANDBOX, agents: [] };
    expect(validateRuleFiles([{ file: 'bo.json', text }], { catalog, defaultUnavailableCode: 'Meeting' }).warnings.map(formatIssue)).toEqual([
      'bo.json:1:46 skipUnavailableCodeValidation: warning: DEFAULT_UNAVAILABLE_CODE "Meeting" is not enabled for team "Back Office": fallback writes for its agents will fail',
    ]);
    expect(validateRuleFiles([{ file: 'bo.json', text }], { catalog, defaultUnavailableCode: 'Nap' }).warnings.map(formatIssue)).toEqual([
      '.: warning: DEFAULT_UNAVAILABLE_CODE "Nap" is not an Unavailable code of any team: fallback writes will fail',
    ]);
  });

  it('accepts the rule-file names the loader accepts', () => {
    expect(['a.json', 'presence-rules.schema.json', '_a.json', '.a.json', 'a.jsonc', 'a.json.bak'].filter(isRuleFileName)).toEqual(['a.json']);
  });

  it('validates 500 rules over 50,000 agents quickly, and resolves every agent in O(1)', () => {
    const teams: AcdTeam[] = Array.from({ length: 500 }, (_, t) => ({
      teamId: `t-${t}`,
      name: `Team ${t}`,
      unavailableCodes: ['Lunch', 'Break', `Code${t}`],
    }));
    const agents = Array.from({ length: 50_000 }, (_, a) => ({ agentId: `a-${a}`, email: `agent${a}@example.com`, teamId: `t-${a % 500}` }));
    const files = teams.map((team, t) => ({
      file: `rule-${String(t).padStart(3, '0')}.json`,
      text: JSON.stringify({
        name: `rule-${t}`,
        publisher: [
          { acd: { state: 'Available' }, salesforce: 'Available_Chat' },
          { acd: { state: 'Unavailable', code: 'Lunch' }, salesforce: 'Lunch' },
        ],
        subscriber: [{ salesforce: 'Lunch', acd: { state: 'Unavailable', code: 'Lunch' } }],
        // 100 users per rule, each from another rule's team: every user lookup goes through the catalog.
        assign: { teams: [team.name], users: Array.from({ length: 100 }, (_, u) => `agent${t * 100 + u}@example.com`) },
      }),
    }));
    const catalog: Catalog = { salesforceStatuses: ['Available_Chat', 'Lunch'], teams, agents };

    const started = performance.now();
    const result = validateRuleFiles(files, { catalog });
    const validated = performance.now();
    expect(result.errors).toEqual([]);
    const ruleSet = result.ruleSet!;
    for (const agent of agents) {
      const match = ruleSet.ruleFor(agent);
      if (match?.via !== 'user') throw new Error(`agent ${agent.agentId} resolved ${JSON.stringify(match)}`);
    }
    const resolved = performance.now();
    expect(validated - started).toBeLessThan(5_000);
    expect(resolved - validated).toBeLessThan(500);
  });
});

describe('validation against the connector', () => {
  const text = JSON.stringify({
    name: 'r', assign: { teams: ['Tier 1'] },
    subscriber: [{ salesforce: 'Offline', acd: { state: 'Offline' } }, { salesforce: 'Chat_Done', acd: { previous: true } }],
    workload: [{ atCapacity: true, acd: { state: 'Unavailable', code: 'Chat' } }],
  }, null, 2);

  it('refuses a row that wants a state the connector cannot set, naming file, position and connector', () => {
    const result = validateRuleFiles([{ file: 'r.json', text }], { connector: { name: 'acme', settable: ['Available', 'Unavailable'] } });
    expect(result.ruleSet).toBeUndefined();
    expect(result.errors.map(formatIssue)).toEqual([
      expect.stringMatching(/^r\.json:\d+:\d+ subscriber\[0\]\.acd\.state: the acme connector cannot set Offline \(it sets Available, Unavailable\)/),
    ]);
  });

  it('accepts the same rows for a connector that can set them, and checks nothing without a connector', () => {
    expect(validateRuleFiles([{ file: 'r.json', text }], { connector: { name: 'webex', settable: ['Available', 'Unavailable', 'Offline'] } }).errors).toEqual([]);
    expect(validateRuleFiles([{ file: 'r.json', text }]).errors).toEqual([]);
  });

  describe('a connector with no plain Unavailable (unavailableNeedsCode)', () => {
    const needsCode = connectorLimits('amazon-connect', { settable: ['Available', 'Unavailable', 'Offline'], unavailableNeedsCode: true });
    const plain = (skip: boolean) => JSON.stringify({
      name: 'r', skipUnavailableCodeValidation: skip, assign: { teams: ['Tier 1'] },
      publisher: [{ acd: { state: 'Unavailable' }, salesforce: 'Away' }],
      subscriber: [
        { salesforce: 'Lunch', acd: { state: 'Unavailable', code: 'Lunch' } },
        { salesforce: 'Away', acd: { state: 'Unavailable' } },
        { salesforce: 'Chat_Done', acd: { previous: true } },
      ],
      workload: [{ atCapacity: true, acd: { state: 'Unavailable' } }],
    }, null, 2);

    it('refuses subscriber and workload rows that set Unavailable without a code (a publisher row only matches, so it may)', () => {
      const result = validateRuleFiles([{ file: 'r.json', text: plain(false) }], { connector: needsCode });
      expect(result.ruleSet).toBeUndefined();
      expect(result.errors.map(formatIssue)).toEqual([
        expect.stringMatching(/^r\.json:\d+:\d+ subscriber\[1\]\.acd: the amazon-connect connector cannot set Unavailable without a code .*give the row a code$/),
        expect.stringMatching(/^r\.json:\d+:\d+ workload\[0\]\.acd: the amazon-connect connector cannot set Unavailable without a code /),
      ]);
    });

    it('refuses a rule that skips code validation while DEFAULT_UNAVAILABLE_CODE is unset (its fallback is plain Unavailable), and accepts it once set', () => {
      const text = JSON.stringify({
        name: 'r', skipUnavailableCodeValidation: true, assign: { teams: ['Tier 1'] },
        subscriber: [{ salesforce: 'Lunch', acd: { state: 'Unavailable', code: 'Lunch' } }],
      }, null, 2);
      const refused = validateRuleFiles([{ file: 'r.json', text }], { connector: needsCode });
      expect(refused.errors.map(formatIssue)).toEqual([
        expect.stringMatching(/^r\.json:\d+:\d+ skipUnavailableCodeValidation: the amazon-connect connector cannot set Unavailable without a code, and this rule falls back to plain Unavailable \(DEFAULT_UNAVAILABLE_CODE is not set\)/),
      ]);
      expect(validateRuleFiles([{ file: 'r.json', text }], { connector: needsCode, defaultUnavailableCode: 'Lunch' }).errors).toEqual([]);
    });

    it('DEFAULT_UNAVAILABLE_CODE does not fill in a row without a code: such rows stay refused', () => {
      const result = validateRuleFiles([{ file: 'r.json', text: plain(true) }], { connector: needsCode, defaultUnavailableCode: 'Lunch' });
      expect(result.errors.map((e) => e.path)).toEqual(['subscriber[1].acd', 'workload[0].acd']);
    });

    it('accepts plain Unavailable for a connector that has it', () => {
      const other = connectorLimits('genesys', { settable: ['Available', 'Unavailable', 'Offline'], unavailableNeedsCode: false });
      expect(validateRuleFiles([{ file: 'r.json', text: plain(false) }], { connector: other }).errors).toEqual([]);
    });
  });
});
