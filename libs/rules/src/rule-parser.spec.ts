import { formatIssue, validateRuleFiles } from './index';

/** The first error of one file, formatted: syntax errors stop at the first one. */
const firstError = (text: string) => validateRuleFiles([{ file: 'r.json', text }]).errors.map(formatIssue);

describe('parseRuleFile', () => {
  it.each([
    ['a trailing comma in an object', '{\n  "name": "r",\n}', 'r.json:2:14: trailing comma: remove the "," before the closing bracket'],
    ['a trailing comma in a list', '{ "name": "r", "assign": { "teams": ["a", ] } }', 'r.json:1:41: trailing comma: remove the "," before the closing bracket'],
    ['a line comment', '{ "name": "r" // x\n}', 'r.json:1:15: comments are not allowed in rule files (write notes in "description")'],
    ['a block comment', '/* x */ { "name": "r" }', 'r.json:1:1: comments are not allowed in rule files (write notes in "description")'],
    ['an unquoted field name', '{ name: "r" }', 'r.json:1:3: field names must be in double quotes (found name)'],
    ['single quotes', "{ 'name': 'r' }", 'r.json:1:3: strings must be in double quotes'],
    ['a missing comma', '{ "name": "r"\n "assign": {} }', 'r.json:2:2: expected "," between items'],
    ['a missing colon', '{ "name" "r" }', 'r.json:1:10: expected ":" after the field name'],
    ['an unclosed object', '{ "name": "r"', 'r.json:1:14: expected "}": an object is not closed'],
    ['an unclosed list', '{ "name": "r", "publisher": [ ', 'r.json:1:31: expected "]": a list is not closed'],
    ['text after the object', '{ "name": "r" } x', 'r.json:1:17: unexpected text after the end of the JSON object'],
    ['a bare word', '{ "name": tru }', 'r.json:1:11: unexpected "tru"'],
    ['a line break in a string', '{ "name": "r\n" }', 'r.json:1:11: string is not closed (a string must end on the line it starts)'],
    ['a bad escape', '{ "name": "a\\qb" }', 'r.json:1:11: invalid escape in a string (use \\\\ for a backslash)'],
    ['an empty file', '  \n', 'r.json:1:1: file is empty: a rule file is one JSON object'],
  ])('reports %s once, with its position', (_name, text, expected) => {
    expect(firstError(text)).toEqual([expected]);
  });

  it('reports every repeated field at the repeat, in nested objects too', () => {
    const text = '{\n  "name": "r",\n  "assign": { "teams": ["a"], "teams": ["b"] },\n  "name": "s"\n}';
    expect(firstError(text)).toEqual([
      'r.json:3:31 assign.teams: duplicate field "teams" (first at line 3; JSON would keep only the last one)',
      'r.json:4:3 name: duplicate field "name" (first at line 2; JSON would keep only the last one)',
    ]);
  });

  it('validates the last of repeated values, like JSON.parse, and points at it', () => {
    const text = '{\n  "name": "r",\n  "conflictPolicy": "acd",\n  "conflictPolicy": "newest"\n}';
    expect(firstError(text)).toEqual([
      'r.json:4:3 conflictPolicy: duplicate field "conflictPolicy" (first at line 3; JSON would keep only the last one)',
      'r.json:4:21 conflictPolicy: must be one of latest, acd, salesforce',
    ]);
  });
});
