import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatIssue, isRuleFileName, validateRuleFiles, type Catalog, type RuleSetLoadResult } from './index';

/*
 * Golden tests over test/fixtures/rules/{valid,invalid}/<case>/: the rule files of a case directory, an
 * optional catalog.json (a `Catalog`; absent = no catalog reachable) and expected.txt. For invalid cases
 * expected.txt holds the exact error lines; for valid cases the exact warning lines (absent = none).
 * File names in expected.txt are relative to the case directory. After a deliberate change of wording,
 * rewrite them with PRESENCE_RULES_UPDATE_GOLDEN=1 and review the diff.
 */
const FIXTURES = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'rules');
const UPDATE = process.env.PRESENCE_RULES_UPDATE_GOLDEN === '1';

function caseDirs(kind: 'valid' | 'invalid'): string[] {
  return readdirSync(join(FIXTURES, kind), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

function runCase(dir: string): RuleSetLoadResult {
  const files = readdirSync(dir)
    .filter((name) => name !== 'catalog.json' && isRuleFileName(name))
    .map((name) => ({ file: name, text: readFileSync(join(dir, name), 'utf8') }));
  const catalogFile = join(dir, 'catalog.json');
  const catalog = existsSync(catalogFile) ? (JSON.parse(readFileSync(catalogFile, 'utf8')) as Catalog) : undefined;
  return validateRuleFiles(files, { dir: '.', catalog });
}

function golden(dir: string, actual: string[]): string[] {
  const file = join(dir, 'expected.txt');
  if (UPDATE) {
    if (actual.length > 0) writeFileSync(file, `${actual.join('\n')}\n`);
    return actual;
  }
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((line) => line.length > 0);
}

describe(validateRuleFiles.name, () => {
  describe('invalid fixtures', () => {
    it.each(caseDirs('invalid'))('%s', (name) => {
      const dir = join(FIXTURES, 'invalid', name);
      const result = runCase(dir);
      const actual = result.errors.map(formatIssue);
      expect(actual.length).toBeGreaterThan(0);
      expect(actual).toEqual(golden(dir, actual));
      expect(result.ruleSet).toBeUndefined();
    });
  });

  describe('valid fixtures', () => {
    it.each(caseDirs('valid'))('%s', (name) => {
      const dir = join(FIXTURES, 'valid', name);
      const result = runCase(dir);
      expect(result.errors.map(formatIssue)).toEqual([]);
      const actual = result.warnings.map(formatIssue);
      expect(actual).toEqual(golden(dir, actual));
      expect(result.ruleSet?.rules.length).toBe(result.files.length);
    });
  });

  it('has an invalid fixture for every kind of validation error', () => {
    const required = [
      'syntax-error', 'trailing-comma', 'duplicate-json-key', 'wrong-type', 'bad-enum', 'unknown-field',
      'missing-required-field', 'previous-in-publisher', 'non-settable-subscriber-state', 'duplicate-publisher-key',
      'duplicate-subscriber-key', 'duplicate-rule-name', 'team-in-two-rules', 'user-in-two-rules',
      'unknown-salesforce-status', 'unknown-team', 'unknown-user', 'code-not-enabled-for-team', 'unknown-code',
      'empty-directory', 'workload-no-condition', 'workload-offline-state', 'workload-previous',
      'workload-duplicate-row', 'workload-code-not-enabled-for-team', 'workload-code-on-available',
    ];
    expect(caseDirs('invalid')).toEqual(expect.arrayContaining(required));
  });
});
