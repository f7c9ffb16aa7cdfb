import type { IncomingHttpHeaders } from 'node:http';
import { PassThrough } from 'node:stream';
import { readWebhookBody, WebhookBodyBudget, type WebhookBodySource } from './webhook-body.reader';

/** A request stream the test feeds by hand. */
function source(headers: IncomingHttpHeaders = {}): PassThrough & WebhookBodySource {
  return Object.assign(new PassThrough(), { headers });
}

const LIMIT = 100;
const HOUR = 3_600_000;

describe(readWebhookBody.name, () => {
  it('returns the body, and gives its reservation back on release (twice is harmless)', async () => {
    const budget = new WebhookBodyBudget(1000);
    const req = source({ 'content-length': '11' });
    const reading = readWebhookBody(req, { maxBytes: LIMIT, timeoutMs: HOUR, budget });
    expect(budget.inUse).toBe(11);
    req.write('hello ');
    req.end('world');
    const read = await reading;
    expect(read.ok && read.body.toString()).toBe('hello world');
    read.release();
    read.release();
    expect(budget.inUse).toBe(0);
  });

  it('refuses a declared size over the limit with 413 without reserving or reading', async () => {
    const budget = new WebhookBodyBudget(1000);
    const req = source({ 'content-length': String(LIMIT + 1) });
    const read = await readWebhookBody(req, { maxBytes: LIMIT, timeoutMs: HOUR, budget });
    expect(read).toMatchObject({ ok: false, status: 413, reason: 'the body is 101 bytes; at most 100 bytes are accepted' });
    expect(budget.inUse).toBe(0);
    expect(req.listenerCount('data')).toBe(0);
  });

  it('refuses a chunked body once it grows past the limit, keeping none of it', async () => {
    const budget = new WebhookBodyBudget(1000);
    const req = source();
    const reading = readWebhookBody(req, { maxBytes: LIMIT, timeoutMs: HOUR, budget });
    req.write(Buffer.alloc(60));
    req.write(Buffer.alloc(60));
    const read = await reading;
    expect(read).toMatchObject({ ok: false, status: 413 });
    read.release();
    expect(budget.inUse).toBe(0);
  });

  it('answers 503 when the declared size does not fit the shared budget, and takes it once room is back', async () => {
    const budget = new WebhookBodyBudget(150);
    const first = source({ 'content-length': '100' });
    const holding = readWebhookBody(first, { maxBytes: LIMIT, timeoutMs: HOUR, budget });
    const refused = await readWebhookBody(source({ 'content-length': '51' }), { maxBytes: LIMIT, timeoutMs: HOUR, budget });
    expect(refused).toMatchObject({ ok: false, status: 503, reason: expect.stringMatching(/bodies of 150 bytes are in flight/) });
    refused.release();
    expect(budget.inUse).toBe(100);

    first.end(Buffer.alloc(100));
    (await holding).release();
    const next = source({ 'content-length': '51' });
    const reading = readWebhookBody(next, { maxBytes: LIMIT, timeoutMs: HOUR, budget });
    next.end(Buffer.alloc(51));
    expect((await reading).ok).toBe(true);
  });

  it('reserves a chunked body as it grows and answers 503 when the budget runs out mid-body', async () => {
    const budget = new WebhookBodyBudget(150);
    expect(budget.tryReserve(100)).toBe(true);
    const req = source();
    const reading = readWebhookBody(req, { maxBytes: LIMIT, timeoutMs: HOUR, budget });
    req.write(Buffer.alloc(30));
    req.write(Buffer.alloc(30));
    const read = await reading;
    expect(read).toMatchObject({ ok: false, status: 503 });
    read.release();
    expect(budget.inUse).toBe(100);
  });

  it('answers 408 when the body does not arrive in time, and drains what comes later', async () => {
    const budget = new WebhookBodyBudget(1000);
    const req = source({ 'content-length': '50' });
    const reading = readWebhookBody(req, { maxBytes: LIMIT, timeoutMs: 5, budget });
    req.write(Buffer.alloc(10));
    const read = await reading;
    expect(read).toMatchObject({ ok: false, status: 408, reason: 'the body did not arrive within 5 ms' });
    read.release();
    expect(budget.inUse).toBe(0);
    const ended = new Promise((resolve) => req.once('end', resolve));
    req.end(Buffer.alloc(40));
    await ended;
  });

  it('reports a client that went away, and an error on the stream is not thrown', async () => {
    const budget = new WebhookBodyBudget(1000);
    const req = source({ 'content-length': '50' });
    const reading = readWebhookBody(req, { maxBytes: LIMIT, timeoutMs: HOUR, budget });
    req.write(Buffer.alloc(10));
    req.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    const read = await reading;
    expect(read).toMatchObject({ ok: false, status: 'aborted' });
    read.release();
    expect(budget.inUse).toBe(0);
  });
});

describe(WebhookBodyBudget.name, () => {
  it('takes reservations up to its size, never goes below zero, and refuses a nonsense size', () => {
    const budget = new WebhookBodyBudget(10);
    expect(budget.tryReserve(10)).toBe(true);
    expect(budget.tryReserve(1)).toBe(false);
    budget.release(25);
    expect(budget.inUse).toBe(0);
    expect(() => new WebhookBodyBudget(0)).toThrow(/positive integer/);
  });
});
