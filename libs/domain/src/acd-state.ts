/** Vendor-neutral contact-center agent states (rules.md, "Vocabulary"). */
export const ACD_STATES = ['Available', 'Unavailable', 'Busy', 'AfterWork', 'Offline'] as const;
export type AcdStateName = (typeof ACD_STATES)[number];

/** The states a connector can set; `Busy` and `AfterWork` are observed only. */
export const SETTABLE_ACD_STATES = ['Available', 'Unavailable', 'Offline'] as const;
export type SettableAcdStateName = (typeof SETTABLE_ACD_STATES)[number];

/** An agent state as the rules see it: a state and, for Unavailable (and AfterWork where vendors have them), a reason code. */
export interface AcdState {
  state: AcdStateName;
  code?: string;
}

export interface SettableAcdState extends AcdState {
  state: SettableAcdStateName;
}

export function isAcdStateName(value: unknown): value is AcdStateName {
  return typeof value === 'string' && (ACD_STATES as readonly string[]).includes(value);
}

export function isSettable(state: AcdState): state is SettableAcdState {
  return (SETTABLE_ACD_STATES as readonly string[]).includes(state.state);
}

/** Canonical text form, e.g. `Unavailable:Lunch` or `Available`; used as a key and in logs. */
export function acdStateKey(state: AcdState): string {
  return state.code ? `${state.state}:${state.code}` : state.state;
}

/** Parses `State[:Code]` (the CLI's `--acd` form); undefined when the state name is unknown. */
export function parseAcdStateKey(text: string): AcdState | undefined {
  const i = text.indexOf(':');
  const state = i < 0 ? text : text.slice(0, i);
  const code = i < 0 ? undefined : text.slice(i + 1);
  if (!isAcdStateName(state)) return undefined;
  return code ? { state, code } : { state };
}

export function sameAcdState(a: AcdState | undefined, b: AcdState | undefined): boolean {
  if (!a || !b) return a === b;
  return a.state === b.state && (a.code ?? '') === (b.code ?? '');
}
