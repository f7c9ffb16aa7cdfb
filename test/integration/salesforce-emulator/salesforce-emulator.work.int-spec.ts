import type { Connection } from 'jsforce';
import { StreamingExtension } from 'jsforce/lib/api/streaming';
import { USP_PUSH_TOPIC_QUERY } from '@presence-sync/salesforce';
import { SalesforceEmulator, SANDBOX_CAPACITY, SANDBOX_SALESFORCE, type FayeClient } from '@presence-sync/testing';
import { AGENTS, PUSH_TOPIC_QUERY, disconnect, integrationLogin, newEmulator, subscribed } from './salesforce-emulator.fixture';

const OPEN_WORK = "SELECT UserId, ServiceChannel.DeveloperName, CapacityWeight, CapacityPercentage FROM AgentWork WHERE Status IN ('Assigned', 'Opened')";

interface TopicMessage {
  event: { type: string; replayId: number };
  sobject: Record<string, unknown>;
}
interface WorkRow {
  UserId: string;
  ServiceChannel: { attributes: { type: string }; DeveloperName: string } | null;
  CapacityWeight: number | null;
  CapacityPercentage: number | null;
}

describe(`${SalesforceEmulator.name} Omni-Channel work`, () => {
  let emulator: SalesforceEmulator;
  let conn: Connection;
  let clients: FayeClient[];

  beforeEach(async () => {
    clients = [];
    emulator = newEmulator();
    const { loginUrl } = await emulator.start();
    conn = await integrationLogin(loginUrl);
  });

  afterEach(async () => {
    await disconnect(...clients);
    await emulator.stop();
  });

  async function topic(name: string, query: string): Promise<TopicMessage[]> {
    await conn.sobject('PushTopic').create({ Name: name, Query: query, ApiVersion: 62.0, NotifyForFields: 'Referenced', NotifyForOperationCreate: true, NotifyForOperationUpdate: true });
    const client = conn.streaming.createClient([new StreamingExtension.Replay(`/topic/${name}`, -1)]) as unknown as FayeClient;
    clients.push(client);
    const got: TopicMessage[] = [];
    await subscribed(client.subscribe(`/topic/${name}`, (m) => got.push(m as TopicMessage)));
    return got;
  }

  it('seeds two service channels and gives the sandbox agents a configured capacity', async () => {
    const channels = await conn.query<{ DeveloperName: string; RelatedEntity: string }>('SELECT DeveloperName, RelatedEntity FROM ServiceChannel');
    expect(channels.records.map((c) => [c.DeveloperName, c.RelatedEntity])).toEqual([['sfdc_liveagent', 'LiveChatTranscript'], ['sfdc_case', 'Case']]);
    emulator.agentSetStatus(AGENTS[0], 'Available_Chat');
    expect(emulator.uspRows(AGENTS[0])[0].configuredCapacity).toBe(SANDBOX_CAPACITY);
  });

  it('answers open work with the channel as a nested record, and forgets closed work', async () => {
    emulator.agentSetStatus(AGENTS[0], 'Available_Chat');
    emulator.agentSetStatus(AGENTS[1], 'Available_All');
    const chat = emulator.assignWork(AGENTS[0], 'sfdc_liveagent');
    emulator.assignWork(AGENTS[0], 'sfdc_case');
    emulator.assignWork(AGENTS[1], 'sfdc_case', { percentage: 40 });
    emulator.acceptWork(chat);
    const open = await conn.query<WorkRow>(OPEN_WORK);
    expect(open.records.map((r) => [r.UserId, r.ServiceChannel?.DeveloperName, r.CapacityWeight, r.CapacityPercentage])).toEqual([
      [emulator.userId(AGENTS[0]), 'sfdc_liveagent', 1, null],
      [emulator.userId(AGENTS[0]), 'sfdc_case', 2, null],
      [emulator.userId(AGENTS[1]), 'sfdc_case', null, 40],
    ]);
    expect(open.records[0].ServiceChannel?.attributes.type).toBe('ServiceChannel');
    expect(emulator.openWork(AGENTS[0]).map((w) => w.status)).toEqual(['Opened', 'Assigned']);

    emulator.closeWork(chat);
    const after = await conn.query<WorkRow>(`${OPEN_WORK} AND UserId IN ('${emulator.userId(AGENTS[0])}')`);
    expect(after.records.map((r) => r.ServiceChannel?.DeveloperName)).toEqual(['sfdc_case']);
    expect(() => emulator.closeWork(chat)).toThrow(/already Closed/);
  });

  it('updates the current presence row on each load change: a topic naming the capacity fields reports it with the same status', async () => {
    const withCapacity = await topic('PresenceSyncUSP', USP_PUSH_TOPIC_QUERY);
    const withoutCapacity = await topic('PresenceOld', PUSH_TOPIC_QUERY);
    emulator.agentSetStatus(AGENTS[0], 'Available_Chat');
    const chat = emulator.assignWork(AGENTS[0], 'sfdc_liveagent');
    emulator.acceptWork(chat);
    emulator.closeWork(chat);
    emulator.agentSetStatus(AGENTS[0], 'Lunch');
    await emulator.waitFor(() => withCapacity.length === 5 && withoutCapacity.length === 3, 5_000, 'the events');
    // created, load up (assign; accepting changes no capacity), load down (close), then the status change.
    expect(withCapacity.map((m) => [m.event.type, m.sobject.IsCurrentState])).toEqual([
      ['created', true], ['updated', true], ['updated', true], ['updated', false], ['created', true],
    ]);
    const [created, up, down] = withCapacity;
    expect(up.sobject.ServicePresenceStatusId).toBe(created.sobject.ServicePresenceStatusId);
    expect(up.sobject.Id).toBe(created.sobject.Id);
    expect(up.sobject.ConfiguredCapacity).toBe(SANDBOX_CAPACITY);
    expect(down.sobject).toMatchObject({ Id: created.sobject.Id, IsCurrentState: true });
    // A topic whose referenced fields do not include the capacity figures hears nothing of the load.
    expect(withoutCapacity.map((m) => m.event.type)).toEqual(['created', 'updated', 'created']);
  });

  it('routes work only to online agents, and refuses a PushTopic on AgentWork', async () => {
    expect(() => emulator.assignWork(AGENTS[2], 'sfdc_liveagent')).toThrow(/offline in Omni-Channel/);
    emulator.agentSetStatus(AGENTS[2], 'Available_Chat');
    expect(() => emulator.assignWork(AGENTS[2], 'sfdc_phone')).toThrow(/no service channel sfdc_phone/);
    const refused = await conn.sobject('PushTopic').create({ Name: 'Work', Query: 'SELECT Id, Status FROM AgentWork', ApiVersion: 62.0 }).catch((e: Error & { errorCode?: string }) => e);
    expect(refused).toMatchObject({ errorCode: 'INVALID_FIELD', message: 'AgentWork is not supported in PushTopic queries' });
    const relation = await conn.sobject('PushTopic').create({ Name: 'Rel', Query: 'SELECT Id, UserId FROM UserServicePresence', ApiVersion: 62.0 });
    expect(relation.success).toBe(true);
  });

  it('shows an agent\'s work only to its owner and to users with View All Data or View All on AgentWork', async () => {
    emulator.agentSetStatus(AGENTS[0], 'Available_Chat');
    emulator.agentSetStatus(AGENTS[1], 'Available_Chat');
    emulator.assignWork(AGENTS[0], 'sfdc_liveagent');
    emulator.assignWork(AGENTS[1], 'sfdc_case');
    const count = async () => (await conn.query(OPEN_WORK)).totalSize;
    expect(await count()).toBe(2);
    emulator.setPermissions(SANDBOX_SALESFORCE.username, { viewAllData: false });
    expect(await count()).toBe(0);
    emulator.setPermissions(SANDBOX_SALESFORCE.username, { viewAllAgentWork: true });
    expect(await count()).toBe(2);
    const perms = await conn.query<{ SobjectType: string; PermissionsViewAllRecords: boolean }>(
      "SELECT SobjectType, PermissionsViewAllRecords FROM ObjectPermissions WHERE SobjectType = 'AgentWork'",
    );
    expect(perms.records).toEqual([expect.objectContaining({ SobjectType: 'AgentWork', PermissionsViewAllRecords: true })]);
    emulator.setPermissions(SANDBOX_SALESFORCE.username, { viewAllAgentWork: false });
    expect(await count()).toBe(0);
  });
});
