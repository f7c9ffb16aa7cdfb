import type { AcdChange, AcdState } from '@presence-sync/domain';

/** An agent status type as Connect lists it (`ListAgentStatuses`). */
export type ConnectStatusType = 'ROUTABLE' | 'CUSTOM' | 'OFFLINE';

/** The agent status part of an agent event snapshot. `Type` is absent in older streams: the catalog supplies it. */
export interface AgentEventStatus {
  ARN?: string;
  Name?: string;
  StartTimestamp?: string;
  Type?: string;
}

/** One contact of an agent event snapshot. */
export interface AgentEventContact {
  ContactId?: string;
  Channel?: string;
  /** INCOMING, PENDING, CONNECTING, CONNECTED, CONNECTED_ONHOLD, MISSED, ERROR, ENDED, REJECTED, PAUSED. */
  State?: string;
  StateStartTimestamp?: string;
}

export interface AgentSnapshot {
  AgentStatus?: AgentEventStatus;
  NextAgentStatus?: AgentEventStatus | null;
  Configuration?: { Username?: string; RoutingProfile?: { ARN?: string; Name?: string } };
  Contacts?: AgentEventContact[];
}

/** One record of the agent event stream (the fields the connector reads). */
export interface AgentEvent {
  AWSAccountId?: string;
  AgentARN: string;
  EventId: string;
  EventTimestamp: string;
  EventType: 'LOGIN' | 'LOGOUT' | 'STATE_CHANGE' | 'HEART_BEAT' | string;
  InstanceARN?: string;
  Version?: string;
  CurrentAgentSnapshot?: AgentSnapshot | null;
  PreviousAgentSnapshot?: AgentSnapshot | null;
}

/** Contact states in which the agent is handling the contact (ringing, connected, on hold). */
const HANDLING = new Set(['INCOMING', 'PENDING', 'CONNECTING', 'CONNECTED', 'CONNECTED_ONHOLD', 'PAUSED']);

/** A contact in after-contact work: Connect documents ACW as the agent's contact being in state ENDED. */
const AFTER_CONTACT_WORK = 'ENDED';

/** The user id of an agent ARN `arn:aws:connect:…:instance/{instance}/agent/{userId}`. */
export function userIdOfArn(arn: string): string {
  const match = /\/agent\/([^/]+)$/.exec(arn);
  return match ? match[1] : arn;
}

/** The status id of a status ARN `…/agent-state/{id}`. */
export function statusIdOfArn(arn: string | undefined): string | undefined {
  if (!arn) return undefined;
  const match = /\/agent-state\/([^/]+)$/.exec(arn);
  return match ? match[1] : undefined;
}

/**
 * The rule model's state of an agent (docs/connectors/amazon-connect.md, "State mapping"): a contact being handled
 * → `Busy`; a contact in ENDED (after-contact work) → `AfterWork`; otherwise the agent status: ROUTABLE →
 * `Available`, OFFLINE → `Offline`, CUSTOM (and the system statuses such as Missed or Error) → `Unavailable` with
 * the status name as the code.
 *
 * @param statusType the status type when the snapshot does not carry it (looked up by ARN in the catalog)
 */
export function toAcdState(status: { name?: string; type?: string }, contactStates: readonly (string | undefined)[]): AcdState {
  if (contactStates.some((s) => s !== undefined && HANDLING.has(s.toUpperCase()))) return { state: 'Busy' };
  if (contactStates.some((s) => s?.toUpperCase() === AFTER_CONTACT_WORK)) return { state: 'AfterWork' };
  const type = status.type?.toUpperCase();
  if (type === 'ROUTABLE') return { state: 'Available' };
  if (type === 'OFFLINE') return { state: 'Offline' };
  const name = status.name?.trim();
  return name ? { state: 'Unavailable', code: name } : { state: 'Unavailable' };
}

/** Looks a status type up by ARN or name; undefined when unknown. */
export type StatusTypeLookup = (status: AgentEventStatus) => string | undefined;

/** The state a snapshot shows; `LOGOUT` (or no snapshot) is `Offline`. */
export function snapshotState(event: AgentEvent, typeOf: StatusTypeLookup): AcdState {
  const snap = event.CurrentAgentSnapshot;
  if (event.EventType === 'LOGOUT' || !snap) return { state: 'Offline' };
  const status = snap.AgentStatus ?? {};
  return toAcdState({ name: status.Name, type: status.Type ?? typeOf(status) }, (snap.Contacts ?? []).map((c) => c.State));
}

/**
 * One agent event as a change, or undefined for the events the engine does not need (HEART_BEAT, unreadable
 * records). The event id is Connect's `EventId`, so a record the stream carries twice is one change for intake.
 */
export function toAcdChange(event: AgentEvent, receivedAt: number, typeOf: StatusTypeLookup): AcdChange | undefined {
  if (event.EventType === 'HEART_BEAT') return undefined;
  if (typeof event.AgentARN !== 'string' || typeof event.EventId !== 'string' || !event.EventId) return undefined;
  const at = Date.parse(event.EventTimestamp);
  const change: AcdChange = {
    side: 'acd',
    eventId: `amazon-connect:${event.EventId}`,
    agentId: userIdOfArn(event.AgentARN),
    occurredAt: Number.isNaN(at) ? receivedAt : at,
    state: snapshotState(event, typeOf),
    receivedAt,
  };
  if (event.PreviousAgentSnapshot && event.EventType !== 'LOGIN') {
    change.previous = snapshotState({ ...event, EventType: 'STATE_CHANGE', CurrentAgentSnapshot: event.PreviousAgentSnapshot }, typeOf);
  } else if (event.EventType === 'LOGIN') change.previous = { state: 'Offline' };
  return change;
}

/** Parses a Kinesis record's data; undefined when it is not an agent event. */
export function parseAgentEvent(data: Uint8Array): AgentEvent | undefined {
  try {
    const value = JSON.parse(Buffer.from(data).toString('utf8')) as unknown;
    if (!value || typeof value !== 'object') return undefined;
    const event = value as AgentEvent;
    return typeof event.EventType === 'string' ? event : undefined;
  } catch {
    return undefined;
  }
}
