import { consoleClosed } from './jsforce-salesforce.adapter';
import { soqlString } from './soql';

describe(consoleClosed.name, () => {
  const user = '005000000000001AAA';
  it.each([
    [{ fanoutCount: 1, userOnlineStatus: { [user]: true } }, false],
    [{ fanoutCount: 0, userOnlineStatus: { [user]: false } }, true],
    [{ fanoutCount: 1, userOnlineStatus: { '005000000000001': false } }, true],
    [{ fanoutCount: 0, userOnlineStatus: {} }, true],
    [{ fanoutCount: 2 }, false],
    [undefined, true],
  ])('%j → closed %s', (result, closed) => {
    expect(consoleClosed(result, user)).toBe(closed);
  });
});

describe(soqlString.name, () => {
  it('escapes quotes and backslashes', () => {
    expect(soqlString("/u/it's\\x")).toBe("'/u/it\\'s\\\\x'");
  });
});
