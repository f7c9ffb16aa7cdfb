import { readdir, readFile } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import { CatalogIndex } from './catalog-index';
import { checkRules } from './rule-checker';
import { compileRuleSet } from './rule-compiler';
import type { RuleFileJson, SchemaValidRuleFile } from './rule-file';
import { compareIssues } from './rule-issue';
import { parseRuleFile } from './rule-parser';
import { schemaIssues } from './rule-schema-validator';
import type { RuleFileText, RuleIssue, RuleSetLoadOptions, RuleSetLoadResult, ValidateRuleFilesOptions } from './rule-types';

/** The schema ships next to the rules (for `$schema`) but is not a rule. */
export const RULES_SCHEMA_FILE_NAME = 'presence-rules.schema.json';

/**
 * Whether a directory entry is a rule file: `*.json`, except the schema and names starting with `.` or `_`
 * (editor backups, drafts an admin parks on purpose). Watchers use the same test for hot reload.
 */
export function isRuleFileName(name: string): boolean {
  return name.endsWith('.json') && !name.startsWith('.') && !name.startsWith('_') && name !== RULES_SCHEMA_FILE_NAME;
}

/** Paths as the admin typed them; absolute ones relative to the working directory when inside it. */
function displayPath(path: string): string {
  if (!isAbsolute(path)) return path;
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

function directoryIssue(dir: string, message: string): RuleIssue {
  return { file: dir, line: 0, column: 0, path: '', message, severity: 'error' };
}

function fsReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'not found';
    case 'ENOTDIR':
      return 'not a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

/**
 * Reads every rule file of `dir` (not recursive, sorted by name) and validates them as a whole: syntax,
 * schema, duplicates across files, and the catalog. Never throws for bad input: every problem is an issue.
 */
export async function loadRuleSet(dir: string, options: RuleSetLoadOptions = {}): Promise<RuleSetLoadResult> {
  const shownDir = displayPath(dir);
  let names: string[];
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    names = entries
      .filter((entry) => (entry.isFile() || entry.isSymbolicLink()) && isRuleFileName(entry.name))
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    return { errors: [directoryIssue(shownDir, `cannot read the rules directory: ${fsReason(error)}`)], warnings: [], files: [] };
  }

  const texts: RuleFileText[] = [];
  const readErrors: RuleIssue[] = [];
  await Promise.all(
    names.map(async (name) => {
      const file = join(shownDir, name);
      try {
        texts.push({ file, text: await readFile(join(dir, name), 'utf8') });
      } catch (error) {
        readErrors.push(directoryIssue(file, `cannot read the file: ${fsReason(error)}`));
      }
    }),
  );
  if (names.length > 0 && texts.length === 0) {
    return { errors: readErrors.sort(compareIssues), warnings: [], files: [] };
  }
  const result = validateRuleFiles(texts, { ...options, dir: shownDir });
  if (readErrors.length === 0) return result;
  // A file that cannot be read makes the directory incomplete: never compile a partial rule set.
  const { ruleSet: _partial, ...rest } = result;
  return { ...rest, errors: [...readErrors, ...result.errors].sort(compareIssues) };
}

/**
 * Validates rule files given as text (hot reload, tests): the same checks and result as `loadRuleSet`.
 * `ruleSet` is set only when there is no error; warnings never block.
 */
export function validateRuleFiles(files: readonly RuleFileText[], options: ValidateRuleFilesOptions = {}): RuleSetLoadResult {
  const dir = options.dir ?? '.';
  const sorted = [...files].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  if (sorted.length === 0) {
    return {
      errors: [directoryIssue(dir, 'no rule files found (expected *.json files, one rule per file)')],
      warnings: [],
      files: [],
    };
  }

  const issues: RuleIssue[] = [];
  const valid: SchemaValidRuleFile[] = [];
  for (const { file, text } of sorted) {
    const parsed = parseRuleFile(file, text);
    issues.push(...parsed.issues);
    if (parsed.value === undefined) continue;
    const schemaErrors = schemaIssues(parsed.doc, parsed.value);
    issues.push(...schemaErrors);
    // Files with schema errors stay out of the cross-file checks: their values cannot be trusted.
    if (schemaErrors.length === 0) valid.push({ doc: parsed.doc, json: parsed.value as RuleFileJson });
  }

  const catalog = new CatalogIndex(options.catalog);
  issues.push(...checkRules(valid, catalog, { dir, defaultUnavailableCode: options.defaultUnavailableCode }));
  issues.sort(compareIssues);
  const errors = issues.filter((i) => i.severity === 'error');
  const warnings = issues.filter((i) => i.severity === 'warning');
  const result: RuleSetLoadResult = { errors, warnings, files: sorted.map((f) => f.file) };
  if (errors.length === 0) result.ruleSet = compileRuleSet(valid, sorted, catalog);
  return result;
}
