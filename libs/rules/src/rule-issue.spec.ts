import { formatIssue, formatPath } from './index';

describe(formatPath.name, () => {
  it.each([
    [[], ''],
    [['name'], 'name'],
    [['publisher', 2, 'acd', 'state'], 'publisher[2].acd.state'],
    [['$schema'], '$schema'],
    [['assign', 'my teams', 0], 'assign["my teams"][0]'],
  ])('%j -> %s', (path, expected) => {
    expect(formatPath(path)).toBe(expected);
  });
});

describe(formatIssue.name, () => {
  it('prints file:line:column path: message', () => {
    expect(
      formatIssue({ file: 'rules/tier1.json', line: 14, column: 23, path: 'publisher[2].acd.state', message: 'must be a string', severity: 'error' }),
    ).toBe('rules/tier1.json:14:23 publisher[2].acd.state: must be a string');
  });

  it('leaves out an empty path and a missing position, and marks warnings', () => {
    expect(formatIssue({ file: 'a.json', line: 1, column: 1, path: '', message: 'not valid JSON', severity: 'error' })).toBe(
      'a.json:1:1: not valid JSON',
    );
    expect(formatIssue({ file: 'rules', line: 0, column: 0, path: '', message: 'x not reachable', severity: 'warning' })).toBe(
      'rules: warning: x not reachable',
    );
  });
});
