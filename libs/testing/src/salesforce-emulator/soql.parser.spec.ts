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
    'SELECT Id, Profile.Name FROM User',
    "SELECT ParentId, Parent.Label, Parent.IsOwnedByProfile, Parent.Profile.Name, SetupEntityId FROM SetupEntityAccess WHERE SetupEntityId IN ('0N5000000000001')",
    "SELECT AssigneeId, PermissionSetId FROM PermissionSetAssignment WHERE PermissionSetId IN (SELECT ParentId FROM SetupEntityAccess WHERE SetupEntityId IN ('0N5000000000001')) AND AssigneeId IN ('005000000000001')",
    'SELECT Id FROM PermissionSet WHERE Id NOT IN (SELECT ParentId FROM SetupEntityAccess)',
  ])('understands %s', (soql) => {
    expect(compileSoql(soql)).toMatchObject({ ok: true });
  });

  it.each([
    ['SELECT Id FROM User WHERE Email LIKE \'a%\'', 'MALFORMED_QUERY'],
    ['SELECT COUNT() FROM User', 'MALFORMED_QUERY'],
    ['SELECT Id FROM User WHERE IsActive = true OR IsActive = false', 'MALFORMED_QUERY'],
    ['SELECT CreatedBy.Name FROM User', 'MALFORMED_QUERY'],
    ['SELECT Parent.Profile.CreatedBy.Name FROM SetupEntityAccess', 'MALFORMED_QUERY'],
    ['SELECT Parent.Profile.Colour FROM SetupEntityAccess', 'INVALID_FIELD'],
    // Semi-joins: an id or reference field on the left, exactly one id or reference field selected, not nested,
    // no ORDER BY or LIMIT inside, at most two per query.
    ['SELECT Id FROM User WHERE Email IN (SELECT AssigneeId FROM PermissionSetAssignment)', 'MALFORMED_QUERY'],
    ['SELECT Id FROM User WHERE Id IN (SELECT Username FROM User)', 'MALFORMED_QUERY'],
    ['SELECT Id FROM User WHERE Id IN (SELECT AssigneeId, PermissionSetId FROM PermissionSetAssignment)', 'MALFORMED_QUERY'],
    ['SELECT Id FROM User WHERE Id IN (SELECT AssigneeId FROM PermissionSetAssignment LIMIT 5)', 'MALFORMED_QUERY'],
    ['SELECT Id FROM User WHERE Id IN (SELECT AssigneeId FROM PermissionSetAssignment WHERE PermissionSetId IN (SELECT ParentId FROM SetupEntityAccess))', 'MALFORMED_QUERY'],
    ['SELECT Id FROM User WHERE Id IN (SELECT AssigneeId FROM PermissionSetAssignment) AND Id IN (SELECT UserId FROM AgentWork) AND Id NOT IN (SELECT UserId FROM UserServicePresence)', 'MALFORMED_QUERY'],
    ['SELECT Id FROM User WHERE Id IN (SELECT Nope FROM PermissionSetAssignment)', 'INVALID_FIELD'],
    ['SELECT Id FROM User WHERE Id IN (SELECT Id FROM Account)', 'INVALID_TYPE'],
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

  it('follows a lookup of a lookup and nests the relations', () => {
    const query = compileSoql('SELECT ParentId, Parent.Label, Parent.Profile.Name, parent.profile.id FROM SetupEntityAccess');
    if (!query.ok) throw new Error(query.error.message);
    const [parent] = query.value.relations;
    expect([parent.name, parent.target.name, parent.fields.map((f) => f.name)]).toEqual(['Parent', 'PermissionSet', ['Label']]);
    expect(parent.relations.map((r) => [r.name, r.via.name, r.target.name, r.fields.map((f) => f.name)])).toEqual([['Profile', 'ProfileId', 'Profile', ['Name', 'Id']]]);
  });

  it('runs a semi-join and an anti-join over the records the caller gives, by the first 15 characters of the ids', () => {
    const assignments: SObjectRecord[] = [
      { Id: '0Pa000000000001AAA', AssigneeId: '005000000000001AAA', PermissionSetId: '0PS000000000001AAA' },
      { Id: '0Pa000000000002AAA', AssigneeId: '005000000000002AAA', PermissionSetId: '0PS000000000002AAA' },
      { Id: '0Pa000000000003AAA', AssigneeId: '005000000000003AAA', PermissionSetId: '0PS000000000001AAA' },
    ];
    const access: SObjectRecord[] = [
      { Id: '0J0000000000001AAA', ParentId: '0PS000000000001AAA', SetupEntityId: '0N5000000000005AAA' },
      { Id: '0J0000000000002AAA', ParentId: '0PS000000000002AAA', SetupEntityId: '0N5000000000007AAA' },
    ];
    const recordsOf = (name: string): SObjectRecord[] => (name === 'SetupEntityAccess' ? access : []);
    const semi = compileSoql("SELECT AssigneeId FROM PermissionSetAssignment WHERE PermissionSetId IN (SELECT ParentId FROM SetupEntityAccess WHERE SetupEntityId = '0N5000000000005')");
    const anti = compileSoql("SELECT AssigneeId FROM PermissionSetAssignment WHERE PermissionSetId NOT IN (SELECT ParentId FROM SetupEntityAccess WHERE SetupEntityId = '0N5000000000005') AND AssigneeId != '005000000000002'");
    if (!semi.ok || !anti.ok) throw new Error('did not compile');
    expect(runSoql(assignments, semi.value, recordsOf).map((r) => r.AssigneeId)).toEqual(['005000000000001AAA', '005000000000003AAA']);
    expect(runSoql(assignments, anti.value, recordsOf)).toEqual([]);
    expect(() => runSoql(assignments, semi.value)).toThrow(/needs the records/);
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
