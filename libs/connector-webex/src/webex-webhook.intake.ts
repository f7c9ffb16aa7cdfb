import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AcdChange, AcdWebhookIntake, HeaderBag, WebhookParse, WebhookRefusal } from '@presence-sync/domain';
import { webexStateToAcd } from './webex-state.mapping';

/** Where Webex delivers the daemon's subscription (the daemon serves `/v1/acd/<connector>/events`). */
export const WEBEX_WEBHOOK_PATH = '/v1/acd/webex/events';
/** Webex's signature header: lower-case hex HMAC-SHA256 of the raw body, keyed with the subscription secret. */
export const WEBEX_SIGNATURE_HEADER = 'x-webexcc-signature';
/** One event per delivery (CloudEvents structured mode); agent events are a few hundred bytes. */
export const WEBEX_MAX_BODY_BYTES = 256 * 1024;
/** The event types the connector subscribes to and reads. */
export const WEBEX_AGENT_EVENT_TYPES = ['agent:login', 'agent:logout', 'agent:state_change'] as const;
const MAX_TEXT = 256;

/** Turns an idle or wrap-up code id into its name (the connector's catalog); undefined when unknown. */
export type WebexCodeNames = (auxCodeId: string) => string | undefined;

/** A body problem, reported in the 400 like contract v1's (`index` is always 0: Webex sends one event per delivery). */
interface BodyError {
  index: number;
  path: string;
  message: string;
}

function header(headers: HeaderBag, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Signs a body the way Webex does; the emulator and tests use it. */
export function signWebexBody(rawBody: Buffer | string, secret: string): string {
  return createHmac('sha256', secret).update(rawBody).digest('hex');
}

const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_TEXT;

function epochMs(v: unknown): number | undefined {
  const n = typeof v === 'string' && /^\d{1,16}$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/**
 * Webex Contact Center webhook deliveries in: verifies `X-WebexCC-Signature`, reads the CloudEvents-style
 * envelope and turns the agent events into changes. Pure: the code names come from the connector's cached catalog.
 *
 * - `agent:login` → the state the event names (`currentState`), else Unavailable (Webex logs agents in Idle).
 * - `agent:logout` → Offline.
 * - `agent:state_change` → the mapping of `currentState` (docs/connectors/webex.md); `wrapup-done` is followed by
 *   the agent's next state and is counted as ignored, like every event type the connector does not read.
 */
export class WebexWebhookIntake implements AcdWebhookIntake {
  readonly path = WEBEX_WEBHOOK_PATH;
  readonly maxBodyBytes = WEBEX_MAX_BODY_BYTES;

  constructor(private readonly secret: string, private readonly codeNames: WebexCodeNames = () => undefined) {
    if (secret.length < 16) throw new Error('WebexWebhookIntake: the subscription secret must be at least 16 characters');
  }

  checkHeaders(headers: HeaderBag): { ok: true } | WebhookRefusal {
    const signature = header(headers, WEBEX_SIGNATURE_HEADER);
    if (signature === undefined) return { ok: false, status: 401, reason: 'X-WebexCC-Signature is missing (the subscription must have a secret)' };
    if (!/^[0-9a-f]{64}$/i.test(signature.trim())) return { ok: false, status: 401, reason: 'X-WebexCC-Signature is not a hex HMAC-SHA256' };
    return { ok: true };
  }

  parse(rawBody: Buffer, headers: HeaderBag, receivedAt: number): WebhookParse | WebhookRefusal {
    const checked = this.checkHeaders(headers);
    if (!checked.ok) return checked;
    const given = Buffer.from((header(headers, WEBEX_SIGNATURE_HEADER) as string).trim().toLowerCase(), 'hex');
    const expected = Buffer.from(signWebexBody(rawBody, this.secret), 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return { ok: false, status: 401, reason: 'X-WebexCC-Signature does not match the body (check WEBEX_WEBHOOK_SECRET)' };
    }
    let body: unknown;
    try {
      body = JSON.parse(rawBody.toString('utf8'));
    } catch (e) {
      return this.invalid([{ index: 0, path: '', message: `not JSON: ${e instanceof Error ? e.message : String(e)}` }]);
    }
    return this.read(body, receivedAt);
  }

  private read(body: unknown, receivedAt: number): WebhookParse | WebhookRefusal {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return this.invalid([{ index: 0, path: '', message: 'must be one event object' }]);
    const event = body as Record<string, unknown>;
    const errors: BodyError[] = [];
    if (!isText(event.id)) errors.push({ index: 0, path: 'id', message: `must be a non-empty string of at most ${MAX_TEXT} characters` });
    if (!isText(event.type)) errors.push({ index: 0, path: 'type', message: 'must be a non-empty string' });
    if (errors.length > 0) return this.invalid(errors);
    const type = event.type as string;
    if (!(WEBEX_AGENT_EVENT_TYPES as readonly string[]).includes(type)) return { ok: true, changes: [], ignored: 1 };

    const data = event.data;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) return this.invalid([{ index: 0, path: 'data', message: 'must be an object' }]);
    const d = data as Record<string, unknown>;
    if (!isText(d.agentId)) errors.push({ index: 0, path: 'data.agentId', message: 'must be a non-empty string' });
    const occurredAt = epochMs(d.createdTime) ?? epochMs(event.comciscotimestamp);
    if (occurredAt === undefined) errors.push({ index: 0, path: 'data.createdTime', message: 'must be epoch milliseconds' });
    if (d.currentState !== undefined && d.currentState !== null && !isText(d.currentState)) {
      errors.push({ index: 0, path: 'data.currentState', message: 'must be a string' });
    }
    if (type === 'agent:state_change' && !isText(d.currentState)) errors.push({ index: 0, path: 'data.currentState', message: 'is required for agent:state_change' });
    for (const field of ['idleCodeId', 'auxCodeId', 'idleCodeName', 'wrapUpAuxCodeId']) {
      if (d[field] !== undefined && d[field] !== null && typeof d[field] !== 'string') errors.push({ index: 0, path: `data.${field}`, message: 'must be a string' });
    }
    if (errors.length > 0) return this.invalid(errors);

    let state;
    if (type === 'agent:logout') state = { state: 'Offline' as const };
    else {
      const codeId = (d.idleCodeId ?? d.auxCodeId) as string | undefined;
      const codeName = (codeId ? this.codeNames(codeId) : undefined) ?? ((d.idleCodeName as string | undefined) || undefined);
      state = d.currentState ? webexStateToAcd(d.currentState as string, codeName) : { state: 'Unavailable' as const, ...(codeName ? { code: codeName } : {}) };
    }
    if (!state) return { ok: true, changes: [], ignored: 1 };
    const change: AcdChange = { side: 'acd', eventId: event.id as string, agentId: d.agentId as string, occurredAt: occurredAt as number, state, receivedAt };
    return { ok: true, changes: [change] };
  }

  private invalid(errors: BodyError[]): WebhookRefusal {
    return { ok: false, status: 400, reason: 'the delivery was rejected as a whole; nothing was queued', errors };
  }
}
