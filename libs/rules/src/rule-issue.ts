import type { RuleIssue, RuleIssueSeverity } from './rule-types';

/**
 * Where checks put what they find. `make` runs only for an issue that is kept: a file can hold a million
 * mistakes, and building each message (positions, suggestions) would cost more than counting it.
 */
export interface IssueSink {
  add(file: string, severity: RuleIssueSeverity, make: () => RuleIssue): void;
}

/** A position in a JSON document: object keys and array indexes. */
export type JsonPath = readonly (string | number)[];

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `['publisher', 2, 'acd', 'state']` -> `publisher[2].acd.state`; odd keys are quoted: `assign["my key"]`. */
export function formatPath(path: JsonPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/**
 * One line per issue, compiler style: `rules/tier1.json:14:23 publisher[2].acd.state: must be one of ...`.
 * Issues without a position (a directory, a catalog) omit `:line:column`; warnings say `warning:`.
 */
export function formatIssue(issue: RuleIssue): string {
  const where = issue.line > 0 ? `${issue.file}:${issue.line}:${issue.column}` : issue.file;
  const path = issue.path ? ` ${issue.path}` : '';
  const severity = issue.severity === 'warning' ? 'warning: ' : '';
  return `${where}${path}: ${severity}${issue.message}`;
}

/**
 * The lines to show for a capped list: one per issue kept, then `(and K more)` when `total` says there were
 * more. Every place that shows issues (CLI, logs, status) uses this, so none of them can grow without bound.
 */
export function formatIssues(issues: readonly RuleIssue[], total: number, max = issues.length): string[] {
  const shown = issues.slice(0, max);
  const lines = shown.map(formatIssue);
  if (total > shown.length) lines.push(`(and ${formatCount(total - shown.length)} more)`);
  return lines;
}

/** `1048576` -> `1,048,576`, the same on every machine (no locale). */
export function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Stable reading order: by file, then position, then message. Files compare by code point, not locale. */
export function compareIssues(a: RuleIssue, b: RuleIssue): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.line - b.line || a.column - b.column || (a.message < b.message ? -1 : a.message > b.message ? 1 : 0);
}

/** Quoted list for messages: `Lunch, Break`; long lists are cut so one line stays readable. */
export function listForMessage(values: readonly string[], max = 12): string {
  if (values.length <= max) return values.join(', ');
  return `${values.slice(0, max).join(', ')}, … (${values.length - max} more)`;
}

/**
 * Edit distance counting a swap of two neighbours as one edit ("nmae" -> "name"), the commonest typo.
 * Bounded: returns `limit + 1` as soon as the distance must exceed `limit`.
 */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let beforePrevious: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        current[j] = Math.min(current[j], beforePrevious[j - 2] + 1);
      }
      rowMin = Math.min(rowMin, current[j]);
    }
    if (rowMin > limit) return limit + 1;
    beforePrevious = previous;
    previous = current;
  }
  return previous[b.length];
}

/** The closest candidate to a misspelt word (same letters in another case, or up to 2 edits), if any. */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    if (candidate === word) continue;
    const distance = candidate.toLowerCase() === lower ? 0 : editDistance(lower, candidate.toLowerCase(), 2);
    // Very short words are too easily "close" to anything: require a better match for them.
    if (distance < bestDistance && distance <= Math.max(1, Math.min(2, Math.floor(word.length / 3)))) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
