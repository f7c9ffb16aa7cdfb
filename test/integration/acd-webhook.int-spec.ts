import { randomUUID } from 'node:crypto';
import { DaemonHarness } from '../support/daemon-harness';

const event = (over: Record<string, unknown> = {}) => ({
  eventId: randomUUID(), occurredAt: new Date().toISOString(), agentId: 'a-1001', state: { state: 'Available' }, ...over,
});

describe('POST /v1/acd/events (generic connector v1)', () => {
  let h: DaemonHarness;
  beforeAll(async () => { h = await DaemonHarness.start(); });
  afterAll(async () => { await h.stop(); });

  const queued = async () => (await h.intakeIds()).size;

  it('401 for a wrong signature, nothing recorded', async () => {
    const before = await queued();
    const r = await h.postEvents(event(), { secret: 'not-the-secret-at-all-0000' });
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ error: 'unauthorized', reason: expect.stringMatching(/signature/) });
    expect(await queued()).toBe(before);
  });

  it('401 for a timestamp outside the 300 s window', async () => {
    const r = await h.postEvents(event(), { timestampSec: Math.floor(Date.now() / 1000) - 301 });
    expect(r.status).toBe(401);
    expect(JSON.stringify(r.body)).toMatch(/timestamp/);
  });

  it('401 without the headers', async () => {
    const res = await fetch(`${h.url}/v1/acd/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(event()) });
    expect(res.status).toBe(401);
  });

  it('400 with every problem and its path for a malformed batch; nothing of it is queued', async () => {
    const before = await queued();
    const r = await h.postEvents({ events: [event(), event({ state: { state: 'Sleeping' } }), event({ occurredAt: 'yesterday', agentId: '' })] });
    expect(r.status).toBe(400);
    const errors = (r.body as { errors: { index: number; path: string; message: string }[] }).errors;
    expect(errors.map((e) => [e.index, e.path])).toEqual(expect.arrayContaining([[1, 'events[1].state.state'], [2, 'events[2].occurredAt'], [2, 'events[2].agentId']]));
    expect(await queued()).toBe(before);
  });

  it('400 for malformed JSON', async () => {
    const r = await h.postEvents(undefined, { raw: '{"eventId": "x", ' });
    expect(r.status).toBe(400);
    expect((r.body as { errors: { index: number | null }[] }).errors[0].index).toBeNull();
  });

  const errorsOf = (body: unknown) => (body as { errors: { index: number | null; path: string; message: string }[] }).errors;

  it.each<[string, Record<string, unknown>, string]>([
    ['a 900 KB agentId', { agentId: 'A'.repeat(900_000) }, 'agentId'],
    ['a long code', { state: { state: 'Unavailable', code: 'L'.repeat(300) } }, 'state.code'],
    ['a long requestId', { requestId: 'r'.repeat(300) }, 'requestId'],
  ])('400 naming the field for %s; nothing queued, the value not echoed', async (_label, over, path) => {
    const before = await queued();
    const r = await h.postEvents({ events: [event(), event(over)] });
    expect(r.status).toBe(400);
    expect(errorsOf(r.body)).toEqual([{ index: 1, path: `events[1].${path}`, message: 'must be at most 256 characters' }]);
    expect(JSON.stringify(r.body).length).toBeLessThan(1000);
    expect(await queued()).toBe(before);
  });

  it('400 naming the field for ids holding lone surrogates, which would otherwise collapse to one key', async () => {
    const before = await queued();
    // JSON.stringify escapes a lone surrogate as \udXXX: valid JSON, valid UTF-8, and not a valid string.
    const r = await h.postEvents({ events: [event({ eventId: `${randomUUID()}\ud800` }), event({ eventId: `${randomUUID()}\ud801`, agentId: 'a-1001\udfff' })] });
    expect(r.status).toBe(400);
    expect(errorsOf(r.body).map((e) => [e.index, e.path])).toEqual([[0, 'events[0].eventId'], [1, 'events[1].eventId'], [1, 'events[1].agentId']]);
    expect(errorsOf(r.body)[0].message).toMatch(/well-formed UTF-16/);
    expect(await queued()).toBe(before);
  });

  it('400 naming occurredAt for an event stamped further ahead than the signature tolerance; the batch is refused', async () => {
    const before = await queued();
    const ahead = new Date(Date.now() + 400 * 86_400_000).toISOString();
    const r = await h.postEvents({ events: [event(), event({ occurredAt: ahead })] });
    expect(r.status).toBe(400);
    expect(errorsOf(r.body)).toEqual([{ index: 1, path: 'events[1].occurredAt', message: expect.stringMatching(/^is \d+ s ahead of the time it was received \(at most 300 s ahead/) }]);
    expect(await queued()).toBe(before);
    // A small skew within the tolerance is taken.
    expect((await h.postEvents(event({ occurredAt: new Date(Date.now() + 60_000).toISOString() }))).status).toBe(202);
  });

  it('hands the optional requestId to intake with the change', async () => {
    // Watched at the port, not in Redis: how intake stores a change is the engine's business.
    const accept = jest.spyOn(h.sink, 'accept');
    try {
      const e = event({ requestId: 'w-req-42' });
      expect(await h.postEvents(e)).toEqual({ status: 202, body: { accepted: 1, duplicates: 0 } });
      // Only the contact center's changes: an earlier test's write may still come back through the presence stream.
      const fromWebhook = accept.mock.calls.flat(2).filter((c) => c.side === 'acd');
      expect(fromWebhook).toEqual([expect.objectContaining({ eventId: e.eventId, requestId: 'w-req-42' })]);
    } finally {
      accept.mockRestore();
    }
  });

  it('202 once queued; a re-sent event id is counted as a duplicate', async () => {
    const e = event({ state: { state: 'Unavailable', code: 'Break' } });
    expect(await h.postEvents(e)).toEqual({ status: 202, body: { accepted: 1, duplicates: 0 } });
    expect(await h.postEvents(e)).toEqual({ status: 202, body: { accepted: 0, duplicates: 1 } });
    expect(await h.postEvents({ events: [e, event()] })).toEqual({ status: 202, body: { accepted: 1, duplicates: 1 } });
  });

  it('serves the audit trail of an agent, and 404 for an unknown one', async () => {
    const ok = await fetch(`${h.url}/v1/agents/a-1001/audit`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ agentId: 'a-1001', records: expect.any(Array) });
    expect((await fetch(`${h.url}/v1/agents/nobody/audit`)).status).toBe(404);
  });

  it('answers a bad ?limit= of the audit trail with 400 and the reason, never some other number of records', async () => {
    for (const limit of ['abc', '0', '10001', '-1', '2.5']) {
      const res = await fetch(`${h.url}/v1/agents/a-1001/audit?limit=${limit}`);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ statusCode: 400, message: expect.stringMatching(/^limit must be a whole number from 1 to 10000 \(default 50\); got /) });
    }
    const twice = await fetch(`${h.url}/v1/agents/a-1001/audit?limit=1&limit=2`);
    expect(twice.status).toBe(400);
    expect((await fetch(`${h.url}/v1/agents/${'x'.repeat(300)}/audit`)).status).toBe(400);
    const one = await fetch(`${h.url}/v1/agents/a-1001/audit?limit=1`);
    expect(one.status).toBe(200);
    expect(((await one.json()) as { records: unknown[] }).records.length).toBeLessThanOrEqual(1);
  });

  it('reports readiness and status without secrets', async () => {
    const ready = await fetch(`${h.url}/ready`);
    expect(ready.status).toBe(200);
    const status = await (await fetch(`${h.url}/v1/status`)).text();
    expect(JSON.parse(status)).toMatchObject({ rules: { rules: 4, errors: [] }, agents: { agents: 20, linked: 20 } });
    expect(status).not.toContain('webhook-secret-for-tests');
  });
});
