import { compareIssues, type IssueSink, type JsonPath } from './rule-issue';
import type { JsonDocument } from './rule-parser';
import type { RuleIssue, RuleIssueSeverity } from './rule-types';

interface Kept {
  error: RuleIssue[];
  warning: RuleIssue[];
}

/**
 * Keeps the first `max` errors and the first `max` warnings of each file and counts all of them. Keeping
 * per file (not overall) means the issues shown are the earliest of every file, whatever order the checks
 * ran in; memory stays bounded by files × max however many issues a file holds.
 */
export class IssueCollector implements IssueSink {
  private readonly kept = new Map<string, Kept>();
  private readonly counts = { error: 0, warning: 0 };

  constructor(private readonly max: number) {}

  add(file: string, severity: RuleIssueSeverity, make: () => RuleIssue): void {
    this.counts[severity]++;
    let kept = this.kept.get(file);
    if (!kept) {
      kept = { error: [], warning: [] };
      this.kept.set(file, kept);
    }
    if (kept[severity].length < this.max) kept[severity].push(make());
  }

  push(issue: RuleIssue): void {
    this.add(issue.file, issue.severity, () => issue);
  }

  /** An issue at `path` of `doc`; a message that costs (suggestions) can be given as a function. */
  report(
    doc: JsonDocument,
    path: JsonPath,
    message: string | (() => string),
    severity: RuleIssueSeverity = 'error',
    target?: 'value' | 'key',
  ): void {
    this.add(doc.file, severity, () => doc.issue(path, typeof message === 'string' ? message : message(), severity, target));
  }

  get errorCount(): number {
    return this.counts.error;
  }

  /** The first `max` errors and warnings over all files, in reading order, with the full counts. */
  result(): { errors: RuleIssue[]; warnings: RuleIssue[]; errorCount: number; warningCount: number } {
    const all = (severity: RuleIssueSeverity) => {
      const out: RuleIssue[] = [];
      // A loop, not push(...spread): spreading a long list into a call overflows the stack.
      for (const kept of this.kept.values()) for (const issue of kept[severity]) out.push(issue);
      return out.sort(compareIssues).slice(0, this.max);
    };
    return { errors: all('error'), warnings: all('warning'), errorCount: this.counts.error, warningCount: this.counts.warning };
  }
}
