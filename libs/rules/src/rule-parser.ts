import { type Node, type ParseError, parseTree, printParseErrorCode } from 'jsonc-parser';
import { formatPath, type IssueSink, type JsonPath } from './rule-issue';
import type { RuleIssue, RuleIssueSeverity } from './rule-types';

export interface TextPosition {
  line: number;
  column: number;
}

/**
 * A parsed rule file that can point back into its text: every later check (schema, duplicates, catalogs)
 * reports the line and column of the value it is about.
 */
export class JsonDocument {
  private readonly lineStarts: number[] = [0];
  /** Per object: each key's last property. Built on first use, so a lookup is not a scan of every key. */
  private readonly properties = new Map<Node, Map<string, Node>>();

  constructor(
    readonly file: string,
    readonly text: string,
    readonly root: Node | undefined,
  ) {
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
    }
  }

  /** 1-based line and column of a character offset (binary search over line starts). */
  position(offset: number): TextPosition {
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.lineStarts[mid] <= offset) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, column: offset - this.lineStarts[low] + 1 };
  }

  /**
   * The value node at `path`. With duplicate keys the last one counts, as in `valueOf` (and `JSON.parse`),
   * so positions always point at the value that was validated.
   */
  nodeAt(path: JsonPath): Node | undefined {
    return this.propertyOrValue(path)?.value;
  }

  /** Where to point for `path`: its value, or its key (`target: 'key'`); the nearest existing parent else. */
  locate(path: JsonPath, target: 'value' | 'key' = 'value'): TextPosition {
    for (let length = path.length; length >= 0; length--) {
      const found = this.propertyOrValue(path.slice(0, length));
      if (!found) continue;
      const node = target === 'key' && length === path.length && found.key ? found.key : found.value;
      return this.position(node.offset);
    }
    return { line: 1, column: 1 };
  }

  issue(path: JsonPath, message: string, severity: RuleIssueSeverity = 'error', target?: 'value' | 'key'): RuleIssue {
    return { file: this.file, ...this.locate(path, target), path: formatPath(path), message, severity };
  }

  private propertyOrValue(path: JsonPath): { value: Node; key?: Node } | undefined {
    let node = this.root;
    let key: Node | undefined;
    for (const segment of path) {
      if (!node?.children) return undefined;
      if (typeof segment === 'number') {
        if (node.type !== 'array') return undefined;
        node = node.children[segment];
        key = undefined;
      } else {
        if (node.type !== 'object') return undefined;
        const property = this.lastProperty(node, segment);
        if (!property?.children || property.children.length < 2) return undefined;
        key = property.children[0];
        node = property.children[1];
      }
    }
    return node ? { value: node, key } : undefined;
  }

  private lastProperty(object: Node, key: string): Node | undefined {
    let byKey = this.properties.get(object);
    if (!byKey) {
      byKey = new Map();
      for (const property of object.children ?? []) {
        const name = property.children?.[0]?.value;
        if (typeof name === 'string') byKey.set(name, property);
      }
      this.properties.set(object, byKey);
    }
    return byKey.get(key);
  }
}

/** The plain value of a node; a repeated key keeps its last value, like `JSON.parse`. */
function valueOf(node: Node): unknown {
  switch (node.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const property of node.children ?? []) {
        const [key, value] = property.children ?? [];
        if (key && value) out[key.value as string] = valueOf(value);
      }
      return out;
    }
    case 'array':
      return (node.children ?? []).map(valueOf);
    default:
      return node.value;
  }
}

export interface ParsedRuleFile {
  doc: JsonDocument;
  /** Absent when the text is not JSON. */
  value?: unknown;
}

/** Editors on Windows may save a byte-order mark; it is not content. */
export function withoutByteOrderMark(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Strict JSON (no comments, no trailing commas) with positions. Only the first syntax error is reported:
 * the parser recovers, but what it reports after the first error is mostly noise caused by that error.
 * Duplicate keys are reported (JSON.parse would silently keep the last one) and do not stop validation.
 * The parser recurses once per level: the text must have passed the depth limit (`findTooDeep`) first.
 */
export function* parseRuleFile(file: string, rawText: string, sink: IssueSink): Generator<void, ParsedRuleFile> {
  const text = withoutByteOrderMark(rawText);
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  // A pause after each walk over a large tree: each is one call that cannot be cut shorter.
  yield;
  const doc = new JsonDocument(file, text, root);
  if (errors.length > 0 || !root) {
    const issue = syntaxIssue(doc, errors);
    sink.add(file, 'error', () => issue);
    return { doc };
  }
  reportDuplicateKeys(doc, root, [], sink);
  yield;
  return { doc, value: valueOf(root) };
}

function syntaxIssue(doc: JsonDocument, errors: ParseError[]): RuleIssue {
  const at = (offset: number, message: string): RuleIssue => ({
    file: doc.file,
    ...doc.position(offset),
    path: '',
    message,
    severity: 'error',
  });
  if (doc.text.trim() === '') return at(0, 'file is empty: a rule file is one JSON object');
  const [first, second] = errors;
  if (!first) return at(0, 'not a JSON document');
  const code = printParseErrorCode(first.error);
  const text = doc.text;

  // A closing bracket where a key or value was expected, right after a comma: a trailing comma.
  if ((code === 'PropertyNameExpected' || code === 'ValueExpected') && '}]'.includes(text[first.offset] ?? '')) {
    let i = first.offset - 1;
    while (i >= 0 && /\s/.test(text[i])) i--;
    if (text[i] === ',') return at(i, 'trailing comma: remove the "," before the closing bracket');
  }
  const root = doc.root;
  if (root && first.offset >= root.offset + root.length && (code === 'InvalidSymbol' || code === 'EndOfFileExpected')) {
    return at(first.offset, 'unexpected text after the end of the JSON object');
  }
  switch (code) {
    case 'InvalidSymbol': {
      const symbol = text.slice(first.offset, first.offset + Math.min(first.length, 20));
      if (symbol.startsWith("'")) return at(first.offset, 'strings must be in double quotes');
      if (second && printParseErrorCode(second.error) === 'PropertyNameExpected') {
        return at(first.offset, `field names must be in double quotes (found ${symbol})`);
      }
      return at(first.offset, `unexpected "${symbol}"`);
    }
    case 'InvalidCommentToken':
    case 'UnexpectedEndOfComment':
      return at(first.offset, 'comments are not allowed in rule files (write notes in "description")');
    case 'InvalidNumberFormat':
    case 'UnexpectedEndOfNumber':
      return at(first.offset, 'invalid number');
    case 'PropertyNameExpected':
      return at(first.offset, 'expected a field name in double quotes');
    case 'ValueExpected':
      return at(first.offset, 'expected a value');
    case 'ColonExpected':
      return at(first.offset, 'expected ":" after the field name');
    case 'CommaExpected':
      return at(first.offset, 'expected "," between items');
    case 'CloseBraceExpected':
      return at(first.offset, 'expected "}": an object is not closed');
    case 'CloseBracketExpected':
      return at(first.offset, 'expected "]": a list is not closed');
    case 'EndOfFileExpected':
      return at(first.offset, 'unexpected text after the end of the JSON object');
    case 'UnexpectedEndOfString':
      return at(first.offset, 'string is not closed (a string must end on the line it starts)');
    case 'InvalidUnicode':
      return at(first.offset, 'invalid \\u escape in a string');
    case 'InvalidEscapeCharacter':
      return at(first.offset, 'invalid escape in a string (use \\\\ for a backslash)');
    case 'InvalidCharacter':
      return at(first.offset, 'control character in a string (use \\n, \\t)');
    default:
      return at(first.offset, 'not valid JSON');
  }
}

function reportDuplicateKeys(doc: JsonDocument, node: Node, path: (string | number)[], sink: IssueSink): void {
  if (node.type === 'object') {
    const seen = new Map<string, Node>();
    for (const property of node.children ?? []) {
      const [key, value] = property.children ?? [];
      if (!key) continue;
      const name = key.value as string;
      const first = seen.get(name);
      if (first) {
        sink.add(doc.file, 'error', () => ({
          file: doc.file,
          ...doc.position(key.offset),
          path: formatPath([...path, name]),
          message: `duplicate field "${name}" (first at line ${doc.position(first.offset).line}; JSON would keep only the last one)`,
          severity: 'error',
        }));
      } else {
        seen.set(name, key);
      }
      // Objects and arrays only: a walk into every scalar of a long list would copy its path for nothing.
      if (value?.children) reportDuplicateKeys(doc, value, [...path, name], sink);
    }
  } else if (node.type === 'array') {
    (node.children ?? []).forEach((child, i) => {
      if (child.children) reportDuplicateKeys(doc, child, [...path, i], sink);
    });
  }
}
