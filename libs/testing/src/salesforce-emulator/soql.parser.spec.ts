import { compileSoql, runSoql } from './soql.parser';
import type { SObjectRecord } from './sobject.schema';

describe('soql.parser', () => {
  it.each([
    'SELECT Id, DeveloperName, MasterLabel FROM ServicePresenceStatus',
    'SELECT Id, UserId, ServicePresenceStatusId, StatusStartDate FROM UserServicePresence WHERE IsCurrentState = true',
    'SELECT Id, Username, Email, FederationIdentifier, IsActive FROM User WHERE IsActive = true',
    "SELECT Id, Name, Query FROM PushTopic WHERE Name = 'PresenceSyncUSP'",
    "SELECT Id FROM StreamingChannel WHERE Name = '/u/PresenceSyncCommand' LIMIT 1",
    "select id from user where id in ('005000000000001', '005000000000002AAA') and email != null order by email desc nulls last",
    "SELECT UserId, ServiceChannel.DeveloperName, CapacityWeight FROM AgentWork WHERE Status IN ('Assigned', 'Opened') AND UserId IN ('005000000000001')",
  ])('understands %s', (soql) => {
    expect(compileSoql(soql)).toMatchObject({ ok: true });
  });

  it.each([
    ['SELECT Id FROM User WHERE Email LIKE \'a%\'', 'MALFORMED_QUERY'],
    ['SELECT COUNT() FROM User', 'MALFORMED_QUERY'],
    ['SELECT Id FROM User WHERE IsActive = true OR IsActive = false', 'MALFORMED_QUERY'],
    ['SELECT Profile.Name FROM User', 'MALFORMED_QUERY'],
    ['SELECT ServiceChannel.Owner.Name FROM AgentWork', 'MALFORMED_QUERY'],
    ['SELECT ServiceChannel.Colour FROM AgentWork', 'INVALID_FIELD'],
    ["SELECT Id FROM AgentWork WHERE ServiceChannel.DeveloperName = 'sfdc_case'", 'MALFORMED_QUERY'],
    ["SELECT Id FROM User WHERE Email = 'unterminated", 'MALFORMED_QUERY'],
    ['SELECT Id FROM Account', 'INVALID_TYPE'],
    ['SELECT Id, Phone FROM User', 'INVALID_FIELD'],
    ["SELECT Id FROM User WHERE IsActive = 'true'", 'INVALID_QUERY_FILTER_OPERATOR'],
  ])('refuses %s with %s', (soql, errorCode) => {
    expect(compileSoql(soql)).toMatchObject({ ok: false, error: { errorCode } });
  });

  it('gives canonical names, filters case-insensitively on text and by the first 15 characters on ids', () => {
    const query = compileSoql("select username from USER where email = 'ADA@example.com' and id = '005000000000001'");
    if (!query.ok) throw new Error(query.error.message);
    expect(query.value.object.name).toBe('User');
    expect(query.value.fields.map((f) => f.name)).toEqual(['Username']);
    const users: SObjectRecord[] = [
      { Id: '005000000000001AAA', Username: 'ada', Email: 'ada@example.com' },
      { Id: '005000000000002AAA', Username: 'ben', Email: 'ada@example.com' },
    ];
    expect(runSoql(users, query.value).map((u) => u.Username)).toEqual(['ada']);
  });

  it('files parent fields under their relationship', () => {
    const query = compileSoql('SELECT userid, serviceChannel.developername, ServiceChannel.MasterLabel FROM AgentWork');
    if (!query.ok) throw new Error(query.error.message);
    expect(query.value.fields.map((f) => f.name)).toEqual(['UserId']);
    expect(query.value.relations.map((r) => [r.name, r.via.name, r.target.name, r.fields.map((f) => f.name)])).toEqual([
      ['ServiceChannel', 'ServiceChannelId', 'ServiceChannel', ['DeveloperName', 'MasterLabel']],
    ]);
  });

  it('sorts with nulls first ascending and last descending, then limits', () => {
    const rows: SObjectRecord[] = [{ Id: 'a', Email: 'b' }, { Id: 'b', Email: null }, { Id: 'c', Email: 'a' }];
    const asc = compileSoql('SELECT Id FROM User ORDER BY Email');
    const desc = compileSoql('SELECT Id FROM User ORDER BY Email DESC LIMIT 2');
    if (!asc.ok || !desc.ok) throw new Error('did not compile');
    expect(runSoql(rows, asc.value).map((r) => r.Id)).toEqual(['b', 'c', 'a']);
    expect(runSoql(rows, desc.value).map((r) => r.Id)).toEqual(['a', 'c']);
  });
});
