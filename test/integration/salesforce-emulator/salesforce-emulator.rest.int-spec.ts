import type { Connection } from 'jsforce';
import { SalesforceEmulator, SANDBOX_SALESFORCE, toId18 } from '@presence-sync/testing';
import { AGENTS, API_VERSION, COMMAND_CHANNEL, PUSH_TOPIC_QUERY, failure, integrationLogin, newEmulator } from './salesforce-emulator.fixture';

interface QueryBody {
  totalSize: number;
  done: boolean;
  nextRecordsUrl?: string;
  records: Record<string, unknown>[];
}

describe(`${SalesforceEmulator.name} REST API`, () => {
  let emulator: SalesforceEmulator;
  let loginUrl: string;
  let conn: Connection;

  /** A raw REST call with the connection's token, for status codes and headers jsforce hides. */
  async function rest(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown; headers: Headers }> {
    const res = await fetch(`${loginUrl}/services/data/v${API_VERSION}${path}`, {
      method,
      headers: { Authorization: `Bearer ${conn.accessToken as string}`, 'Content-Type': 'application/json', ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? undefined : JSON.parse(text), headers: res.headers };
  }

  beforeEach(async () => {
    emulator = newEmulator({
      users: AGENTS.map((email, i) => ({ username: email, email, federationIdentifier: i === 0 ? 'FED-1' : null, isActive: i !== 2, ...(i === 0 ? { status: 'Available_All' } : {}) })),
    });
    ({ loginUrl } = await emulator.start());
    conn = await integrationLogin(loginUrl);
  });

  afterEach(async () => {
    await emulator.stop();
  });

  describe('query', () => {
    it('answers the documented query shape with attributes and canonical field names', async () => {
      const result = await conn.query<Record<string, unknown>>('select id, developername, masterlabel from servicepresencestatus order by developername');
      expect(result.totalSize).toBe(8);
      expect(result.done).toBe(true);
      expect(result.records[0]).toEqual({
        attributes: { type: 'ServicePresenceStatus', url: `/services/data/v${API_VERSION}/sobjects/ServicePresenceStatus/${toId18('0N5000000000002')}` },
        Id: toId18('0N5000000000002'), DeveloperName: 'Available_All', MasterLabel: 'Available - All Channels',
      });
      expect(result.records.map((r) => r.DeveloperName)).toEqual(['Available_All', 'Available_Chat', 'Break', 'Busy', 'Busy_On_Call', 'Chat_Done', 'Lunch', 'Training']);
    });

    it('lists users, and active users only with WHERE IsActive = true', async () => {
      const all = await conn.query<Record<string, unknown>>('SELECT Id, Username, Email, FederationIdentifier, IsActive FROM User');
      expect(all.totalSize).toBe(4);
      expect(all.records[0]).toEqual({
        attributes: { type: 'User', url: `/services/data/v${API_VERSION}/sobjects/User/005000000000001AAA` },
        Id: '005000000000001AAA', Username: AGENTS[0], Email: AGENTS[0], FederationIdentifier: 'FED-1', IsActive: true,
      });
      const active = await conn.query<{ Username: string }>('SELECT Username FROM User WHERE IsActive = true');
      expect(active.records.map((u) => u.Username)).toEqual([AGENTS[0], AGENTS[1], SANDBOX_SALESFORCE.username]);
    });

    it('filters on UserType and on dateTime fields with unquoted SOQL dateTime literals', async () => {
      emulator.updateUser(AGENTS[1], { userType: 'CsnOnly' });
      const standard = await conn.query<{ Username: string }>("SELECT Username FROM User WHERE IsActive = true AND UserType = 'Standard'");
      expect(standard.records.map((u) => u.Username)).toEqual([AGENTS[0], SANDBOX_SALESFORCE.username]);
      const [changed] = (await conn.query<{ SystemModstamp: string }>(`SELECT SystemModstamp FROM User WHERE Username = '${AGENTS[1]}'`)).records;
      const since = new Date(Date.parse(changed.SystemModstamp) - 1).toISOString().replace(/\.\d+Z$/, 'Z');
      const recent = await conn.query<{ Username: string }>(`SELECT Username FROM User WHERE SystemModstamp >= ${since}`);
      expect(recent.records.map((u) => u.Username)).toContain(AGENTS[1]);
      const quoted = await failure(() => conn.query(`SELECT Id FROM User WHERE SystemModstamp > '${since}'`));
      expect(quoted.errorCode).toBe('INVALID_QUERY_FILTER_OPERATOR');
    });

    it('answers the permission objects: View All Data on the profile permission set, View All on UserServicePresence in another', async () => {
      const user = emulator.userId(SANDBOX_SALESFORCE.username);
      const assigned = await conn.query<{ PermissionSetId: string }>(`SELECT PermissionSetId FROM PermissionSetAssignment WHERE AssigneeId = '${user}'`);
      const ids = assigned.records.map((r) => `'${r.PermissionSetId}'`).join(', ');
      const sets = await conn.query<{ IsOwnedByProfile: boolean; PermissionsViewAllData: boolean }>(`SELECT IsOwnedByProfile, PermissionsViewAllData FROM PermissionSet WHERE Id IN (${ids})`);
      expect(sets.records).toEqual([expect.objectContaining({ IsOwnedByProfile: true, PermissionsViewAllData: true })]);
      emulator.setPermissions(SANDBOX_SALESFORCE.username, { viewAllData: false, viewAllPresence: true });
      const again = await conn.query<{ PermissionSetId: string }>(`SELECT PermissionSetId FROM PermissionSetAssignment WHERE AssigneeId = '${user}'`);
      const objectPerms = await conn.query<{ PermissionsViewAllRecords: boolean }>(
        `SELECT PermissionsViewAllRecords FROM ObjectPermissions WHERE SobjectType = 'UserServicePresence' AND ParentId IN (${again.records.map((r) => `'${r.PermissionSetId}'`).join(', ')})`,
      );
      expect(objectPerms.records).toEqual([expect.objectContaining({ PermissionsViewAllRecords: true })]);
    });

    it('answers the presence snapshot query with the current rows and Salesforce date format', async () => {
      const snapshot = await conn.query<Record<string, unknown>>('SELECT Id, UserId, ServicePresenceStatusId, StatusStartDate FROM UserServicePresence WHERE IsCurrentState = true');
      expect(snapshot.totalSize).toBe(1);
      expect(snapshot.records[0]).toMatchObject({
        Id: expect.stringMatching(/^0Bz\w{15}$/), UserId: emulator.userId(AGENTS[0]), ServicePresenceStatusId: toId18('0N5000000000002'),
        StatusStartDate: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/),
      });
    });

    it('pages beyond the batch size with nextRecordsUrl', async () => {
      const many = newEmulator({ queryBatchSize: 300, users: Array.from({ length: 450 }, (_, i) => ({ username: `u${i}@example.com`, email: `u${i}@example.com` })) });
      const { loginUrl: url } = await many.start();
      try {
        const c = await integrationLogin(url);
        const first = await fetch(`${url}/services/data/v${API_VERSION}/query?q=${encodeURIComponent('SELECT Id FROM User')}`, {
          headers: { Authorization: `Bearer ${c.accessToken as string}`, 'Sforce-Query-Options': 'batchSize=200' },
        });
        const page = (await first.json()) as QueryBody;
        expect(page).toMatchObject({ totalSize: 451, done: false, nextRecordsUrl: expect.stringMatching(/^\/services\/data\/v62\.0\/query\/01g\w{15}-200$/) });
        expect(page.records).toHaveLength(200);
        const all = await c.query('SELECT Id FROM User', { autoFetch: true, maxFetch: 1000 });
        expect(all.records).toHaveLength(451);
      } finally {
        await many.stop();
      }
    });

    it.each([
      ['unknown syntax', 'SELECT Id FROM User WHERE IsActive = true OR Email = \'x\'', 'MALFORMED_QUERY'],
      ['a missing FROM', 'SELECT Id', 'MALFORMED_QUERY'],
      ['an unknown object', 'SELECT Id FROM Nope__c', 'INVALID_TYPE'],
      ['an unknown field', 'SELECT Id, Nope FROM User', 'INVALID_FIELD'],
      ['a quoted boolean', "SELECT Id FROM User WHERE IsActive = 'true'", 'INVALID_QUERY_FILTER_OPERATOR'],
    ])('answers %s with 400 and an error array', async (_what, soql, errorCode) => {
      const { status, body } = await rest('GET', `/query?q=${encodeURIComponent(soql)}`);
      expect(status).toBe(400);
      expect(body).toEqual([{ message: expect.any(String), errorCode }]);
    });
  });

  describe('sObjects', () => {
    it('creates a PushTopic and a StreamingChannel (201) and refuses duplicate names', async () => {
      const topic = await conn.sobject('PushTopic').create({
        Name: 'PresenceSyncUSP', Query: PUSH_TOPIC_QUERY, ApiVersion: 62.0, NotifyForOperationCreate: true,
        NotifyForOperationUpdate: true, NotifyForFields: 'Referenced',
      });
      expect(topic).toEqual({ id: expect.stringMatching(/^0IF\w{15}$/), success: true, errors: [] });
      const found = await conn.query<{ Id: string; Name: string }>("SELECT Id, Name FROM PushTopic WHERE Name = 'PresenceSyncUSP'");
      expect(found.records.map((r) => r.Id)).toEqual([topic.id]);

      const raw = await rest('POST', '/sobjects/PushTopic', { Name: 'presencesyncusp', Query: PUSH_TOPIC_QUERY, ApiVersion: 62.0 });
      expect(raw.status).toBe(400);
      expect(raw.body).toEqual([{ message: `duplicate value found: Name duplicates value on record with id: ${topic.id}`, errorCode: 'DUPLICATE_VALUE', fields: [] }]);

      const channel = await rest('POST', '/sobjects/StreamingChannel', { Name: COMMAND_CHANNEL });
      // The sandbox seed provisions the command channel already.
      expect(channel.status).toBe(400);
      expect(channel.body).toEqual([expect.objectContaining({ errorCode: 'DUPLICATE_VALUE' })]);
      const other = await rest('POST', '/sobjects/StreamingChannel', { Name: '/u/Other' });
      expect(other).toMatchObject({ status: 201, body: { id: expect.stringMatching(/^0M6\w{15}$/), success: true, errors: [] } });
      const channels = await conn.query<{ Name: string }>(`SELECT Id, Name FROM StreamingChannel WHERE Name = '${COMMAND_CHANNEL}'`);
      expect(channels.totalSize).toBe(1);
    });

    it('validates PushTopics: name length, query, required fields', async () => {
      const long = await rest('POST', '/sobjects/PushTopic', { Name: 'A'.repeat(26), Query: PUSH_TOPIC_QUERY, ApiVersion: 62.0 });
      expect(long).toMatchObject({ status: 400, body: [{ errorCode: 'STRING_TOO_LONG', fields: ['Name'] }] });
      const noId = await rest('POST', '/sobjects/PushTopic', { Name: 'X', Query: 'SELECT UserId FROM UserServicePresence', ApiVersion: 62.0 });
      expect(noId).toMatchObject({ status: 400, body: [{ errorCode: 'INVALID_FIELD', fields: ['Query'] }] });
      const missing = await rest('POST', '/sobjects/PushTopic', { Name: 'X' });
      expect(missing).toMatchObject({ status: 400, body: [{ errorCode: 'REQUIRED_FIELD_MISSING', fields: ['Query', 'ApiVersion'] }] });
    });

    it('refuses to create or update UserServicePresence (query, retrieve and delete only)', async () => {
      const created = await failure(() => conn.sobject('UserServicePresence').create({ UserId: emulator.userId(AGENTS[1]), ServicePresenceStatusId: '0N5000000000001AAA' }));
      expect(created.errorCode).toBe('INVALID_TYPE_FOR_OPERATION');
      const raw = await rest('POST', '/sobjects/UserServicePresence', { UserId: emulator.userId(AGENTS[1]) });
      expect(raw).toEqual({ status: 400, body: [{ message: 'entity type cannot be inserted: User Presence', errorCode: 'INVALID_TYPE_FOR_OPERATION', fields: [] }], headers: expect.anything() });
      const rowId = emulator.uspRows(AGENTS[0])[0].id;
      const updated = await rest('PATCH', `/sobjects/UserServicePresence/${rowId}`, { ServicePresenceStatusId: '0N5000000000005AAA' });
      expect(updated).toMatchObject({ status: 400, body: [{ message: 'entity type cannot be updated: User Presence', errorCode: 'INVALID_TYPE_FOR_OPERATION' }] });
      expect(emulator.statusOf(AGENTS[0])).toBe('Available_All');
    });

    it('retrieves a record, answers 404 for unknown ids and types', async () => {
      const user = await conn.sobject('User').retrieve(emulator.userId(AGENTS[1]));
      expect(user).toMatchObject({ attributes: { type: 'User' }, Id: emulator.userId(AGENTS[1]), Email: AGENTS[1] });
      expect(await rest('GET', '/sobjects/User/005000000000999AAA')).toMatchObject({ status: 404, body: [{ errorCode: 'NOT_FOUND' }] });
      expect(await rest('GET', '/sobjects/Nope__c/describe')).toMatchObject({ status: 404, body: [{ errorCode: 'NOT_FOUND' }] });
    });
  });

  describe('push resource', () => {
    it('rejects a payload over 3,000 characters and an unknown channel', async () => {
      const [channel] = emulator.records('StreamingChannel');
      const big = await rest('POST', `/sobjects/StreamingChannel/${String(channel.Id)}/push`, { pushEvents: [{ payload: 'x'.repeat(3001), userIds: [] }] });
      expect(big).toMatchObject({ status: 400, body: [{ errorCode: 'STRING_TOO_LONG', fields: ['payload'] }] });
      const ok = await rest('POST', `/sobjects/StreamingChannel/${String(channel.Id)}/push`, { pushEvents: [{ payload: 'x'.repeat(3000), userIds: [emulator.userId(AGENTS[0])] }] });
      expect(ok).toMatchObject({ status: 200, body: [{ fanoutCount: 0, userOnlineStatus: { [emulator.userId(AGENTS[0])]: false } }] });
      expect(await rest('POST', '/sobjects/StreamingChannel/0M6000000000999AAA/push', { pushEvents: [{ payload: 'x', userIds: [] }] }))
        .toMatchObject({ status: 404, body: [{ errorCode: 'NOT_FOUND' }] });
    });
  });

  describe('limits and faults', () => {
    it('counts API calls in Sforce-Limit-Info on every response', async () => {
      const before = emulator.apiCalls;
      const first = await rest('GET', '/limits');
      expect(first.headers.get('sforce-limit-info')).toBe(`api-usage=${before + 1}/100000`);
      expect(first.body).toMatchObject({ DailyApiRequests: { Max: 100000, Remaining: 100000 - before - 1 } });
      await conn.query('SELECT Id FROM User');
      expect(conn.limitInfo.apiUsage).toEqual({ used: before + 2, limit: 100000 });
      expect(emulator.apiCalls).toBe(before + 2);
    });

    it('reports the Durable Streaming allocations in /limits (the pre-37.0 names for older versions), counting deliveries and clients', async () => {
      const fresh = await rest('GET', '/limits');
      expect(fresh.body).toMatchObject({
        DailyDurableStreamingApiEvents: { Max: 200000, Remaining: 200000 },
        DailyDurableGenericStreamingApiEvents: { Max: 200000, Remaining: 200000 },
        DurableStreamingApiConcurrentClients: { Max: 1000, Remaining: 1000 },
      });
      await emulator.openConsole(AGENTS[0]);
      await conn.streaming.channel(COMMAND_CHANNEL).push({ payload: 'x', userIds: [] });
      const used = await rest('GET', '/limits');
      expect(used.body).toMatchObject({
        DailyDurableGenericStreamingApiEvents: { Max: 200000, Remaining: 199999 },
        DurableStreamingApiConcurrentClients: { Max: 1000, Remaining: 999 },
      });
      const old = await fetch(`${loginUrl}/services/data/v36.0/limits`, { headers: { Authorization: `Bearer ${conn.accessToken as string}` } });
      expect(Object.keys(await old.json() as object)).toEqual(expect.arrayContaining(['DailyStreamingApiEvents', 'DailyGenericStreamingApiEvents', 'StreamingApiConcurrentClients']));
    });

    it('injects failures for the next matching requests', async () => {
      emulator.failNext(1, { status: 503, method: 'POST' });
      const [channel] = emulator.records('StreamingChannel');
      // jsforce never retries a POST: the injected 503 surfaces.
      const error = await failure(() => conn.streaming.channel(COMMAND_CHANNEL).push({ payload: 'x', userIds: [] }));
      expect(error.errorCode).toBe('SERVER_UNAVAILABLE');
      const next = await rest('POST', `/sobjects/StreamingChannel/${String(channel.Id)}/push`, { pushEvents: [{ payload: 'x', userIds: [] }] });
      expect(next.status).toBe(200);
    });

    it('answers 403 REQUEST_LIMIT_EXCEEDED in limit mode and past the allocation', async () => {
      emulator.setRequestLimitExceeded(true);
      const error = await failure(() => conn.query('SELECT Id FROM User'));
      expect(error.errorCode).toBe('REQUEST_LIMIT_EXCEEDED');
      const raw = await rest('GET', '/limits');
      expect(raw).toMatchObject({ status: 403, body: [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }] });
      emulator.setRequestLimitExceeded(false);

      const small = newEmulator({ apiLimit: 2 });
      const { loginUrl: url } = await small.start();
      try {
        const c = await integrationLogin(url);
        await c.query('SELECT Id FROM User');
        await c.query('SELECT Id FROM User');
        expect((await failure(() => c.query('SELECT Id FROM User'))).errorCode).toBe('REQUEST_LIMIT_EXCEEDED');
      } finally {
        await small.stop();
      }
    });
  });
});
