import { randomUUID } from 'node:crypto';
import { PermanentWriteError, RateLimitedError, RetryableWriteError, type PresenceCommand } from '@presence-sync/domain';
import { JsforceSalesforceAdapter } from '@presence-sync/salesforce';
import {
  AGENTS, MemoryCheckpoints, RecordingSink, SalesforceEmulator, settingsFor, startEmulator, until,
} from './salesforce-test-kit';

let emulator: SalesforceEmulator;
let adapter: JsforceSalesforceAdapter;
let sink: RecordingSink;

beforeEach(async () => {
  emulator = await startEmulator({ users: AGENTS.map((email, i) => ({ username: email, email, ...(i === 2 ? { status: 'Busy' } : {}) })) });
  adapter = new JsforceSalesforceAdapter({ settings: settingsFor(emulator, { mode: 'jwt' }), checkpoints: new MemoryCheckpoints() });
  sink = new RecordingSink();
});
afterEach(async () => {
  await adapter.stop();
  await emulator.stop();
});

const command = (email: string, status: string): PresenceCommand => ({
  userId: emulator.userId(email), status, commandId: randomUUID(), expiresAt: Date.now() + 30_000,
});

async function failure(call: Promise<unknown>): Promise<Error> {
  try {
    await call;
  } catch (e) {
    if (e instanceof Error) return e;
  }
  throw new Error('expected a failure');
}

describe(JsforceSalesforceAdapter.name, () => {
  it('pushes to an open console, which applies it; the presence stream shows the new status', async () => {
    await adapter.start(sink);
    await emulator.openConsole(AGENTS[0]);
    const cmd = command(AGENTS[0], 'Available_Chat');
    await expect(adapter.sendStatus(cmd)).resolves.toEqual({ kind: 'confirm-pending' });
    await until(() => sink.statusesOf(cmd.userId).includes('Available_Chat'), 'the stream to show the status');
    expect(emulator.statusOf(AGENTS[0])).toBe('Available_Chat');
    const push = emulator.pushes.at(-1);
    expect(push?.userIds).toEqual([cmd.userId]);
    expect(JSON.parse(push?.payload ?? '{}')).toEqual({
      v: 1, type: 'setStatus', commandId: cmd.commandId, userId: cmd.userId, statusId: expect.stringMatching(/^0N5/),
      status: 'Available_Chat', expiresAt: cmd.expiresAt,
    });
  });

  it('sends Offline as a logout, which the stream reports as Offline', async () => {
    await adapter.start(sink);
    await emulator.openConsole(AGENTS[2]);
    const cmd = command(AGENTS[2], 'Offline');
    await adapter.sendStatus(cmd);
    await until(() => sink.statusesOf(cmd.userId).includes('Offline'), 'Offline on the stream');
    expect(JSON.parse(emulator.pushes.at(-1)?.payload ?? '{}')).toMatchObject({ type: 'logout' });
    expect(emulator.consoleStats(AGENTS[2]).applied).toBe(1);
  });

  it('reports a closed console as RetryableWriteError(console-closed)', async () => {
    const e = await failure(adapter.sendStatus(command(AGENTS[1], 'Lunch')));
    expect(e).toBeInstanceOf(RetryableWriteError);
    expect(e).toMatchObject({ reason: 'console-closed' });
    await emulator.openConsole(AGENTS[0]);
    // Another user's open console does not count.
    expect(await failure(adapter.sendStatus(command(AGENTS[1], 'Lunch')))).toMatchObject({ reason: 'console-closed' });
  });

  it('spends no push on a console known closed, and says when it is open again', async () => {
    const watching = new JsforceSalesforceAdapter({ settings: { ...settingsFor(emulator, { mode: 'jwt' }), consolePollMs: 50 }, checkpoints: new MemoryCheckpoints() });
    const back: string[] = [];
    const unsubscribe = watching.onConsoleOnline((userId) => back.push(userId));
    try {
      const cmd = command(AGENTS[1], 'Lunch');
      expect(await failure(watching.sendStatus(cmd))).toMatchObject({ reason: 'console-closed' });
      expect(emulator.pushes).toHaveLength(1);
      expect(watching.closedConsoleUsers).toEqual([cmd.userId]);
      // Retries while the console stays closed cost nothing: no push, whatever the queue's attempts.
      for (let i = 0; i < 5; i++) expect(await failure(watching.sendStatus({ ...cmd, commandId: randomUUID() }))).toMatchObject({ reason: 'console-closed' });
      await watching.pollConsoles();
      expect(await failure(watching.sendStatus(cmd))).toMatchObject({ reason: 'console-closed' });
      expect(emulator.pushes).toHaveLength(1);
      expect(back).toEqual([]);

      await emulator.openConsole(AGENTS[1]);
      await until(() => back.length === 1, 'the console-online signal');
      expect(back).toEqual([cmd.userId]);
      expect(watching.closedConsoleUsers).toEqual([]);
      await expect(watching.sendStatus(cmd)).resolves.toEqual({ kind: 'confirm-pending' });
      expect(emulator.pushes).toHaveLength(2);
      await emulator.waitFor(() => emulator.statusOf(AGENTS[1]) === 'Lunch', 5_000, 'the command applied');
    } finally {
      unsubscribe();
      watching.stopConsoleWatch();
    }
  });

  it('pushes every write when the console poll is off', async () => {
    const cmd = command(AGENTS[1], 'Lunch');
    await failure(adapter.sendStatus(cmd));
    await failure(adapter.sendStatus(cmd));
    expect(emulator.pushes).toHaveLength(2);
    expect(adapter.closedConsoleUsers).toEqual([]);
  });

  it('pauses long when the daily API allocation is spent and briefly at the concurrent-request limit', async () => {
    await emulator.openConsole(AGENTS[0]);
    await adapter.listStatuses();
    emulator.failNext(1, { status: 403, body: [{ errorCode: 'REQUEST_LIMIT_EXCEEDED', message: 'TotalRequests Limit exceeded.' }] });
    expect(await failure(adapter.sendStatus(command(AGENTS[0], 'Lunch')))).toMatchObject({ retryAfterMs: 900_000 });
    emulator.failNext(1, { status: 403, body: [{ errorCode: 'REQUEST_LIMIT_EXCEEDED', message: 'ConcurrentRequests (Concurrent API Requests) Limit exceeded.' }] });
    expect(await failure(adapter.sendStatus(command(AGENTS[0], 'Lunch')))).toMatchObject({ retryAfterMs: 60_000 });
    emulator.setRequestLimitExceeded(true);
    expect(await failure(adapter.listUsers())).toMatchObject({ retryAfterMs: 900_000 });
    emulator.setRequestLimitExceeded(false);
  });

  it('reads only active standard users, then only the users changed since', async () => {
    const org = await startEmulator({
      users: [
        ...AGENTS.map((email) => ({ username: email, email })),
        { username: 'chatter@acme.example', email: 'chatter@acme.example', userType: 'CsnOnly' },
        { username: 'gone@acme.example', email: 'gone@acme.example', isActive: false },
      ],
    });
    const a = new JsforceSalesforceAdapter({ settings: settingsFor(org), checkpoints: new MemoryCheckpoints() });
    try {
      const first = await a.listUsers();
      expect(first.map((u) => u.username).sort()).toEqual([...AGENTS, 'integration@acme.example'].sort());
      const soql: string[] = [];
      const request = a.session.connection.request.bind(a.session.connection);
      jest.spyOn(a.session.connection, 'request').mockImplementation(((req: { url: string }, options?: object) => {
        soql.push(decodeURIComponent(req.url.replace(/^.*\?q=/, '')));
        return request(req as never, options as never);
      }) as never);
      org.updateUser(AGENTS[0], { isActive: false });
      org.updateUser('gone@acme.example', { isActive: true });
      const second = await a.listUsers();
      expect(second.map((u) => u.username).sort()).toEqual([AGENTS[1], AGENTS[2], 'gone@acme.example', 'integration@acme.example'].sort());
      expect(soql).toEqual([expect.stringMatching(/^SELECT .* FROM User WHERE SystemModstamp >= \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)]);
    } finally {
      await org.stop();
    }
  });

  it('refuses an unknown status for good, without pushing', async () => {
    await emulator.openConsole(AGENTS[0]);
    const e = await failure(adapter.sendStatus(command(AGENTS[0], 'No_Such_Status')));
    expect(e).toBeInstanceOf(PermanentWriteError);
    expect(e).toMatchObject({ reason: 'unknown-status' });
    expect(emulator.pushes).toHaveLength(0);
  });

  it('classifies failures of the push: rate limit, server error, bad request', async () => {
    await emulator.openConsole(AGENTS[0]);
    await adapter.listStatuses();
    emulator.failNext(1, { status: 403, method: 'POST', path: /\/push$/ });
    const limited = await failure(adapter.sendStatus(command(AGENTS[0], 'Lunch')));
    expect(limited).toBeInstanceOf(RateLimitedError);
    expect(limited).toMatchObject({ retryAfterMs: 60_000 });
    emulator.failNext(1, { status: 503, method: 'POST', path: /\/push$/ });
    expect(await failure(adapter.sendStatus(command(AGENTS[0], 'Lunch')))).toMatchObject({ reason: 'server-error', httpStatus: 503 });
    emulator.failNext(1, { status: 400, method: 'POST', path: /\/push$/ });
    const bad = await failure(adapter.sendStatus(command(AGENTS[0], 'Lunch')));
    expect(bad).toBeInstanceOf(PermanentWriteError);
    expect(bad).toMatchObject({ reason: 'INVALID_FIELD' });
    // jsforce never retries a POST, and neither does the adapter: one push per attempt.
    expect(emulator.pushes).toHaveLength(0);
    await adapter.sendStatus(command(AGENTS[0], 'Lunch'));
    expect(emulator.pushes).toHaveLength(1);
  });

  it('says the command channel is missing until setup creates it', async () => {
    const bare = await startEmulator({ bare: true });
    const a = new JsforceSalesforceAdapter({ settings: settingsFor(bare), checkpoints: new MemoryCheckpoints() });
    try {
      const e = await failure(a.sendStatus(command(AGENTS[0], 'Lunch')));
      expect(e).toMatchObject({ reason: 'no-command-channel' });
      expect(e.message).toMatch(/presence-sync salesforce setup/);
    } finally {
      await bare.stop();
    }
  });

  it('reads the catalog, every user across query pages, and the current presence snapshot', async () => {
    const paged = await startEmulator({
      queryBatchSize: 2,
      users: AGENTS.map((email, i) => ({ username: email, email, federationIdentifier: `fed-${i}`, ...(i === 0 ? { status: 'Lunch' } : {}) })),
    });
    const a = new JsforceSalesforceAdapter({ settings: settingsFor(paged), checkpoints: new MemoryCheckpoints() });
    try {
      const statuses = await a.listStatuses();
      expect(statuses.map((s) => s.developerName)).toEqual(expect.arrayContaining(['Available_Chat', 'Lunch', 'Busy']));
      const users = await a.listUsers();
      expect(users).toHaveLength(AGENTS.length + 1);
      expect(users.find((u) => u.email === AGENTS[1])).toMatchObject({ federationId: 'fed-1', active: true, username: AGENTS[1] });
      const presence = await a.currentPresence();
      expect(presence).toEqual([{
        userId: paged.userId(AGENTS[0]), status: 'Lunch', since: paged.uspRows(AGENTS[0])[0].statusStartDate,
        workload: { channels: {}, load: 0, capacity: 10 },
      }]);
    } finally {
      await paged.stop();
    }
  });
});
