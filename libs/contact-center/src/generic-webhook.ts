/**
 * Events in, generic connector contract v1: `POST /v1/acd/events`, signed with HMAC-SHA256.
 *
 * Framework-free on purpose: the daemon's HTTP controller passes headers and the raw body in and maps the
 * results to 401 / 400 / 202, and the tests and the emulator sign with the same function.
 *
 * Limits (docs/operations.md, "Webhook limits"): a body is at most `GENERIC_MAX_BODY_BYTES`, sent as is (no
 * Content-Encoding: the signature covers exactly the bytes on the wire); every id and code is at most
 * `GENERIC_MAX_TEXT_LENGTH` characters of well-formed UTF-16; `occurredAt` is at most the signature tolerance
 * ahead of the receive time.
 *
 * Error paths of `parseGenericEvents` are JSON paths into the body exactly as it was sent, so a sender can
 * find the spot in its own payload: `events[3].state.state` inside a batch, `state.state` for a single event,
 * `events` for the batch array itself, and the empty string for the body as a whole. `index` is the event's
 * position in the batch (0 for a single event) and `null` when the problem is not one event's.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AcdChange } from '@presence-sync/domain';
import { formatPath, genericEventSchema, toAcdState, type GenericEventInput } from './generic-contract.schema';
import { locateJsonSyntaxError } from './json-syntax.util';

export const GENERIC_TIMESTAMP_HEADER = 'X-Presence-Timestamp';
export const GENERIC_SIGNATURE_HEADER = 'X-Presence-Signature';
/** Contract v1: a timestamp more than this far from server time is refused (replay protection). */
export const GENERIC_SIGNATURE_TOLERANCE_SEC = 300;
/** Contract v1: events per request. */
export const GENERIC_MAX_EVENTS_PER_REQUEST = 500;
/** A 400 body lists at most this many problems; a broken 500-event batch would otherwise answer with thousands. */
export const GENERIC_MAX_REPORTED_ERRORS = 50;
/**
 * Largest webhook body, in bytes. 500 events with every field at its cap take about 0.6 MB, so this leaves
 * room for fields a sender adds before the contract names them, while halving what one request may pin.
 */
export const GENERIC_MAX_BODY_BYTES = 1024 * 1024;

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

export interface GenericHeaderCheckInput {
  /** Value of `X-Presence-Timestamp`: unix seconds. */
  timestamp: string | undefined;
  /** Value of `X-Presence-Signature`: `sha256=<hex>`. */
  signature: string | undefined;
  secret: string;
  /** Server time, epoch ms (injected so tests pin it). */
  nowMs: number;
  /** Allowed clock distance in seconds, either way. Default 300 (contract v1). */
  toleranceSec?: number;
}

export interface VerifyGenericSignatureInput extends GenericHeaderCheckInput {
  /**
   * The body exactly as received on the wire; re-serialised JSON would not match the sender's bytes. Contract
   * v1 bodies carry no Content-Encoding, so these bytes are also the JSON that is parsed.
   */
  rawBody: Buffer;
}

const SIGNATURE_FORMAT = /^sha256=([0-9a-fA-F]{64})$/;
const TIMESTAMP_FORMAT = /^\d{1,15}$/;

function hmac(secret: string, timestamp: string, rawBody: Buffer | string): Buffer {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest();
}

/** The `X-Presence-Signature` value for a body sent at `timestampSec` (unix seconds). */
export function signGenericWebhook(secret: string, timestampSec: number, rawBody: Buffer | string): string {
  return `sha256=${hmac(secret, String(Math.trunc(timestampSec)), rawBody).toString('hex')}`;
}

/**
 * Everything about a request's signature that can be judged without its body: a secret is configured, both
 * headers are present and well-formed, and the timestamp is within the tolerance. The daemon runs this before
 * it reads a body, so a request that can never pass holds no memory. Reasons are safe to log and to return:
 * they never hold the secret. The clock distance is told to anyone; the server's time is public anyway
 * (every HTTP answer carries a Date header).
 */
export function checkGenericHeaders(input: GenericHeaderCheckInput): SignatureCheck {
  const tolerance = input.toleranceSec ?? GENERIC_SIGNATURE_TOLERANCE_SEC;
  if (!input.secret) return { ok: false, reason: 'no webhook secret is configured on this server' };
  const timestamp = input.timestamp?.trim();
  const signature = input.signature?.trim();
  if (!timestamp) return { ok: false, reason: `missing ${GENERIC_TIMESTAMP_HEADER} header` };
  if (!signature) return { ok: false, reason: `missing ${GENERIC_SIGNATURE_HEADER} header` };
  if (!TIMESTAMP_FORMAT.test(timestamp)) {
    return { ok: false, reason: `${GENERIC_TIMESTAMP_HEADER} must be unix seconds (digits only)` };
  }
  if (!SIGNATURE_FORMAT.test(signature)) {
    return { ok: false, reason: `${GENERIC_SIGNATURE_HEADER} must look like sha256=<64 hex digits>` };
  }
  const distance = Math.abs(Math.floor(input.nowMs / 1000) - Number(timestamp));
  if (distance > tolerance) {
    const hint = Number(timestamp) > 1e11 ? ' (it looks like milliseconds; the contract wants seconds)' : '';
    return {
      ok: false,
      reason: `timestamp is ${distance} s away from server time (limit ${tolerance} s)${hint}`,
    };
  }
  return { ok: true };
}

/**
 * Checks the signature of one request: the header checks of `checkGenericHeaders`, then the HMAC over
 * `"<timestamp>.<raw body>"`. Reasons never hold the secret nor the expected signature.
 */
export function verifyGenericSignature(input: VerifyGenericSignatureInput): SignatureCheck {
  const headers = checkGenericHeaders(input);
  if (!headers.ok) return headers;
  const timestamp = (input.timestamp as string).trim();
  const hex = (SIGNATURE_FORMAT.exec((input.signature as string).trim()) as RegExpExecArray)[1];
  const given = Buffer.from(hex, 'hex');
  const wanted = hmac(input.secret, timestamp, input.rawBody);
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
    return { ok: false, reason: 'signature does not match' };
  }
  return { ok: true };
}

export interface GenericEventError {
  /** Position of the event in the batch (0 for a single event); null when the body as a whole is wrong. */
  index: number | null;
  /** JSON path into the body as sent (see the module comment). */
  path: string;
  message: string;
}

export type GenericEventsParse = { ok: true; changes: AcdChange[] } | { ok: false; errors: GenericEventError[] };

export interface GenericParseOptions {
  /**
   * How far ahead of the receive time an `occurredAt` may be, in seconds: the signature tolerance, so one
   * setting says how much sender clock skew is accepted. Default 300 (contract v1).
   */
  toleranceSec?: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function bodyError(path: string, message: string): GenericEventsParse {
  return { ok: false, errors: [{ index: null, path, message }] };
}

function toChange(event: GenericEventInput, receivedAt: number): AcdChange {
  const change: AcdChange = {
    side: 'acd',
    eventId: event.eventId,
    agentId: event.agentId,
    occurredAt: Date.parse(event.occurredAt),
    state: toAcdState(event.state),
    receivedAt,
  };
  if (event.previous) change.previous = toAcdState(event.previous);
  if (event.sequence !== undefined) change.sequence = event.sequence;
  if (event.requestId !== undefined) change.requestId = event.requestId;
  return change;
}

/**
 * An event stamped far ahead would make every later event of its agent look stale until the sender's clock
 * caught up, so it is refused rather than clamped: the sender learns its clock is wrong at once.
 */
function futureProblem(occurredAt: number, receivedAt: number, toleranceSec: number): string | undefined {
  const aheadMs = occurredAt - receivedAt;
  if (aheadMs <= toleranceSec * 1000) return undefined;
  return `is ${Math.ceil(aheadMs / 1000)} s ahead of the time it was received (at most ${toleranceSec} s ahead is accepted; is the sender’s clock right?)`;
}

/**
 * Parses and validates a webhook body: one event, or `{ "events": [...] }` with 1..500 events. All or
 * nothing: when any event is invalid, no change is returned. Unknown fields are ignored so a sender may add
 * fields before the contract names them. A body object with an `events` property is read as a batch.
 * `receivedAt` is epoch ms; `occurredAt` may be at most `toleranceSec` ahead of it.
 */
export function parseGenericEvents(rawBody: Buffer, receivedAt: number, options: GenericParseOptions = {}): GenericEventsParse {
  const toleranceSec = options.toleranceSec ?? GENERIC_SIGNATURE_TOLERANCE_SEC;
  let text: string;
  try {
    text = utf8.decode(rawBody);
  } catch {
    return bodyError('', 'body is not valid UTF-8');
  }
  if (text.trim() === '') return bodyError('', 'body is empty; expected one event or { "events": [...] }');

  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    const where = locateJsonSyntaxError(text);
    const message = where
      ? `malformed JSON at line ${where.line}, column ${where.column} (position ${where.position}): ${where.problem}`
      : `malformed JSON: ${error instanceof Error ? error.message.slice(0, 120) : 'parse failed'}`;
    return bodyError('', message);
  }

  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return bodyError('', 'body must be one event object or { "events": [...] }');
  }

  let events: unknown[];
  let batch: boolean;
  if ('events' in body) {
    const list = (body as { events: unknown }).events;
    if (!Array.isArray(list)) return bodyError('events', 'must be an array of events');
    if (list.length === 0) return bodyError('events', 'must hold at least 1 event');
    if (list.length > GENERIC_MAX_EVENTS_PER_REQUEST) {
      return bodyError(
        'events',
        `holds ${list.length} events; at most ${GENERIC_MAX_EVENTS_PER_REQUEST} are allowed per request`,
      );
    }
    events = list;
    batch = true;
  } else {
    events = [body];
    batch = false;
  }

  const changes: AcdChange[] = [];
  const errors: GenericEventError[] = [];
  let unreported = 0;
  const report = (index: number, path: readonly PropertyKey[], message: string) => {
    if (errors.length >= GENERIC_MAX_REPORTED_ERRORS) unreported++;
    else errors.push({ index, path: formatPath(path, batch ? `events[${index}]` : ''), message });
  };
  events.forEach((raw, index) => {
    const result = genericEventSchema.safeParse(raw);
    if (!result.success) {
      for (const issue of result.error.issues) report(index, issue.path, issue.message);
      return;
    }
    const change = toChange(result.data, receivedAt);
    const future = futureProblem(change.occurredAt, receivedAt, toleranceSec);
    if (future) report(index, ['occurredAt'], future);
    else changes.push(change);
  });
  if (errors.length === 0) return { ok: true, changes };
  if (unreported > 0) {
    errors.push({ index: null, path: '', message: `${unreported} more problem(s) not listed` });
  }
  return { ok: false, errors };
}
