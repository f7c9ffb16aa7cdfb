import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';

/**
 * Reading webhook bodies with bounded memory. A body has to be held whole before its signature can be
 * checked, so whoever can open a connection can make the daemon hold bytes: before these bounds, 200 slow
 * unauthenticated 2 MB uploads took it from 178 to 512 MB. Three bounds apply, all before any signature:
 * a cap per body, a deadline per body, and one byte budget shared by every body being received.
 *
 * Framework-free like the rest of the connector: the daemon's controller hands in its request stream.
 */

/**
 * Bytes of webhook bodies being received at once, across all requests of this process. A body reserves its
 * declared `Content-Length` before a byte is read (a chunked one reserves as it grows); a request that does
 * not fit is answered 503 with `Retry-After` at once, which a contact center treats as "send again".
 */
export class WebhookBodyBudget {
  private used = 0;

  constructor(readonly maxBytes: number) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw new Error('WebhookBodyBudget: maxBytes must be a positive integer');
  }

  /** Bytes reserved right now. */
  get inUse(): number {
    return this.used;
  }

  /** Reserves `bytes` if they fit; false (and nothing reserved) when they do not. */
  tryReserve(bytes: number): boolean {
    if (this.used + bytes > this.maxBytes) return false;
    this.used += bytes;
    return true;
  }

  release(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }
}

/** How long a body may take to arrive once its headers are in: 1 MiB at 1 Mbit/s takes about 8.4 s. */
export const WEBHOOK_BODY_TIMEOUT_MS = 15_000;

export interface ReadWebhookBodyOptions {
  /** Largest body; a larger declared or received one is refused with 413. */
  maxBytes: number;
  /** Time for the whole body to arrive; refused with 408 after it. */
  timeoutMs: number;
  budget: WebhookBodyBudget;
}

/** Why a body was not read. `aborted`: the client went away, nobody is left to answer. */
export type WebhookBodyRefusal =
  | { status: 413; reason: string }
  | { status: 408; reason: string }
  | { status: 503; reason: string }
  | { status: 'aborted'; reason: string };

export type WebhookBodyRead = ({ ok: true; body: Buffer } | ({ ok: false } & WebhookBodyRefusal)) & {
  /**
   * Gives the reserved bytes back to the budget. Call it once the body is no longer needed (after parsing);
   * safe to call twice.
   */
  release: () => void;
};

/** The request as the reader needs it: Node's `IncomingMessage` (and Express's `Request`) fit. */
export type WebhookBodySource = Readable & { headers: IncomingHttpHeaders };

const DECIMAL = /^\d{1,15}$/;

function declaredLength(headers: IncomingHttpHeaders): number | undefined {
  const header = headers['content-length'];
  return header !== undefined && DECIMAL.test(header) ? Number(header) : undefined;
}

/** The 413 reason for a declared `Content-Length` over `maxBytes`, judged from the headers alone; else undefined. */
export function declaredBodyTooLarge(headers: IncomingHttpHeaders, maxBytes: number): string | undefined {
  const declared = declaredLength(headers);
  return declared !== undefined && declared > maxBytes ? `the body is ${declared} bytes; at most ${maxBytes} bytes are accepted` : undefined;
}

function budgetFull(budget: WebhookBodyBudget): string {
  return `webhook bodies of ${budget.maxBytes} bytes are in flight already; send again shortly`;
}

/**
 * Reads a request body under the three bounds. Never rejects: every outcome, including a client that went
 * away, is a value, so nothing a stranger sends becomes an exception (or an error-level log line).
 * After a refusal the rest of the body is read and dropped (not kept), so the connection stays usable.
 */
export function readWebhookBody(req: WebhookBodySource, options: ReadWebhookBodyOptions): Promise<WebhookBodyRead> {
  const { maxBytes, budget } = options;
  let reserved = 0;
  const release = () => {
    budget.release(reserved);
    reserved = 0;
  };
  const tooLarge = declaredBodyTooLarge(req.headers, maxBytes);
  if (tooLarge) return Promise.resolve({ ok: false, status: 413, reason: tooLarge, release });
  const declared = declaredLength(req.headers);
  if (declared !== undefined) {
    if (!budget.tryReserve(declared)) return Promise.resolve({ ok: false, status: 503, reason: budgetFull(budget), release });
    reserved = declared;
  }

  return new Promise<WebhookBodyRead>((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const timer = setTimeout(() => finish({ ok: false, status: 408, reason: `the body did not arrive within ${options.timeoutMs} ms` }), options.timeoutMs);
    const drop = () => undefined;

    function finish(outcome: { ok: true; body: Buffer } | ({ ok: false } & WebhookBodyRefusal)): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      chunks.length = 0;
      if (!outcome.ok) {
        // What is still coming is read and dropped; holding it back would leave the connection stuck.
        req.on('data', drop);
        req.resume();
      }
      resolve({ ...outcome, release });
    }
    function onData(chunk: Buffer): void {
      received += chunk.length;
      if (received > maxBytes) {
        finish({ ok: false, status: 413, reason: `the body is over ${maxBytes} bytes; at most ${maxBytes} bytes are accepted` });
        return;
      }
      if (received > reserved) {
        if (!budget.tryReserve(received - reserved)) {
          finish({ ok: false, status: 503, reason: budgetFull(budget) });
          return;
        }
        reserved = received;
      }
      chunks.push(chunk);
    }
    function onEnd(): void {
      finish({ ok: true, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received) });
    }
    function onClose(): void {
      finish({ ok: false, status: 'aborted', reason: 'the client closed the connection before the body was complete' });
    }
    // An aborted upload also emits 'error' (ECONNRESET); without a listener that would be an uncaught exception.
    req.on('error', drop);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
  });
}
