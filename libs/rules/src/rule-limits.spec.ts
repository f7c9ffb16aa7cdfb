import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatIssue, loadRuleSet, validateRuleFiles, type RuleSetLoadResult } from './index';
import { JsonDocument } from './rule-parser';

/*
 * Hostile rule files (issue 9): each must give a clear `file:line:column` error and never a throw, and the
 * work must grow linearly with the input. Complexity is asserted by counting work, never by timing.
 */
const validate = (text: string, limits?: Parameters<typeof validateRuleFiles>[1]) => validateRuleFiles([{ file: 'r.json', text }], limits);
const lines = (result: RuleSetLoadResult) => result.errors.map(formatIssue);

describe('hostile rule files', () => {
  it('refuses nesting deeper than the limit at the bracket that crosses it, with its path', () => {
    const text = `{ "name": "r", "description": ${'['.repeat(2000)}${']'.repeat(2000)} }`;
    const result = validate(text);
    expect(lines(result)).toEqual([
      `r.json:1:${31 + 31} description${'[0]'.repeat(31)}: nested deeper than 32 levels (a rule file needs 4; setting RULES_MAX_DEPTH)`,
    ]);
    expect(result.ruleSet).toBeUndefined();
  });

  it('refuses deep nesting of objects too, and honours a lower limit', () => {
    const text = `{ "name": "r",\n  "assign": ${'{ "a": '.repeat(5000)}1${'}'.repeat(5000)} }`;
    expect(lines(validate(text, { limits: { maxDepth: 8 } }))).toEqual([
      `r.json:2:${13 + 7 * 7} assign.a.a.a.a.a.a.a: nested deeper than 8 levels (a rule file needs 4; setting RULES_MAX_DEPTH)`,
    ]);
  });

  it('counts brackets in the JSON, not in strings', () => {
    const result = validate(`{ "name": "r", "description": "${'[{'.repeat(5000)}", "assign": { "teams": ["t"] } }`);
    expect(result.errorCount).toBe(0);
    expect(result.ruleSet).toBeDefined();
  });

  it('refuses a file larger than the limit, pointing at where the limit is crossed', () => {
    const text = `{ "name": "r",\n  "description": "${'x'.repeat(2000)}" }`;
    expect(lines(validate(text, { limits: { maxFileBytes: 1024 } }))).toEqual([
      'r.json:2:1010: the file is larger than 1,024 bytes (setting RULES_MAX_FILE_BYTES); nothing after this point was read',
    ]);
  });

  // The next files are 2 to 4 MB: over the default size limit (which refuses them at once), so it is raised.
  const large = { maxFileBytes: 8 << 20 };

  it('counts 100,000 bad rows and keeps only the first N, without a throw', () => {
    const rows = Array.from({ length: 100_000 }, () => ({ acd: { state: 'Nope' }, salesforce: 'X' }));
    const text = JSON.stringify({ name: 'r', publisher: rows });
    expect(lines(validate(text))).toEqual([expect.stringMatching(/^r\.json:1:\d+: the file is larger than 1,048,576 bytes/)]);
    const result = validate(text, { limits: large });
    expect(result.errorCount).toBe(100_000);
    expect(result.errors).toHaveLength(50);
    expect(formatIssue(result.errors[0])).toBe('r.json:1:42 publisher[0].acd.state: must be one of Available, Unavailable, Busy, AfterWork, Offline');
  });

  it('counts 200,000 repeated users as warnings, keeping only the first N', () => {
    const users = Array.from({ length: 200_000 }, () => 'a@example.com');
    const result = validate(JSON.stringify({ name: 'r', assign: { users } }), { limits: { ...large, maxIssues: 10 } });
    expect(result.errorCount).toBe(0);
    expect(result.ruleSet).toBeDefined();
    // 199,999 repeats, 1 "no publisher, subscriber or workload row", 3 unreachable catalogs.
    expect(result.warningCount).toBe(199_999 + 1 + 3);
    expect(result.warnings).toHaveLength(10);
  });

  it('refuses a file made of a million values in the wrong place with a count, not a million issues', () => {
    const result = validate(JSON.stringify({ name: 'r', publisher: Array(500_000).fill(0) }), { limits: large });
    expect(result.errorCount).toBe(500_000);
    expect(result.errors).toHaveLength(50);
  });

  describe('unknown keys: work grows linearly', () => {
    const unknownKeys = (n: number) => {
      const json: Record<string, number | string> = { name: 'r' };
      for (let i = 0; i < n; i++) json[`k${i}`] = i;
      return JSON.stringify(json);
    };
    /** Positions looked up and object keys listed while validating: both must stay proportional to n. */
    const listKeys = Object.keys;
    const work = (n: number) => {
      const locate = jest.spyOn(JsonDocument.prototype, 'locate');
      const keys = jest.spyOn(Object, 'keys');
      let listed = 0;
      keys.mockImplementation((o: object) => {
        const out = listKeys(o);
        listed += out.length;
        return out;
      });
      try {
        const result = validate(unknownKeys(n));
        expect(result.errorCount).toBe(n);
        expect(result.errors.length).toBeLessThanOrEqual(50);
        return { located: locate.mock.calls.length, listed };
      } finally {
        locate.mockRestore();
        keys.mockRestore();
      }
    };

    it('locates only the errors it keeps, and lists each object once', () => {
      const small = work(2000);
      const large = work(4000);
      expect(large.located).toBeLessThanOrEqual(100);
      // Quadratic work would quadruple; allow some constant overhead on top of doubling.
      expect(large.listed).toBeLessThan(small.listed * 2.5);
    });
  });

  describe('files that are not regular files', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'presence-rules-hostile-'));
      writeFileSync(join(dir, 'a.json'), '{ "name": "a", "assign": { "teams": ["a"] } }');
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('refuses a FIFO named x.json instead of waiting for a writer', async () => {
      execFileSync('mkfifo', [join(dir, 'x.json')]);
      const result = await loadRuleSet(dir);
      expect(result.errors.map((i) => `${i.file.replace(/^.*[\\/]/, '')}: ${i.message}`)).toEqual([
        'x.json: not a regular file (a FIFO): a rule file must be a plain file',
      ]);
      expect(result.ruleSet).toBeUndefined();
    });

    it('refuses a symbolic link to a FIFO the same way', async () => {
      execFileSync('mkfifo', [join(dir, '_pipe')]);
      symlinkSync('_pipe', join(dir, 'x.json'));
      const result = await loadRuleSet(dir);
      expect(result.errors.map((i) => i.message)).toEqual(['not a regular file (a FIFO): a rule file must be a plain file']);
    });

    it('reads a file over the size limit only up to the limit', async () => {
      writeFileSync(join(dir, 'big.json'), `{ "name": "big", "description": "${'x'.repeat(5000)}" }`);
      const result = await loadRuleSet(dir, { limits: { maxFileBytes: 1024 } });
      expect(result.errors.map((i) => `${i.line}:${i.column} ${i.message}`)).toEqual([
        '1:1025 the file is larger than 1,024 bytes (setting RULES_MAX_FILE_BYTES); nothing after this point was read',
      ]);
    });
  });
});
