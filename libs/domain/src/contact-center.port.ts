import type { AcdState, SettableAcdState, SettableAcdStateName } from './acd-state';
import type { AcdAgent, AcdTeam } from './directory';
import type { AcdChange } from './inbound-change';
import type { ChangeSource } from './ports';

/** The connectors the daemon ships (setting `ACD_CONNECTOR`). */
export const CONNECTOR_NAMES = ['generic', 'webex', 'cxone', 'genesys', 'amazon-connect'] as const;
export type ConnectorName = (typeof CONNECTOR_NAMES)[number];

/** A request to set an agent's ACD state. `requestId` is stable across retries (the Idempotency-Key). */
export interface AcdWriteRequest {
  agentId: string;
  state: SettableAcdState;
  requestId: string;
}

/**
 * `applied`: the state is set now. `deferred`: the vendor will apply it after the current contact.
 * `accepted`: the vendor took the request and reports the outcome later as an ordinary change (Webex answers
 * 202 and then sends an event); the engine confirms the write when that change arrives, as for `deferred`.
 */
export type AcdWriteResult = { kind: 'applied'; state: AcdState } | { kind: 'deferred' } | { kind: 'accepted' };

/**
 * What a connector can do; fixed for its lifetime. The engine and `rules validate` read it instead of asking
 * which vendor it is.
 */
export interface ConnectorCapabilities {
  /** The states `setState` accepts. A rule that wants another one toward this vendor is refused by validation. */
  settable: readonly SettableAcdStateName[];
  /**
   * What the vendor does with a write to an agent on a contact: `deferred` (it applies the state after the
   * contact: the write answers `deferred`), or `refused` (the write fails permanently; the engine's deferral
   * keeps the want and sends it again when the agent leaves the contact).
   */
  onContact: 'deferred' | 'refused';
  /** Whether the change caused by our write carries our `requestId` (exact echo match); else the engine matches by state and time. */
  echoesRequestId: boolean;
  /** Whether `AfterWork` changes carry the vendor's wrap-up code. */
  afterWorkCodes: boolean;
  /**
   * Whether `Unavailable` can only be set with a code (the vendor has no plain Unavailable; the write would fail
   * permanently with `code-required`). Validation then refuses rules that could want plain Unavailable.
   */
  unavailableNeedsCode: boolean;
}

/** What `/ready`, `/status` and `check` show of the connector. `detail` never holds a secret. */
export interface ConnectorHealth {
  up: boolean;
  detail: string;
}

/** Header values as Node gives them (lower-case names). */
export type HeaderBag = Readonly<Record<string, string | string[] | undefined>>;

/** A refused delivery: the HTTP status (4xx, or 503) and a reason a sender's admin can act on. */
export interface WebhookRefusal {
  ok: false;
  status: number;
  reason: string;
  /** Extra detail for a 400, e.g. each invalid event with its path. */
  errors?: unknown[];
}

/** A verified delivery turned into changes. `ignored` counts events the connector reads but the engine does not need. */
export interface WebhookParse {
  ok: true;
  changes: AcdChange[];
  ignored?: number;
}

/**
 * The intake of a connector whose contact center pushes its events to the daemon. The daemon's webhook
 * controller does the transport (body size cap, deadline, budget of bodies in flight, durable enqueue before
 * the answer); the connector only judges headers and bytes. Both methods are pure: no I/O.
 */
export interface AcdWebhookIntake {
  /** The path the daemon serves it at, e.g. `/v1/acd/events`. */
  readonly path: string;
  /** The largest body accepted, in bytes (413 above). */
  readonly maxBodyBytes: number;
  /** Headers are checked before the body is read, so an unsigned request costs no memory. */
  checkHeaders(headers: HeaderBag, nowMs: number): { ok: true } | WebhookRefusal;
  /** Verifies the signature over the raw bytes, then parses. A signature failure is a 401 and nothing is recorded. */
  parse(rawBody: Buffer, headers: HeaderBag, receivedAt: number): WebhookParse | WebhookRefusal;
  /**
   * Some vendors answer something other than `202 {accepted, duplicates}` (a challenge echo, an empty 200).
   * Undefined: the daemon's default answer.
   */
  answer?(accepted: number, duplicates: number): { status: number; body?: unknown };
}

/**
 * The contact-center connector port (docs/architecture.md, "Connectors"). A connector is the only code that
 * speaks its vendor's API: auth, event intake, directory and state writes. Failures are the domain's taxonomy:
 * writes throw `PermanentWriteError`, `RetryableWriteError` or `RateLimitedError`; reads throw
 * `ContactCenterReadError` or `RateLimitedError`; a setting the vendor refuses at `start` is a `ConfigError`.
 * Any other error counts as retryable.
 *
 * Changes reach the engine one of two ways, and a connector has exactly one: `webhook` (the vendor calls the
 * daemon; every replica serves it) or `source` (the connector pulls or holds a stream; the daemon runs it on one
 * replica at a time under a lease, and hands it the durable sink).
 */
export abstract class ContactCenterPort {
  abstract readonly name: ConnectorName;
  abstract readonly capabilities: ConnectorCapabilities;
  /** Every agent with its current state where the vendor says (the connector pages through the vendor's listing). */
  abstract listAgents(): Promise<AcdAgent[]>;
  /** Every team and the Unavailable codes its agents may use. */
  abstract listTeams(): Promise<AcdTeam[]>;
  abstract setState(request: AcdWriteRequest): Promise<AcdWriteResult>;

  /** A webhook-fed connector's intake; undefined for the others (default). */
  get webhook(): AcdWebhookIntake | undefined {
    return undefined;
  }

  /** The change source of a connector that pulls or streams its changes; undefined for the others (default). */
  get source(): ChangeSource | undefined {
    return undefined;
  }

  /**
   * At boot, before intake opens: authenticate, create or renew the vendor's subscriptions. Idempotent across
   * replicas (two replicas starting together leave one subscription). Default: nothing.
   */
  async start(): Promise<void> {}

  /** At shutdown, after intake closed. Safe to call twice. */
  async stop(): Promise<void> {}

  /** A cheap check that the vendor answers with our credentials. Default: `listTeams()` succeeds. */
  async health(): Promise<ConnectorHealth> {
    try {
      await this.listTeams();
      return { up: true, detail: 'teams listed' };
    } catch (e) {
      return { up: false, detail: e instanceof Error ? e.message : String(e) };
    }
  }
}
