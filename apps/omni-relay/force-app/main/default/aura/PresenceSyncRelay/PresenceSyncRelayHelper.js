({
    // Protocol constants (docs/salesforce-command-protocol.md). Replay -1: only events pushed after we subscribe.
    // Older ones are worthless here: a command carries its own expiry, and the daemon re-sends what it did not see
    // confirmed.
    DEFAULT_CHANNEL: '/u/PresenceSyncCommand',
    REPLAY_NEW_EVENTS_ONLY: -1,
    RETRY_BASE_MS: 2000,
    RETRY_MAX_MS: 60000,
    // After this long without a streaming error the backoff starts again from RETRY_BASE_MS. Resetting on every
    // successful subscribe instead would let a connection that fails right after subscribing retry every 2 s forever.
    RETRY_RESET_AFTER_MS: 300000,
    LOG_PREFIX: '[presence-sync relay] ',

    // One entry per live component instance, keyed by global id. A helper is shared by all instances of the
    // component, so per-instance state cannot live in plain helper fields; and keeping it out of aura:attributes
    // keeps functions and CometD subscription objects away from attribute change tracking.
    instances: {},

    stateFor: function (cmp) {
        var key = cmp.getGlobalId();
        if (!this.instances[key]) {
            this.instances[key] = {
                relay: null,
                channel: null,
                subscription: null,
                // undefined = unknown, null = logged out, string = statusId (from Omni-Channel application events).
                omniState: undefined,
                // Omni-Channel events that arrived before the relay existed, replayed into it on start.
                omniEvents: [],
                onPageHide: null,
                retryCount: 0,
                retryTimer: null,
                lastErrorAt: 0,
                generation: 0,
                stopped: false
            };
        }
        return this.instances[key];
    },

    start: function (cmp) {
        var state = this.stateFor(cmp);
        // afterScriptsLoaded fires again if the component re-renders; one relay per component instance.
        if (state.relay || state.stopped) return;
        var logic = window.PresenceSyncRelayLogic;
        if (!logic) {
            this.log('warn', 'the PresenceSyncRelayLogic static resource did not load; relay not started');
            return;
        }
        var self = this;
        try {
            state.relay = logic.createRelay({
                userId: $A.get('$SObjectType.CurrentUser.Id'),
                omni: this.omniAdapter(cmp, state),
                log: function (level, text) { self.log(level, text); },
                // The per-browser election (one acting relay among the user's console tabs). The timer callbacks
                // only touch localStorage and the relay's own state, never the component, so they need no
                // $A.getCallback.
                storage: this.browserStorage(),
                setTimeout: function (fn, ms) { return window.setTimeout(fn, ms); },
                clearTimeout: function (id) { window.clearTimeout(id); }
            });
        } catch (e) {
            this.log('warn', 'relay not started: ' + this.describe(e));
            return;
        }
        var pending = state.omniEvents;
        state.omniEvents = [];
        for (var i = 0; i < pending.length; i++) this.forwardOmni(state.relay, pending[i][0], pending[i][1]);
        // Closing or reloading the tab does not reliably destroy the component; pagehide does fire, and releasing
        // the lease there lets another tab take over within a heartbeat instead of after the lease expires. A page
        // kept in the back-forward cache (persisted) may come back: its lease just expires meanwhile, and on return
        // it finds another tab's lease and stands by, so it is not stopped for good.
        if (typeof window.addEventListener === 'function') {
            state.onPageHide = function (event) {
                if (state.relay && !(event && event.persisted)) state.relay.stop();
            };
            window.addEventListener('pagehide', state.onPageHide);
        }
        var channel = cmp.get('v.channel');
        state.channel = typeof channel === 'string' && channel.trim() ? channel.trim() : this.DEFAULT_CHANNEL;
        var empApi = cmp.find('empApi');
        if (cmp.get('v.debug')) empApi.setDebugFlag(true);
        // onError reports errors of the whole shared CometD connection (other streaming apps in this console
        // included). Re-subscribing on any of them is cheap and safe: a command delivered twice is dropped by
        // its commandId.
        empApi.onError($A.getCallback(function (error) {
            self.onStreamingError(cmp, state, error);
        }));
        this.subscribe(cmp, state);
    },

    stop: function (cmp) {
        var key = cmp.getGlobalId();
        var state = this.instances[key];
        if (!state) return;
        state.stopped = true;
        state.generation += 1;
        if (state.retryTimer) window.clearTimeout(state.retryTimer);
        state.retryTimer = null;
        if (state.subscription) this.unsubscribe(cmp, state.subscription);
        state.subscription = null;
        if (state.relay) state.relay.stop();
        if (state.onPageHide && typeof window.removeEventListener === 'function') {
            window.removeEventListener('pagehide', state.onPageHide);
        }
        state.onPageHide = null;
        delete this.instances[key];
    },

    // kind: 'login' | 'status' (value = statusId) or 'logout' (value = the event's reason).
    trackOmni: function (cmp, kind, value) {
        // Events can arrive before the scripts load (kept for start) but also after destroy (ignored, so no state
        // is recreated for a dead instance).
        if (!cmp.isValid()) return;
        var state = this.stateFor(cmp);
        state.omniState = kind === 'logout' ? null : value;
        if (state.relay) this.forwardOmni(state.relay, kind, value);
        else state.omniEvents.push([kind, value]);
    },

    forwardOmni: function (relay, kind, value) {
        if (kind === 'login') relay.omniLoggedIn(value);
        else if (kind === 'status') relay.omniStatusChanged(value);
        else relay.omniLoggedOut(value);
    },

    browserStorage: function () {
        // Reading window.localStorage itself can throw (storage blocked by the browser's privacy settings). The
        // relay then runs without an election; see createRelay in the static resource.
        try {
            var storage = window.localStorage;
            return storage && typeof storage.getItem === 'function' ? storage : null;
        } catch (e) {
            this.log('warn', 'localStorage is not available (' + this.describe(e) + '); no per-browser election');
            return null;
        }
    },

    subscribe: function (cmp, state) {
        if (state.stopped || !cmp.isValid()) return;
        // A newer attempt supersedes an older one that is still pending (an empApi promise may never settle on a
        // dead connection); results of superseded attempts are discarded.
        var generation = ++state.generation;
        var self = this;
        var empApi = cmp.find('empApi');
        Promise.resolve(empApi.isEmpEnabled())
            .then($A.getCallback(function (enabled) {
                if (!enabled) throw new Error('lightning:empApi is not available in this console (isEmpEnabled() is false)');
                return empApi.subscribe(state.channel, self.REPLAY_NEW_EVENTS_ONLY, $A.getCallback(function (message) {
                    // The relay never rejects and logs its own decisions; nothing to do with the outcome here.
                    state.relay.handleMessage(message);
                }));
            }))
            .then($A.getCallback(function (subscription) {
                if (generation !== state.generation || state.stopped) {
                    self.unsubscribe(cmp, subscription);
                    return;
                }
                state.subscription = subscription;
                self.log('info', 'subscribed to ' + state.channel);
            }))
            ['catch']($A.getCallback(function (error) {
                if (generation !== state.generation || state.stopped) return;
                self.log('warn', 'subscribe to ' + state.channel + ' failed: ' + self.describe(error));
                self.scheduleResubscribe(cmp, state);
            }));
    },

    unsubscribe: function (cmp, subscription) {
        try {
            cmp.find('empApi').unsubscribe(subscription, $A.getCallback(function () {}));
        } catch (e) {
            // The connection (or the whole page) may already be gone; nothing is left to release then.
        }
    },

    onStreamingError: function (cmp, state, error) {
        if (state.stopped) return;
        this.log('warn', 'streaming error: ' + this.describe(error));
        var now = Date.now();
        if (now - state.lastErrorAt > this.RETRY_RESET_AFTER_MS) state.retryCount = 0;
        state.lastErrorAt = now;
        this.scheduleResubscribe(cmp, state);
    },

    scheduleResubscribe: function (cmp, state) {
        if (state.stopped || state.retryTimer) return;
        var ceiling = Math.min(this.RETRY_MAX_MS, this.RETRY_BASE_MS * Math.pow(2, state.retryCount));
        state.retryCount += 1;
        // Jitter, so that hundreds of consoles do not all reconnect in the same second after an org-wide blip.
        var delay = Math.round(ceiling / 2 + Math.random() * ceiling / 2);
        var self = this;
        this.log('info', 'resubscribing in ' + delay + ' ms');
        state.retryTimer = window.setTimeout($A.getCallback(function () {
            state.retryTimer = null;
            if (state.stopped || !cmp.isValid()) return;
            // Release the old subscription before taking a new one, so callbacks cannot pile up across retries.
            // Commands pushed in between are lost to this console; the daemon re-sends unconfirmed commands.
            if (state.subscription) self.unsubscribe(cmp, state.subscription);
            state.subscription = null;
            self.subscribe(cmp, state);
        }), delay);
    },

    // The relay's view of lightning:omniToolkitAPI (see createRelay in the static resource).
    omniAdapter: function (cmp, state) {
        // Every call returns a promise and never throws: a synchronous throw inside $A.getCallback is reported by
        // the framework, and must reach the relay as a rejection (outcome "failed") instead.
        var withToolkit = function (use) {
            return $A.getCallback(function (arg) {
                try {
                    if (!cmp.isValid()) return Promise.reject(new Error('the relay component was destroyed'));
                    return Promise.resolve(use(cmp.find('omniToolkit'), arg));
                } catch (e) {
                    return Promise.reject(e);
                }
            });
        };
        return {
            getStatusId: withToolkit(function (toolkit) {
                return toolkit.getServicePresenceStatusId().then(function (result) {
                    return result && result.statusId ? result.statusId : null;
                }, function () {
                    // How getServicePresenceStatusId() answers for an agent who is not logged in to Omni-Channel is
                    // not documented; we expect a rejection. Treating a rejection as "logged out" is safe for
                    // setStatus (setServicePresenceStatus logs the agent in anyway, and the relay only gets here in
                    // the one tab of the browser that has seen Omni-Channel activity); for logout it would skip the
                    // call, so the last state reported by Omni-Channel's own events wins when we have one.
                    return typeof state.omniState === 'string' && state.omniState ? state.omniState : null;
                });
            }),
            setStatus: withToolkit(function (toolkit, statusId) {
                return toolkit.setServicePresenceStatus({ statusId: statusId }).then(function () {});
            }),
            logout: withToolkit(function (toolkit) {
                return toolkit.logout().then(function (ok) {
                    // Documented to resolve true on success; the older callback API reported false on failure.
                    if (ok === false) throw new Error('omniToolkitAPI.logout() resolved false');
                });
            })
        };
    },

    describe: function (error) {
        if (error && error.message) return error.message;
        try {
            return JSON.stringify(error);
        } catch (e) {
            return String(error);
        }
    },

    log: function (level, text) {
        /* eslint-disable no-console */
        if (level === 'warn') console.warn(this.LOG_PREFIX + text);
        else console.info(this.LOG_PREFIX + text);
        /* eslint-enable no-console */
    }
})
