import { constants, type Stats } from 'node:fs';
import { open, readdir, type FileHandle } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CatalogIndex } from './catalog-index';
import { IssueCollector } from './issue-collector';
import { checkRules } from './rule-checker';
import { compileRuleSet } from './rule-compiler';
import type { RuleFileJson, SchemaValidRuleFile } from './rule-file';
import { findTooDeep, resolveRuleLimits, sizeIssue } from './rule-limits';
import { parseRuleFile, withoutByteOrderMark } from './rule-parser';
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

/** What a directory entry that is not a plain file is, for the error. */
function fileKind(stats: Stats): string {
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isDirectory()) return 'a directory';
  return 'not a file';
}

/**
 * One rule file's text, read up to one byte past the size limit (the validator then reports the file as too
 * large). Opened non-blocking and checked after opening: a FIFO (or a link to one) would otherwise wait
 * forever for a writer, and a check before opening could be raced by a rename.
 */
async function readRuleFile(path: string, maxBytes: number): Promise<{ text: string } | { problem: string }> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    const stats = await handle.stat();
    if (!stats.isFile()) return { problem: `not a regular file (${fileKind(stats)}): a rule file must be a plain file` };
    const chunks: Buffer[] = [];
    let total = 0;
    while (total <= maxBytes) {
      // Sized by the file's length (plus one byte to see that it ended), at least 64 KiB: some files report 0.
      const buffer = Buffer.alloc(Math.min(Math.max(stats.size - total + 1, 1 << 16), maxBytes + 1 - total));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      chunks.push(buffer.subarray(0, bytesRead));
      total += bytesRead;
    }
    return { text: Buffer.concat(chunks).toString('utf8') };
  } catch (error) {
    return { problem: `cannot read the file: ${fsReason(error)}` };
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Reads every rule file of `dir` (not recursive, sorted by name) and validates them as a whole: syntax,
 * schema, duplicates across files, and the catalog. Never throws for bad input: every problem is an issue.
 * Pauses now and then (`setImmediate`), so a large file does not hold up the rest of the process (HTTP
 * probes, queue workers) for the whole validation.
 */
export async function loadRuleSet(dir: string, options: RuleSetLoadOptions = {}): Promise<RuleSetLoadResult> {
  const shownDir = displayPath(dir);
  const limits = resolveRuleLimits(options.limits);
  let names: string[];
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    // Directories are skipped; anything else named like a rule (a FIFO, a socket, a link) is opened and
    // refused if it is not a plain file, so a stray one is reported, not silently ignored.
    names = entries
      .filter((entry) => !entry.isDirectory() && isRuleFileName(entry.name))
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    const issue = directoryIssue(shownDir, `cannot read the rules directory: ${fsReason(error)}`);
    return { errors: [issue], warnings: [], errorCount: 1, warningCount: 0, files: [] };
  }

  const texts: RuleFileText[] = [];
  const readErrors: RuleIssue[] = [];
  // One file at a time: each read holds at most the size limit in memory.
  for (const name of names) {
    const file = join(shownDir, name);
    const read = await readRuleFile(join(dir, name), limits.maxFileBytes);
    if ('text' in read) texts.push({ file, text: read.text });
    else readErrors.push(directoryIssue(file, read.problem));
  }
  return runPausing(validation(texts, { ...options, dir: shownDir }, readErrors));
}

/**
 * Validates rule files given as text (hot reload, tests): the same checks and result as `loadRuleSet`.
 * `ruleSet` is set only when there is no error; warnings never block.
 */
export function validateRuleFiles(files: readonly RuleFileText[], options: ValidateRuleFilesOptions = {}): RuleSetLoadResult {
  const steps = validation(files, options, []);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** Longest stretch of validation work between two pauses, in ms. */
const SLICE_MS = 10;

async function runPausing<T>(steps: Generator<void, T>): Promise<T> {
  let sliceStart = performance.now();
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    if (performance.now() - sliceStart >= SLICE_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
}

/**
 * The validation as steps: it yields between files, phases and batches of list items, and the runner decides
 * whether to pause there. `readErrors` are files that could not be read: they make the directory incomplete,
 * so no rule set is compiled from the rest.
 */
function* validation(
  files: readonly RuleFileText[],
  options: ValidateRuleFilesOptions,
  readErrors: readonly RuleIssue[],
): Generator<void, RuleSetLoadResult> {
  const dir = options.dir ?? '.';
  const limits = resolveRuleLimits(options.limits);
  const issues = new IssueCollector(limits.maxIssues);
  for (const issue of readErrors) issues.push(issue);
  const sorted = [...files].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  if (sorted.length === 0) {
    if (readErrors.length === 0) issues.push(directoryIssue(dir, 'no rule files found (expected *.json files, one rule per file)'));
    return { ...issues.result(), files: [] };
  }

  const valid: SchemaValidRuleFile[] = [];
  for (const { file, text: rawText } of sorted) {
    const tooLarge = sizeIssue(file, rawText, limits.maxFileBytes);
    if (tooLarge) {
      issues.push(tooLarge);
      continue;
    }
    const text = withoutByteOrderMark(rawText);
    const tooDeep = yield* findTooDeep(file, text, limits.maxDepth);
    if (tooDeep) {
      issues.push(tooDeep);
      continue;
    }
    yield;
    const parsed = yield* parseRuleFile(file, text, issues);
    yield;
    if (parsed.value === undefined) continue;
    const schemaErrors = yield* schemaIssues(parsed.doc, parsed.value, issues);
    // Files with schema errors stay out of the cross-file checks: their values cannot be trusted.
    if (schemaErrors === 0) valid.push({ doc: parsed.doc, json: parsed.value as RuleFileJson });
    yield;
  }

  const catalog = new CatalogIndex(options.catalog);
  yield* checkRules(valid, catalog, { dir, defaultUnavailableCode: options.defaultUnavailableCode, connector: options.connector }, issues);
  const result: RuleSetLoadResult = { ...issues.result(), files: sorted.map((f) => f.file) };
  if (result.errorCount === 0) result.ruleSet = compileRuleSet(valid, sorted, catalog);
  return result;
}
