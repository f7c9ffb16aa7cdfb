import { GenesysConnector, genesysRetryAfterMs } from '@presence-sync/connector-genesys';
import { ConfigError } from '@presence-sync/domain';
import { genesysConformanceOrg, makeGenesysHarness, type GenesysHarness } from '../conformance/genesys.harness';
import { GenesysEmulator } from './genesys-emulator';

async function until(what: string, probe: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe(GenesysConnector.name, () => {
  let h: GenesysHarness | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  it('splits the topics over channels of at most the topic limit (two topics per agent)', async () => {
    // 4 topics per channel: 2 agents each, so the 3 users need 2 channels.
    h = await makeGenesysHarness({ emulator: { maxTopicsPerChannel: 4 }, source: { topicsPerChannel: 4 } });
    expect(h.emulator.channelCount).toBe(2);
    expect(h.connector.source.openChannels).toBe(2);
    expect(h.connector.source.uncovered).toBe(0);
  });

  it('subscribes no more agents than the channel limit allows and says how many are left to drift repair', async () => {
    h = await makeGenesysHarness({ emulator: { maxTopicsPerChannel: 4 }, source: { topicsPerChannel: 4, maxChannels: 1 } });
    expect(h.connector.source.openChannels).toBe(1);
    expect(h.connector.source.uncovered).toBe(1);
  });

  it('with after-call work off, subscribes the activity topic only: twice the agents per channel', async () => {
    // 4 topics per channel and one topic per agent: the 3 users fit in one channel, with no conversations topic.
    h = await makeGenesysHarness({ emulator: { maxTopicsPerChannel: 4 }, source: { topicsPerChannel: 4, afterCallWork: false } });
    expect(h.emulator.channelCount).toBe(1);
    expect(h.connector.source.uncovered).toBe(0);
    const topics = h.emulator.subscribedTopics();
    expect(topics.length).toBe(3);
    expect(topics.every((t) => t.endsWith('.activity'))).toBe(true);
  });

  it('reuses its channel when the WebSocket drops, so reconnects do not pile up channels', async () => {
    h = await makeGenesysHarness();
    const harness = h;
    for (let i = 0; i < 3; i++) {
      const before = harness.connector.source.connects;
      harness.emulator.disconnectAll();
      await until('a reconnect', () => harness.connector.source.connects > before);
    }
    expect(harness.emulator.channelCount).toBe(1);
    expect(harness.connector.source.openChannels).toBe(1);
  });

  it('reopens its channel when it expires, and backfills', async () => {
    h = await makeGenesysHarness({ emulator: { channelTtlMs: 400 } });
    const harness = h;
    const before = harness.connector.source.connects;
    await until('a reconnect after the channel expired', () => harness.connector.source.connects > before);
  });

  it('reconnects on a maintenance-close announcement and when heartbeats stop', async () => {
    h = await makeGenesysHarness({ source: { heartbeatTimeoutMs: 300 } });
    const harness = h;
    let before = harness.connector.source.connects;
    harness.emulator.announceSocketClosing();
    await until('a reconnect after socket_closing', () => harness.connector.source.connects > before);
    // The emulator's heartbeat is 30 s: the 300 ms watchdog takes the silent channel as dead.
    before = harness.connector.source.connects;
    await until('a reconnect after missed heartbeats', () => harness.connector.source.connects > before);
  });

  it('a streamed change costs no API call; a write costs one (presence definitions cached)', async () => {
    h = await makeGenesysHarness();
    const [{ agentId }] = h.agents;
    await h.connector.setState({ agentId, state: { state: 'Unavailable', code: 'Lunch' }, requestId: 'r1' });
    await h.settle();
    const requests = h.emulator.requests.length;
    await h.connector.setState({ agentId, state: { state: 'Available' }, requestId: 'r2' });
    expect(h.emulator.requests.length - requests).toBe(1);
    await h.settle();
    const afterWrite = h.emulator.requests.length;
    await h.agentSets(agentId, { state: 'Unavailable', code: 'Break' });
    await until('the streamed change', () => h?.received.of(agentId).some((c) => c.side === 'acd' && c.state.code === 'Break') ?? false);
    expect(h.emulator.requests.length).toBe(afterWrite);
  });

  it('refuses to start with wrong client credentials, in one line', async () => {
    const emulator = new GenesysEmulator(genesysConformanceOrg());
    const { baseUrl } = await emulator.start();
    try {
      const connector = new GenesysConnector({ apiBaseUrl: baseUrl, clientId: emulator.credentials.clientId, clientSecret: 'wrong' });
      await expect(connector.start()).rejects.toThrow(ConfigError);
    } finally {
      await emulator.stop();
    }
  });

  it('lists a presence scoped to a division among that division\'s codes only', async () => {
    h = await makeGenesysHarness();
    const teams = await h.connector.listTeams();
    expect(teams.find((t) => t.name === 'Other')?.unavailableCodes).toContain('Coaching');
    expect(teams.find((t) => t.teamId === h?.team.teamId)?.unavailableCodes).not.toContain('Coaching');
    expect(teams.find((t) => t.teamId === h?.team.teamId)?.unavailableCodes).not.toContain('Training');
  });

  it('reads the pause of a 429 from Retry-After, else inin-ratelimit-reset', () => {
    expect(genesysRetryAfterMs({ 'retry-after': '3' })).toBe(3000);
    expect(genesysRetryAfterMs({ 'inin-ratelimit-reset': '7' })).toBe(7000);
    expect(genesysRetryAfterMs({})).toBe(1000);
  });
});
