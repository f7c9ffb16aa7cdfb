// Wiring tests of the Aura bundle: the helper and controller are evaluated as Aura does (an object literal in
// parentheses) against fakes of $A, lightning:empApi and lightning:omniToolkitAPI. The decisions themselves are
// covered by relay-logic.spec.js; this checks that the thin layer connects them correctly.
const fs = require('node:fs');
const path = require('node:path');

const BUNDLE = path.join(__dirname, '../force-app/main/default/aura/PresenceSyncRelay');
const LOGIC = require('../force-app/main/default/staticresources/PresenceSyncRelayLogic.js');
const USER_ID = '005xx000001Sv6AAAC';
const LUNCH = '0N5xx0000000001';
const AVAILABLE = '0N5xx0000000002';

function loadAuraObject(file, globals) {
  const source = fs.readFileSync(path.join(BUNDLE, file), 'utf8');
  const names = Object.keys(globals);
  // eslint-disable-next-line no-new-func
  return new Function(...names, `return ${source};`)(...names.map((n) => globals[n]));
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

function harness({ empEnabled = true, status = AVAILABLE, statusRejects = false } = {}) {
  const timers = [];
  const logs = [];
  const window = {
    PresenceSyncRelayLogic: LOGIC,
    setTimeout: (fn, ms) => { timers.push({ fn, ms }); return timers.length; },
    clearTimeout: (id) => { if (timers[id - 1]) timers[id - 1].cleared = true; },
  };
  const console = { info: (t) => logs.push(['info', t]), warn: (t) => logs.push(['warn', t]) };
  const $A = { getCallback: (fn) => fn, get: (key) => (key === '$SObjectType.CurrentUser.Id' ? USER_ID : undefined) };

  let nextId = 0;
  const empApi = {
    subscriptions: [],
    unsubscribed: [],
    errorHandler: null,
    debug: false,
    isEmpEnabled: () => Promise.resolve(empEnabled),
    setDebugFlag(flag) { empApi.debug = flag; },
    onError(cb) { empApi.errorHandler = cb; },
    subscribe(channel, replayId, callback) {
      const sub = { channel, replayId, id: ++nextId, callback };
      empApi.subscriptions.push(sub);
      return Promise.resolve(sub);
    },
    unsubscribe(sub, cb) { empApi.unsubscribed.push(sub.id); cb({ successful: true }); },
    deliver(body) {
      const live = empApi.subscriptions.filter((s) => !empApi.unsubscribed.includes(s.id));
      for (const s of live) s.callback({ channel: s.channel, data: { event: { replayId: 1 }, payload: JSON.stringify(body) } });
    },
  };
  const toolkit = {
    current: status,
    calls: [],
    getServicePresenceStatusId() {
      toolkit.calls.push('get');
      if (statusRejects) return Promise.reject(new Error('not logged in'));
      return toolkit.current ? Promise.resolve({ statusId: toolkit.current, statusName: 'x', statusApiName: 'x' }) : Promise.reject(new Error('offline'));
    },
    setServicePresenceStatus({ statusId }) { toolkit.calls.push(`set:${statusId}`); toolkit.current = statusId; return Promise.resolve({ statusId, channels: '[]' }); },
    logout() { toolkit.calls.push('logout'); toolkit.current = null; return Promise.resolve(true); },
  };
  const cmp = {
    valid: true,
    debug: false,
    channel: '/u/PresenceSyncCommand', // the attribute's default in PresenceSyncRelay.cmp
    getGlobalId: () => '1:0',
    isValid: () => cmp.valid,
    get: (expr) => ({ 'v.debug': cmp.debug, 'v.channel': cmp.channel })[expr],
    find: (id) => ({ empApi, omniToolkit: toolkit })[id],
  };
  const helper = loadAuraObject('PresenceSyncRelayHelper.js', { $A, window, console, Promise, Date, Math, JSON });
  helper.instances = {};
  const controller = loadAuraObject('PresenceSyncRelayController.js', {});
  const event = (params = {}) => ({ getParam: (name) => params[name] });
  return { helper, controller, cmp, empApi, toolkit, timers, logs, event };
}

function command(overrides = {}) {
  return { v: 1, type: 'setStatus', commandId: `c-${Math.random()}`, userId: USER_ID, statusId: LUNCH, status: 'Lunch', expiresAt: Date.now() + 30_000, ...overrides };
}

describe('Aura wiring', () => {
  test('subscribes to /u/PresenceSyncCommand with replay -1 and applies a command through the toolkit', async () => {
    const h = harness();
    h.controller.onScriptsLoaded(h.cmp, h.event(), h.helper);
    await flush();
    expect(h.empApi.subscriptions.map((s) => [s.channel, s.replayId])).toEqual([['/u/PresenceSyncCommand', -1]]);
    h.empApi.deliver(command());
    await flush();
    expect(h.toolkit.calls).toEqual(['get', `set:${LUNCH}`]);
    expect(h.empApi.debug).toBe(false);
  });

  test('starting twice (afterScriptsLoaded fires again) keeps one subscription', async () => {
    const h = harness();
    h.controller.onScriptsLoaded(h.cmp, h.event(), h.helper);
    h.controller.onScriptsLoaded(h.cmp, h.event(), h.helper);
    await flush();
    expect(h.empApi.subscriptions).toHaveLength(1);
  });

  test('the channel property of the utility item overrides the default channel', async () => {
    const h = harness();
    h.cmp.channel = ' /u/AcmePresenceCommand ';
    h.controller.onScriptsLoaded(h.cmp, h.event(), h.helper);
    await flush();
    expect(h.empApi.subscriptions.map((s) => s.channel)).toEqual(['/u/AcmePresenceCommand']);
  });

  test('an empty channel property falls back to /u/PresenceSyncCommand', async () => {
    const h = harness();
    h.cmp.channel = '';
    h.controller.onScriptsLoaded(h.cmp, h.event(), h.helper);
    await flush();
    expect(h.empApi.subscriptions.map((s) => s.channel)).toEqual(['/u/PresenceSyncCommand']);
  });

  test('the debug attribute turns on empApi debug logging', async () => {
    const h = harness();
    h.cmp.debug = true;
    h.controller.onScriptsLoaded(h.cmp, h.event(), h.helper);
    await flush();
    expect(h.empApi.debug).toBe(true);
  });

  test('a streaming error re-subscribes after a backoff, releasing the old subscription first', async () => {
    const h = harness();
    h.controller.onScriptsLoaded(h.cmp, h.event(), h.helper);
    await flush();
    h.empApi.errorHandler({ error: '403::Unknown client' });
    h.empApi.errorHandler({ error: '403::Unknown client' }); // a second report while a retry is pending adds nothing
    expect(h.timers).toHaveLength(1);
    expect(h.timers[0].ms).toBeGreaterThanOrEqual(1000);
    expect(h.timers[0].ms).toBeLessThanOrEqual(2000);
    h.timers[0].fn();
    await flush();
    expect(h.empApi.unsubscribed).toEqual([1]);
    expect(h.empApi.subscriptions).toHaveLength(2);
    // Repeated errors back off further.
    h.empApi.errorHandler({ error: 'again' });
    expect(h.timers[1].ms).toBeGreaterThanOrEqual(2000);
    expect(h.timers[1].ms).toBeLessThanOrEqual(4000);
  });

  test('isEmpEnabled() false: no subscription, a retry is scheduled', async () => {
    const h = harness({ empEnabled: false });
    h.controller.onScriptsLoaded(h.cmp, h.event(), h.helper);
    await flush();
    expect(h.empApi.subscriptions).toHaveLength(0);
    expect(h.timers).toHaveLength(1);
    expect(h.logs.some(([level, text]) => level === 'warn' && /isEmpEnabled/.test(text))).toBe(true);
  });

  test('destroy unsubscribes and cancels a pending retry', async () => {
    const h = harness();
    h.controller.onScriptsLoaded(h.cmp, h.event(), h.helper);
    await flush();
    h.empApi.errorHandler({ error: 'x' });
    h.controller.onDestroy(h.cmp, h.event(), h.helper);
    expect(h.empApi.unsubscribed).toEqual([1]);
    expect(h.timers[0].cleared).toBe(true);
    expect(h.helper.instances).toEqual({});
  });

  test('logout: when the toolkit cannot report a status, Omni-Channel events decide whether to log out', async () => {
    const h = harness({ statusRejects: true });
    h.controller.onOmniStatusChanged(h.cmp, h.event({ statusId: AVAILABLE }), h.helper);
    h.controller.onScriptsLoaded(h.cmp, h.event(), h.helper);
    await flush();
    h.empApi.deliver(command({ type: 'logout', statusId: undefined }));
    await flush();
    expect(h.toolkit.calls).toEqual(['get', 'logout']);
  });

  test('logout: after an Omni-Channel logout event, a logout command is "already" done', async () => {
    const h = harness({ statusRejects: true });
    h.controller.onScriptsLoaded(h.cmp, h.event(), h.helper);
    h.controller.onOmniLogout(h.cmp, h.event(), h.helper);
    await flush();
    h.empApi.deliver(command({ type: 'logout', statusId: undefined }));
    await flush();
    expect(h.toolkit.calls).toEqual(['get']);
    expect(h.logs.some(([, text]) => /already \(logged-out\)/.test(text))).toBe(true);
  });

  test('a destroyed component turns commands into failures instead of touching the toolkit', async () => {
    const h = harness();
    h.controller.onScriptsLoaded(h.cmp, h.event(), h.helper);
    await flush();
    h.cmp.valid = false;
    h.empApi.deliver(command());
    await flush();
    expect(h.toolkit.calls).toEqual([]);
    expect(h.logs.some(([level, text]) => level === 'warn' && /failed \(toolkit-error\).*destroyed/.test(text))).toBe(true);
  });
});
