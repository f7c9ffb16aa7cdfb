/**
 * Issue 9, webhook bodies and memory: what the daemon refuses before (or instead of) holding a body, and what
 * the signature covers when a body arrives with a Content-Encoding. Real daemon, real sockets; the requests
 * here are written by hand so a test can send headers and hold the body back, as a slow or hostile client does.
 */
import { randomUUID } from 'node:crypto';
import { request, type ClientRequest, type IncomingHttpHeaders } from 'node:http';
import { gzipSync } from 'node:zlib';
import { GENERIC_MAX_BODY_BYTES, signGenericWebhook } from '@presence-sync/contact-center';
import { DaemonHarness, SECRET, waitFor } from '../../support/daemon-harness';

interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: unknown;
}

/**
 * Starts a POST to the webhook and writes `body` (when given) without ending the request unless `end` is set.
 * The answer promise settles on the response, whether or not the body was ever finished.
 */
function rawPost(url: string, headers: Record<string, string>, body?: Buffer, end = true): { req: ClientRequest; answer: Promise<RawAnswer> } {
  const target = new URL(url);
  let req!: ClientRequest;
  const answer = new Promise<RawAnswer>((resolve, reject) => {
    req = request({ host: target.hostname, port: target.port, method: 'POST', path: '/v1/acd/events', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try { parsed = JSON.parse(text); } catch { /* kept as text */ }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
      });
    });
    // The server may answer and close before a held-back body is sent; the answer is what the test checks.
    req.on('error', (e) => reject(e));
  });
  req.flushHeaders();
  if (body) req.write(body);
  if (end) req.end();
  return { req, answer };
}

const nowSec = () => Math.floor(Date.now() / 1000);
const event = (over: Record<string, unknown> = {}) => ({
  eventId: randomUUID(), occurredAt: new Date().toISOString(), agentId: 'a-1001', state: { state: 'Available' }, ...over,
});
const signedHeaders = (body: Buffer | string, extra: Record<string, string> = {}) => {
  const ts = nowSec();
  return { 'content-type': 'application/json', 'x-presence-timestamp': String(ts), 'x-presence-signature': signGenericWebhook(SECRET, ts, body), ...extra };
};

describe('webhook intake limits (POST /v1/acd/events)', () => {
  let h: DaemonHarness;
  beforeAll(async () => { h = await DaemonHarness.start(); });
  afterAll(async () => { await h?.stop(); });

  const queuedIds = () => h.intakeIds();

  describe('Content-Encoding: the signature covers the bytes on the wire, and encoded bodies are refused', () => {
    const e = event();
    const plain = Buffer.from(JSON.stringify(e));
    const zipped = gzipSync(plain);

    it.each<[string, Buffer]>([
      ['signed over the compressed bytes', zipped],
      ['signed over the decoded body', plain],
    ])('415 for a gzip body %s, naming the supported coding; nothing queued', async (_label, signedBytes) => {
      const { answer } = rawPost(h.url, { ...signedHeaders(signedBytes), 'content-encoding': 'gzip', 'content-length': String(zipped.length) }, zipped);
      const r = await answer;
      expect(r.status).toBe(415);
      expect(r.headers['accept-encoding']).toBe('identity');
      expect(r.body).toMatchObject({ error: 'unsupported-encoding', reason: expect.stringMatching(/Content-Encoding gzip .*identity/) });
      expect((await queuedIds()).has(e.eventId)).toBe(false);
    });

    it('takes Content-Encoding: identity, signed over the body as sent', async () => {
      const fresh = Buffer.from(JSON.stringify(event()));
      const { answer } = rawPost(h.url, { ...signedHeaders(fresh), 'content-encoding': 'identity', 'content-length': String(fresh.length) }, fresh);
      expect(await answer).toMatchObject({ status: 202, body: { accepted: 1, duplicates: 0 } });
    });
  });

  describe('refused before the body is read (the client has sent headers only)', () => {
    const held = (headers: Record<string, string>) => rawPost(h.url, { 'content-type': 'application/json', 'content-length': '1000', ...headers }, undefined, false);

    it.each<[string, () => Record<string, string>, RegExp]>([
      ['no signature headers', () => ({}), /missing X-Presence-Timestamp/],
      ['a timestamp 301 s old', () => ({ 'x-presence-timestamp': String(nowSec() - 301), 'x-presence-signature': `sha256=${'0'.repeat(64)}` }), /timestamp is 301 s away/],
      ['a signature that is not sha256=<hex>', () => ({ 'x-presence-timestamp': String(nowSec()), 'x-presence-signature': 'md5=abc' }), /must look like sha256=/],
    ])('401 for %s', async (_label, headers, reason) => {
      const { req, answer } = held(headers());
      const r = await answer;
      req.destroy();
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ error: 'unauthorized', reason: expect.stringMatching(reason) });
    });

    it(`413 for a declared Content-Length over ${GENERIC_MAX_BODY_BYTES} bytes`, async () => {
      const { req, answer } = held({ ...signedHeaders('x'), 'content-length': String(GENERIC_MAX_BODY_BYTES + 1) });
      const r = await answer;
      req.destroy();
      expect(r.status).toBe(413);
      expect(r.body).toMatchObject({ error: 'too-large', reason: expect.stringContaining(`${GENERIC_MAX_BODY_BYTES} bytes`) });
    });
  });

  it('413 for a chunked body that grows past the limit; a chunked body under it is taken', async () => {
    const big = Buffer.alloc(GENERIC_MAX_BODY_BYTES + 10, 0x20);
    const tooBig = rawPost(h.url, { ...signedHeaders(big), 'transfer-encoding': 'chunked' }, big);
    expect((await tooBig.answer).status).toBe(413);

    const small = Buffer.from(JSON.stringify(event()));
    const ok = rawPost(h.url, { ...signedHeaders(small), 'transfer-encoding': 'chunked' }, small);
    expect(await ok.answer).toMatchObject({ status: 202, body: { accepted: 1 } });
  });
});

describe('webhook intake: bodies in flight share a byte budget (ACD_WEBHOOK_INFLIGHT_MAX_MB)', () => {
  let h: DaemonHarness;
  beforeAll(async () => { h = await DaemonHarness.start({ env: { ACD_WEBHOOK_INFLIGHT_MAX_MB: '1' } }); });
  afterAll(async () => { await h?.stop(); });

  /** A signed, small, invalid body: 400 while the budget has room, 503 while it is used up. Queues nothing. */
  const probe = async () => {
    const body = Buffer.from('{}');
    const { answer } = rawPost(h.url, { ...signedHeaders(body), 'content-length': String(body.length) }, body);
    return answer;
  };

  it('answers 503 with Retry-After while unauthenticated uploads hold the budget, and recovers when they go', async () => {
    expect((await probe()).status).toBe(400);
    // A stranger's slow upload: plausible headers, a body the size of the limit, sent a little at a time.
    const slow = rawPost(h.url, {
      'content-type': 'application/json', 'content-length': String(GENERIC_MAX_BODY_BYTES),
      'x-presence-timestamp': String(nowSec()), 'x-presence-signature': `sha256=${'ab'.repeat(32)}`,
    }, Buffer.alloc(1024, 0x20), false);
    slow.answer.catch(() => undefined);

    let busy: RawAnswer | undefined;
    await waitFor(async () => (busy = await probe()).status === 503, 'the budget to be in use');
    expect(busy?.headers['retry-after']).toBe('5');
    expect(busy?.body).toMatchObject({ error: 'unavailable', reason: expect.stringMatching(/webhook bodies .* in flight/) });

    slow.req.destroy();
    await waitFor(async () => (await probe()).status === 400, 'the budget to be released when the upload is dropped');
    expect((await h.postEvents(event())).status).toBe(202);
  });
});
