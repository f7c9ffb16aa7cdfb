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

/**
 * One relay alone, with no election (no storage given). By default its tab has seen Omni-Channel activity (a
 * status change, or a logout by the agent when logged out), as a console where the agent works would have.
 */
function setup({ userId = USER_18, status = null, maxRemembered, omniActive = true } = {}) {
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
  if (omniActive && status) relay.omniStatusChanged(status);
  else if (omniActive) relay.omniLoggedOut(undefined);
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

describe('relay logic: the status id handed to the toolkit', () => {
  // Decision (apps/omni-relay/README.md, "Which status id the toolkit gets"): always the 15-character form, the
  // one every Omni-Channel toolkit sample and event in Salesforce's documentation shows.
  test.each([
    ['the command carries 15 characters', LUNCH_15],
    ['the command carries 18 characters', LUNCH_18],
  ])('%s -> setServicePresenceStatus gets the 15-character id', async (_name, statusId) => {
    const { relay, omni } = setup({ status: AVAILABLE });
    await expect(relay.handleMessage(message(command({ statusId })))).resolves.toMatchObject({ outcome: 'applied' });
    expect(omni.calls).toEqual([['getStatusId'], ['setStatus', LUNCH_15]]);
    expect(omni.calls[1][1]).toHaveLength(15);
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
    relay.omniStatusChanged(AVAILABLE);
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
    relay.omniStatusChanged(AVAILABLE);
    await expect(relay.handleMessage(message(command()))).resolves.toMatchObject({ outcome: 'applied' });
    await expect(relay.handleMessage(message('{'))).resolves.toMatchObject({ outcome: 'dropped' });
  });

  test('the relay is receive-only: commands and Omni-Channel events go in, only the three toolkit calls come out', async () => {
    const { relay, omni } = setup({ status: AVAILABLE });
    expect(Object.keys(relay).sort()).toEqual(['handleMessage', 'omniLoggedIn', 'omniLoggedOut', 'omniStatusChanged', 'stop']);
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

/**
 * One browser: the localStorage all its tabs share, one clock, and one timer queue in which every timer belongs
 * to a tab (so that a crashed tab can lose its timers while its lease stays behind in storage).
 */
function fakeBrowser() {
  const items = new Map();
  const storage = {
    getItem: (key) => (items.has(key) ? items.get(key) : null),
    setItem: (key, value) => { items.set(key, String(value)); },
    removeItem: (key) => { items.delete(key); },
  };
  const clock = { t: T0 };
  let timers = [];
  let nextId = 0;
  return {
    storage,
    items,
    clock,
    timersOf(owner) {
      return {
        setTimeout: (fn, ms) => { nextId += 1; timers.push({ id: nextId, owner, at: clock.t + ms, fn }); return nextId; },
        clearTimeout: (id) => { timers = timers.filter((timer) => timer.id !== id); },
      };
    },
    /** Runs every timer due within ms, in time order, moving the clock along. */
    advance(ms) {
      const end = clock.t + ms;
      for (;;) {
        const due = timers.filter((timer) => timer.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
        if (!due) break;
        timers = timers.filter((timer) => timer !== due);
        clock.t = due.at;
        due.fn();
      }
      clock.t = end;
    },
    /** The tab's process died: its timers never fire again, nothing is cleaned up. */
    crash(owner) {
      timers = timers.filter((timer) => timer.owner !== owner);
    },
  };
}

/** A console tab of USER_18 in that browser, with its own relay and its own view of the toolkit. */
function openTab(browser, name, { status = AVAILABLE } = {}) {
  const omni = fakeOmni(status);
  const logs = [];
  const timers = browser.timersOf(name);
  const relay = createRelay({
    userId: USER_18,
    omni,
    now: () => browser.clock.t,
    log: (level, text, outcome) => logs.push({ level, text, outcome }),
    storage: browser.storage,
    setTimeout: timers.setTimeout,
    clearTimeout: timers.clearTimeout,
    tabId: name,
  });
  return { name, relay, omni, logs, setStatusCalls: () => omni.calls.filter(([call]) => call === 'setStatus' || call === 'logout') };
}

/** lightning:empApi hands each subscribed tab its own copy of a message. */
function deliverToAll(tabs, body) {
  return Promise.all(tabs.map((t) => t.relay.handleMessage(message(body))));
}

describe('relay logic: one relay acts per browser', () => {
  test('two tabs receive the same command: exactly one applies it, the other stands by without touching the toolkit', async () => {
    const browser = fakeBrowser();
    const a = openTab(browser, 'tab-a');
    const b = openTab(browser, 'tab-b');
    a.relay.omniStatusChanged(AVAILABLE);
    b.relay.omniStatusChanged(AVAILABLE);
    browser.advance(10_000);

    for (const statusId of [LUNCH_15, AVAILABLE, LUNCH_18]) {
      const cmd = command({ statusId, expiresAt: browser.clock.t + 30_000 });
      const outcomes = await deliverToAll([a, b], cmd);
      expect(outcomes.filter((o) => o.outcome === 'applied')).toHaveLength(1);
      expect(outcomes.filter((o) => o.outcome === 'standby')).toEqual([expect.objectContaining({ reason: 'not-elected', commandId: cmd.commandId })]);
      browser.advance(2_000);
    }
    const [leader, other] = a.setStatusCalls().length ? [a, b] : [b, a];
    expect(leader.setStatusCalls()).toHaveLength(3);
    expect(other.omni.calls).toEqual([]);
  });

  test('a logout command is also applied by one tab only', async () => {
    const browser = fakeBrowser();
    const tabs = [openTab(browser, 'tab-a'), openTab(browser, 'tab-b'), openTab(browser, 'tab-c')];
    for (const t of tabs) t.relay.omniStatusChanged(AVAILABLE);
    browser.advance(10_000);
    const outcomes = await deliverToAll(tabs, command({ type: 'logout', statusId: undefined, expiresAt: browser.clock.t + 30_000 }));
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(['applied', 'standby', 'standby']);
    expect(tabs.flatMap((t) => t.omni.calls.filter(([call]) => call === 'logout'))).toHaveLength(1);
  });

  test('the tab where Omni-Channel logs in takes over at once, before the old tab hears it was logged out', async () => {
    const browser = fakeBrowser();
    const a = openTab(browser, 'tab-a');
    const b = openTab(browser, 'tab-b');
    a.relay.omniLoggedIn(AVAILABLE);
    browser.advance(10_000);
    await expect(a.relay.handleMessage(message(command({ expiresAt: browser.clock.t + 30_000 })))).resolves.toMatchObject({ outcome: 'applied' });

    b.relay.omniLoggedIn(AVAILABLE);
    browser.advance(1_000);
    const cmd = command({ statusId: LUNCH_15, expiresAt: browser.clock.t + 30_000 });
    const [fromA, fromB] = await deliverToAll([a, b], cmd);
    expect(fromA).toMatchObject({ outcome: 'standby', reason: 'not-elected' });
    expect(fromB).toMatchObject({ outcome: 'applied' });

    // Omni-Channel then tells tab A its session moved to another tab of this browser; A stays out for good.
    a.relay.omniLoggedOut('DuplicateLoginInSameBrowser');
    b.relay.stop();
    browser.advance(30_000);
    await expect(a.relay.handleMessage(message(command({ expiresAt: browser.clock.t + 30_000 })))).resolves.toMatchObject({ outcome: 'standby', reason: 'no-omni-activity' });
    expect(a.omni.calls.filter(([call]) => call === 'setStatus')).toHaveLength(1);
  });

  test('the elected tab hands over when it closes: the other tab applies the next command within seconds', async () => {
    const browser = fakeBrowser();
    const a = openTab(browser, 'tab-a');
    a.relay.omniStatusChanged(AVAILABLE);
    browser.advance(5_000);
    const b = openTab(browser, 'tab-b');
    b.relay.omniStatusChanged(AVAILABLE);
    browser.advance(5_000);
    const first = command({ expiresAt: browser.clock.t + 30_000 });
    expect((await deliverToAll([a, b], first)).map((o) => o.outcome)).toEqual(['applied', 'standby']);

    a.relay.stop(); // the tab closes (pagehide / component destroyed)
    browser.advance(3_000);
    const next = command({ statusId: LUNCH_18, expiresAt: browser.clock.t + 30_000 });
    await expect(b.relay.handleMessage(message(next))).resolves.toMatchObject({ outcome: 'applied' });
    await expect(a.relay.handleMessage(message(command({ expiresAt: browser.clock.t + 30_000 })))).resolves.toMatchObject({ outcome: 'standby' });
    expect(b.logs.some(({ text }) => /acts for this browser/.test(text))).toBe(true);
  });

  test('a crashed elected tab (no cleanup) is replaced once its lease runs out', async () => {
    const browser = fakeBrowser();
    const a = openTab(browser, 'tab-a');
    a.relay.omniStatusChanged(AVAILABLE);
    browser.advance(5_000);
    const b = openTab(browser, 'tab-b');
    b.relay.omniStatusChanged(AVAILABLE);
    browser.advance(5_000);
    browser.crash('tab-a');
    browser.advance(2_000);
    await expect(b.relay.handleMessage(message(command({ expiresAt: browser.clock.t + 30_000 })))).resolves.toMatchObject({ outcome: 'standby', reason: 'not-elected' });
    browser.advance(15_000);
    await expect(b.relay.handleMessage(message(command({ expiresAt: browser.clock.t + 30_000 })))).resolves.toMatchObject({ outcome: 'applied' });
  });

  test('a command a standby tab skipped is not remembered: the daemon\'s re-send is applied after the handover', async () => {
    const browser = fakeBrowser();
    const a = openTab(browser, 'tab-a');
    const b = openTab(browser, 'tab-b');
    a.relay.omniLoggedIn(AVAILABLE);
    b.relay.omniStatusChanged(AVAILABLE);
    browser.advance(5_000);
    const cmd = command({ expiresAt: browser.clock.t + 60_000 });
    a.relay.stop(); // A closed just before the command arrived; B has not taken the lease yet
    await expect(b.relay.handleMessage(message(cmd))).resolves.toMatchObject({ outcome: 'standby' });
    browser.advance(5_000);
    await expect(b.relay.handleMessage(message(cmd))).resolves.toMatchObject({ outcome: 'applied', commandId: cmd.commandId });
  });

  test('a tab that wrote the lease acts only after reading it back a moment later, so the later of two writes wins alone', async () => {
    const browser = fakeBrowser();
    const a = openTab(browser, 'tab-a');
    const b = openTab(browser, 'tab-b', { status: null });
    a.relay.omniStatusChanged(AVAILABLE);
    browser.advance(600); // A found the lease free and wrote it, but has not read it back yet
    await expect(a.relay.handleMessage(message(command({ expiresAt: browser.clock.t + 30_000 })))).resolves.toMatchObject({ outcome: 'standby', reason: 'not-elected' });
    b.relay.omniLoggedIn(LUNCH_15); // B overwrites it in the meantime
    browser.advance(5_000);
    const outcomes = await deliverToAll([a, b], command({ statusId: AVAILABLE, expiresAt: browser.clock.t + 30_000 }));
    expect(outcomes.map((o) => o.outcome)).toEqual(['standby', 'applied']);
    expect(a.omni.calls).toEqual([]);
  });
});

describe('relay logic: never log the agent in from a tab without Omni-Channel activity', () => {
  const setStatusWhile = [
    ['logged out', null],
    ['showing another status', AVAILABLE],
  ];

  test.each(setStatusWhile)('alone in the browser, no Omni-Channel event seen, toolkit %s -> standby, the toolkit is never called', async (_name, status) => {
    const browser = fakeBrowser();
    const t = openTab(browser, 'tab-a', { status });
    browser.advance(30_000);
    const outcome = await t.relay.handleMessage(message(command({ expiresAt: browser.clock.t + 30_000 })));
    expect(outcome).toMatchObject({ outcome: 'standby', reason: 'no-omni-activity' });
    expect(t.omni.calls).toEqual([]);
    expect(browser.items.size).toBe(0); // it did not even compete for the lease
  });

  test('without storage (no election) the rule holds too', async () => {
    const { relay, omni } = setup({ status: null, omniActive: false });
    await expect(relay.handleMessage(message(command()))).resolves.toMatchObject({ outcome: 'standby', reason: 'no-omni-activity' });
    expect(omni.calls).toEqual([]);
  });

  test.each([
    ['DuplicateLogin', 'Omni-Channel moved to another browser or device'],
    ['DuplicateLoginInSameBrowser', 'Omni-Channel moved to another tab of this browser'],
  ])('after a logout with reason %s (%s) the tab stops acting and gives up the lease', async (reason) => {
    const browser = fakeBrowser();
    const a = openTab(browser, 'tab-a');
    a.relay.omniLoggedIn(AVAILABLE);
    browser.advance(5_000);
    a.relay.omniLoggedOut(reason);
    expect(browser.items.size).toBe(0);
    await expect(a.relay.handleMessage(message(command({ expiresAt: browser.clock.t + 30_000 })))).resolves.toMatchObject({ outcome: 'standby', reason: 'no-omni-activity' });
    expect(a.omni.calls.filter(([call]) => call === 'setStatus')).toEqual([]);
  });

  test.each([
    ['the agent logged out in this tab', undefined],
    ['a supervisor logged the agent out', 'OmniSupervisorLogout'],
  ])('after a logout where Omni-Channel stays in this tab (%s), a setStatus may log the agent back in from here', async (_name, reason) => {
    const browser = fakeBrowser();
    const a = openTab(browser, 'tab-a', { status: null });
    a.relay.omniLoggedOut(reason);
    browser.advance(5_000);
    await expect(a.relay.handleMessage(message(command({ expiresAt: browser.clock.t + 30_000 })))).resolves.toMatchObject({ outcome: 'applied' });
    expect(a.omni.calls).toEqual([['getStatusId'], ['setStatus', LUNCH_15]]);
  });

  test('a second tab that never saw Omni-Channel does not take over when the acting tab closes', async () => {
    const browser = fakeBrowser();
    const a = openTab(browser, 'tab-a');
    const b = openTab(browser, 'tab-b', { status: null });
    a.relay.omniLoggedIn(AVAILABLE);
    browser.advance(5_000);
    a.relay.stop();
    browser.advance(30_000);
    await expect(b.relay.handleMessage(message(command({ expiresAt: browser.clock.t + 30_000 })))).resolves.toMatchObject({ outcome: 'standby', reason: 'no-omni-activity' });
    expect(b.omni.calls).toEqual([]);
  });
});

describe('relay logic: the lease in storage', () => {
  test('a corrupt lease entry counts as free', async () => {
    const browser = fakeBrowser();
    browser.storage.setItem('presence-sync-relay.leader.005xx000001Sv6A', '{not json');
    const a = openTab(browser, 'tab-a');
    a.relay.omniStatusChanged(AVAILABLE);
    browser.advance(5_000);
    await expect(a.relay.handleMessage(message(command({ expiresAt: browser.clock.t + 30_000 })))).resolves.toMatchObject({ outcome: 'applied' });
    expect(JSON.parse(browser.items.get('presence-sync-relay.leader.005xx000001Sv6A'))).toMatchObject({ tab: 'tab-a' });
  });

  test('storage that throws (blocked by the browser) falls back to "every tab with Omni-Channel activity acts", with a warning', async () => {
    const browser = fakeBrowser();
    const broken = { getItem() { throw new Error('SecurityError'); }, setItem() { throw new Error('SecurityError'); }, removeItem() { throw new Error('SecurityError'); } };
    const timers = browser.timersOf('tab-a');
    const logs = [];
    const omni = fakeOmni(AVAILABLE);
    const relay = createRelay({ userId: USER_18, omni, now: () => browser.clock.t, log: (level, text) => logs.push({ level, text }), storage: broken, setTimeout: timers.setTimeout, clearTimeout: timers.clearTimeout });
    relay.omniStatusChanged(AVAILABLE);
    browser.advance(5_000);
    await expect(relay.handleMessage(message(command({ expiresAt: browser.clock.t + 30_000 })))).resolves.toMatchObject({ outcome: 'applied' });
    expect(logs.filter(({ level, text }) => level === 'warn' && /localStorage/.test(text))).toHaveLength(1);
  });

  test('stop() releases only its own lease and stops its timers', () => {
    const browser = fakeBrowser();
    const a = openTab(browser, 'tab-a');
    const b = openTab(browser, 'tab-b');
    a.relay.omniStatusChanged(AVAILABLE);
    browser.advance(5_000);
    b.relay.omniStatusChanged(AVAILABLE);
    b.relay.stop(); // B never held it: A's lease stays
    expect(JSON.parse(browser.items.get('presence-sync-relay.leader.005xx000001Sv6A'))).toMatchObject({ tab: 'tab-a' });
    a.relay.stop();
    expect(browser.items.size).toBe(0);
    browser.advance(60_000);
    expect(browser.items.size).toBe(0);
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
