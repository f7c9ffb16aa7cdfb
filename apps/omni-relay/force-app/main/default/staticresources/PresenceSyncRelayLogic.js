/*
 * presence-sync console relay: the decision logic.
 *
 * Implements docs/salesforce-command-protocol.md (daemon -> console relay). Everything that decides lives
 * here, with no Salesforce or browser dependency, so it runs unchanged under jest (CommonJS) and in the
 * Aura component (loaded by ltng:require as window.PresenceSyncRelayLogic). The Aura bundle only wires
 * lightning:empApi and lightning:omniToolkitAPI to it.
 *
 * The relay is receive-only on purpose: it never publishes, never reacts to status changes, and reports
 * nothing back. The daemon confirms a command by seeing the new UserServicePresence row on its own
 * presence stream, which is also what makes a sync loop through the relay impossible.
 *
 * One relay acts per browser. lightning:empApi delivers every command to every console tab of the user, and
 * calling the toolkit from a tab where Omni-Channel is not running would log the agent in there and so out of
 * the console where they work. So a relay acts only if its tab has seen Omni-Channel activity (the login,
 * status and logout events the Aura component forwards), and, among such tabs of one browser, only the one
 * holding a lease in localStorage (see createLease). Every other tab answers "standby" and touches nothing.
 *
 * Written in ES5 syntax (plus Promise) because it is served as-is to whatever browser runs the console.
 */
(function (root, factory) {
  if (typeof module === 'object' && module && module.exports) {
    module.exports = factory();
  } else {
    root.PresenceSyncRelayLogic = factory();
  }
})(typeof window !== 'undefined' ? window : this, function () {
  'use strict';

  var PROTOCOL_VERSION = 1;
  var DEFAULT_MAX_REMEMBERED = 200;
  // Salesforce ids are 15 (case-sensitive) or 18 (15 + case-insensitive checksum) characters; the first 15
  // characters identify the record, so that is what every comparison uses.
  var ID_PATTERN = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;

  // The lease (see createLease). A holder renews every HEARTBEAT_MS; another tab may take a lease that was not
  // renewed for LEASE_MS, so a crashed tab is replaced within about LEASE_MS + HEARTBEAT_MS. A tab that wrote
  // the lease acts only after reading it back SETTLE_MS later: of two tabs writing at the same moment, only the
  // later write survives, and only its author reads its own id back.
  var LEASE_KEY_PREFIX = 'presence-sync-relay.leader.';
  var HEARTBEAT_MS = 2000;
  var SETTLE_MS = 500;
  var LEASE_MS = 7000;
  // lightning:omniChannelLogout reasons meaning Omni-Channel now runs elsewhere (another browser or device, or
  // another tab of this browser). Other reasons (none, a supervisor, maintenance) leave Omni-Channel in this tab.
  var MOVED_AWAY_REASONS = { DuplicateLogin: true, DuplicateLoginInSameBrowser: true };

  function idKey(id) {
    return id.substring(0, 15);
  }

  function isValidId(value) {
    return typeof value === 'string' && ID_PATTERN.test(value);
  }

  function isNonEmptyString(value) {
    return typeof value === 'string' && value.length > 0;
  }

  function dropped(reason, detail, command) {
    var outcome = { outcome: 'dropped', reason: reason };
    if (detail) outcome.detail = detail;
    return withCommand(outcome, command);
  }

  function withCommand(outcome, command) {
    if (command) {
      outcome.commandId = command.commandId;
      outcome.type = command.type;
      if (command.status !== undefined) outcome.status = command.status;
    }
    return outcome;
  }

  function errorMessage(err) {
    if (err && typeof err.message === 'string' && err.message) return err.message;
    if (typeof err === 'string' && err) return err;
    try {
      var json = JSON.stringify(err);
      if (json && json !== '{}') return json;
    } catch (ignored) {
      // An unserialisable error still has to produce a reason.
    }
    return String(err);
  }

  /**
   * Parses and validates one empApi message. Returns { command } or { outcome } (a drop).
   * Pure: no clock, no memory, so it can run the moment a message arrives.
   */
  function parseMessage(message) {
    var payload = message && message.data ? message.data.payload : undefined;
    if (typeof payload !== 'string') return { outcome: dropped('malformed', 'data.payload is not a string') };

    var body;
    try {
      body = JSON.parse(payload);
    } catch (err) {
      return { outcome: dropped('malformed', 'payload is not valid JSON') };
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      return { outcome: dropped('malformed', 'payload is not a JSON object') };
    }
    // A version we do not know may mean anything: ignore it rather than guess (protocol: "ignores a version
    // it does not know"). Checked before the other fields because a future version may change them.
    if (body.v !== PROTOCOL_VERSION) return { outcome: dropped('unsupported-version', 'v=' + String(body.v)) };

    var problems = [];
    if (body.type !== 'setStatus' && body.type !== 'logout') problems.push('type');
    if (!isNonEmptyString(body.commandId)) problems.push('commandId');
    if (!isValidId(body.userId)) problems.push('userId');
    if (body.type === 'setStatus' && !isValidId(body.statusId)) problems.push('statusId');
    if (typeof body.expiresAt !== 'number' || !isFinite(body.expiresAt)) problems.push('expiresAt');
    if (problems.length) {
      // Keep what is readable for the log line; the command is not trusted for anything else.
      var partial = isNonEmptyString(body.commandId) ? { commandId: body.commandId, type: body.type } : null;
      return { outcome: dropped('malformed', 'missing or invalid: ' + problems.join(', '), partial) };
    }

    return {
      command: {
        type: body.type,
        commandId: body.commandId,
        userId: body.userId,
        statusId: body.type === 'setStatus' ? body.statusId : undefined,
        // Only for logs and the audit trail; an odd value is ignored rather than costing the agent a command.
        status: typeof body.status === 'string' ? body.status : undefined,
        expiresAt: body.expiresAt,
      },
    };
  }

  /**
   * A lease in the browser's localStorage naming the one tab whose relay acts. localStorage rather than
   * BroadcastChannel: Salesforce documents localStorage for components under both Lightning Locker and Lightning
   * Web Security (each namespace gets its own view of it, which suits us: only this relay reads the key), while
   * we found nothing about BroadcastChannel under Locker. Nothing relies on storage events either; every tab
   * reads the lease on its own heartbeat and whenever a command arrives.
   *
   * options: { storage, key, tabId, now, setTimeout, clearTimeout, onChange(leading), onBroken(error) }
   * Only an eligible tab (one that has seen Omni-Channel activity) takes a free or expired lease.
   */
  function createLease(options) {
    var storage = options.storage;
    var key = options.key;
    var tabId = options.tabId;
    var now = options.now;
    var eligible = false;
    // True once this tab read its own id back after writing it; reset as soon as it reads another tab's id.
    var confirmed = false;
    var broken = false;
    var stopped = false;
    var timer = null;

    function fail(err) {
      // Storage the browser refuses (privacy settings, full quota) cannot coordinate anything. Falling back to
      // "act if this tab has seen Omni-Channel activity" keeps the relay working; that rule alone already keeps
      // it out of tabs where Omni-Channel does not run.
      if (!broken) {
        broken = true;
        options.onBroken(err);
      }
    }

    function read() {
      var raw;
      try {
        raw = storage.getItem(key);
      } catch (err) {
        fail(err);
        return null;
      }
      if (!raw) return null;
      try {
        var lease = JSON.parse(raw);
        // Anything unreadable counts as free: the next write replaces it.
        return lease && typeof lease.tab === 'string' && typeof lease.until === 'number' ? lease : null;
      } catch (ignored) {
        return null;
      }
    }

    function write() {
      try {
        storage.setItem(key, JSON.stringify({ tab: tabId, until: now() + LEASE_MS }));
      } catch (err) {
        fail(err);
      }
    }

    function release() {
      var lease = read();
      if (!lease || lease.tab !== tabId) return;
      try {
        storage.removeItem(key);
      } catch (err) {
        fail(err);
      }
    }

    function setConfirmed(value) {
      if (confirmed === value) return;
      confirmed = value;
      options.onChange(value);
    }

    function schedule(ms) {
      if (stopped || broken) return;
      if (timer !== null) options.clearTimeout(timer);
      timer = options.setTimeout(tick, ms);
    }

    function tick() {
      timer = null;
      if (stopped || broken) return;
      var lease = read();
      var wrote = false;
      if (!eligible) {
        release();
        setConfirmed(false);
      } else if (lease && lease.tab === tabId) {
        write();
        setConfirmed(true);
      } else if (!lease || lease.until < now()) {
        write();
        wrote = true;
        setConfirmed(false);
      } else {
        setConfirmed(false);
      }
      // A tab without Omni-Channel has nothing to renew or take, so it stops ticking until setEligible(true);
      // broken storage stops the heartbeat for good.
      if (eligible && !broken) schedule(wrote ? SETTLE_MS : HEARTBEAT_MS);
    }

    return {
      /** claim: Omni-Channel just logged in here, so the lease moves here even from a live holder. */
      setEligible: function (value, claim) {
        if (stopped) return;
        eligible = value;
        if (!value) {
          release();
          setConfirmed(false);
          return;
        }
        var lease = read();
        if (claim && !(confirmed && lease && lease.tab === tabId)) {
          write();
          setConfirmed(false);
        }
        schedule(SETTLE_MS);
      },
      /** Read at command time, so a tab whose lease was taken over learns it before it acts. */
      holds: function () {
        if (stopped) return false;
        if (broken) return eligible;
        if (!confirmed) return false;
        var lease = read();
        if (broken) return eligible;
        if (!lease || lease.tab !== tabId) {
          setConfirmed(false);
          return false;
        }
        write();
        return true;
      },
      stop: function () {
        if (stopped) return;
        if (timer !== null) options.clearTimeout(timer);
        timer = null;
        // Hand over at once: the next tab to tick finds the lease free instead of waiting for it to expire.
        if (!broken) release();
        setConfirmed(false);
        stopped = true;
      }
    };
  }

  function newTabId() {
    return 'tab-' + Date.now().toString(36) + '-' + Math.random().toString(36).substring(2, 10);
  }

  /**
   * createRelay({ userId, omni, now?, log?, maxRemembered?, storage?, setTimeout?, clearTimeout?, tabId? })
   *   -> { handleMessage(message) -> Promise<outcome>,
   *        omniLoggedIn(statusId), omniStatusChanged(statusId), omniLoggedOut(reason), stop() }
   *
   * omni: { getStatusId(): Promise<string|null> (null = logged out of Omni-Channel),
   *         setStatus(statusId): Promise<void>, logout(): Promise<void> }
   * log(level, text, outcome): level is 'info' | 'warn'.
   * storage (window.localStorage) with setTimeout/clearTimeout: the per-browser election; without them every
   * relay whose tab has seen Omni-Channel activity acts. tabId: only for tests (default random).
   * omniLoggedIn / omniStatusChanged / omniLoggedOut: the tab's lightning:omniChannelLoginSuccess,
   * omniChannelStatusChanged and omniChannelLogout events. stop(): the tab is closing; hand the lease over.
   * outcome: { outcome: 'applied'|'already'|'dropped'|'failed'|'standby', reason?, detail?, commandId?, type?, status? }
   */
  function createRelay(options) {
    var opts = options || {};
    if (!isValidId(opts.userId)) throw new Error('createRelay: userId must be a 15- or 18-character Salesforce id');
    var omni = opts.omni;
    if (!omni || typeof omni.getStatusId !== 'function' || typeof omni.setStatus !== 'function' || typeof omni.logout !== 'function') {
      throw new Error('createRelay: omni must provide getStatusId, setStatus and logout');
    }
    var ownUser = idKey(opts.userId);
    var now = typeof opts.now === 'function' ? opts.now : function () { return Date.now(); };
    var log = typeof opts.log === 'function' ? opts.log : function () {};
    var maxRemembered = opts.maxRemembered > 0 ? Math.floor(opts.maxRemembered) : DEFAULT_MAX_REMEMBERED;

    function safeLog(level, text, outcome) {
      try {
        log(level, text, outcome);
      } catch (ignored) {
        // A broken logger must not turn a decision into an error.
      }
    }

    // Whether Omni-Channel runs in this tab, as far as its events tell. Nothing is assumed before the first
    // event: a tab that has seen none never calls the toolkit, so it can never log the agent in.
    var omniActive = false;
    var lease = null;
    if (opts.storage && typeof opts.setTimeout === 'function' && typeof opts.clearTimeout === 'function') {
      lease = createLease({
        storage: opts.storage,
        key: LEASE_KEY_PREFIX + ownUser,
        tabId: isNonEmptyString(opts.tabId) ? opts.tabId : newTabId(),
        now: now,
        setTimeout: opts.setTimeout,
        clearTimeout: opts.clearTimeout,
        onChange: function (leading) {
          safeLog('info', leading ? 'this tab now acts for this browser' : 'this tab stands by (another tab acts, or none has Omni-Channel)');
        },
        onBroken: function (err) {
          safeLog('warn', 'localStorage is not usable (' + errorMessage(err) + '); every tab with Omni-Channel activity acts');
        }
      });
    }

    function noteOmni(active, claim) {
      omniActive = active;
      if (lease) lease.setEligible(active, claim);
    }

    // Ids of commands that reached an end state (applied or already), oldest first. A failed command is not
    // remembered: the daemon re-sends the same commandId after its confirmation timeout, and that re-send
    // must get another chance.
    var remembered = [];
    var rememberedSet = {};
    // Every stateful step runs on this chain, so two commands never interleave their read-then-write against
    // the toolkit (a setStatus checking the status while another one is changing it).
    var tail = Promise.resolve();

    function remember(commandId) {
      if (Object.prototype.hasOwnProperty.call(rememberedSet, commandId)) return;
      remembered.push(commandId);
      rememberedSet[commandId] = true;
      while (remembered.length > maxRemembered) delete rememberedSet[remembered.shift()];
    }

    function report(outcome) {
      var text = outcome.outcome + (outcome.reason ? ' (' + outcome.reason + ')' : '') +
        (outcome.commandId ? ' command ' + outcome.commandId : '') +
        (outcome.type ? ' ' + outcome.type : '') +
        (outcome.status ? ' ' + outcome.status : '') +
        (outcome.detail ? ': ' + outcome.detail : '');
      safeLog(outcome.outcome === 'failed' || outcome.outcome === 'dropped' ? 'warn' : 'info', text, outcome);
      return outcome;
    }

    function execute(command) {
      // Expiry is judged when the command's turn comes, not when it arrived: a command that waited behind a
      // slow toolkit call past its expiresAt is late, and a late command is never applied.
      if (command.expiresAt < now()) return Promise.resolve(dropped('expired', null, command));
      if (Object.prototype.hasOwnProperty.call(rememberedSet, command.commandId)) {
        return Promise.resolve(dropped('duplicate', null, command));
      }
      // Standing by is not an end state: the id is not remembered, so if this tab takes over later, the daemon's
      // re-send of the same command is applied here.
      if (!omniActive) return Promise.resolve(withCommand({ outcome: 'standby', reason: 'no-omni-activity' }, command));
      if (lease && !lease.holds()) return Promise.resolve(withCommand({ outcome: 'standby', reason: 'not-elected' }, command));
      return Promise.resolve()
        .then(function () { return omni.getStatusId(); })
        .then(function (current) {
          var loggedIn = typeof current === 'string' && current.length > 0;
          if (command.type === 'setStatus') {
            if (loggedIn && idKey(current) === idKey(command.statusId)) {
              remember(command.commandId);
              return withCommand({ outcome: 'already', reason: 'status-shown' }, command);
            }
            // Logged out is fine here: setServicePresenceStatus logs the agent in with that status, and this tab
            // has seen Omni-Channel activity and holds the lease, so it is where the agent uses Omni-Channel.
            // The toolkit gets the 15-character id: it is what every toolkit sample and Omni-Channel event in
            // Salesforce's documentation shows, and cutting an 18-character id to 15 loses nothing.
            return Promise.resolve(omni.setStatus(idKey(command.statusId))).then(function () {
              remember(command.commandId);
              return withCommand({ outcome: 'applied' }, command);
            });
          }
          if (!loggedIn) {
            remember(command.commandId);
            return withCommand({ outcome: 'already', reason: 'logged-out' }, command);
          }
          return Promise.resolve(omni.logout()).then(function () {
            remember(command.commandId);
            return withCommand({ outcome: 'applied' }, command);
          });
        })
        .then(null, function (err) {
          return withCommand({ outcome: 'failed', reason: 'toolkit-error', detail: errorMessage(err) }, command);
        });
    }

    function handleMessage(message) {
      var parsed;
      try {
        parsed = parseMessage(message);
      } catch (err) {
        parsed = { outcome: dropped('malformed', errorMessage(err)) };
      }
      if (parsed.outcome) return Promise.resolve(report(parsed.outcome));
      var command = parsed.command;
      // Commands for another user are dropped at once: they never touch this console's state.
      if (idKey(command.userId) !== ownUser) return Promise.resolve(report(dropped('foreign-user', null, command)));

      var result = tail.then(function () { return execute(command); }).then(report);
      // The chain must survive anything: execute() never rejects, but a throwing logger or a bug must not
      // stall every later command.
      tail = result.then(null, function () {});
      return result;
    }

    return {
      handleMessage: handleMessage,
      // Omni-Channel logged in in this tab: it logs the agent out of every other console, so the lease moves here.
      omniLoggedIn: function () { noteOmni(true, true); },
      omniStatusChanged: function () { noteOmni(true, false); },
      omniLoggedOut: function (reason) {
        noteOmni(!(typeof reason === 'string' && MOVED_AWAY_REASONS.hasOwnProperty(reason)), false);
      },
      stop: function () {
        if (lease) lease.stop();
      }
    };
  }

  return { createRelay: createRelay, parseMessage: parseMessage, PROTOCOL_VERSION: PROTOCOL_VERSION };
});
