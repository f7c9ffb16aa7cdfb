// Unit tests of the console relay's decision logic (docs/salesforce-command-protocol.md).
// Plain CommonJS on purpose: the module under test is the exact file Salesforce serves as a static resource.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

const MODULE_PATH = path.join(__dirname, '../force-app/main/default/staticresources/PresenceSyncRelayLogic.js');
const { createRelay, parseMessage } = require(MODULE_PATH);

const USER_15 = '005xx000001Sv6A';
const USER_18 = '005xx000001Sv6AAAC';
const OTHER_USER = '005xx000001Sv6B';
const LUNCH_15 = '0N5xx0000000001';
const LUNCH_18 = '0N5xx0000000001AAE';
const AVAILABLE = '0N5xx0000000002';
const T0 = 1_795_271_700_000;

/** A controllable promise, to hold a toolkit call open while another message arrives. */
function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

/** The omni adapter the Aura helper builds around lightning:omniToolkitAPI, as an in-memory fake. */
function fakeOmni(initial = null) {
  const omni = {
    current: initial,
    calls: [],
    hold: { setStatus: null, logout: null },
    fail: { getStatusId: null, setStatus: null, logout: null },
    async getStatusId() {
      omni.calls.push(['getStatusId']);
      if (omni.fail.getStatusId) throw omni.fail.getStatusId;
      return omni.current;
    },
    async setStatus(statusId) {
      omni.calls.push(['setStatus', statusId]);
      if (omni.hold.setStatus) await omni.hold.setStatus.promise;
      if (omni.fail.setStatus) throw omni.fail.setStatus;
      omni.current = statusId;
    },
    async logout() {
      omni.calls.push(['logout']);
      if (omni.hold.logout) await omni.hold.logout.promise;
      if (omni.fail.logout) throw omni.fail.logout;
      omni.current = null;
    },
  };
  return omni;
}

function setup({ userId = USER_18, status = null, maxRemembered } = {}) {
  const clock = { t: T0 };
  const omni = fakeOmni(status);
  const logs = [];
  const relay = createRelay({
    userId,
    omni,
    now: () => clock.t,
    log: (level, text, outcome) => logs.push({ level, text, outcome }),
    maxRemembered,
  });
  return { relay, omni, clock, logs };
}

let seq = 0;
function command(overrides = {}) {
  seq += 1;
  return { v: 1, type: 'setStatus', commandId: `cmd-${seq}`, userId: USER_18, statusId: LUNCH_15, status: 'Lunch', expiresAt: T0 + 30_000, ...overrides };
}

/** The shape lightning:empApi hands to the subscribe callback for a generic streaming event. */
function message(body) {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  return { channel: '/u/PresenceSyncCommand', data: { event: { createdDate: '2026-11-21T10:00:00.000Z', replayId: 7 }, payload } };
}

function without(obj, key) {
  const copy = { ...obj };
  delete copy[key];
  return copy;
}

describe('relay logic: drops', () => {
  const cases = [
    ['payload is an object, not a string', () => ({ channel: '/u/PresenceSyncCommand', data: { payload: command() } }), 'malformed'],
    ['message without data', () => ({ channel: '/u/PresenceSyncCommand' }), 'malformed'],
    ['message is null', () => null, 'malformed'],
    ['payload is not JSON', () => message('{"v":1,'), 'malformed'],
    ['payload is a JSON array', () => message('[1,2]'), 'malformed'],
    ['payload is JSON null', () => message('null'), 'malformed'],
    ['unknown version v=2', () => message(command({ v: 2 })), 'unsupported-version'],
    ['version missing', () => message(without(command(), 'v')), 'unsupported-version'],
    ['version as a string "1"', () => message(command({ v: '1' })), 'unsupported-version'],
    ['unknown type', () => message(command({ type: 'login' })), 'malformed'],
    ['commandId missing', () => message(without(command(), 'commandId')), 'malformed'],
    ['commandId empty', () => message(command({ commandId: '' })), 'malformed'],
    ['userId missing', () => message(without(command(), 'userId')), 'malformed'],
    ['userId of 16 characters', () => message(command({ userId: `${USER_15}A` })), 'malformed'],
    ['setStatus without statusId', () => message(without(command(), 'statusId')), 'malformed'],
    ['statusId not an id', () => message(command({ statusId: 'Lunch' })), 'malformed'],
    ['expiresAt missing', () => message(without(command(), 'expiresAt')), 'malformed'],
    ['expiresAt as a string', () => message(command({ expiresAt: String(T0 + 30_000) })), 'malformed'],
    ['expiresAt not finite (1e999 in JSON)', () => message(JSON.stringify(command()).replace(/"expiresAt":\d+/, '"expiresAt":1e999')), 'malformed'],
    ['command for another user', () => message(command({ userId: OTHER_USER })), 'foreign-user'],
    ['another user differing only in case (15-char ids are case-sensitive)', () => message(command({ userId: USER_15.toLowerCase() })), 'foreign-user'],
    ['expired one millisecond ago', () => message(command({ expiresAt: T0 - 1 })), 'expired'],
  ];

  test.each(cases.map(([name, build, reason]) => ({ name, build, reason })))('$name -> dropped ($reason), toolkit untouched', async ({ build, reason }) => {
    const { relay, omni, logs } = setup({ status: AVAILABLE });
    const outcome = await relay.handleMessage(build());
    expect(outcome).toMatchObject({ outcome: 'dropped', reason });
    expect(omni.calls).toEqual([]);
    expect(logs).toHaveLength(1);
    expect(logs[0].level).toBe('warn');
    expect(logs[0].outcome).toBe(outcome);
  });

  test('a malformed command names every bad field', async () => {
    const { relay } = setup();
    const outcome = await relay.handleMessage(message({ v: 1, type: 'setStatus', commandId: 'c-x', userId: 'nope' }));
    expect(outcome).toMatchObject({ outcome: 'dropped', reason: 'malformed', commandId: 'c-x' });
    expect(outcome.detail).toBe('missing or invalid: userId, statusId, expiresAt');
  });

  test('logout needs no statusId', () => {
    const parsed = parseMessage(message(without(command({ type: 'logout' }), 'statusId')));
    expect(parsed.command).toMatchObject({ type: 'logout', statusId: undefined });
  });

  test('an odd status (it is only for logs) does not cost the command', async () => {
    const { relay, omni } = setup({ status: AVAILABLE });
    const outcome = await relay.handleMessage(message(command({ status: 42 })));
    expect(outcome).toMatchObject({ outcome: 'applied' });
    expect(outcome.status).toBeUndefined();
    expect(omni.current).toBe(LUNCH_15);
  });
});

describe('relay logic: setStatus and logout', () => {
  const cases = [
    // name, console shows, command, expected outcome, expected toolkit calls
    ['setStatus while another status is shown', AVAILABLE, { type: 'setStatus', statusId: LUNCH_15 }, { outcome: 'applied' },
      [['getStatusId'], ['setStatus', LUNCH_15]]],
    ['setStatus while logged out (the toolkit logs the agent in)', null, { type: 'setStatus', statusId: LUNCH_15 }, { outcome: 'applied' },
      [['getStatusId'], ['setStatus', LUNCH_15]]],
    ['setStatus already shown', LUNCH_15, { type: 'setStatus', statusId: LUNCH_15 }, { outcome: 'already', reason: 'status-shown' },
      [['getStatusId']]],
    ['setStatus already shown, console reports 18 chars, command has 15', LUNCH_18, { type: 'setStatus', statusId: LUNCH_15 },
      { outcome: 'already', reason: 'status-shown' }, [['getStatusId']]],
    ['setStatus already shown, console reports 15 chars, command has 18', LUNCH_15, { type: 'setStatus', statusId: LUNCH_18 },
      { outcome: 'already', reason: 'status-shown' }, [['getStatusId']]],
    ['logout while logged in', AVAILABLE, { type: 'logout', statusId: undefined, status: 'Offline' }, { outcome: 'applied' },
      [['getStatusId'], ['logout']]],
    ['logout while logged out', null, { type: 'logout', statusId: undefined, status: 'Offline' }, { outcome: 'already', reason: 'logged-out' },
      [['getStatusId']]],
    ['logout while the toolkit reports an empty status id', '', { type: 'logout', statusId: undefined }, { outcome: 'already', reason: 'logged-out' },
      [['getStatusId']]],
  ];

  test.each(cases)('%s', async (_name, shown, overrides, expected, calls) => {
    const { relay, omni, logs } = setup({ status: shown });
    const cmd = command(overrides);
    const outcome = await relay.handleMessage(message(cmd));
    expect(outcome).toMatchObject({ ...expected, commandId: cmd.commandId, type: cmd.type });
    expect(omni.calls).toEqual(calls);
    expect(logs).toEqual([{ level: 'info', text: expect.stringContaining(expected.outcome), outcome }]);
  });
});

describe('relay logic: 15- and 18-character user ids', () => {
  const cases = [
    ['relay 18, command 18', USER_18, USER_18],
    ['relay 18, command 15', USER_18, USER_15],
    ['relay 15, command 18', USER_15, USER_18],
    ['relay 15, command 15', USER_15, USER_15],
    ['relay 18, command with another checksum suffix', USER_18, `${USER_15}ZZZ`],
  ];

  test.each(cases)('%s -> own command, applied', async (_name, relayUser, commandUser) => {
    const { relay, omni } = setup({ userId: relayUser, status: AVAILABLE });
    await expect(relay.handleMessage(message(command({ userId: commandUser })))).resolves.toMatchObject({ outcome: 'applied' });
    expect(omni.current).toBe(LUNCH_15);
  });

  test('createRelay refuses a user id that is not a Salesforce id', () => {
    expect(() => createRelay({ userId: 'agent-1', omni: fakeOmni() })).toThrow(/userId/);
    expect(() => createRelay({ userId: undefined, omni: fakeOmni() })).toThrow(/userId/);
  });

  test('createRelay refuses an incomplete omni adapter', () => {
    expect(() => createRelay({ userId: USER_18, omni: { getStatusId() {}, setStatus() {} } })).toThrow(/omni/);
  });
});

describe('relay logic: repeated command ids', () => {
  test('a command id is applied once; the re-send is dropped as duplicate', async () => {
    const { relay, omni } = setup({ status: AVAILABLE });
    const cmd = command();
    await expect(relay.handleMessage(message(cmd))).resolves.toMatchObject({ outcome: 'applied' });
    omni.current = AVAILABLE; // the agent changed it back by hand: the same command must still not re-apply
    await expect(relay.handleMessage(message({ ...cmd, expiresAt: T0 + 60_000 }))).resolves.toMatchObject({ outcome: 'dropped', reason: 'duplicate' });
    expect(omni.calls.filter(([name]) => name === 'setStatus')).toHaveLength(1);
  });

  test('an id that ended as "already" is remembered too', async () => {
    const { relay, omni } = setup({ status: LUNCH_15 });
    const cmd = command();
    await expect(relay.handleMessage(message(cmd))).resolves.toMatchObject({ outcome: 'already' });
    await expect(relay.handleMessage(message(cmd))).resolves.toMatchObject({ outcome: 'dropped', reason: 'duplicate' });
    expect(omni.calls).toEqual([['getStatusId']]);
  });

  test('a failed command is not remembered, so the daemon re-send can still apply it', async () => {
    const { relay, omni } = setup({ status: AVAILABLE });
    const cmd = command();
    omni.fail.setStatus = new Error('Omni-Channel is reconnecting');
    await expect(relay.handleMessage(message(cmd))).resolves.toMatchObject({ outcome: 'failed' });
    omni.fail.setStatus = null;
    await expect(relay.handleMessage(message(cmd))).resolves.toMatchObject({ outcome: 'applied', commandId: cmd.commandId });
  });

  test('two copies of one command arriving together apply once', async () => {
    const { relay, omni } = setup({ status: AVAILABLE });
    const cmd = command();
    const [first, second] = await Promise.all([relay.handleMessage(message(cmd)), relay.handleMessage(message(cmd))]);
    expect(first).toMatchObject({ outcome: 'applied' });
    expect(second).toMatchObject({ outcome: 'dropped', reason: 'duplicate' });
    expect(omni.calls.filter(([name]) => name === 'setStatus')).toHaveLength(1);
  });

  test('only the last maxRemembered ids are kept', async () => {
    const { relay, omni } = setup({ status: AVAILABLE, maxRemembered: 2 });
    const a = command({ statusId: LUNCH_15 });
    const b = command({ statusId: AVAILABLE });
    const c = command({ statusId: LUNCH_15 });
    for (const cmd of [a, b, c]) await expect(relay.handleMessage(message(cmd))).resolves.toMatchObject({ outcome: 'applied' });
    // a fell out of memory: it is judged afresh (and Lunch is shown, so nothing is written)
    await expect(relay.handleMessage(message(a))).resolves.toMatchObject({ outcome: 'already' });
    // c is still remembered
    await expect(relay.handleMessage(message(c))).resolves.toMatchObject({ outcome: 'dropped', reason: 'duplicate' });
    expect(omni.calls.filter(([name]) => name === 'setStatus')).toHaveLength(3);
  });
});

describe('relay logic: expiry', () => {
  const cases = [
    ['expiresAt equals now', 0, 'applied'],
    ['expiresAt one millisecond ahead', 1, 'applied'],
    ['expiresAt one millisecond behind', -1, 'dropped'],
  ];

  test.each(cases.map(([name, offset, expected]) => ({ name, offset, expected })))('$name -> $expected', async ({ offset, expected }) => {
    const { relay, clock } = setup({ status: AVAILABLE });
    clock.t = T0 + 10_000;
    const outcome = await relay.handleMessage(message(command({ expiresAt: clock.t + offset })));
    expect(outcome.outcome).toBe(expected);
    if (expected === 'dropped') expect(outcome.reason).toBe('expired');
  });

  test('a command that expires while waiting behind a slow one is dropped when its turn comes', async () => {
    const { relay, omni, clock } = setup({ status: AVAILABLE });
    omni.hold.setStatus = deferred();
    const slow = relay.handleMessage(message(command({ statusId: LUNCH_15 })));
    const late = relay.handleMessage(message(command({ statusId: AVAILABLE, expiresAt: T0 + 5_000 })));
    await new Promise((resolve) => setImmediate(resolve));
    clock.t = T0 + 5_001;
    omni.hold.setStatus.resolve();
    await expect(slow).resolves.toMatchObject({ outcome: 'applied' });
    await expect(late).resolves.toMatchObject({ outcome: 'dropped', reason: 'expired' });
    expect(omni.current).toBe(LUNCH_15);
  });
});

describe('relay logic: toolkit failures', () => {
  const cases = [
    ['setServicePresenceStatus rejects with an Error', 'setStatus', new Error('Agent is on a call'), 'Agent is on a call'],
    ['setServicePresenceStatus rejects with a plain object', 'setStatus', { errorCode: 'UNKNOWN' }, '{"errorCode":"UNKNOWN"}'],
    ['setServicePresenceStatus rejects with a string', 'setStatus', 'Omni-Channel not loaded', 'Omni-Channel not loaded'],
    ['getServicePresenceStatusId rejects', 'getStatusId', new Error('toolkit unavailable'), 'toolkit unavailable'],
  ];

  test.each(cases)('%s -> failed with the reason', async (_name, method, error, detail) => {
    const { relay, omni, logs } = setup({ status: AVAILABLE });
    omni.fail[method] = error;
    const cmd = command();
    const outcome = await relay.handleMessage(message(cmd));
    expect(outcome).toEqual({ outcome: 'failed', reason: 'toolkit-error', detail, commandId: cmd.commandId, type: 'setStatus', status: 'Lunch' });
    expect(logs[0].level).toBe('warn');
  });

  test('logout rejects -> failed', async () => {
    const { relay, omni } = setup({ status: AVAILABLE });
    omni.fail.logout = new Error('logout failed');
    await expect(relay.handleMessage(message(command({ type: 'logout' })))).resolves.toMatchObject({ outcome: 'failed', detail: 'logout failed' });
  });

  test('an adapter that throws synchronously is a failure, not a crash', async () => {
    const logs = [];
    const omni = {
      getStatusId: () => { throw new Error('sync boom'); },
      setStatus: () => Promise.resolve(),
      logout: () => Promise.resolve(),
    };
    const relay = createRelay({ userId: USER_18, omni, now: () => T0, log: (level, text) => logs.push(text) });
    await expect(relay.handleMessage(message(command()))).resolves.toMatchObject({ outcome: 'failed', detail: 'sync boom' });
  });

  test('a failure does not block the next command', async () => {
    const { relay, omni } = setup({ status: AVAILABLE });
    omni.fail.setStatus = new Error('busy');
    const first = relay.handleMessage(message(command({ statusId: LUNCH_15 })));
    const second = relay.handleMessage(message(command({ type: 'logout' })));
    await expect(first).resolves.toMatchObject({ outcome: 'failed' });
    await expect(second).resolves.toMatchObject({ outcome: 'applied' });
  });
});

describe('relay logic: ordering and isolation', () => {
  test('two concurrent commands run one after the other, in arrival order', async () => {
    const { relay, omni } = setup({ status: AVAILABLE });
    omni.hold.setStatus = deferred();
    const order = [];
    const first = relay.handleMessage(message(command({ statusId: LUNCH_15 }))).then((o) => { order.push('first'); return o; });
    const second = relay.handleMessage(message(command({ type: 'logout' }))).then((o) => { order.push('second'); return o; });
    await new Promise((resolve) => setImmediate(resolve));
    // The second command has not even read the status while the first is still writing.
    expect(omni.calls).toEqual([['getStatusId'], ['setStatus', LUNCH_15]]);
    omni.hold.setStatus.resolve();
    await expect(first).resolves.toMatchObject({ outcome: 'applied' });
    await expect(second).resolves.toMatchObject({ outcome: 'applied' });
    expect(order).toEqual(['first', 'second']);
    expect(omni.calls).toEqual([['getStatusId'], ['setStatus', LUNCH_15], ['getStatusId'], ['logout']]);
    expect(omni.current).toBeNull();
  });

  test('the second of two equal commands sees the first one\'s result', async () => {
    const { relay, omni } = setup({ status: AVAILABLE });
    omni.hold.setStatus = deferred();
    const first = relay.handleMessage(message(command({ statusId: LUNCH_15 })));
    const second = relay.handleMessage(message(command({ statusId: LUNCH_18 })));
    await new Promise((resolve) => setImmediate(resolve));
    omni.hold.setStatus.resolve();
    await expect(first).resolves.toMatchObject({ outcome: 'applied' });
    await expect(second).resolves.toMatchObject({ outcome: 'already', reason: 'status-shown' });
  });

  test('drops do not wait behind a slow command', async () => {
    const { relay, omni } = setup({ status: AVAILABLE });
    omni.hold.setStatus = deferred();
    const slow = relay.handleMessage(message(command()));
    await expect(relay.handleMessage(message(command({ userId: OTHER_USER })))).resolves.toMatchObject({ reason: 'foreign-user' });
    await expect(relay.handleMessage(message('not json'))).resolves.toMatchObject({ reason: 'malformed' });
    omni.hold.setStatus.resolve();
    await slow;
  });

  test('a throwing logger changes nothing', async () => {
    const omni = fakeOmni(AVAILABLE);
    const relay = createRelay({ userId: USER_18, omni, now: () => T0, log: () => { throw new Error('log sink down'); } });
    await expect(relay.handleMessage(message(command()))).resolves.toMatchObject({ outcome: 'applied' });
    await expect(relay.handleMessage(message('{'))).resolves.toMatchObject({ outcome: 'dropped' });
  });

  test('the relay is receive-only: its only entry point is handleMessage and it only uses the three toolkit calls', async () => {
    const { relay, omni } = setup({ status: AVAILABLE });
    expect(Object.keys(relay)).toEqual(['handleMessage']);
    await relay.handleMessage(message(command()));
    await relay.handleMessage(message(command({ type: 'logout' })));
    expect(new Set(omni.calls.map(([name]) => name))).toEqual(new Set(['getStatusId', 'setStatus', 'logout']));
  });

  test('handleMessage never throws, whatever it is given', async () => {
    const { relay } = setup();
    for (const input of [undefined, 42, 'text', [], { data: null }, { data: { payload: 5 } }]) {
      await expect(relay.handleMessage(input)).resolves.toMatchObject({ outcome: 'dropped', reason: 'malformed' });
    }
  });
});

describe('relay logic: packaging', () => {
  test('loaded as a browser script (ltng:require) it defines window.PresenceSyncRelayLogic', () => {
    const source = fs.readFileSync(MODULE_PATH, 'utf8');
    const sandbox = { window: {} };
    vm.runInNewContext(source, sandbox, { filename: 'PresenceSyncRelayLogic.js' });
    expect(typeof sandbox.window.PresenceSyncRelayLogic.createRelay).toBe('function');
    expect(sandbox.window.PresenceSyncRelayLogic.PROTOCOL_VERSION).toBe(1);
  });

  test('the static resource uses no syntax newer than ES5 (it is served as-is to the console)', () => {
    const source = fs.readFileSync(MODULE_PATH, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    expect(source).not.toMatch(/=>|\b(let|const|class|async|await)\s|`/);
  });
});
