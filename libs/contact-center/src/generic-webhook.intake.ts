import type { AcdWebhookIntake, HeaderBag, WebhookParse, WebhookRefusal } from '@presence-sync/domain';
import {
  checkGenericHeaders, GENERIC_MAX_BODY_BYTES, GENERIC_SIGNATURE_HEADER, GENERIC_SIGNATURE_TOLERANCE_SEC, GENERIC_TIMESTAMP_HEADER, parseGenericEvents,
  verifyGenericSignature,
} from './generic-webhook';

/** Where contract v1 events come in. */
export const GENERIC_WEBHOOK_PATH = '/v1/acd/events';

function header(headers: HeaderBag, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Contract v1 events in: `X-Presence-Timestamp` + `X-Presence-Signature` over `"<timestamp>.<raw body>"`. */
export class GenericWebhookIntake implements AcdWebhookIntake {
  readonly path = GENERIC_WEBHOOK_PATH;
  readonly maxBodyBytes = GENERIC_MAX_BODY_BYTES;

  constructor(private readonly secret: string, private readonly toleranceSec = GENERIC_SIGNATURE_TOLERANCE_SEC) {}

  checkHeaders(headers: HeaderBag, nowMs: number): { ok: true } | WebhookRefusal {
    const check = checkGenericHeaders({ ...this.signatureOf(headers), nowMs });
    return check.ok ? check : { ok: false, status: 401, reason: check.reason };
  }

  parse(rawBody: Buffer, headers: HeaderBag, receivedAt: number): WebhookParse | WebhookRefusal {
    const check = verifyGenericSignature({ ...this.signatureOf(headers), rawBody, nowMs: receivedAt });
    if (!check.ok) return { ok: false, status: 401, reason: check.reason };
    const parsed = parseGenericEvents(rawBody, receivedAt, { toleranceSec: this.toleranceSec });
    if (!parsed.ok) return { ok: false, status: 400, reason: 'the batch was rejected as a whole; nothing was queued', errors: parsed.errors };
    return { ok: true, changes: parsed.changes };
  }

  private signatureOf(headers: HeaderBag) {
    return {
      timestamp: header(headers, GENERIC_TIMESTAMP_HEADER), signature: header(headers, GENERIC_SIGNATURE_HEADER),
      secret: this.secret, toleranceSec: this.toleranceSec,
    };
  }
}
