import type { AcdChange, AcdState } from '@presence-sync/domain';

/**
 * One agent's state as CXone's real-time data API reports it (`GET /agents/states`, `GET /agents/{id}/states`).
 * Only the fields the connector reads; CXone sends many more. Ids are numbers; some fields are left out or null
 * depending on the state, and casing of a few flags differs between API versions (`isACW` / `isAcw`).
 */
export interface CxoneAgentStateRecord {
  agentId: number | string;
  agentStateName: string;
  agentStateId?: number | null;
  /** The unavailable code (out-state) in force, when the agent is Unavailable or in after-contact work. */
  outStateId?: number | string | null;
  /** The out-state's name: the unavailable code's name, or the ACW state's name. */
  outStateDescription?: string | number | null;
  isACW?: boolean | null;
  isAcw?: boolean | null;
  contactId?: number | string | null;
  openContacts?: number | null;
  /** ISO 8601: when the current state began. */
  startDate?: string | null;
  lastUpdateTime?: string | null;
  teamId?: number | string | null;
  teamName?: string | null;
}

/** CXone state names of an agent handling a contact (voice, consult, dialer; `Working` is the digital one). */
const CONTACT_STATES = new Set(['inboundcontact', 'outboundcontact', 'inboundconsult', 'outboundconsult', 'dialer', 'dialerpending', 'working']);

function text(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  const s = String(value).trim();
  return s === '' ? undefined : s;
}

/** True when the record reports after-contact work (the ACW out-state). */
export function isAfterContactWork(record: CxoneAgentStateRecord): boolean {
  return record.isACW === true || record.isAcw === true;
}

function onContact(record: CxoneAgentStateRecord): boolean {
  const contact = text(record.contactId);
  return (contact !== undefined && contact !== '0') || (record.openContacts ?? 0) > 0;
}

/**
 * The rule model's state for a CXone agent state (docs/connectors/cxone.md, "State mapping"):
 * Available → `Available`; Unavailable → `Unavailable` with the code's name, or `AfterWork` with the ACW state's
 * name when the out-state is an ACW one; the contact states → `Busy`; LoggedOut → `Offline`; LoggedIn (the moment
 * between login and the first state) → `Unavailable` without a code. A name this table does not know is `Busy`
 * while the agent holds a contact, else `Unavailable`, so a new CXone state never stops the sync.
 */
export function toAcdState(record: CxoneAgentStateRecord): AcdState {
  const name = (text(record.agentStateName) ?? '').replace(/[\s_-]/g, '').toLowerCase();
  const code = text(record.outStateDescription);
  const withCode = (state: 'Unavailable' | 'AfterWork'): AcdState => (code ? { state, code } : { state });
  if (name === 'available') return { state: 'Available' };
  if (name === 'loggedout') return { state: 'Offline' };
  if (CONTACT_STATES.has(name)) return { state: 'Busy' };
  if (name === 'unavailable' || name === 'aftercallwork' || name === 'acw') {
    return isAfterContactWork(record) || name !== 'unavailable' ? withCode('AfterWork') : withCode('Unavailable');
  }
  if (name === 'loggedin') return { state: 'Unavailable' };
  if (onContact(record)) return { state: 'Busy' };
  return isAfterContactWork(record) ? withCode('AfterWork') : withCode('Unavailable');
}

/** Epoch ms of an ISO date CXone sent; undefined when absent or unreadable. */
export function parseCxoneDate(value: string | null | undefined): number | undefined {
  if (!value) return undefined;
  // CXone writes UTC without a zone designator in some versions; read such a value as UTC, not local time.
  const iso = /[zZ]|[+-]\d{2}:?\d{2}$/.test(value) ? value : `${value}Z`;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * The id of one state report. It is built from what identifies the state, not from when it was read: the same
 * report read twice (an overlapping poll, a re-read after a restart) gets the same id, so intake drops the second
 * one as a duplicate, and any change of state, code or start time gets a new one.
 */
export function stateEventId(record: CxoneAgentStateRecord, startedAt: number): string {
  const out = text(record.outStateId) ?? '-';
  const acw = isAfterContactWork(record) ? 'acw' : '-';
  return `cxone:${text(record.agentId)}:${startedAt}:${text(record.agentStateName) ?? '?'}:${out}:${acw}`;
}

/**
 * One state report as a change for the engine. `occurredAt` is when CXone says the state began (`startDate`),
 * else its last update, else when it was read.
 */
export function toAcdChange(record: CxoneAgentStateRecord, receivedAt: number): AcdChange {
  const startedAt = parseCxoneDate(record.startDate) ?? parseCxoneDate(record.lastUpdateTime) ?? receivedAt;
  return {
    side: 'acd',
    eventId: stateEventId(record, startedAt),
    agentId: String(record.agentId),
    occurredAt: startedAt,
    state: toAcdState(record),
    receivedAt,
  };
}
