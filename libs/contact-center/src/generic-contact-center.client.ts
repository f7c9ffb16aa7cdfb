import {
  ConfigError,
  ContactCenterPort,
  ContactCenterReadError,
  type ContactCenterReadFailure,
  PermanentWriteError,
  RateLimitedError,
  RetryableWriteError,
  type AcdAgent,
  type AcdTeam,
  type AcdWriteRequest,
  type AcdWriteResult,
  type ConnectorCapabilities,
} from '@presence-sync/domain';
import type { z } from 'zod';
import { GenericWebhookIntake } from './generic-webhook.intake';
import { HttpExchange, HttpNoAnswer, MAX_ANSWER_BYTES, type HttpAnswer } from '@presence-sync/http-client';

import {
  agentPageSchema,
  appliedBodySchema,
  formatPath,
  teamListSchema,
  toAcdState,
} from './generic-contract.schema';

/** Options of {@link GenericContactCenterClient}. */
export interface GenericContactCenterClientOptions {
  /** Root of the contact center's API, e.g. `https://cc.example.com/presence/v1`. A trailing `/` is ignored. */
  baseUrl: string;
  /** Bearer token (setting `ACD_TOKEN`). It is sent in the `Authorization` header only and never appears in an error. */
  token: string;
  /** Limit per HTTP request, covering connect, headers and body, in ms. Default 5000. */
  timeoutMs?: number;
  /**
   * Page size asked for on `GET /agents`, sent as `?limit=`. Contract v1 lets the server choose its page size,
   * so this is a hint that a server may ignore; when unset, nothing is sent.
   */
  pageSize?: number;
  /**
   * The shared secret of the events webhook (setting `ACD_WEBHOOK_SECRET`). Without it the client serves
   * no webhook (the CLI only reads catalogs).
   */
  webhookSecret?: string;
  /** Allowed clock distance of a signed webhook, in seconds (setting `ACD_WEBHOOK_TOLERANCE_SEC`). Default 300. */
  webhookToleranceSec?: number;
  /** Extra attempts of one read request after a 5xx, network failure or timeout (reads are safe to repeat). Default 2. */
  readRetries?: number;
  /** First pause between read attempts in ms, doubled each time. Default 250. */
  readRetryDelayMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 5_000;
/** A vendor asking for a longer pause than this is capped: the queue re-checks rather than sleeping for hours. */
export const MAX_RETRY_AFTER_MS = 10 * 60_000;
/** Used when a 429 carries no usable `Retry-After`. */
export const DEFAULT_RETRY_AFTER_MS = 1_000;
const SNIPPET_LENGTH = 200;
/** Reads wait out a 429 themselves only when the pause is short; a longer one goes to the caller. */
const MAX_READ_RATE_LIMIT_WAIT_MS = 5_000;

/**
 * `Retry-After` as milliseconds: delta-seconds or an HTTP-date (RFC 9110 §10.2.3). Missing or unreadable →
 * {@link DEFAULT_RETRY_AFTER_MS}; capped at {@link MAX_RETRY_AFTER_MS}.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number {
  const text = value?.trim();
  if (!text) return DEFAULT_RETRY_AFTER_MS;
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(text)) ms = Math.ceil(Number(text) * 1000);
  else {
    // V8's Date.parse reads odd strings such as "-5" as dates; an HTTP-date always names a month or a day.
    const at = /[a-z]/i.test(text) ? Date.parse(text) : Number.NaN;
    if (Number.isNaN(at)) return DEFAULT_RETRY_AFTER_MS;
    ms = at - nowMs;
  }
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

/** A request that got no complete HTTP answer. */
class NoAnswer extends Error {
  constructor(
    readonly kind: 'network' | 'timeout',
    readonly detail: string,
  ) {
    super(detail);
  }
}

type Answer = HttpAnswer;

/** The largest answer body read from the contact center, bytes (the shared HTTP client's cap). */
export const GENERIC_MAX_ANSWER_BYTES = MAX_ANSWER_BYTES;

const WRITE_FAILURES: Record<number, { reason: string; label: string }> = {
  404: { reason: 'unknown-agent', label: 'unknown agent' },
  409: { reason: 'precondition-failed', label: 'agent logged out or precondition failed' },
  422: { reason: 'unknown-code', label: 'code not enabled for the agent' },
};

/**
 * The generic connector, contract v1, calls out: lists agents and teams, and sets agent states.
 *
 * Calls go over a pool of kept-alive connections (`HttpExchange`), closed by `stop()`. Redirects are not
 * followed: a redirected PUT could land on another host with the bearer token.
 */
export class GenericContactCenterClient extends ContactCenterPort {
  override readonly name = 'generic';
  /** Fixed for the class: `rules validate` reads it from the connector's name alone (no settings, no network). */
  static readonly capabilities: ConnectorCapabilities = {
    settable: ['Available', 'Unavailable', 'Offline'], onContact: 'deferred', echoesRequestId: true, afterWorkCodes: true, unavailableNeedsCode: false,
  };
  override readonly capabilities = GenericContactCenterClient.capabilities;
  private readonly intake?: GenericWebhookIntake;
  private readonly http: HttpExchange;
  private readonly token: string;
  private readonly timeoutMs: number;
  private readonly pageSize?: number;
  private readonly readRetries: number;
  private readonly readRetryDelayMs: number;

  constructor(options: GenericContactCenterClientOptions) {
    super();
    if (options.webhookSecret) this.intake = new GenericWebhookIntake(options.webhookSecret, options.webhookToleranceSec);
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch {
      throw new ConfigError(`contact-center baseUrl is not a valid URL: ${JSON.stringify(options.baseUrl)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ConfigError(`contact-center baseUrl must be http:// or https://, got ${url.protocol}`);
    }
    if (url.username || url.password) {
      throw new ConfigError('contact-center baseUrl must not hold credentials; put the token in ACD_TOKEN');
    }
    if (url.search || url.hash) throw new ConfigError('contact-center baseUrl must not have a query or a fragment');
    if (!options.token || /\s/.test(options.token)) {
      throw new ConfigError('contact-center token (ACD_TOKEN) must be a non-empty string without spaces');
    }
    const positive = (name: string, value: number | undefined) => {
      if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
        throw new ConfigError(`contact-center ${name} must be a positive integer, got ${value}`);
      }
    };
    positive('timeoutMs', options.timeoutMs);
    positive('pageSize', options.pageSize);
    positive('readRetryDelayMs', options.readRetryDelayMs);
    if (options.readRetries !== undefined && !(Number.isInteger(options.readRetries) && options.readRetries >= 0)) {
      throw new ConfigError(`contact-center readRetries must be a non-negative integer, got ${options.readRetries}`);
    }
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.http = new HttpExchange(url, { timeoutMs: this.timeoutMs });
    this.pageSize = options.pageSize;
    this.readRetries = options.readRetries ?? 2;
    this.readRetryDelayMs = options.readRetryDelayMs ?? 250;
  }

  /**
   * Every agent, following `next` cursors until null. An agent listed twice (the listing moved while paging)
   * keeps its first position and its last-seen data.
   */
  override get webhook(): GenericWebhookIntake | undefined {
    return this.intake;
  }

  /** Closes the kept-alive connections. */
  override async stop(): Promise<void> {
    this.http.close();
  }

  override async listAgents(): Promise<AcdAgent[]> {
    const agents = new Map<string, AcdAgent>();
    const cursors = new Set<string>();
    let cursor: string | null = null;
    let page = 1;
    do {
      const query = new URLSearchParams();
      if (cursor !== null) query.set('cursor', cursor);
      if (this.pageSize) query.set('limit', String(this.pageSize));
      const what = `GET /agents (page ${page})`;
      const body = this.checkShape(what, agentPageSchema, await this.readJson('/agents', query, what));
      for (const raw of body.agents) {
        const agent: AcdAgent = { agentId: raw.agentId };
        if (raw.email) agent.email = raw.email;
        if (raw.teamId) agent.teamId = raw.teamId;
        if (raw.state) agent.state = toAcdState(raw.state);
        if (raw.since !== undefined && raw.since !== null) {
          agent.since = typeof raw.since === 'number' ? raw.since : Date.parse(raw.since);
        }
        agents.set(agent.agentId, agent);
      }
      // An empty cursor cannot be sent back meaningfully; it ends the listing like null.
      const next = body.next || null;
      if (next !== null) {
        if (cursors.has(next)) {
          throw new ContactCenterReadError(
            'bad-response',
            `${what} returned a cursor it had returned before; stopping so the listing cannot loop forever`,
          );
        }
        cursors.add(next);
      }
      cursor = next;
      page++;
    } while (cursor !== null);
    return [...agents.values()];
  }

  override async listTeams(): Promise<AcdTeam[]> {
    const what = 'GET /teams';
    const body = this.checkShape(what, teamListSchema, await this.readJson('/teams', new URLSearchParams(), what));
    return body.teams.map((team) => ({
      teamId: team.teamId,
      name: team.name,
      unavailableCodes: [...team.unavailableCodes],
    }));
  }

  /**
   * Sets an agent's state; `requestId` goes out as the `Idempotency-Key`, so a retry of the same request is
   * applied at most once by the contact center.
   *
   * @throws PermanentWriteError reasons `not-settable` (a state outside `capabilities.settable`, no call made), `unknown-agent` (404), `precondition-failed` (409), `unknown-code`
   *   (422), `unauthorized` (401/403), `rejected` (other 4xx, redirects)
   * @throws RateLimitedError on 429, with the vendor's `Retry-After`
   * @throws RetryableWriteError reasons `server-error` (5xx, 408, 425), `network`, `timeout`
   */
  override async setState(request: AcdWriteRequest): Promise<AcdWriteResult> {
    const path = `/agents/${encodeURIComponent(request.agentId)}/state`;
    const what = `PUT ${path}`;
    // Busy and AfterWork come from contacts; a write of one would only spend a call on the vendor's 400.
    if (!(this.capabilities.settable as readonly string[]).includes(request.state.state)) {
      throw new PermanentWriteError('not-settable', `${what}: ${request.state.state} cannot be set; settable: ${this.capabilities.settable.join(', ')}`);
    }
    const body = {
      state: request.state.state,
      ...(request.state.code ? { code: request.state.code } : {}),
      requestId: request.requestId,
    };

    let answer: Answer;
    try {
      answer = await this.send('PUT', path, {
        body: JSON.stringify(body),
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': request.requestId },
      });
    } catch (error) {
      if (error instanceof NoAnswer) throw new RetryableWriteError(error.kind, `${what}: ${error.detail}`);
      throw error;
    }

    const { status } = answer;
    if (status === 202) return { kind: 'deferred' };
    if (status >= 200 && status < 300) {
      // 2xx means applied. If the body lacks the state, re-sending would only replay the same stored answer
      // (same Idempotency-Key), so the requested state is taken as the applied one.
      const parsed = appliedBodySchema.safeParse(this.tryJson(answer.text));
      return { kind: 'applied', state: parsed.success ? toAcdState(parsed.data.state) : { ...request.state } };
    }
    const vendor = this.snippet(answer.text);
    const tail = vendor ? `: ${vendor}` : '';
    if (status === 429) {
      const waitMs = parseRetryAfter(answer.header('retry-after'), Date.now());
      throw new RateLimitedError(waitMs, `${what}: HTTP 429 rate limited, retry after ${waitMs} ms${tail}`);
    }
    if (status === 401 || status === 403) {
      throw new PermanentWriteError('unauthorized', this.unauthorizedMessage(what, status, tail), status);
    }
    const known = WRITE_FAILURES[status];
    if (known) throw new PermanentWriteError(known.reason, `${what}: HTTP ${status} ${known.label}${tail}`, status);
    if (status >= 500 || status === 408 || status === 425) {
      throw new RetryableWriteError('server-error', `${what}: HTTP ${status}${tail}`, status);
    }
    if (status >= 300 && status < 400) {
      throw new PermanentWriteError('rejected', `${what}: HTTP ${status} redirect not followed; check the contact-center baseUrl`, status);
    }
    throw new PermanentWriteError('rejected', `${what}: HTTP ${status} rejected${tail}`, status);
  }

  /** One GET whose 2xx body is JSON; retries what is worth retrying, since a GET is safe to repeat. */
  private async readJson(path: string, query: URLSearchParams, what: string): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      const canRetry = attempt < this.readRetries;
      const pause = this.readRetryDelayMs * 2 ** attempt;
      let answer: Answer;
      try {
        const search = query.toString();
        answer = await this.send('GET', search ? `${path}?${search}` : path, {});
      } catch (error) {
        if (!(error instanceof NoAnswer)) throw error;
        if (canRetry) {
          await delay(pause);
          continue;
        }
        throw new ContactCenterReadError(error.kind, `${what}: ${error.detail}`);
      }
      const { status } = answer;
      if (status >= 200 && status < 300) {
        const body = this.tryJson(answer.text);
        if (body === undefined) {
          throw new ContactCenterReadError('bad-response', `${what}: HTTP ${status} body is not JSON: ${this.snippet(answer.text) || '(empty)'}`, status);
        }
        return body;
      }
      const vendor = this.snippet(answer.text);
      const tail = vendor ? `: ${vendor}` : '';
      if (status === 429) {
        const waitMs = parseRetryAfter(answer.header('retry-after'), Date.now());
        if (canRetry && waitMs <= MAX_READ_RATE_LIMIT_WAIT_MS) {
          await delay(waitMs);
          continue;
        }
        throw new RateLimitedError(waitMs, `${what}: HTTP 429 rate limited, retry after ${waitMs} ms${tail}`);
      }
      let reason: ContactCenterReadFailure = 'http-error';
      if (status >= 500 || status === 408 || status === 425) {
        if (canRetry) {
          await delay(pause);
          continue;
        }
        reason = 'server-error';
      }
      if (status === 401 || status === 403) {
        throw new ContactCenterReadError('unauthorized', this.unauthorizedMessage(what, status, tail), status);
      }
      throw new ContactCenterReadError(reason, `${what}: HTTP ${status}${tail}`, status);
    }
  }

  private async send(
    method: 'GET' | 'PUT',
    pathAndQuery: string,
    init: { body?: string; headers?: Record<string, string> },
  ): Promise<Answer> {
    const headers = { Accept: 'application/json', Authorization: `Bearer ${this.token}`, 'User-Agent': 'presence-sync', ...init.headers };
    try {
      return await this.http.send(method, pathAndQuery, headers, init.body);
    } catch (error) {
      if (!(error instanceof HttpNoAnswer)) throw error;
      const detail = this.redact(error.detail);
      if (error.kind !== 'too-large') throw new NoAnswer(error.kind, detail);
      // Not worth a retry: the same request would get the same answer.
      const what = `${method} ${pathAndQuery.split('?')[0]}`;
      if (method === 'GET') throw new ContactCenterReadError('bad-response', `${what}: ${detail}`);
      throw new PermanentWriteError('rejected', `${what}: ${detail}`);
    }
  }

  private checkShape<T>(what: string, schema: z.ZodType<T>, body: unknown): T {
    const result = schema.safeParse(body);
    if (result.success) return result.data;
    const [first] = result.error.issues;
    const more = result.error.issues.length - 1;
    const where = formatPath(first.path) || 'body';
    throw new ContactCenterReadError(
      'bad-response',
      `${what} returned an unexpected body: ${where} ${first.message}${more > 0 ? ` (and ${more} more problem(s))` : ''}`,
    );
  }

  private unauthorizedMessage(what: string, status: number, tail: string): string {
    return `${what}: HTTP ${status}, the contact center refused our credentials; check the ACD_TOKEN setting${tail}`;
  }

  private tryJson(text: string): unknown {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  }

  /** A short, single-line, token-free piece of the vendor's answer for messages; prefers its error text. */
  private snippet(text: string): string {
    const body = this.tryJson(text);
    let piece = text;
    if (body && typeof body === 'object' && !Array.isArray(body)) {
      const fields = body as Record<string, unknown>;
      const said = ['error', 'code', 'message', 'detail', 'title']
        .map((key) => fields[key])
        .filter((value): value is string => typeof value === 'string' && value.length > 0);
      if (said.length > 0) piece = [...new Set(said)].join(': ');
    }
    piece = this.redact(piece).replace(/\s+/g, ' ').trim();
    return piece.length > SNIPPET_LENGTH ? `${piece.slice(0, SNIPPET_LENGTH)}…` : piece;
  }

  /** Vendors sometimes echo request headers in errors; the token is cut out wherever it shows up. */
  private redact(text: string): string {
    let out = text;
    for (const form of new Set([this.token, encodeURIComponent(this.token)])) {
      out = out.split(form).join('[redacted]');
    }
    return out;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
