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
   * createRelay({ userId, omni, now?, log?, maxRemembered? }) -> { handleMessage(message) -> Promise<outcome> }
   *
   * omni: { getStatusId(): Promise<string|null> (null = logged out of Omni-Channel),
   *         setStatus(statusId): Promise<void>, logout(): Promise<void> }
   * log(level, text, outcome): level is 'info' | 'warn'.
   * outcome: { outcome: 'applied'|'already'|'dropped'|'failed', reason?, detail?, commandId?, type?, status? }
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
      try {
        log(outcome.outcome === 'failed' || outcome.outcome === 'dropped' ? 'warn' : 'info', text, outcome);
      } catch (ignored) {
        // A broken logger must not turn a decision into an error.
      }
      return outcome;
    }

    function execute(command) {
      // Expiry is judged when the command's turn comes, not when it arrived: a command that waited behind a
      // slow toolkit call past its expiresAt is late, and a late command is never applied.
      if (command.expiresAt < now()) return Promise.resolve(dropped('expired', null, command));
      if (Object.prototype.hasOwnProperty.call(rememberedSet, command.commandId)) {
        return Promise.resolve(dropped('duplicate', null, command));
      }
      return Promise.resolve()
        .then(function () { return omni.getStatusId(); })
        .then(function (current) {
          var loggedIn = typeof current === 'string' && current.length > 0;
          if (command.type === 'setStatus') {
            if (loggedIn && idKey(current) === idKey(command.statusId)) {
              remember(command.commandId);
              return withCommand({ outcome: 'already', reason: 'status-shown' }, command);
            }
            // Logged out is fine: setServicePresenceStatus logs the agent in with that status.
            return Promise.resolve(omni.setStatus(command.statusId)).then(function () {
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

    return { handleMessage: handleMessage };
  }

  return { createRelay: createRelay, parseMessage: parseMessage, PROTOCOL_VERSION: PROTOCOL_VERSION };
});
