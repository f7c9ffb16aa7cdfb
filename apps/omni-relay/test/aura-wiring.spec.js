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

/**
 * browser (optional): { localStorage, setTimeout, clearTimeout } shared by several harnesses, i.e. several tabs
 * of one browser. Without it the tab has no localStorage (the relay then runs without an election) and its
 * timers are only recorded, for the backoff tests.
 */
function harness({ empEnabled = true, status = AVAILABLE, statusRejects = false, browser = null } = {}) {
  const timers = [];
  const logs = [];
  const listeners = {};
  const window = {
    PresenceSyncRelayLogic: LOGIC,
    setTimeout: browser ? browser.setTimeout : (fn, ms) => { timers.push({ fn, ms }); return timers.length; },
    clearTimeout: browser ? browser.clearTimeout : (id) => { if (timers[id - 1]) timers[id - 1].cleared = true; },
    addEventListener: (type, fn) => { (listeners[type] = listeners[type] || []).push(fn); },
    removeEventListener: (type, fn) => { listeners[type] = (listeners[type] || []).filter((f) => f !== fn); },
    dispatch: (type, event) => { for (const fn of listeners[type] || []) fn(event); },
    listeners,
  };
  if (browser) window.localStorage = browser.localStorage;
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
    setServicePresenceStatus({ statusId }) { toolkit.calls.push(`set:${statusId}`); toolkit.current = statusId; return Promise.resolve({ statusId, statusName: 'x', statusApiName: 'x', channels: '[]' }); },
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
  return { helper, controller, cmp, empApi, toolkit, timers, logs, event, window };
}

function command(overrides = {}) {
  return { v: 1, type: 'setStatus', commandId: `c-${Math.random()}`, userId: USER_ID, statusId: LUNCH, status: 'Lunch', expiresAt: Date.now() + 30_000, ...overrides };
}

describe('Aura wiring', () => {
  test('subscribes to /u/PresenceSyncCommand with replay -1 and applies a command through the toolkit', async () => {
    const h = harness();
    h.controller.onScriptsLoaded(h.cmp, h.event(), h.helper);
    h.controller.onOmniLogin(h.cmp, h.event({ statusId: AVAILABLE }), h.helper);
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
    h.controller.onOmniStatusChanged(h.cmp, h.event({ statusId: AVAILABLE }), h.helper);
    await flush();
    h.cmp.valid = false;
    h.empApi.deliver(command());
    await flush();
    expect(h.toolkit.calls).toEqual([]);
    expect(h.logs.some(([level, text]) => level === 'warn' && /failed \(toolkit-error\).*destroyed/.test(text))).toBe(true);
  });

  test('Omni-Channel events that arrive before the static resource loads are replayed into the relay', async () => {
    const h = harness();
    h.controller.onOmniLogin(h.cmp, h.event({ statusId: AVAILABLE }), h.helper);
    h.controller.onScriptsLoaded(h.cmp, h.event(), h.helper);
    await flush();
    h.empApi.deliver(command());
    await flush();
    expect(h.toolkit.calls).toEqual(['get', `set:${LUNCH}`]);
  });

  test('a console tab without any Omni-Channel event never calls setServicePresenceStatus', async () => {
    const h = harness({ status: null });
    h.controller.onScriptsLoaded(h.cmp, h.event(), h.helper);
    await flush();
    h.empApi.deliver(command());
    h.empApi.deliver(command({ type: 'logout', statusId: undefined }));
    await flush();
    expect(h.toolkit.calls).toEqual([]);
    expect(h.logs.filter(([, text]) => /standby \(no-omni-activity\)/.test(text))).toHaveLength(2);
  });

  test('the logout event\'s reason reaches the relay: Omni-Channel moving to another tab stops this one', async () => {
    const h = harness();
    h.controller.onScriptsLoaded(h.cmp, h.event(), h.helper);
    h.controller.onOmniLogin(h.cmp, h.event({ statusId: AVAILABLE }), h.helper);
    h.controller.onOmniLogout(h.cmp, h.event({ reason: 'DuplicateLoginInSameBrowser' }), h.helper);
    await flush();
    h.empApi.deliver(command());
    await flush();
    expect(h.toolkit.calls).toEqual([]);
  });

  test('the toolkit gets the 15-character status id when the daemon sends 18 characters', async () => {
    const h = harness();
    h.controller.onScriptsLoaded(h.cmp, h.event(), h.helper);
    h.controller.onOmniStatusChanged(h.cmp, h.event({ statusId: AVAILABLE }), h.helper);
    await flush();
    h.empApi.deliver(command({ statusId: `${LUNCH}AAE` }));
    await flush();
    expect(h.toolkit.calls).toEqual(['get', `set:${LUNCH}`]);
  });

  describe('two tabs of one browser', () => {
    /** A shared localStorage and timer queue; run() fires the timers due within ms. */
    function fakeBrowser() {
      const items = new Map();
      let queue = [];
      let clock = 0;
      let nextId = 0;
      return {
        items,
        localStorage: {
          getItem: (k) => (items.has(k) ? items.get(k) : null),
          setItem: (k, v) => { items.set(k, String(v)); },
          removeItem: (k) => { items.delete(k); },
        },
        setTimeout: (fn, ms) => { nextId += 1; queue.push({ id: nextId, at: clock + ms, fn }); return nextId; },
        clearTimeout: (id) => { queue = queue.filter((t) => t.id !== id); },
        run(ms) {
          const end = clock + ms;
          for (;;) {
            const due = queue.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
            if (!due) break;
            queue = queue.filter((t) => t !== due);
            clock = due.at;
            due.fn();
          }
          clock = end;
        },
      };
    }

    async function openTab(browser) {
      const h = harness({ browser });
      h.controller.onScriptsLoaded(h.cmp, h.event(), h.helper);
      await flush();
      return h;
    }

    function deliverToBoth(a, b, body) {
      a.empApi.deliver(body);
      b.empApi.deliver(body);
      return flush();
    }

    test('only the tab where Omni-Channel logged in applies a command both receive; it hands over on pagehide', async () => {
      const browser = fakeBrowser();
      const a = await openTab(browser);
      const b = await openTab(browser);
      a.controller.onOmniLogin(a.cmp, a.event({ statusId: AVAILABLE }), a.helper);
      b.controller.onOmniStatusChanged(b.cmp, b.event({ statusId: AVAILABLE }), b.helper);
      browser.run(5_000);

      await deliverToBoth(a, b, command());
      expect(a.toolkit.calls).toEqual(['get', `set:${LUNCH}`]);
      expect(b.toolkit.calls).toEqual([]);
      expect([...browser.items.keys()]).toEqual(['presence-sync-relay.leader.005xx000001Sv6A']);

      a.window.dispatch('pagehide', { persisted: false }); // tab A closes
      browser.run(5_000);
      await deliverToBoth(a, b, command());
      expect(a.toolkit.calls).toEqual(['get', `set:${LUNCH}`]);
      expect(b.toolkit.calls).toEqual(['get', `set:${LUNCH}`]);
      expect(b.logs.some(([, text]) => /this tab now acts for this browser/.test(text))).toBe(true);
    });

    test('destroy releases the lease and removes the pagehide listener', async () => {
      const browser = fakeBrowser();
      const a = await openTab(browser);
      a.controller.onOmniLogin(a.cmp, a.event({ statusId: AVAILABLE }), a.helper);
      browser.run(5_000);
      expect(browser.items.size).toBe(1);
      a.controller.onDestroy(a.cmp, a.event(), a.helper);
      expect(browser.items.size).toBe(0);
      expect(a.window.listeners.pagehide).toEqual([]);
    });
  });
});
