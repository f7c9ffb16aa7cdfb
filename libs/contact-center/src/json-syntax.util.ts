/**
 * Where a JSON text first goes wrong. `JSON.parse` on Node 20 reports a position for some mistakes only
 * (`Unexpected token '}', "{"a":}" is not valid JSON` has none, and echoes the body), so a rejected webhook
 * would tell its sender nothing useful. This scanner runs only after `JSON.parse` failed.
 */
export interface JsonSyntaxProblem {
  /** 0-based character offset into the text. */
  position: number;
  /** 1-based line and column, for people. */
  line: number;
  column: number;
  problem: string;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const HEX4 = /[0-9a-fA-F]{4}/y;

function describe(text: string, i: number): string {
  if (i >= text.length) return 'end of input';
  const code = text.charCodeAt(i);
  if (code < 0x20 || code === 0x7f) return `control character U+${code.toString(16).padStart(4, '0').toUpperCase()}`;
  return `'${text[i]}'`;
}

/** Returns the first syntax problem, or undefined when the text is valid JSON. Iterative: deep nesting cannot overflow the stack. */
export function locateJsonSyntaxError(text: string): JsonSyntaxProblem | undefined {
  const n = text.length;
  const open: Array<'object' | 'array'> = [];
  let i = 0;
  let mode: 'value' | 'value-or-close' | 'key' | 'key-or-close' | 'after' = 'value';

  const at = (position: number, problem: string): JsonSyntaxProblem => {
    let line = 1;
    let lineStart = 0;
    for (let k = 0; k < position && k < n; k++) {
      if (text.charCodeAt(k) === 0x0a) {
        line++;
        lineStart = k + 1;
      }
    }
    return { position, line, column: position - lineStart + 1, problem };
  };
  const skipSpace = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      i++;
    }
  };
  /** Scans a string starting at the opening quote; returns a problem or moves `i` past the closing quote. */
  const scanString = (): JsonSyntaxProblem | undefined => {
    i++;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return undefined;
      }
      if (c < 0x20) return at(i, `${describe(text, i)} inside a string (escape it)`);
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === undefined) return at(i + 1, 'unexpected end of input inside a string');
        if (e === 'u') {
          HEX4.lastIndex = i + 2;
          if (!HEX4.test(text)) return at(i, 'invalid \\u escape (needs 4 hex digits)');
          i += 6;
          continue;
        }
        if (!'"\\/bfnrt'.includes(e)) return at(i, `invalid escape '\\${e}'`);
        i += 2;
        continue;
      }
      i++;
    }
    return at(n, 'unexpected end of input inside a string (missing closing quote)');
  };

  for (;;) {
    skipSpace();
    if (mode === 'value' || mode === 'value-or-close') {
      if (i >= n) return at(i, 'unexpected end of input, expected a value');
      const c = text[i];
      if (mode === 'value-or-close' && c === ']') {
        i++;
        open.pop();
        mode = 'after';
        continue;
      }
      if (c === '{') {
        i++;
        open.push('object');
        mode = 'key-or-close';
        continue;
      }
      if (c === '[') {
        i++;
        open.push('array');
        mode = 'value-or-close';
        continue;
      }
      if (c === '"') {
        const problem = scanString();
        if (problem) return problem;
        mode = 'after';
        continue;
      }
      NUMBER.lastIndex = i;
      if ((c === '-' || (c >= '0' && c <= '9')) && NUMBER.test(text)) {
        i = NUMBER.lastIndex;
        mode = 'after';
        continue;
      }
      const literal = ['true', 'false', 'null'].find((word) => text.startsWith(word, i));
      if (literal) {
        i += literal.length;
        mode = 'after';
        continue;
      }
      return at(i, `unexpected ${describe(text, i)}, expected a value`);
    }
    if (mode === 'key' || mode === 'key-or-close') {
      if (i >= n) return at(i, 'unexpected end of input, expected a property name');
      if (mode === 'key-or-close' && text[i] === '}') {
        i++;
        open.pop();
        mode = 'after';
        continue;
      }
      if (text[i] !== '"') return at(i, `unexpected ${describe(text, i)}, expected a property name in double quotes`);
      const problem = scanString();
      if (problem) return problem;
      skipSpace();
      if (text[i] !== ':') return at(i, `unexpected ${describe(text, i)}, expected ':' after the property name`);
      i++;
      mode = 'value';
      continue;
    }
    // mode === 'after': a value just ended.
    const container = open[open.length - 1];
    if (!container) return i < n ? at(i, `unexpected ${describe(text, i)} after the end of the JSON value`) : undefined;
    const close = container === 'object' ? '}' : ']';
    if (i >= n) return at(i, `unexpected end of input, expected ',' or '${close}'`);
    if (text[i] === ',') {
      i++;
      mode = container === 'object' ? 'key' : 'value';
      continue;
    }
    if (text[i] === close) {
      i++;
      open.pop();
      continue;
    }
    return at(i, `unexpected ${describe(text, i)}, expected ',' or '${close}'`);
  }
}
