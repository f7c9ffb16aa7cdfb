import { randomUUID } from 'node:crypto';
import type { Connection } from 'jsforce';
import {
  SalesforceEmulator, SANDBOX_SALESFORCE, createFayeClient, toId18,
  type ConsoleCommand, type FayeClient, type UspChange,
} from '@presence-sync/testing';
import {
  AGENTS, COMMAND_CHANNEL, JWT_BEARER, connection, disconnect, integrationLogin, jwtAssertion, newEmulator, replayFrom, subscribed,
} from './salesforce-emulator.fixture';

const LUNCH = toId18('0N5000000000005');
const AVAILABLE_ALL = toId18('0N5000000000002');

interface GenericMessage {
  event: { createdDate: string; replayId: number };
  payload: string;
}

describe(`${SalesforceEmulator.name} agent consoles and the push resource`, () => {
  let emulator: SalesforceEmulator;
  let loginUrl: string;
  let conn: Connection;
  let clock: number;
  let clients: FayeClient[];
  let usp: UspChange[];

  const command = (userRef: string, over: Partial<ConsoleCommand> = {}): ConsoleCommand => ({
    v: 1, type: 'setStatus', commandId: randomUUID(), userId: emulator.userId(userRef), statusId: LUNCH, status: 'Lunch',
    expiresAt: clock + 60_000, ...over,
  });

  /** Pushes one command the way the daemon does (jsforce finds the channel id by name, then POSTs). */
  const push = (userRefs: string[], payload: unknown): Promise<{ fanoutCount: number; userOnlineStatus: Record<string, boolean> }> =>
    conn.streaming.channel(COMMAND_CHANNEL).push({
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
      userIds: userRefs.map((u) => emulator.userId(u)),
    });

  beforeEach(async () => {
    clock = Date.parse('2025-03-01T09:00:00Z');
    clients = [];
    usp = [];
    emulator = newEmulator({ now: () => clock });
    emulator.on('usp', (change) => usp.push(change));
    ({ loginUrl } = await emulator.start());
    conn = await integrationLogin(loginUrl);
  });

  afterEach(async () => {
    await disconnect(...clients);
    await emulator.stop();
  });

  it('applies a command pushed to an open console: the push reports the user online, and the presence rows follow', async () => {
    await emulator.openConsole(AGENTS[0]);
    const agent = emulator.userId(AGENTS[0]);
    expect(await push([AGENTS[0]], command(AGENTS[0]))).toEqual({ fanoutCount: 1, userOnlineStatus: { [agent]: true } });
    await emulator.waitFor(() => emulator.statusOf(AGENTS[0]) === 'Lunch', 5_000, 'the console to apply setStatus');
    expect(usp).toEqual([{ type: 'created', cause: 'command', changedFields: expect.arrayContaining(['IsCurrentState']), row: expect.objectContaining({ userId: agent, statusId: LUNCH, isCurrentState: true }) }]);
    expect(emulator.pushes[0]).toMatchObject({ channelName: COMMAND_CHANNEL, userIds: [agent], fanoutCount: 1, userOnlineStatus: { [agent]: true } });

    // A 15-character user id is the same user; a status change creates a row and closes the previous one.
    await push([AGENTS[0]], command(AGENTS[0], { userId: agent.slice(0, 15), statusId: AVAILABLE_ALL.slice(0, 15), status: 'Available_All' }));
    await emulator.waitFor(() => emulator.statusOf(AGENTS[0]) === 'Available_All', 5_000, 'the second command');
    expect(usp.slice(1).map((c) => [c.type, c.row.developerName, c.row.isCurrentState])).toEqual([['updated', 'Lunch', false], ['created', 'Available_All', true]]);

    await push([AGENTS[0]], command(AGENTS[0], { type: 'logout', statusId: undefined, status: undefined }));
    await emulator.waitFor(() => emulator.statusOf(AGENTS[0]) === 'Offline', 5_000, 'the logout');
    expect(usp.slice(3).map((c) => [c.type, c.row.developerName, c.row.isCurrentState])).toEqual([['updated', 'Available_All', false]]);
    expect(emulator.consoleStats(AGENTS[0])).toMatchObject({ received: 3, applied: 3, unchanged: 0 });
  });

  it('reports a closed console as userOnlineStatus false (fanoutCount counts online targets only)', async () => {
    await emulator.openConsole(AGENTS[0]);
    await emulator.openConsole(AGENTS[1]);
    await emulator.closeConsole(AGENTS[1]);
    expect(emulator.isConsoleOpen(AGENTS[1])).toBe(false);
    expect(emulator.streamingClients(AGENTS[1])).toEqual([]);

    const [a, b, c] = AGENTS.map((u) => emulator.userId(u));
    expect(await push([AGENTS[1]], command(AGENTS[1]))).toEqual({ fanoutCount: 0, userOnlineStatus: { [b]: false } });
    expect(await push([AGENTS[0], AGENTS[1], AGENTS[2]], command(AGENTS[0]))).toEqual({ fanoutCount: 1, userOnlineStatus: { [a]: true, [b]: false, [c]: false } });
    await emulator.waitFor(() => emulator.statusOf(AGENTS[0]) === 'Lunch', 5_000, 'the online console to apply its command');
    expect(emulator.statusOf(AGENTS[1])).toBe('Offline');
    expect(emulator.consoleStats(AGENTS[1]).received).toBe(0);

    await emulator.closeConsole(AGENTS[0]);
    expect(await push([AGENTS[0]], command(AGENTS[0]))).toEqual({ fanoutCount: 0, userOnlineStatus: { [a]: false } });
  });

  it('drops expired, foreign, malformed, repeated and unknown-status commands without touching presence', async () => {
    await emulator.openConsole(AGENTS[0]);
    const applied = command(AGENTS[0], { statusId: AVAILABLE_ALL, status: 'Available_All' });
    await push([AGENTS[0]], applied);
    await emulator.waitFor(() => emulator.statusOf(AGENTS[0]) === 'Available_All', 5_000, 'the first command');
    const dropped: string[] = [];
    emulator.on('command-dropped', (_user, reason) => dropped.push(reason));

    await push([AGENTS[0]], command(AGENTS[0], { expiresAt: clock - 1 }));
    await push([AGENTS[0]], command(AGENTS[1]));
    await push([AGENTS[0]], 'not json');
    await push([AGENTS[0]], { ...command(AGENTS[0]), v: 2 });
    await push([AGENTS[0]], { ...command(AGENTS[0]), commandId: undefined });
    await push([AGENTS[0]], { ...applied, statusId: LUNCH });
    await push([AGENTS[0]], command(AGENTS[0], { statusId: toId18('0N5000000000099') }));
    await emulator.waitFor(() => dropped.length === 7, 5_000, 'seven dropped commands');

    expect(dropped).toEqual(['expired', 'foreign', 'malformed', 'version', 'malformed', 'duplicate', 'unknown-status']);
    expect(emulator.consoleStats(AGENTS[0])).toEqual({
      received: 8, applied: 1, unchanged: 0, failed: 0,
      dropped: { expired: 1, foreign: 1, malformed: 2, version: 1, duplicate: 1, 'unknown-status': 1 },
    });
    expect(emulator.statusOf(AGENTS[0])).toBe('Available_All');
    expect(usp).toHaveLength(1);
  });

  it('treats a command for the status the console already shows as applied without a write', async () => {
    emulator.agentSetStatus(AGENTS[0], 'Lunch');
    await emulator.openConsole(AGENTS[0]);
    const applied: ['changed' | 'unchanged', string][] = [];
    emulator.on('command-applied', (_user, c, outcome) => applied.push([outcome, c.commandId]));
    const same = command(AGENTS[0]);
    await push([AGENTS[0]], same);
    await emulator.waitFor(() => applied.length === 1, 5_000, 'the command');
    expect(applied).toEqual([['unchanged', same.commandId]]);
    expect(usp).toHaveLength(1);
    expect(emulator.consoleStats(AGENTS[0])).toMatchObject({ applied: 1, unchanged: 1 });
  });

  it('broadcasts a push without userIds to every subscriber (fanoutCount -1); consoles drop what is not theirs', async () => {
    await emulator.openConsole(AGENTS[0]);
    await emulator.openConsole(AGENTS[1]);
    const result = await conn.streaming.channel(COMMAND_CHANNEL).push({ payload: JSON.stringify(command(AGENTS[0])), userIds: [] });
    expect(result).toEqual({ fanoutCount: -1, userOnlineStatus: { [emulator.userId(AGENTS[0])]: true, [emulator.userId(AGENTS[1])]: true } });
    await emulator.waitFor(() => emulator.consoleStats().received === 2, 5_000, 'both consoles to receive it');
    expect(emulator.statusOf(AGENTS[0])).toBe('Lunch');
    expect(emulator.consoleStats(AGENTS[1]).dropped.foreign).toBe(1);
  });

  it('keeps targeted events for replay but replays them only to the targeted user', async () => {
    await push([AGENTS[0]], command(AGENTS[0]));
    await push([AGENTS[1]], command(AGENTS[1]));
    expect(emulator.streamEvents(COMMAND_CHANNEL)).toHaveLength(2);

    const as = async (userRef: string): Promise<GenericMessage[]> => {
      const agentConn = connection(loginUrl, false);
      await agentConn.authorize({ grant_type: JWT_BEARER, assertion: jwtAssertion({ iss: SANDBOX_SALESFORCE.clientId, sub: userRef, aud: 'https://login.salesforce.com', exp: Math.floor(clock / 1000) + 120 }) });
      const client = createFayeClient(emulator.cometdUrl, agentConn.accessToken as string);
      clients.push(client);
      replayFrom(client, { [COMMAND_CHANNEL]: -2 });
      const got: GenericMessage[] = [];
      await subscribed(client.subscribe(COMMAND_CHANNEL, (m) => got.push(m as GenericMessage)));
      return got;
    };
    const ben = await as(AGENTS[1]);
    await emulator.waitFor(() => ben.length === 1, 5_000, 'the replayed event');
    expect(ben[0]).toEqual({ event: { createdDate: new Date(clock).toISOString(), replayId: emulator.streamEvents(COMMAND_CHANNEL)[1].replayId }, payload: expect.any(String) });
    expect((JSON.parse(ben[0].payload) as ConsoleCommand).userId).toBe(emulator.userId(AGENTS[1]));

    // Live targeting too: a push to Ada does not reach Ben's client, a later push to Ben does.
    await push([AGENTS[0]], command(AGENTS[0]));
    await push([AGENTS[1]], command(AGENTS[1]));
    await emulator.waitFor(() => ben.length === 2, 5_000, 'the live event');
    expect(ben.map((m) => (JSON.parse(m.payload) as ConsoleCommand).userId)).toEqual([emulator.userId(AGENTS[1]), emulator.userId(AGENTS[1])]);
  });

  it('refuses to open a console before the command channel exists, and closes consoles on stop', async () => {
    const bare = newEmulator({ provision: {} });
    await bare.start();
    try {
      await expect(bare.openConsole(AGENTS[0])).rejects.toThrow(/StreamingChannel \/u\/PresenceSyncCommand does not exist/);
    } finally {
      await bare.stop();
    }
    await emulator.openConsole(AGENTS[2]);
    expect(emulator.streamingClients(AGENTS[2])).toHaveLength(1);
    await emulator.stop();
    expect(emulator.isConsoleOpen(AGENTS[2])).toBe(false);
    await emulator.stop();
  });
});
