import type { AcdChange, AcdState } from '@presence-sync/domain';

/** A presence definition as the connector keeps it (`GET /api/v2/presence/definitions`). */
export interface GenesysPresenceDefinition {
  id: string;
  /** AVAILABLE, ON_QUEUE, OFFLINE, BREAK, MEAL, BUSY, AWAY, IDLE, MEETING, TRAINING, … */
  systemPresence: string;
  /** The label shown to agents (en_US, else the name, else the system presence): the Unavailable code. */
  label: string;
  deactivated: boolean;
  /** The division the presence is scoped to; undefined or `*`: every division. */
  divisionId?: string;
}

/** What the connector knows of one user: their presence, routing status and open after-call work. */
export interface GenesysUserView {
  presence?: { definitionId?: string; systemPresence?: string; modifiedAt?: number };
  routing?: { status?: string; startAt?: number };
  /** Set while a conversation of the user has after-call work pending (from `v2.users.{id}.conversations`). */
  afterCallWork?: { conversationId: string; since: number };
}

/** Routing statuses that mean "handling an interaction". */
export const ON_CONTACT_ROUTING = new Set(['INTERACTING', 'COMMUNICATING']);
/** System presences that mean Available (ON_QUEUE is routable; AVAILABLE is available but off queue). */
export const AVAILABLE_PRESENCES = new Set(['AVAILABLE', 'ON_QUEUE']);

/** The code of an Unavailable presence: its label, or the system presence in title case when unknown. */
function labelOf(definitionId: string | undefined, systemPresence: string | undefined, definitions: ReadonlyMap<string, GenesysPresenceDefinition>): string {
  const def = definitionId ? definitions.get(definitionId) : undefined;
  if (def) return def.label;
  const sys = (systemPresence ?? 'Unknown').toLowerCase().replace(/_/g, ' ');
  return sys.charAt(0).toUpperCase() + sys.slice(1);
}

/**
 * The ACD state of a user: after-call work pending → AfterWork; routing INTERACTING / COMMUNICATING → Busy;
 * NOT_RESPONDING → Unavailable `Not Responding`; otherwise the presence: AVAILABLE / ON_QUEUE → Available,
 * OFFLINE → Offline, any other → Unavailable with the definition's label as the code.
 */
export function toAcdState(view: GenesysUserView, definitions: ReadonlyMap<string, GenesysPresenceDefinition>): AcdState {
  if (view.afterCallWork) return { state: 'AfterWork' };
  const routing = view.routing?.status;
  if (routing && ON_CONTACT_ROUTING.has(routing)) return { state: 'Busy' };
  if (routing === 'NOT_RESPONDING') return { state: 'Unavailable', code: 'Not Responding' };
  const def = view.presence?.definitionId ? definitions.get(view.presence.definitionId) : undefined;
  const system = (def?.systemPresence ?? view.presence?.systemPresence ?? 'OFFLINE').toUpperCase();
  if (AVAILABLE_PRESENCES.has(system)) return { state: 'Available' };
  if (system === 'OFFLINE') return { state: 'Offline' };
  return { state: 'Unavailable', code: labelOf(view.presence?.definitionId, system, definitions) };
}

/** When the user's current state began: the latest of its parts' times (epoch ms). */
export function sinceOf(view: GenesysUserView, state: AcdState): number | undefined {
  if (state.state === 'AfterWork') return view.afterCallWork?.since;
  const times = [view.presence?.modifiedAt, view.routing?.startAt].filter((t): t is number => t !== undefined);
  return times.length ? Math.max(...times) : undefined;
}

/**
 * The change for a user's view. The event id is derived from the agent, the state and the time it began, so a
 * repeated delivery and a backfill of an unchanged state carry the id already seen (the sink drops them).
 */
export function toAcdChange(agentId: string, view: GenesysUserView, definitions: ReadonlyMap<string, GenesysPresenceDefinition>, receivedAt: number): AcdChange {
  const state = toAcdState(view, definitions);
  const occurredAt = sinceOf(view, state) ?? receivedAt;
  const key = state.code ? `${state.state}:${state.code}` : state.state;
  return { side: 'acd', eventId: `genesys:${agentId}:${occurredAt}:${key}`, agentId, occurredAt, state, receivedAt };
}

/** An ISO date as epoch ms; undefined when absent or unreadable. */
export function parseGenesysDate(value: unknown): number | undefined {
  if (typeof value !== 'string' || !value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
