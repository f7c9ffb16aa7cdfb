import { SalesforceIdFactory, sameId, toId18 } from './salesforce-id.util';

describe('salesforce-id.util', () => {
  it.each([
    // Ids printed in Salesforce's REST and Streaming API documentation.
    ['001D000000IqhSL', '001D000000IqhSLIAZ'],
    ['a00D0000008o6y8', 'a00D0000008o6y8IAA'],
    ['005000000000001', '005000000000001AAA'],
  ])('turns %s into %s', (id15, id18) => {
    expect(toId18(id15)).toBe(id18);
    expect(toId18(id18)).toBe(id18);
  });

  it('compares 15- and 18-character forms by the case-sensitive first 15 characters', () => {
    expect(sameId('001D000000IqhSL', '001D000000IqhSLIAZ')).toBe(true);
    expect(sameId('001D000000IqhSl', '001D000000IqhSLIAZ')).toBe(false);
    expect(sameId('001D000000IqhS', '001D000000IqhSLIAZ')).toBe(false);
    expect(sameId(undefined, '001D000000IqhSLIAZ')).toBe(false);
  });

  it('hands out increasing 18-character ids per key prefix', () => {
    const ids = new SalesforceIdFactory();
    expect([ids.next('0Bz'), ids.next('0Bz'), ids.next('0IF')]).toEqual([
      toId18('0Bz000000000001'), toId18('0Bz000000000002'), toId18('0IF000000000001'),
    ]);
  });
});
