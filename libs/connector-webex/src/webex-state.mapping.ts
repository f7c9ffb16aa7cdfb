import type { AcdState } from '@presence-sync/domain';

/**
 * Webex Contact Center reports an agent's state per channel in its reporting vocabulary (lower case: `available`,
 * `idle`, `connected`, `wrapup`, …); desktops and the state API use `Available` / `Idle`. Both are read here,
 * case-insensitively, so a payload that capitalises differently maps the same (docs/connectors/webex.md, "Mapping").
 */
const BUSY = new Set([
  'ringing', 'connected', 'on-hold', 'hold-done', 'consulting', 'consult-done', 'conferencing', 'conference-done',
  'engaged', 'engagedother', 'reserved', 'offered', 'consult', 'conference', 'hold',
]);
const AFTER_WORK = new Set(['wrapup', 'wrap-up', 'wrapping-up']);
const OFFLINE = new Set(['loggedout', 'logged-out', 'logout']);

/** The Unavailable code Webex's ring-no-answer idle state maps to. */
export const WEBEX_RONA_CODE = 'RONA';

/** What a Webex state string and its idle code name mean in the rule model; undefined for a state that says nothing new (`wrapup-done`). */
export function webexStateToAcd(currentState: string, idleCodeName?: string): AcdState | undefined {
  const s = currentState.trim().toLowerCase();
  if (s === 'available') return { state: 'Available' };
  if (s === 'idle') return idleCodeName ? { state: 'Unavailable', code: idleCodeName } : { state: 'Unavailable' };
  if (s === 'not-responding' || s === 'rona') return { state: 'Unavailable', code: WEBEX_RONA_CODE };
  if (BUSY.has(s)) return { state: 'Busy' };
  if (AFTER_WORK.has(s)) return { state: 'AfterWork' };
  if (OFFLINE.has(s)) return { state: 'Offline' };
  return undefined;
}

/** Whether the Webex state is one where the agent handles a contact (writes are refused until it ends). */
export function isOnContact(state: AcdState): boolean {
  return state.state === 'Busy' || state.state === 'AfterWork';
}

/**
 * One agent's channels as the search API lists them, reduced to one state: a contact on any channel wins
 * (Busy, then AfterWork), then Available when any channel is routable, else Idle with its code.
 */
export function rollUpChannels(channels: ReadonlyArray<{ currentState?: string | null; idleCodeName?: string | null }>): AcdState | undefined {
  const states = channels
    .map((c) => (c.currentState ? webexStateToAcd(c.currentState, c.idleCodeName ?? undefined) : undefined))
    .filter((s): s is AcdState => s !== undefined);
  for (const wanted of ['Busy', 'AfterWork', 'Available', 'Unavailable', 'Offline'] as const) {
    const hit = states.find((s) => s.state === wanted);
    if (hit) return hit;
  }
  return undefined;
}
