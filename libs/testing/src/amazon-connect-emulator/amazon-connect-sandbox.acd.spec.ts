import { AmazonConnectConnector } from '@presence-sync/connector-amazon-connect';
import { RecordingSink } from '../conformance/connector-harness';
import { AmazonConnectSandboxAcd, amazonConnectSeedOf } from './amazon-connect-sandbox.acd';

const CATALOG = {
  teams: [{ teamId: 't1', name: 'Sales', unavailableCodes: ['Lunch', 'Break'] }, { teamId: 't2', name: 'Support', unavailableCodes: ['Lunch', 'Training'] }],
  agents: [
    { agentId: 'x1', email: 'ann@example.com', teamId: 't1', state: { state: 'Available' as const } },
    { agentId: 'x2', email: 'bob@example.com', teamId: 't2', state: { state: 'Unavailable' as const, code: 'Training' } },
    { agentId: 'x3', email: 'cai@example.com', teamId: 't2', state: { state: 'Offline' as const } },
  ],
};

async function until(what: string, ok: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within 5 s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe(AmazonConnectSandboxAcd.name, () => {
  let acd: AmazonConnectSandboxAcd;
  let connector: AmazonConnectConnector;
  const sink = new RecordingSink();
  const changed: string[] = [];

  beforeAll(async () => {
    acd = new AmazonConnectSandboxAcd();
    await acd.start(CATALOG);
    acd.onStateChange((id) => changed.push(id));
    const env = acd.daemonEnv();
    const sdk = acd.sdkEnv();
    connector = new AmazonConnectConnector({
      instanceId: env.AMAZON_CONNECT_INSTANCE_ID, region: env.AMAZON_CONNECT_REGION, agentEventStream: env.AMAZON_CONNECT_AGENT_EVENT_STREAM,
      connectEndpoint: env.AMAZON_CONNECT_ENDPOINT, kinesisEndpoint: env.AMAZON_CONNECT_KINESIS_ENDPOINT,
      credentials: { accessKeyId: sdk.AWS_ACCESS_KEY_ID as string, secretAccessKey: sdk.AWS_SECRET_ACCESS_KEY as string },
      requestsPerSecond: Number(env.AMAZON_CONNECT_REQUESTS_PER_SECOND), burst: Number(env.AMAZON_CONNECT_BURST), pollIntervalMs: 20,
    });
    await connector.start();
    await connector.source.start(sink, sink.onGap);
  });

  afterAll(async () => {
    await connector?.stop();
    await acd?.stop();
  });

  it('points the daemon at the emulator with the connector\'s settings and the AWS credential chain\'s variables', () => {
    expect(acd.daemonEnv()).toMatchObject({ ACD_CONNECTOR: 'amazon-connect', AMAZON_CONNECT_ENDPOINT: acd.url });
    expect(acd.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(acd.daemonEnv().AMAZON_CONNECT_KINESIS_ENDPOINT).not.toBe(acd.url);
    expect(Object.keys(acd.sdkEnv()).sort()).toEqual(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']);
  });

  it('seeds teams as routing profiles and every code as an instance-wide CUSTOM status the connector lists', async () => {
    const teams = await connector.listTeams();
    expect(teams.map((t) => t.name).sort()).toEqual(['Sales', 'Support']);
    for (const t of teams) expect([...t.unavailableCodes].sort()).toEqual(['Break', 'Lunch', 'Training']);
    const [ann, bob, cai] = acd.agents();
    expect(ann).toMatchObject({ email: 'ann@example.com', teamName: 'Sales', state: { state: 'Available' } });
    expect(bob).toMatchObject({ teamName: 'Support', state: { state: 'Unavailable', code: 'Training' } });
    expect(cai.state).toEqual({ state: 'Offline' });
    const listed = await connector.listAgents();
    expect(listed.map((a) => [a.email, a.state])).toEqual([
      ['ann@example.com', { state: 'Available' }], ['bob@example.com', { state: 'Unavailable', code: 'Training' }], ['cai@example.com', { state: 'Offline' }],
    ]);
  });

  it('a status the agent picks goes out on the agent event stream', async () => {
    const [ann] = acd.agents();
    acd.agentSetState(ann.agentId, { state: 'Unavailable', code: 'Break' });
    expect(changed).toContain(ann.agentId);
    await until('the streamed change', () => sink.of(ann.agentId).some((c) => c.side === 'acd' && c.state.code === 'Break'));
    acd.agentSetState(ann.agentId, { state: 'Available' });
    expect(acd.agents()[0].state).toEqual({ state: 'Available' });
  });

  it('refuses what Connect does not offer: Unavailable without a status, a call to a logged-out agent, a second call', () => {
    const [ann, , cai] = acd.agents();
    expect(() => acd.agentSetState(ann.agentId, { state: 'Unavailable' })).toThrow(/no Unavailable without a status/);
    expect(() => acd.agentSetState(ann.agentId, { state: 'Busy' })).toThrow(/comes from contacts/);
    expect(() => acd.startCall(cai.agentId)).toThrow(/logged out/);
    expect(() => acd.endCall(ann.agentId)).toThrow(/not on a call/);
    expect(() => acd.endWrapUp(ann.agentId)).toThrow(/not in after-contact work/);
  });

  it('a write during a contact is the next status, applied when after-contact work ends', async () => {
    const [, bob] = acd.agents();
    acd.startCall(bob.agentId);
    expect(() => acd.startCall(bob.agentId)).toThrow(/already on a contact/);
    expect(await connector.setState({ agentId: bob.agentId, state: { state: 'Unavailable', code: 'Lunch' }, requestId: 'r1' })).toEqual({ kind: 'deferred' });
    expect(acd.agents()[1]).toMatchObject({ state: { state: 'Busy' }, next: { state: 'Unavailable', code: 'Lunch' } });
    acd.endCall(bob.agentId);
    expect(acd.agents()[1]).toMatchObject({ state: { state: 'AfterWork' }, next: { state: 'Unavailable', code: 'Lunch' } });
    acd.endWrapUp(bob.agentId);
    expect(acd.agents()[1].state).toEqual({ state: 'Unavailable', code: 'Lunch' });
    expect(acd.agents()[1].next).toBeUndefined();
    // The agent's own pick during a contact is the next status too.
    acd.startCall(bob.agentId);
    acd.agentSetState(bob.agentId, { state: 'Available' });
    expect(acd.agents()[1]).toMatchObject({ state: { state: 'Busy' }, next: { state: 'Available' } });
    acd.endCall(bob.agentId, { wrapUp: false });
    expect(acd.agents()[1].state).toEqual({ state: 'Available' });
  });

  it('the emulator answers the connector\'s next calls with the injected fault', async () => {
    const [ann] = acd.agents();
    acd.failNext(1, 429, { retryAfterSec: 2 });
    await expect(connector.setState({ agentId: ann.agentId, state: { state: 'Offline' }, requestId: 'r2' })).rejects.toMatchObject({ retryAfterMs: 2_000 });
  });
});

describe(amazonConnectSeedOf.name, () => {
  it('refuses a seed Connect cannot hold, with the reason', () => {
    const team = { teamId: 't1', name: 'Sales', unavailableCodes: ['Lunch'] };
    expect(() => amazonConnectSeedOf({ teams: [team], agents: [{ agentId: 'x', email: 'x@example.com', teamId: 't1', state: { state: 'Unavailable' } }] }))
      .toThrow(/without a code/);
    expect(() => amazonConnectSeedOf({ teams: [{ ...team, unavailableCodes: ['Offline'] }], agents: [] })).toThrow(/OFFLINE status/);
  });
});
