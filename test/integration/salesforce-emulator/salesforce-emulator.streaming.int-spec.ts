import type { Connection } from 'jsforce';
import { StreamingExtension } from 'jsforce/lib/api/streaming';
import {
  SalesforceEmulator, SANDBOX_SALESFORCE, createFayeClient, invalidReplayIdError, toId18,
  type BayeuxMessage, type FayeClient,
} from '@presence-sync/testing';
import {
  AGENTS, PUSH_TOPIC_QUERY, disconnect, integrationLogin, newEmulator, recordIncoming, replayFrom, subscribed,
} from './salesforce-emulator.fixture';

const TOPIC = '/topic/PresenceSyncUSP';
const DAY_MS = 24 * 60 * 60 * 1000;

interface TopicMessage {
  event: { type: string; createdDate: string; replayId: number };
  sobject: Record<string, unknown>;
}

describe(`${SalesforceEmulator.name} streaming (CometD)`, () => {
  let emulator: SalesforceEmulator;
  let loginUrl: string;
  let conn: Connection;
  let clock: number;
  let clients: FayeClient[];

  /** A jsforce streaming client (what the adapter builds), tracked for disconnection. */
  function jsforceClient(extensions: unknown[]): FayeClient {
    const client = conn.streaming.createClient(extensions) as unknown as FayeClient;
    clients.push(client);
    return client;
  }

  function rawClient(token: string | undefined, retry?: number): FayeClient {
    const client = createFayeClient(emulator.cometdUrl, token, retry !== undefined ? { retry } : {});
    clients.push(client);
    return client;
  }

  async function subscribeTopic(replayId: number, channel = TOPIC): Promise<{ client: FayeClient; got: TopicMessage[] }> {
    const client = jsforceClient([new StreamingExtension.Replay(channel, replayId)]);
    const got: TopicMessage[] = [];
    await subscribed(client.subscribe(channel, (m) => got.push(m as TopicMessage)));
    return { client, got };
  }

  beforeEach(async () => {
    clock = Date.parse('2025-03-01T09:00:00Z');
    clients = [];
    emulator = newEmulator({ now: () => clock });
    ({ loginUrl } = await emulator.start());
    conn = await integrationLogin(loginUrl);
    await conn.sobject('PushTopic').create({
      Name: 'PresenceSyncUSP', Query: PUSH_TOPIC_QUERY, ApiVersion: 62.0,
      NotifyForOperationCreate: true, NotifyForOperationUpdate: true, NotifyForFields: 'Referenced',
    });
  });

  afterEach(async () => {
    await disconnect(...clients);
    await emulator.stop();
  });


  it('offers only long-polling in the handshake, with the replay and payload.format extensions', async () => {
    const client = rawClient(conn.accessToken as string);
    const seen = recordIncoming(client);
    await subscribed(client.subscribe(TOPIC, () => undefined));
    const handshake = seen.find((m) => m.channel === '/meta/handshake') as BayeuxMessage;
    expect(handshake).toMatchObject({
      successful: true, version: '1.0', minimumVersion: '1.0', supportedConnectionTypes: ['long-polling'],
      ext: { replay: true, 'payload.format': true }, clientId: expect.stringMatching(/^[a-z0-9]{27}$/),
    });
    expect(emulator.streamingClients(SANDBOX_SALESFORCE.username)).toEqual([{ clientId: handshake.clientId, userId: emulator.userId(SANDBOX_SALESFORCE.username), channels: [TOPIC] }]);
  });

  it('reports going online as a created row, a status change as the update closing the old row then the created new row, and logout as an update only', async () => {
    const { got } = await subscribeTopic(-1);
    const agent = emulator.userId(AGENTS[0]);

    emulator.agentSetStatus(AGENTS[0], 'Available_All');
    await emulator.waitFor(() => got.length === 1, 5_000, 'the created row');
    const online = got[0];
    expect(online.event).toEqual({ type: 'created', createdDate: new Date(clock).toISOString(), replayId: expect.any(Number) });
    expect(online.sobject).toEqual({
      Id: expect.stringMatching(/^0Bz\w{15}$/), UserId: agent, ServicePresenceStatusId: toId18('0N5000000000002'),
      IsCurrentState: true, IsAway: false, StatusStartDate: '2025-03-01T09:00:00.000+0000', StatusEndDate: null,
    });

    clock += 60_000;
    emulator.agentSetStatus(AGENTS[0], 'Lunch');
    await emulator.waitFor(() => got.length === 3, 5_000, 'the closed row and the new one');
    const [, closed, created] = got;
    expect(closed.event.type).toBe('updated');
    expect(closed.sobject).toEqual({ ...online.sobject, IsCurrentState: false, StatusEndDate: '2025-03-01T09:01:00.000+0000' });
    expect(created.event.type).toBe('created');
    expect(created.sobject).toMatchObject({ UserId: agent, ServicePresenceStatusId: toId18('0N5000000000005'), IsCurrentState: true, IsAway: true, StatusEndDate: null });
    expect(closed.event.replayId).toBeGreaterThan(online.event.replayId);
    expect(created.event.replayId).toBeGreaterThan(closed.event.replayId);

    clock += 60_000;
    emulator.agentSetStatus(AGENTS[0], 'Offline');
    await emulator.waitFor(() => got.length === 4, 5_000, 'the logout update');
    expect(got[3].event.type).toBe('updated');
    expect(got[3].sobject).toMatchObject({ Id: created.sobject.Id, IsCurrentState: false, StatusEndDate: '2025-03-01T09:02:00.000+0000' });
    expect(emulator.statusOf(AGENTS[0])).toBe('Offline');
    expect(emulator.uspRows(AGENTS[0]).map((r) => [r.developerName, r.isCurrentState])).toEqual([['Available_All', false], ['Lunch', false]]);
  });

  it('creates the new row before closing the old one when told to (statusChangeOrder: create-first)', async () => {
    await emulator.stop();
    emulator = newEmulator({ now: () => clock, statusChangeOrder: 'create-first' });
    ({ loginUrl } = await emulator.start());
    conn = await integrationLogin(loginUrl);
    await conn.sobject('PushTopic').create({ Name: 'PresenceSyncUSP', Query: PUSH_TOPIC_QUERY, ApiVersion: 62.0 });
    const { got } = await subscribeTopic(-1);
    emulator.agentSetStatus(AGENTS[0], 'Available_All');
    emulator.agentSetStatus(AGENTS[0], 'Lunch');
    await emulator.waitFor(() => got.length === 3, 5_000, 'three events');
    expect(got.map((m) => [m.event.type, m.sobject.IsCurrentState])).toEqual([['created', true], ['created', true], ['updated', false]]);
  });

  it('delivers presence rows only to subscribers that may read them: the owner, View All Data or View All on UserServicePresence', async () => {
    const integration = SANDBOX_SALESFORCE.username;
    emulator.setPermissions(integration, { viewAllData: false });
    const { got } = await subscribeTopic(-1);
    emulator.agentSetStatus(AGENTS[0], 'Available_All');
    // Without either permission the integration user reads no agent's presence: nothing arrives, and queries see no row.
    const query = async (): Promise<{ totalSize: number }> => conn.query('SELECT Id FROM UserServicePresence WHERE IsCurrentState = true');
    expect((await query()).totalSize).toBe(0);

    emulator.setPermissions(integration, { viewAllPresence: true });
    expect((await query()).totalSize).toBe(1);
    emulator.agentSetStatus(AGENTS[0], 'Lunch');
    await emulator.waitFor(() => got.length === 2, 5_000, 'the close and the new row');
    expect(got.map((m) => m.event.type)).toEqual(['updated', 'created']);

    // Replay honours access too: -2 after withdrawing both permissions brings nothing.
    emulator.setPermissions(integration, { viewAllPresence: false });
    const replayed = await subscribeTopic(-2);
    emulator.setPermissions(integration, { viewAllData: true });
    const all = await subscribeTopic(-2);
    await emulator.waitFor(() => all.got.length === 3, 5_000, 'the three retained events');
    expect(replayed.got).toHaveLength(0);
  });

  it('sends capacity-only updates to a topic that watches all fields, not to one whose referenced fields did not change', async () => {
    await conn.sobject('PushTopic').create({ Name: 'PresenceAll', Query: PUSH_TOPIC_QUERY, ApiVersion: 62.0, NotifyForFields: 'All' });
    const referenced = await subscribeTopic(-1);
    const all = await subscribeTopic(-1, '/topic/PresenceAll');
    emulator.agentSetStatus(AGENTS[1], 'Available_Chat');
    await emulator.waitFor(() => referenced.got.length === 1 && all.got.length === 1, 5_000, 'the created row on both topics');

    expect(emulator.touchCapacity(AGENTS[1])).toBe(true);
    await emulator.waitFor(() => all.got.length === 2, 5_000, 'the capacity update');
    expect(all.got[1].event.type).toBe('updated');
    expect(all.got[1].sobject).toEqual(all.got[0].sobject);
    // A later change is delivered after anything published before it: the capacity update never reached `referenced`.
    emulator.agentSetStatus(AGENTS[1], 'Break');
    await emulator.waitFor(() => referenced.got.length === 3, 5_000, 'the status change');
    expect(referenced.got.map((m) => m.event.type)).toEqual(['created', 'updated', 'created']);
  });

  it('replays retained events: -2 delivers all, a stored id only the later ones, to that subscriber only', async () => {
    emulator.agentSetStatus(AGENTS[0], 'Available_All');
    emulator.agentSetStatus(AGENTS[1], 'Available_All');
    emulator.agentSetStatus(AGENTS[2], 'Available_All');
    const retained = emulator.streamEvents(TOPIC).map((e) => e.replayId);
    expect(retained).toHaveLength(3);

    const live = await subscribeTopic(-1);
    const fromStart = await subscribeTopic(-2);
    const afterFirst = await subscribeTopic(retained[0]);
    await emulator.waitFor(() => fromStart.got.length === 3 && afterFirst.got.length === 2, 5_000, 'the replayed events');
    expect(fromStart.got.map((m) => m.event.replayId)).toEqual(retained);
    expect(afterFirst.got.map((m) => m.event.replayId)).toEqual(retained.slice(1));

    emulator.agentSetStatus(AGENTS[0], 'Break');
    await emulator.waitFor(() => live.got.length === 2 && afterFirst.got.length === 4, 5_000, 'the new events');
    // The live subscriber never saw the replayed ones.
    expect(live.got.every((m) => m.event.replayId > retained[2])).toBe(true);
  });

  it('fails the subscribe with the documented 400 for an unknown or expired replay id', async () => {
    emulator.agentSetStatus(AGENTS[0], 'Available_All');
    const [stored] = emulator.streamEvents(TOPIC).map((e) => e.replayId);

    const unknown = jsforceClient([new StreamingExtension.Replay(TOPIC, 9_999)]);
    await expect(subscribed(unknown.subscribe(TOPIC, () => undefined))).rejects.toThrow(
      '400::The replayId {9999} you provided was invalid.  Please provide a valid ID, -1 to replay all new events, or -2 to replay all events.',
    );

    clock += DAY_MS + 1;
    const expired = jsforceClient([new StreamingExtension.Replay(TOPIC, stored)]);
    await expect(subscribed(expired.subscribe(TOPIC, () => undefined))).rejects.toThrow(invalidReplayIdError(stored));
    // Resubscribing with -1 works, as the adapter does after an invalid id.
    const fresh = await subscribeTopic(-1);
    emulator.agentSetStatus(AGENTS[0], 'Lunch');
    await emulator.waitFor(() => fresh.got.length === 2, 5_000, 'events after resubscribing');
  });

  it('refuses a replay value that is not an integer id, -1 or -2', async () => {
    const client = rawClient(conn.accessToken as string);
    replayFrom(client, { [TOPIC]: 0.5 });
    await expect(subscribed(client.subscribe(TOPIC, () => undefined))).rejects.toThrow(invalidReplayIdError(0.5));
  });

  it('refuses a subscription to a channel that does not exist', async () => {
    const client = jsforceClient([]);
    await expect(subscribed(client.subscribe('/topic/Nope', () => undefined))).rejects.toThrow(
      '400::The channel you requested to subscribe to does not exist {/topic/Nope}',
    );
  });

  it('answers 403::Unknown client with reconnect=handshake after dropClient; faye re-handshakes, resubscribes and gets later events', async () => {
    const client = rawClient(conn.accessToken as string);
    const seen = recordIncoming(client);
    const got: TopicMessage[] = [];
    await subscribed(client.subscribe(TOPIC, (m) => got.push(m as TopicMessage)));
    const [{ clientId }] = emulator.streamingClients(SANDBOX_SALESFORCE.username);

    expect(emulator.dropClient(clientId)).toBe(1);
    await emulator.waitFor(() => seen.filter((m) => m.channel === '/meta/subscribe' && m.successful).length === 2, 5_000, 'the re-subscription');
    expect(seen.find((m) => m.error === '403::Unknown client')).toMatchObject({
      channel: '/meta/connect', successful: false, advice: { reconnect: 'handshake', interval: 0 },
    });
    expect(seen.filter((m) => m.channel === '/meta/handshake' && m.successful)).toHaveLength(2);
    expect(emulator.streamingClients(SANDBOX_SALESFORCE.username).map((c) => c.clientId)).not.toContain(clientId);

    emulator.agentSetStatus(AGENTS[2], 'Available_All');
    await emulator.waitFor(() => got.length === 1, 5_000, 'an event on the new client');
  });

  it('tells a client whose token was revoked 401::Authentication invalid with reconnect=none (jsforce AuthFailure fires)', async () => {
    const failures: BayeuxMessage[] = [];
    const client = jsforceClient([new StreamingExtension.AuthFailure((m: BayeuxMessage) => failures.push(m))]);
    await subscribed(client.subscribe(TOPIC, () => undefined));

    emulator.revokeTokens(SANDBOX_SALESFORCE.username);
    await emulator.waitFor(() => failures.length === 1, 5_000, 'the auth failure');
    expect(failures[0]).toMatchObject({
      channel: '/meta/connect', successful: false, error: '401::Authentication invalid', advice: { reconnect: 'none', interval: 0 },
      clientId: expect.any(String),
    });
    expect(emulator.streamingClients(SANDBOX_SALESFORCE.username)).toEqual([]);
  });

  it('denies the handshake of a revoked or missing token with ext.sfdc.failureReason and reconnect=none', async () => {
    const revoked = conn.accessToken as string;
    emulator.revokeTokens(SANDBOX_SALESFORCE.username);
    const cases: [string | undefined, string][] = [[revoked, '401::Authentication invalid'], [undefined, '401::Request requires authentication']];
    for (const [token, failureReason] of cases) {
      const client = rawClient(token, 0.05);
      const seen = recordIncoming(client);
      void client.subscribe(TOPIC, () => undefined);
      await emulator.waitFor(() => seen.some((m) => m.channel === '/meta/handshake'), 5_000, 'the handshake reply');
      expect(seen.find((m) => m.channel === '/meta/handshake')).toEqual({
        id: expect.any(String), channel: '/meta/handshake', successful: false, error: '403::Handshake denied',
        ext: { sfdc: { failureReason }, replay: true, 'payload.format': true }, advice: { reconnect: 'none' },
      });
    }
    expect(emulator.streamingClients()).toEqual([]);
  });

  it('serves CometD only at /cometd/<version> for versions 37.0 and later', async () => {
    const post = (path: string): Promise<Response> => fetch(`${loginUrl}${path}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `OAuth ${conn.accessToken as string}` },
      body: JSON.stringify([{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'] }]),
    });
    expect((await post('/cometd')).status).toBe(400);
    expect(await (await post('/cometd/36.0')).text()).toContain("Only API versions '37.0' and later are supported");
    const ok = await post('/cometd/58.0');
    expect(ok.status).toBe(200);
    const [reply] = (await ok.json()) as BayeuxMessage[];
    expect(reply).toMatchObject({ channel: '/meta/handshake', successful: true });
    emulator.dropClient(reply.clientId as string);
  });
});
