import { JsforceSalesforceAdapter, SalesforcePresenceStream } from '@presence-sync/salesforce';
import {
  AGENTS, INTEGRATION, memoryLogger, MemoryCheckpoints, PUSH_TOPIC, RecordingSink, SalesforceEmulator, settingsFor, startEmulator, until,
} from './salesforce-test-kit';

const KEY = 'salesforce:replay:/topic/PresenceSyncUSP';

interface Harness {
  emulator: SalesforceEmulator;
  adapter: JsforceSalesforceAdapter;
  sink: RecordingSink;
  checkpoints: MemoryCheckpoints;
  gaps: string[];
  logger: ReturnType<typeof memoryLogger>;
}

const open: Harness[] = [];
const emulators: SalesforceEmulator[] = [];

async function emulatorWith(options: Parameters<typeof startEmulator>[0] = {}): Promise<SalesforceEmulator> {
  const emulator = await startEmulator(options);
  emulators.push(emulator);
  return emulator;
}

/** An adapter whose stream is started (subscribed) against the emulator. */
async function streaming(emulator: SalesforceEmulator, checkpoints = new MemoryCheckpoints(), mode: 'password' | 'client-credentials' = 'password'): Promise<Harness> {
  const logger = memoryLogger();
  const adapter = new JsforceSalesforceAdapter({
    settings: settingsFor(emulator, { mode }), checkpoints, logger, stream: { retryMinMs: 50, retryMaxMs: 500 },
  });
  const sink = new RecordingSink();
  const gaps: string[] = [];
  await adapter.start(sink, (reason) => gaps.push(reason));
  const h = { emulator, adapter, sink, checkpoints, gaps, logger };
  open.push(h);
  return h;
}

afterEach(async () => {
  for (const h of open.splice(0)) await h.adapter.stop();
  for (const e of emulators.splice(0)) await e.stop();
});

/** The PushTopic replay id of the event behind a change (event ids are `usp:<row id>:created|closed`). */
function replayIdOf(emulator: SalesforceEmulator, eventId: string | undefined): string | undefined {
  const m = /^usp:(\w+):(created|closed)$/.exec(eventId ?? '');
  if (!m) return undefined;
  const type = m[2] === 'created' ? 'created' : 'updated';
  const found = emulator.streamEvents(`/topic/${PUSH_TOPIC}`).find((e) => {
    const data = e.data as { event?: { type?: string }; sobject?: { Id?: string } };
    return data.sobject?.Id === m[1] && data.event?.type === type;
  });
  return found ? String(found.replayId) : undefined;
}

const ana = () => AGENTS[0];
const omar = () => AGENTS[1];

describe(SalesforcePresenceStream.name, () => {
  it('hands a presence change to the sink and stores its replay id after accept', async () => {
    const h = await streaming(await emulatorWith());
    expect(h.gaps).toEqual(['no stored replay id (first start): subscribing for new events only']);
    // A first start is expected: said at info, no warning that changes may have been missed.
    expect(h.logger.lines.filter((l) => l.startsWith('warn'))).toEqual([]);
    expect(h.logger.lines.some((l) => l.startsWith('info asking for a drift repair'))).toBe(true);
    h.emulator.agentSetStatus(ana(), 'Available_Chat');
    await until(() => h.sink.accepted.length === 1, 'the change');
    const [change] = h.sink.accepted;
    expect(change).toMatchObject({ side: 'salesforce', userId: h.emulator.userId(ana()), status: 'Available_Chat' });
    expect(change.eventId).toMatch(/^usp:0Bz\w+:created$/);
    expect(change.occurredAt).toBe(h.emulator.uspRows(ana())[0].statusStartDate);
    await until(() => h.checkpoints.values.get(KEY) === replayIdOf(h.emulator, change.eventId), 'the stored replay id');
  });

  it.each(['create-first', 'close-first'] as const)('reports a status change once and a logout as Offline (%s)', async (order) => {
    const h = await streaming(await emulatorWith({ statusChangeOrder: order }));
    const user = h.emulator.userId(ana());
    h.emulator.agentSetStatus(ana(), 'Available_Chat');
    h.emulator.agentSetStatus(ana(), 'Lunch');
    h.emulator.touchCapacity(ana());
    h.emulator.agentSetStatus(ana(), 'Busy');
    h.emulator.agentSetStatus(ana(), 'Offline');
    await until(() => h.sink.statusesOf(user).includes('Offline'), 'Offline');
    // The close of each previous row never reads as a logout, in either order; a capacity update is a load
    // change that keeps the status (it carries the agent's workload).
    const seen = () => h.sink.accepted.filter((c) => c.userId === user).map((c) => (c.workload && c.status !== 'Offline' ? `${c.status}+work` : c.status));
    expect(seen()).toEqual(['Available_Chat', 'Lunch', 'Lunch+work', 'Busy', 'Offline']);
    await h.adapter.stream.drained();
    expect(seen()).toEqual(['Available_Chat', 'Lunch', 'Lunch+work', 'Busy', 'Offline']);
  });

  it('resumes after 403::Unknown client (faye re-handshakes) without losing or repeating an event', async () => {
    const h = await streaming(await emulatorWith());
    h.emulator.agentSetStatus(ana(), 'Available_Chat');
    await until(() => h.sink.accepted.length === 1, 'the first change');
    expect(h.emulator.dropClient(INTEGRATION.username)).toBe(1);
    // Published while the server has forgotten the client: only replay can bring it.
    h.emulator.agentSetStatus(omar(), 'Lunch');
    h.emulator.agentSetStatus(ana(), 'Busy');
    await until(() => h.sink.accepted.length >= 3, 'the changes after the reconnect');
    await until(() => h.emulator.streamingClients(INTEGRATION.username).length === 1, 'one client again');
    h.emulator.agentSetStatus(omar(), 'Break');
    await until(() => h.sink.accepted.length >= 4, 'a change after the reconnect');
    expect(h.sink.accepted.map((c) => c.status)).toEqual(['Available_Chat', 'Lunch', 'Busy', 'Break']);
    expect(new Set(h.sink.eventIds()).size).toBe(4);
    expect(h.logger.lines.some((l) => l.includes('re-handshake'))).toBe(true);
  });

  it('re-authenticates when its token is revoked mid-stream and resumes from the stored replay id, no loss, no duplicate', async () => {
    const h = await streaming(await emulatorWith(), new MemoryCheckpoints(), 'client-credentials');
    h.emulator.agentSetStatus(ana(), 'Available_Chat');
    await until(() => h.sink.accepted.length === 1, 'the first change');
    const before = h.adapter.session.accessToken;
    h.emulator.revokeTokens(INTEGRATION.username);
    h.emulator.agentSetStatus(omar(), 'Lunch');
    h.emulator.agentSetStatus(ana(), 'Busy');
    await until(() => h.sink.accepted.length >= 3, 'the changes after re-authentication');
    expect(h.adapter.session.accessToken).not.toBe(before);
    h.emulator.agentSetStatus(omar(), 'Break');
    await until(() => h.sink.accepted.length >= 4, 'a change on the new client');
    await h.adapter.stream.drained();
    expect(h.sink.accepted.map((c) => c.status)).toEqual(['Available_Chat', 'Lunch', 'Busy', 'Break']);
    expect(new Set(h.sink.eventIds()).size).toBe(4);
    // The old client is gone; one client of the integration user remains.
    await until(() => h.emulator.streamingClients(INTEGRATION.username).length === 1, 'one client');
  });

  it('rebuilds the client when a REST call had to log in again', async () => {
    const h = await streaming(await emulatorWith(), new MemoryCheckpoints(), 'client-credentials');
    const clientBefore = h.emulator.streamingClients(INTEGRATION.username)[0]?.clientId;
    h.emulator.failNext(1, { status: 401, method: 'GET' });
    await h.adapter.listStatuses();
    await until(() => {
      const clients = h.emulator.streamingClients(INTEGRATION.username);
      return clients.length === 1 && clients[0].clientId !== clientBefore && clients[0].channels.length === 1;
    }, 'a new subscribed client');
    h.emulator.agentSetStatus(ana(), 'Lunch');
    await until(() => h.sink.accepted.length === 1, 'a change on the new client');
  });

  it('restarts from the stored replay id: changes while it was down arrive, nothing twice', async () => {
    const emulator = await emulatorWith();
    const checkpoints = new MemoryCheckpoints();
    const first = await streaming(emulator, checkpoints);
    emulator.agentSetStatus(ana(), 'Available_Chat');
    await until(() => checkpoints.values.has(KEY), 'a stored replay id');
    await first.adapter.stop();
    emulator.agentSetStatus(ana(), 'Lunch');
    emulator.agentSetStatus(omar(), 'Busy');
    const second = await streaming(emulator, checkpoints);
    expect(second.gaps).toEqual([]);
    await until(() => second.sink.accepted.length >= 2, 'the changes made while down');
    emulator.agentSetStatus(omar(), 'Break');
    await until(() => second.sink.accepted.length >= 3, 'a new change');
    expect(second.sink.accepted.map((c) => c.status)).toEqual(['Lunch', 'Busy', 'Break']);
    expect(first.sink.accepted.map((c) => c.status)).toEqual(['Available_Chat']);
  });

  it('subscribes with -1 and reports a gap when the stored replay id is no longer retained', async () => {
    const emulator = await emulatorWith();
    const checkpoints = new MemoryCheckpoints();
    await checkpoints.set(KEY, '987654');
    const h = await streaming(emulator, checkpoints);
    expect(h.gaps).toContain('replay id expired');
    h.emulator.agentSetStatus(ana(), 'Training');
    await until(() => h.sink.accepted.length === 1, 'a new change');
    expect(h.sink.accepted[0].status).toBe('Training');
    await until(() => checkpoints.values.get(KEY) !== '987654', 'the new replay id stored');
  });

  it('holds the replay id before an Offline candidate until it is decided', async () => {
    const emulator = await emulatorWith();
    const checkpoints = new MemoryCheckpoints();
    const h = await streaming(emulator, checkpoints);
    const user = emulator.userId(ana());
    emulator.agentSetStatus(ana(), 'Available_Chat');
    await until(() => h.sink.accepted.length === 1, 'the login');
    const loginReplay = replayIdOf(h.emulator, h.sink.accepted[0].eventId);
    await until(() => checkpoints.values.get(KEY) === loginReplay, 'the stored login');
    emulator.agentSetStatus(ana(), 'Offline');
    emulator.agentSetStatus(omar(), 'Lunch');
    await until(() => h.sink.statusesOf(emulator.userId(omar())).length === 1, 'the other change');
    // Omar's change is accepted, but Ana's logout is still held: the stored id stays before it.
    expect(h.sink.statusesOf(user)).toEqual(['Available_Chat']);
    expect(checkpoints.values.get(KEY)).toBe(loginReplay);
    await until(() => h.sink.statusesOf(user).includes('Offline'), 'Offline after the hold');
    // Decided: the stored id moves to the last event taken in (Omar's, which came after the logout).
    const omarReplay = replayIdOf(emulator, h.sink.accepted.find((c) => c.userId === emulator.userId(omar()))?.eventId);
    await until(() => checkpoints.values.get(KEY) === omarReplay, 'the checkpoint past the hold');
  });

  it('retries the sink until it accepts, and stores the replay id only after that', async () => {
    const h = await streaming(await emulatorWith());
    h.sink.failNext = 2;
    h.emulator.agentSetStatus(ana(), 'Lunch');
    await until(() => h.sink.accepted.length === 1, 'the change after two failed attempts');
    expect(h.checkpoints.writes).toHaveLength(1);
    expect(h.checkpoints.writes[0][1]).toBe(replayIdOf(h.emulator, h.sink.accepted[0].eventId));
  });

  it('fails to start with a clear message when the PushTopic does not exist', async () => {
    const emulator = await emulatorWith({ bare: true });
    const adapter = new JsforceSalesforceAdapter({ settings: settingsFor(emulator), checkpoints: new MemoryCheckpoints() });
    await expect(adapter.start(new RecordingSink())).rejects.toThrow(
      /cannot subscribe to \/topic\/PresenceSyncUSP: 400::The channel you requested to subscribe to does not exist.*salesforce setup/,
    );
    await adapter.stop();
    expect(emulator.streamingClients()).toEqual([]);
  });

  it('stops idempotently and leaves no client behind', async () => {
    const h = await streaming(await emulatorWith());
    await h.adapter.stop();
    await h.adapter.stop();
    await until(() => h.emulator.streamingClients(INTEGRATION.username).length === 0, 'the client gone');
  });
});
