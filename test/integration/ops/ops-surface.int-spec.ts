import { randomUUID } from 'node:crypto';
import { loadConfig } from '@presence-sync/config';
import { ConfigError } from '@presence-sync/domain';
import { createDaemon } from '../../../apps/presence-sync/src/daemon.bootstrap';
import { PartitionWorkers } from '../../../apps/presence-sync/src/processors/partition-workers';
import { DaemonHarness, ENGINE_RULES, SECRET, TOKEN, waitFor } from '../../support/daemon-harness';

const at = (ms: number) => new Date(ms).toISOString();
const ADMIN = { ADMIN_DASHBOARD: 'on', ADMIN_USER: 'ops', ADMIN_PASSWORD: 'correct-horse-battery' };
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(url, { headers });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** The value of one sample line (`name{labels} value`) of the exposition text, 0 when absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('ops surface: health, readiness, metrics, queue dashboard', () => {
  let h: DaemonHarness;
  beforeAll(async () => { h = await DaemonHarness.start({ env: ADMIN }); });
  afterAll(async () => { await h.stop(); });

  it('/health is 200 (liveness): the event loop is on time and every worker takes jobs', async () => {
    const r = await get(`${h.url}/health`);
    expect(r.status).toBe(200);
    const body = JSON.parse(r.text) as { status: string; details: Record<string, { status: string; lagMs?: number }> };
    expect(body.status).toBe('ok');
    expect(Object.keys(body.details).sort()).toEqual(['eventLoop', 'workers']);
    expect(body.details.eventLoop.lagMs).toBeLessThan(5_000);
    expect(body.details.workers.status).toBe('up');
  });

  it('/ready is 200 and checks only what intake needs: Redis and the intake gate', async () => {
    const r = await get(`${h.url}/ready`);
    expect(r.status).toBe(200);
    const body = JSON.parse(r.text) as { status: string; details: Record<string, { status: string }> };
    expect(body.status).toBe('ok');
    expect(Object.keys(body.details).sort()).toEqual(['intake', 'redis']);
    expect(body.details.intake).toEqual({ status: 'up', state: 'open' });
  });

  it('/dependencies is 200 with Redis, the Salesforce stream, the contact center and the rules up', async () => {
    const r = await get(`${h.url}/dependencies`);
    expect(r.status).toBe(200);
    const body = JSON.parse(r.text) as { status: string; details: Record<string, { status: string }> };
    expect(Object.keys(body.details).sort()).toEqual(['contactCenter', 'redis', 'rules', 'salesforceStream']);
    for (const check of Object.values(body.details)) expect(check.status).toBe('up');
  });

  it('/metrics has the latency histogram per direction after syncs both ways', async () => {
    h.sf.agentSetStatus(h.userOf('a-1002'), 'Lunch');
    await waitFor(() => h.hasAudit('a-1002', 'applied'), 'Salesforce → ACD applied');
    h.cc.agentSetState('a-1004', { state: 'Unavailable', code: 'Break' });
    await waitFor(() => h.hasAudit('a-1004', 'confirmed'), 'ACD → Salesforce confirmed');
    const text = (await get(`${h.url}/metrics`)).text;
    expect(text).toMatch(/^presence_sync_sync_latency_seconds_bucket\{le="0\.5",direction="salesforce->acd"\} \d+$/m);
    expect(sample(text, 'presence_sync_sync_latency_seconds_count{direction="salesforce->acd"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'presence_sync_sync_latency_seconds_count{direction="acd->salesforce"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'presence_sync_sync_latency_seconds_bucket{le="+Inf",direction="acd->salesforce"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'presence_sync_writes_out_total{side="acd"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'presence_sync_writes_out_total{side="salesforce"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'presence_sync_events_in_total{side="acd"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'presence_sync_events_in_total{side="salesforce"}')).toBeGreaterThanOrEqual(1);
  });

  it('/metrics counts echoes suppressed and stale events dropped', async () => {
    // Our write toward the ACD is reported back by the contact center: an echo on the ACD side.
    h.sf.agentSetStatus(h.userOf('a-1006'), 'Break');
    await waitFor(() => h.hasAudit('a-1006', 'echo'), 'echo audited');
    await waitFor(() => h.idle(), 'idle');
    // An event older than the state we know: dropped as stale.
    const r = await h.postEvents({ eventId: randomUUID(), occurredAt: at(Date.now() - 60_000), agentId: 'a-1006', state: { state: 'Available' } });
    expect(r.status).toBe(202);
    await waitFor(() => h.hasAudit('a-1006', 'stale'), 'stale audited');
    const text = (await get(`${h.url}/metrics`)).text;
    expect(sample(text, 'presence_sync_echoes_suppressed_total{side="acd"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'presence_sync_stale_dropped_total{side="acd"}')).toBeGreaterThanOrEqual(1);
  });

  it('/metrics carries the ready and due sets and the BullMQ queue depths per partition, each metric described once', async () => {
    const text = (await get(`${h.url}/metrics`)).text;
    const partitions = h.config.sync.partitions;
    expect(partitions).toBeGreaterThan(1);
    for (let p = 0; p < partitions; p++) {
      for (const queue of ['sync-acd', 'sync-salesforce']) {
        expect(text).toMatch(new RegExp(`^bullmq_job_count\\{queue="${queue}", ?state="waiting", ?partition="${p}"\\} \\d+$`, 'm'));
      }
      for (const gauge of ['presence_sync_inboxes_ready', 'presence_sync_due_entries']) expect(text).toMatch(new RegExp(`^${gauge}\\{partition="${p}"\\} \\d+$`, 'm'));
    }
    // Each family described once, its samples together (what the text format asks of an exposition).
    const lines = text.split('\n').filter((l) => l !== '');
    const described = lines.filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]);
    expect(new Set(described).size).toBe(described.length);
    const counts = lines.map((l, i) => ({ l, i })).filter(({ l }) => l.startsWith('bullmq_job_count{')).map(({ i }) => i);
    expect(counts[counts.length - 1] - counts[0]).toBe(counts.length - 1);
  });

  it('/admin/queues without credentials is 401 with WWW-Authenticate: Basic', async () => {
    const none = await get(`${h.url}/admin/queues`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic /);
    const wrong = await get(`${h.url}/admin/queues`, { authorization: basic('ops', 'wrong') });
    expect(wrong.status).toBe(401);
  });

  it('/admin/queues with the credentials serves bull-board with our two sync queues in every partition', async () => {
    const auth = { authorization: basic(ADMIN.ADMIN_USER, ADMIN.ADMIN_PASSWORD) };
    const page = await get(`${h.url}/admin/queues`, auth);
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/<html/i);
    const api = await get(`${h.url}/admin/queues/api/queues`, auth);
    expect(api.status).toBe(200);
    const names = (JSON.parse(api.text) as { queues: { name: string }[] }).queues.map((q) => q.name).sort();
    const partitions = Array.from({ length: h.config.sync.partitions }, (_, p) => p);
    expect(names).toEqual(partitions.flatMap((p) => [`p${p}-sync-acd`, `p${p}-sync-salesforce`]).sort());
    expect((await get(`${h.url}/admin/queues/api/queues`)).status).toBe(401);
  });

  it('/v1/status shows the last minute\'s sync latency per direction and every queue\'s depth', async () => {
    h.cc.agentSetState('a-1008', { state: 'Unavailable', code: 'Lunch' });
    await waitFor(() => h.hasAudit('a-1008', 'confirmed'), 'ACD → Salesforce confirmed');
    const audit = JSON.parse((await get(`${h.url}/v1/agents/a-1008/audit`)).text) as { records: { outcome: string; latencyMs?: number }[] };
    const confirmedMs = audit.records.find((r) => r.outcome === 'confirmed')?.latencyMs;
    expect(confirmedMs).toBeGreaterThanOrEqual(0);
    const body = JSON.parse((await get(`${h.url}/v1/status`)).text) as {
      sync: { windowSec: number; latency: Record<string, { count: number; p50Ms: number; p95Ms: number; maxMs: number }>; queues: Record<string, Record<string, number>> };
    };
    expect(body.sync.windowSec).toBe(60);
    const toSalesforce = body.sync.latency['acd->salesforce'];
    expect(toSalesforce.count).toBeGreaterThanOrEqual(1);
    expect(toSalesforce.p50Ms).toBeLessThanOrEqual(toSalesforce.p95Ms);
    expect(toSalesforce.p95Ms).toBeLessThanOrEqual(toSalesforce.maxMs);
    // This very write is in the window: the slowest one is at least as slow as it.
    expect(toSalesforce.maxMs).toBeGreaterThanOrEqual(Math.round(confirmedMs as number));
    expect(Object.keys(body.sync.queues).sort()).toEqual(['due', 'inbound', 'sync-acd', 'sync-salesforce']);
    for (const depth of Object.values(body.sync.queues)) expect(Object.keys(depth).sort()).toEqual(['active', 'delayed', 'failed', 'waiting']);
  });

  it('/v1/status shows the partitions this replica works, and the live replicas', async () => {
    const body = JSON.parse((await get(`${h.url}/v1/status`)).text) as { partitions: { count: number; working: number[]; replica: string; liveReplicas: string[] } };
    const count = h.config.sync.partitions;
    expect(body.partitions.count).toBe(count);
    // The only replica works every partition.
    expect(body.partitions.working).toEqual(Array.from({ length: count }, (_, p) => p));
    expect(body.partitions.liveReplicas).toEqual([body.partitions.replica]);
  });

  it('/v1/status shows agents mapped and unmapped', async () => {
    const body = JSON.parse((await get(`${h.url}/v1/status`)).text) as { agents: { mapped: number; unmapped: number } };
    expect(body.agents.mapped).toBe(20);
    expect(body.agents.unmapped).toBe(0);
  });
});

describe('the contact center down', () => {
  let h: DaemonHarness;
  beforeAll(async () => { h = await DaemonHarness.start(); });
  afterAll(async () => { await h.stop(); });

  it('/ready stays 200 and the webhook takes changes; /dependencies and /v1/status name the contact center', async () => {
    // Stopped before the first probe: no cached result, so the answers reflect the outage now.
    await h.cc.stop();
    const deps = await get(`${h.url}/dependencies`);
    expect(deps.status).toBe(503);
    const body = JSON.parse(deps.text) as { status: string; error: Record<string, { status: string; message?: string }>; info: Record<string, unknown> };
    expect(body.status).toBe('error');
    expect(Object.keys(body.error)).toEqual(['contactCenter']);
    expect(body.error.contactCenter.message).toBeTruthy();
    expect(Object.keys(body.info)).toEqual(expect.arrayContaining(['redis', 'salesforceStream', 'rules']));
    const status = JSON.parse((await get(`${h.url}/v1/status`)).text) as { contactCenter: { api: { up: boolean; error: string | null } } };
    expect(status.contactCenter.api.up).toBe(false);
    expect(status.contactCenter.api.error).toBeTruthy();
    // An outage of a vendor takes no replica out of the load balancer, and restarts none.
    expect((await get(`${h.url}/ready`)).status).toBe(200);
    expect((await get(`${h.url}/health`)).status).toBe(200);
    const posted = await h.postEvents({ eventId: randomUUID(), occurredAt: at(Date.now()), agentId: 'a-1003', state: { state: 'Unavailable', code: 'Lunch' } });
    expect(posted.status).toBe(202);
  });
});

describe('liveness when a worker stopped taking jobs', () => {
  let h: DaemonHarness;
  beforeAll(async () => { h = await DaemonHarness.start(); });
  afterAll(async () => { await h.stop(); });

  it('/health is 503 naming the worker; /ready is not affected', async () => {
    expect((await get(`${h.url}/health`)).status).toBe(200);
    // Closed by something other than the stop: the process no longer takes retry jobs, so a restart helps.
    await h.app.get(PartitionWorkers).all().find((w) => w.name === 'sync-acd')!.close();
    const r = await get(`${h.url}/health`);
    expect(r.status).toBe(503);
    const body = JSON.parse(r.text) as { error: Record<string, { stopped?: string[]; message?: string }>; info: Record<string, unknown> };
    expect(Object.keys(body.error)).toEqual(['workers']);
    expect(body.error.workers.stopped).toEqual(['sync-acd']);
    expect(Object.keys(body.info)).toEqual(['eventLoop']);
    expect((await get(`${h.url}/ready`)).status).toBe(200);
  });
});

describe('queue dashboard settings', () => {
  it('with ADMIN_DASHBOARD on and no credentials the boot stops with one line naming the settings', async () => {
    const config = loadConfig({
      REDIS_URL: process.env.REDIS_URL, REDIS_PREFIX: `t${randomUUID().slice(0, 8)}`, ACD_BASE_URL: 'http://127.0.0.1:9', ACD_TOKEN: TOKEN,
      ACD_WEBHOOK_SECRET: SECRET, RULES_DIR: ENGINE_RULES, RULES_WATCH: 'false', LOG_LEVEL: 'silent',
    });
    const boot = createDaemon(config);
    await expect(boot).rejects.toBeInstanceOf(ConfigError);
    const message = await boot.then(() => '', (e: Error) => e.message);
    expect(message.split('\n')).toHaveLength(1);
    expect(message).toMatch(/ADMIN_USER and ADMIN_PASSWORD/);
    expect(message).toMatch(/ADMIN_DASHBOARD=off/);
  });
});
