import { randomUUID } from 'node:crypto';
import { QUEUES } from '@presence-sync/redis';
import { DaemonHarness } from '../support/daemon-harness';

const event = (over: Record<string, unknown> = {}) => ({
  eventId: randomUUID(), occurredAt: new Date().toISOString(), agentId: 'a-1001', state: { state: 'Available' }, ...over,
});

describe('POST /v1/acd/events (generic connector v1)', () => {
  let h: DaemonHarness;
  beforeAll(async () => { h = await DaemonHarness.start(); });
  afterAll(async () => { await h.stop(); });

  const queued = async () => {
    const c = await h.queue(QUEUES.inbound).getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed');
    return Object.values(c).reduce((a, b) => a + b, 0);
  };

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

  it('reports readiness and status without secrets', async () => {
    const ready = await fetch(`${h.url}/ready`);
    expect(ready.status).toBe(200);
    const status = await (await fetch(`${h.url}/v1/status`)).text();
    expect(JSON.parse(status)).toMatchObject({ rules: { rules: 4, errors: [] }, agents: { agents: 20, linked: 20 } });
    expect(status).not.toContain('webhook-secret-for-tests');
  });
});
