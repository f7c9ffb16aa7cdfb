import { createScanner, SyntaxKind } from 'jsonc-parser';
import { formatCount, formatPath } from './rule-issue';
import { JsonDocument } from './rule-parser';
import type { RuleIssue, RuleLimits } from './rule-types';

/**
 * 1 MiB holds a rule assigned to some 30,000 users by e-mail, far more than any rule file seen so far, and
 * keeps the worst file (a million tiny values) within a few hundred milliseconds of parsing. 32 levels is
 * eight times what a rule file needs (root, table, row, `acd`), and far below where a recursive parser
 * runs out of stack. 50 issues fill a screen; the rest are counted.
 */
export const DEFAULT_RULE_LIMITS: Readonly<RuleLimits> = Object.freeze({ maxFileBytes: 1_048_576, maxDepth: 32, maxIssues: 50 });

/** The deepest a rule file that the schema accepts can be. */
const DEPTH_A_RULE_NEEDS = 4;

export function resolveRuleLimits(limits: Partial<RuleLimits> | undefined): RuleLimits {
  return { ...DEFAULT_RULE_LIMITS, ...limits };
}

/** A file over the size limit, pointing at the first character past it. */
export function sizeIssue(file: string, text: string, maxFileBytes: number): RuleIssue | undefined {
  // Cheap test first: a UTF-8 character is at most 3 bytes per UTF-16 unit.
  if (text.length * 3 <= maxFileBytes || Buffer.byteLength(text, 'utf8') <= maxFileBytes) return undefined;
  // A character cut in two by the limit decodes as one replacement character, where that character starts.
  const within = Buffer.from(text, 'utf8').subarray(0, maxFileBytes).toString('utf8');
  const inside = within.endsWith('\ufffd') && !text.startsWith(within) ? within.length - 1 : within.length;
  const doc = new JsonDocument(file, text.slice(0, inside + 1), undefined);
  return {
    file,
    ...doc.position(inside),
    path: '',
    message: `the file is larger than ${formatCount(maxFileBytes)} bytes (setting RULES_MAX_FILE_BYTES); nothing after this point was read`,
    severity: 'error',
  };
}

interface Frame {
  array: boolean;
  /** The key being read (objects) or the index (arrays): where the next value sits. */
  at: string | number | undefined;
  expectKey: boolean;
}

/** How many tokens to scan between pauses of the scan (see `findTooDeep`). */
const TOKENS_PER_STEP = 20_000;

/**
 * Finds the first `{` or `[` nested deeper than `maxDepth`, before anything recursive sees the text (the
 * JSON parser and every walk over its tree recurse once per level: 2,000 levels exhaust the stack). An
 * iterative scan of the tokens, so any depth is safe here; brackets inside strings are not counted. The
 * JSON path is tracked along, so the error says where, like every other error. Yields every few thousand
 * tokens, so a caller can let other work run during a long scan.
 */
export function* findTooDeep(file: string, text: string, maxDepth: number): Generator<void, RuleIssue | undefined> {
  const scanner = createScanner(text, true);
  const frames: Frame[] = [];
  let tokens = 0;
  for (let kind = scanner.scan(); kind !== SyntaxKind.EOF; kind = scanner.scan()) {
    if (++tokens % TOKENS_PER_STEP === 0) yield;
    const top = frames[frames.length - 1];
    switch (kind) {
      case SyntaxKind.OpenBraceToken:
      case SyntaxKind.OpenBracketToken: {
        if (frames.length >= maxDepth) {
          const path = frames.flatMap((frame) => (frame.at === undefined ? [] : [frame.at]));
          const doc = new JsonDocument(file, text, undefined);
          return {
            file,
            ...doc.position(scanner.getTokenOffset()),
            path: formatPath(path),
            message: `nested deeper than ${maxDepth} levels (a rule file needs ${DEPTH_A_RULE_NEEDS}; setting RULES_MAX_DEPTH)`,
            severity: 'error',
          };
        }
        const array = kind === SyntaxKind.OpenBracketToken;
        frames.push({ array, at: array ? 0 : undefined, expectKey: !array });
        break;
      }
      case SyntaxKind.CloseBraceToken:
      case SyntaxKind.CloseBracketToken:
        frames.pop();
        break;
      case SyntaxKind.StringLiteral:
        if (top && !top.array && top.expectKey) top.at = scanner.getTokenValue();
        break;
      case SyntaxKind.ColonToken:
        if (top && !top.array) top.expectKey = false;
        break;
      case SyntaxKind.CommaToken:
        if (top?.array) top.at = (top.at as number) + 1;
        else if (top) top.expectKey = true;
        break;
      default:
        break;
    }
  }
  return undefined;
}
