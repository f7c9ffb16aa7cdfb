import { acdStateKey, isSettable, type AcdState, type SettableAcdState, type Workload } from '@presence-sync/domain';
import { isPreviousTarget, type CompiledRule, type PublisherRow, type SubscriberRow, type WorkloadRow } from './rule-types';

/** Contact center -> Salesforce: the status to show, and the row that decided (`publisher[1]`). */
export type PublishDecision = { kind: 'write'; status: string; row: string } | { kind: 'unmapped' };

/** What `subscribe` needs beyond the rule. */
export interface SubscribeContext {
  /** The agent's previous ACD state (before the daemon's most recent ACD write), for `previous` rows. */
  previous?: AcdState;
  /** Unavailable codes enabled for the agent's team; `undefined` = not known (then every code is trusted). */
  teamCodes?: readonly string[];
  /** The `DEFAULT_UNAVAILABLE_CODE` setting; empty or absent = plain `Unavailable`. */
  defaultUnavailableCode?: string;
}

/**
 * Salesforce -> contact center. `via` says where the state came from: the row itself, the agent's previous
 * state, or the system-default Unavailable (rules with `skipUnavailableCodeValidation`). `detail` explains
 * the decision in words, for the audit trail and `explain`.
 */
export type SubscribeDecision =
  | { kind: 'write'; state: SettableAcdState; row?: string; via: 'row' | 'previous' | 'default-unavailable'; detail: string }
  | { kind: 'unmapped'; detail: string }
  | { kind: 'no-previous'; row: string; detail: string };

export function publisherRowRef(row: PublisherRow): string {
  return `publisher[${row.index}]`;
}

export function subscriberRowRef(row: SubscriberRow): string {
  return `subscriber[${row.index}]`;
}

/** The publisher row that decides for `acd`: a row with the same code beats a row with no code. */
export function matchPublisherRow(rule: CompiledRule, acd: AcdState): PublisherRow | undefined {
  const code = acd.code || undefined;
  let stateOnly: PublisherRow | undefined;
  for (const row of rule.publisher) {
    if (row.acd.state !== acd.state) continue;
    if (row.acd.code === undefined) stateOnly ??= row;
    // A row with a code never matches another code, nor a state reported without one.
    else if (row.acd.code === code) return row;
  }
  return stateOnly;
}

export function workloadRowRef(row: WorkloadRow): string {
  return `workload[${row.index}]`;
}

/** Whether the open work uses all of the configured capacity. An unknown capacity (0, or Offline) is never full. */
export function isAtCapacity(workload: Workload): boolean {
  return workload.capacity > 0 && workload.load >= workload.capacity;
}

/** Whether every condition the row names holds: open work of its channel, and/or being at capacity. */
export function workloadRowMatches(row: WorkloadRow, workload: Workload): boolean {
  if (row.channel !== undefined && !((workload.channels[row.channel] ?? 0) > 0)) return false;
  if (row.atCapacity && !isAtCapacity(workload)) return false;
  // The schema refuses a row with no condition; should one get here, it must not match everyone.
  return row.channel !== undefined || row.atCapacity === true;
}

/**
 * The workload row that applies to this work: the first matching row in file order, or none. While one
 * applies, the engine sets its state in place of Available (docs/rules.md, "workload").
 */
export function matchWorkload(rule: CompiledRule, workload: Workload): WorkloadRow | undefined {
  return rule.workload.find((row) => workloadRowMatches(row, workload));
}

export function matchSubscriberRow(rule: CompiledRule, status: string): SubscriberRow | undefined {
  return rule.subscriber.find((row) => row.salesforce === status);
}

export function publish(rule: CompiledRule, acd: AcdState): PublishDecision {
  const row = matchPublisherRow(rule, acd);
  return row ? { kind: 'write', status: row.salesforce, row: publisherRowRef(row) } : { kind: 'unmapped' };
}

function defaultUnavailable(code: string | undefined): SettableAcdState {
  return code ? { state: 'Unavailable', code } : { state: 'Unavailable' };
}

/**
 * Decides the ACD state for a Salesforce status. A `previous` row restores only a settable state: Busy and
 * AfterWork belong to a contact the ACD itself ends, so a previous Busy or AfterWork changes nothing
 * (`no-previous`) rather than guessing a state the agent never chose.
 */
export function subscribe(rule: CompiledRule, status: string, ctx: SubscribeContext = {}): SubscribeDecision {
  const row = matchSubscriberRow(rule, status);
  const fallback = defaultUnavailable(ctx.defaultUnavailableCode);
  const fallbackText = acdStateKey(fallback);

  if (!row) {
    if (rule.skipUnavailableCodeValidation) {
      return {
        kind: 'write',
        state: fallback,
        via: 'default-unavailable',
        detail: `no subscriber row for "${status}"; the rule skips code validation, so the default ${fallbackText} is set`,
      };
    }
    return { kind: 'unmapped', detail: `no subscriber row for "${status}": the ACD state is not changed` };
  }

  const ref = subscriberRowRef(row);
  if (isPreviousTarget(row.acd)) {
    const previous = ctx.previous;
    if (!previous) {
      return { kind: 'no-previous', row: ref, detail: `${ref} restores the previous ACD state, but none is known: nothing is changed` };
    }
    if (!isSettable(previous)) {
      return {
        kind: 'no-previous',
        row: ref,
        detail: `${ref} restores the previous ACD state, which was ${acdStateKey(previous)}; that state cannot be set: nothing is changed`,
      };
    }
    const state: SettableAcdState = previous.code ? { state: previous.state, code: previous.code } : { state: previous.state };
    return { kind: 'write', state, row: ref, via: 'previous', detail: `${ref} restores the previous ACD state ${acdStateKey(state)}` };
  }

  const wanted: SettableAcdState = row.acd.code ? { state: row.acd.state, code: row.acd.code } : { state: row.acd.state };
  if (
    rule.skipUnavailableCodeValidation &&
    wanted.state === 'Unavailable' &&
    wanted.code !== undefined &&
    ctx.teamCodes !== undefined &&
    !ctx.teamCodes.includes(wanted.code)
  ) {
    return {
      kind: 'write',
      state: fallback,
      row: ref,
      via: 'default-unavailable',
      detail: `${ref} wants ${acdStateKey(wanted)}, but code "${wanted.code}" is not enabled for the agent's team, so the default ${fallbackText} is set`,
    };
  }
  return { kind: 'write', state: wanted, row: ref, via: 'row', detail: `${ref} sets ${acdStateKey(wanted)}` };
}
