import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Sandbox, type SandboxAgentRow } from '../../../apps/sandbox/src/sandbox';

interface SseEvent {
  event: string;
  data: unknown;
}

/**
 * Reads the page's SSE stream from a fetch body and hands out events as they arrive, so a test waits for the
 * event it needs (bounded by a timeout), never for a fixed time.
 */
class SseReader {
  private readonly controller = new AbortController();
  private readonly seen: SseEvent[] = [];
  private readonly waiters = new Set<() => void>();
  private done = false;

  static async open(url: string): Promise<SseReader> {
    const reader = new SseReader();
    const res = await fetch(url, { signal: reader.controller.signal });
    if (!res.ok || !res.body) throw new Error(`SSE: HTTP ${res.status}`);
    void reader.pump(res.body);
    return reader;
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of frame.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          this.seen.push({ event, data: JSON.parse(data.join('\n')) });
          for (const w of this.waiters) w();
        }
      }
    } catch {
      // aborted by close()
    }
    this.done = true;
    for (const w of this.waiters) w();
  }

  /** Resolves with the first event (seen so far or later) that matches; rejects after `timeoutMs`. */
  waitFor(what: string, match: (e: SseEvent) => boolean, timeoutMs = 10_000): Promise<SseEvent> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const hit = this.seen.find(match);
        if (hit) {
          finish();
          resolve(hit);
        } else if (this.done) {
          finish();
          reject(new Error(`SSE stream ended before ${what}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`SSE: no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  close(): void {
    this.controller.abort();
  }
}

const agentEvent = (agentId: string, ok: (row: SandboxAgentRow) => boolean) => (e: SseEvent): boolean =>
  e.event === 'agent' && (e.data as SandboxAgentRow).agentId === agentId && ok(e.data as SandboxAgentRow);

describe('the sandbox (agents page, emulators and the daemon)', () => {
  const prefix = `sbx${randomUUID().slice(0, 8)}`;
  let sandbox: Sandbox;
  let page: string;
  let sse: SseReader;

  const post = (path: string, body: unknown): Promise<Response> =>
    fetch(`${page}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    sandbox = new Sandbox({
      redisUrl: process.env.REDIS_URL, redisPrefix: prefix, rulesDir: join(__dirname, '..', '..', '..', 'rules'),
      rulesWatch: false, logLevel: 'silent',
      daemonEnv: { SYNC_BACKOFF_MS: '100', DIRECTORY_REFRESH_INTERVAL_MS: '0', RECONCILE_INTERVAL_MS: '0', SALESFORCE_OFFLINE_HOLD_MS: '300' },
    });
    page = (await sandbox.start()).page;
    sse = await SseReader.open(`${page}/api/events`);
    await sse.waitFor('the snapshot', (e) => e.event === 'snapshot');
  });

  afterAll(async () => {
    sse?.close();
    await sandbox?.stop();
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('serves the page and the rows', async () => {
    const res = await fetch(`${page}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toContain('<table');
    expect(html).toContain("new EventSource('/api/events')");
    expect(html).toContain('"Busy_On_Call"');
    // The inline script at least parses (running it needs a browser: the later e2e step).
    const script = html.split('<script>')[1].split('</script>')[0];
    expect(() => new Function(script)).not.toThrow();
    const agents = (await (await fetch(`${page}/api/agents`)).json()) as { agents: SandboxAgentRow[] };
    expect(agents.agents).toHaveLength(20);
    expect(agents.agents[0]).toMatchObject({ agentId: 'a-1001', salesforce: { status: expect.stringMatching(/^Available_/), consoleOpen: true }, acd: { state: 'Available' } });
  });

  it('a Salesforce status set on the page reaches the contact center, and the stream shows it', async () => {
    const res = await post('/api/agents/a-1001/salesforce', { status: 'Break' });
    expect(res.status).toBe(200);
    await sse.waitFor('a-1001 following to Unavailable:Break', agentEvent('a-1001', (r) => r.acd.state === 'Unavailable' && r.acd.code === 'Break'));
    const decided = await sse.waitFor('a-1001 decision', agentEvent('a-1001', (r) => r.lastDecision?.rule === 'tier1-blended' && r.lastDecision.row !== undefined));
    expect((decided.data as SandboxAgentRow).auditUrl).toMatch(/\/v1\/agents\/a-1001\/audit$/);
  });

  it('a contact-center state set on the page reaches Salesforce', async () => {
    const res = await post('/api/agents/a-1002/acd', { state: 'Unavailable', code: 'Lunch' });
    expect(res.status).toBe(200);
    await sse.waitFor('a-1002 following to Lunch in Salesforce', agentEvent('a-1002', (r) => r.salesforce.status === 'Lunch'));
  });

  it('answers bad input with 400 and the reason', async () => {
    const cases: [string, unknown][] = [
      ['/api/agents/a-1001/salesforce', { status: 'Nope' }],
      ['/api/agents/a-1001/acd', { state: 'Busy' }],
      ['/api/agents/a-1001/acd', { state: 'Unavailable', code: 'Coaching' }],
      ['/api/agents/a-1001/call', { action: 'dance' }],
      ['/api/agents/a-1001/console', { open: 'yes' }],
      ['/api/contact-center/fail', { count: 0, status: 429 }],
      ['/api/contact-center/fail', { count: 1, status: 404 }],
      ['/api/agents/a-1001/acd', [1]],
    ];
    for (const [path, body] of cases) {
      const res = await post(path, body);
      expect({ path, status: res.status }).toEqual({ path, status: 400 });
      expect(((await res.json()) as { error: string }).error).toEqual(expect.any(String));
    }
    const notJson = await fetch(`${page}/api/agents/a-1001/acd`, { method: 'POST', body: '{' });
    expect(notJson.status).toBe(400);
    expect((await post('/api/agents/a-9999/acd', { state: 'Available' })).status).toBe(404);
    expect((await post('/api/agents/a-1003/call', { action: 'end' })).status).toBe(409);
  });

  it('contact-center 429s are retried after Retry-After, and the write lands', async () => {
    expect((await post('/api/contact-center/fail', { count: 1, status: 429, retryAfterSec: 1 })).status).toBe(200);
    expect((await post('/api/agents/a-1005/salesforce', { status: 'Break' })).status).toBe(200);
    const landed = await sse.waitFor('a-1005 following to Unavailable:Break', agentEvent('a-1005', (r) => r.acd.code === 'Break'), 15_000);
    const audit = (await (await fetch((landed.data as SandboxAgentRow).auditUrl)).json()) as { records: { outcome: string }[] };
    expect(audit.records.map((r) => r.outcome)).toEqual(expect.arrayContaining(['rate-limited']));
  });

  it('after the Salesforce session expires, the daemon logs in again and keeps syncing', async () => {
    const res = await post('/api/salesforce/expire-session', {});
    expect(res.status).toBe(200);
    expect(((await res.json()) as { revokedTokens: number }).revokedTokens).toBeGreaterThan(0);
    expect((await post('/api/agents/a-1006/acd', { state: 'Unavailable', code: 'Lunch' })).status).toBe(200);
    await sse.waitFor('a-1006 following to Lunch in Salesforce', agentEvent('a-1006', (r) => r.salesforce.status === 'Lunch'), 15_000);
  });

  it('a chat assigned in Omni-Channel takes the agent off voice (Unavailable:Chat), and closing it makes them Available again', async () => {
    // a-1007 is Tier 1 (rule tier1-blended, which has a workload table), Available on both sides.
    expect((await post('/api/agents/a-1007/work', { action: 'assign', channel: 'sfdc_liveagent' })).status).toBe(200);
    const busy = await sse.waitFor('a-1007 off voice', agentEvent('a-1007', (r) => r.acd.state === 'Unavailable' && r.acd.code === 'Chat'), 15_000);
    expect((busy.data as SandboxAgentRow).salesforce.work).toMatchObject({ chats: 1, load: 1 });
    const audit = (await (await fetch((busy.data as SandboxAgentRow).auditUrl)).json()) as { records: { outcome: string; row?: string }[] };
    expect(audit.records).toEqual(expect.arrayContaining([expect.objectContaining({ outcome: 'queued', row: 'workload[0]' })]));
    // Salesforce presence never changed, and our write is not synced back as a status change.
    expect((busy.data as SandboxAgentRow).salesforce.status).toMatch(/^Available_/);
    expect((await post('/api/agents/a-1007/work', { action: 'close', channel: 'sfdc_liveagent' })).status).toBe(200);
    const free = await sse.waitFor('a-1007 back on voice', agentEvent('a-1007', (r) => r.acd.state === 'Available' && r.salesforce.work.chats === 0), 15_000);
    expect((free.data as SandboxAgentRow).salesforce.status).toMatch(/^Available_/);
    expect((await post('/api/agents/a-1007/work', { action: 'close' })).status).toBe(409);
    expect((await post('/api/agents/a-1007/work', { action: 'assign', channel: 'nope' })).status).toBe(400);
  });

  it('sends the daemon\'s rules status on the stream', async () => {
    const status = await sse.waitFor('a rules status', (e) => e.event === 'status');
    expect(status.data).toMatchObject({ rules: { errors: [], rules: 3 } });
    // The directory reads the emulator's service channels, so the workload rows are checked, not warned about.
    expect((status.data as { rules: { warnings: string[] } }).rules.warnings).toEqual([]);
  });

  it('with the console closed, the write to Salesforce is held (no retries spent) and audited as held', async () => {
    expect((await post('/api/agents/a-1003/console', { open: false })).status).toBe(200);
    await sse.waitFor('a-1003 console closed', agentEvent('a-1003', (r) => !r.salesforce.consoleOpen));
    expect((await post('/api/agents/a-1003/acd', { state: 'Unavailable', code: 'Break' })).status).toBe(200);
    await sse.waitFor('a-1003 held', agentEvent('a-1003', (r) => [r.lastDecision?.outcome, r.lastDecision?.latest?.outcome].includes('held')), 15_000);
  });

  it('a rule file broken while it runs shows its error on the page\'s stream; fixing it clears it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ps-sandbox-rules-'));
    cpSync(join(__dirname, '..', '..', '..', 'rules'), dir, { recursive: true });
    const live = new Sandbox({ redisUrl: process.env.REDIS_URL, redisPrefix: `${prefix}r`, rulesDir: dir, rulesWatch: true, logLevel: 'silent' });
    try {
      const { page: livePage } = await live.start();
      const events = await SseReader.open(`${livePage}/api/events`);
      try {
        const file = join(dir, 'tier1-blended.json');
        const good = readFileSync(file, 'utf8');
        writeFileSync(file, good.replace('"conflictPolicy": "latest"', '"conflictPolicy": "newest"'));
        const broken = await events.waitFor('the rule error on the stream', (e) => e.event === 'status'
          && JSON.stringify((e.data as { rules?: { errors?: string[] } }).rules?.errors ?? []).includes('tier1-blended.json'), 20_000);
        expect(JSON.stringify(broken.data)).toMatch(/conflictPolicy/);
        writeFileSync(file, good);
        // The fixed file loads again: errors gone and a newer load time than the last good set had while broken.
        const brokenLoadedAt = (broken.data as { rules: { loadedAt: number } }).rules.loadedAt;
        await events.waitFor('the errors cleared', (e) => {
          const rules = (e.data as { rules?: { errors?: string[]; loadedAt?: number } }).rules;
          return e.event === 'status' && rules?.errors?.length === 0 && (rules.loadedAt ?? 0) > brokenLoadedAt;
        }, 20_000);
      } finally {
        events.close();
      }
    } finally {
      await live.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stop() twice is safe', async () => {
    const other = new Sandbox({ redisUrl: process.env.REDIS_URL, redisPrefix: `${prefix}b`, rulesWatch: false, logLevel: 'silent' });
    const { page: otherPage } = await other.start();
    await Promise.all([other.stop(), other.stop()]);
    await other.stop();
    await expect(fetch(`${otherPage}/`)).rejects.toThrow();
    await expect(other.start()).rejects.toThrow(/stopped/);
  });
});
