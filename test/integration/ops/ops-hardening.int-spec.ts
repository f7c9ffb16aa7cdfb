import { spawn, type ChildProcess } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { ContactCenterEmulator, freePort, startRedisServer, type RedisServerHandle, type SalesforceEmulator } from '@presence-sync/testing';
import { OpsListener } from '../../../apps/presence-sync/src/http/ops-listener';
import { DaemonHarness, ENGINE_RULES, SECRET, TOKEN, waitFor } from '../../support/daemon-harness';
import { liveSalesforceEnv, startLiveSalesforce } from '../../support/live-salesforce';
import { ROOT, runProcess } from '../../support/run-process';

/*
 * Issue 9, points 3–5: what the daemon writes when Redis refuses it or goes away, how it stops then, and what
 * its HTTP surface lets a stranger do. The process tests run the product's entry (`presence-sync start`, the
 * same `main` the bin runs) from the TypeScript sources, as test/integration/resilience/replicas does.
 */

const ADMIN = { ADMIN_DASHBOARD: 'on', ADMIN_USER: 'ops', ADMIN_PASSWORD: 'correct-horse-battery' };
const REDIS_PASSWORD = 'redis-pass-0f9e8d7c';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const lines = (text: string) => text.split('\n').filter((l) => l.length > 0);

interface LogLine { level: number; msg: string; context?: string; [field: string]: unknown }

/** Every stdout line parsed as JSON (the test fails on the first that is not). */
function jsonLines(stdout: string): LogLine[] {
  return lines(stdout).map((l) => {
    try {
      return JSON.parse(l) as LogLine;
    } catch {
      throw new Error(`stdout line is not JSON: ${l.slice(0, 300)}`);
    }
  });
}

/** The daemon's documented plain stderr lines: one each, `presence-sync: …`. */
function expectOnlyCliLines(stderr: string): void {
  for (const line of lines(stderr)) expect(line).toMatch(/^presence-sync: /);
}

interface Daemon {
  proc: ChildProcess;
  stdout: string;
  stderr: string;
  url: string;
  exit?: { code: number | null; at: number };
}

function startCli(env: Record<string, string>): Daemon {
  const main = "require('./apps/presence-sync/src/cli.ts').main(['node', 'presence-sync', 'start']).then((code) => process.exit(code));";
  const proc = spawn(process.execPath, ['-r', './test/support/ts-register.js', '-e', main], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const d: Daemon = { proc, stdout: '', stderr: '', url: '' };
  proc.stdout!.setEncoding('utf8').on('data', (s: string) => { d.stdout += s; });
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => {
    d.stderr += s;
    d.url ||= /presence-sync: listening on (http:\/\/\S+)/.exec(d.stderr)?.[1] ?? '';
  });
  proc.once('exit', (code) => { d.exit = { code, at: Date.now() }; });
  return d;
}

describe('logs and shutdown when Redis refuses the daemon or goes away (built entry, own redis-server)', () => {
  let redis: RedisServerHandle;
  let cc: ContactCenterEmulator;
  let ccUrl: string;
  /** `start` runs against a Salesforce org (SALESFORCE_MODE=live): the emulator. */
  let sf: SalesforceEmulator;
  const daemons: Daemon[] = [];

  const settings = (redisUrl: string, extra: Record<string, string> = {}) => ({
    REDIS_URL: redisUrl, REDIS_PREFIX: 'hardening', ACD_BASE_URL: ccUrl, ACD_TOKEN: TOKEN, ACD_WEBHOOK_SECRET: SECRET,
    HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', RULES_DIR: ENGINE_RULES, RULES_WATCH: 'false', ADMIN_DASHBOARD: 'off', LOG_LEVEL: 'info',
    DIRECTORY_REFRESH_INTERVAL_MS: '0', RECONCILE_INTERVAL_MS: '0', DEFAULT_UNAVAILABLE_CODE: 'System', SHUTDOWN_TIMEOUT_MS: '4000',
    ...liveSalesforceEnv(sf), ...extra,
  });

  beforeAll(async () => {
    redis = await startRedisServer();
    const admin = new Redis(redis.url);
    await admin.config('SET', 'requirepass', REDIS_PASSWORD);
    admin.disconnect();
    const catalog = ContactCenterEmulator.sandboxCatalog(4);
    cc = new ContactCenterEmulator({ token: TOKEN, ...catalog });
    ccUrl = (await cc.start()).baseUrl;
    sf = await startLiveSalesforce(catalog.agents.map((a) => a.email));
  });

  afterAll(async () => {
    for (const d of daemons) if (!d.exit) d.proc.kill('SIGKILL');
    await cc.stop();
    await sf?.stop();
    await redis.stop('SIGKILL');
  });

  it('a wrong password: exit 1 with one line naming Redis, the password nowhere, stdout all JSON', async () => {
    const wrong = 'wrong-pass-5a4b3c2d1e';
    const d = startCli(settings(`redis://:${wrong}@127.0.0.1:${redis.port}`));
    daemons.push(d);
    await waitFor(() => d.exit !== undefined, 'the daemon gives up', 25_000);
    expect(d.exit?.code).toBe(1);
    expect(`${d.stdout}${d.stderr}`).not.toContain(wrong);
    jsonLines(d.stdout);
    expect(lines(d.stderr)).toEqual([expect.stringMatching(/^presence-sync: cannot start: cannot reach Redis at redis:\/\/\*\*\*@127\.0\.0\.1:\d+: WRONGPASS/)]);
  }, 30_000);

  it('password rotated, then Redis gone: JSON lines only, no password, repeats summarised; SIGTERM exits within SHUTDOWN_TIMEOUT_MS naming what stayed open', async () => {
    const d = startCli(settings(`redis://:${REDIS_PASSWORD}@127.0.0.1:${redis.port}`));
    daemons.push(d);
    await waitFor(() => d.url !== '' || d.exit !== undefined, 'the daemon listens', 40_000);
    expect(d.exit).toBeUndefined();

    // What a stranger can send: bodies the parsers refuse, unsigned webhooks. Never an error-level line.
    const webhook = `${d.url}/v1/acd/events`;
    const refused = await Promise.all([
      fetch(webhook, { method: 'POST', body: 'x'.repeat(3 * 1024 * 1024) }),
      fetch(webhook, { method: 'POST', headers: { 'content-encoding': 'gzip' }, body: 'not gzip at all' }),
      fetch(`${d.url}/v1/status`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'x-unknown' }, body: '{}' }),
      fetch(`${d.url}/v1/status`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"broken' }),
      fetch(webhook, { method: 'POST', headers: { 'content-encoding': 'gzip' }, body: gzipSync('{}') }),
    ]);
    expect(refused.map((r) => r.status)).toEqual([413, 401, 415, 400, 401]);
    for (let i = 0; i < 40; i++) expect((await fetch(webhook, { method: 'POST', body: '{}' })).status).toBe(401);
    await waitFor(() => jsonLines(d.stdout).some((l) => l.msg === 'webhook rejected'), 'the rejection is logged');
    const strangers = jsonLines(d.stdout);
    expect(strangers.filter((l) => l.level >= 50)).toEqual([]);
    expect(strangers.filter((l) => l.msg === 'webhook rejected')).toHaveLength(1);

    // The password changes under the daemon: every connection's reconnect is refused.
    const admin = new Redis({ port: redis.port, password: REDIS_PASSWORD });
    await admin.config('SET', 'requirepass', 'rotated-pass-99887766');
    await admin.client('KILL', 'TYPE', 'normal').catch(() => undefined);
    admin.disconnect();
    await waitFor(() => jsonLines(d.stdout).some((l) => l.msg === 'Redis connection error' && String(l.error).includes('WRONGPASS')), 'the refused AUTH is logged', 15_000);
    // Then Redis goes away altogether.
    await redis.stop('SIGKILL');
    await waitFor(() => jsonLines(d.stdout).some((l) => l.msg === 'Redis connection error' && /ECONNREFUSED/.test(String(l.error))), 'the outage is logged', 15_000);
    // Several seconds of reconnects by ten connections: a handful of lines, not hundreds.
    await new Promise((r) => setTimeout(r, 3000));
    const redisLines = jsonLines(d.stdout).filter((l) => l.msg === 'Redis connection error');
    expect(redisLines.length).toBeLessThanOrEqual(6);

    const signalledAt = Date.now();
    d.proc.kill('SIGTERM');
    await waitFor(() => d.exit !== undefined, 'exit after SIGTERM', 15_000);
    expect(d.exit!.at - signalledAt).toBeLessThan(4000 + 1000);
    const out = jsonLines(d.stdout);
    const named = out.find((l) => l.msg === 'shutdown: could not close these in time; disconnecting them');
    const cliGaveUp = lines(d.stderr).find((l) => l.includes('not stopped within SHUTDOWN_TIMEOUT_MS'));
    expect(named ?? cliGaveUp).toBeDefined();
    if (named) expect((named.open as string[]).join(' ')).toMatch(/queue|worker|redis/);
    for (const secret of [REDIS_PASSWORD, 'rotated-pass-99887766', SECRET, TOKEN]) expect(`${d.stdout}${d.stderr}`).not.toContain(secret);
    expectOnlyCliLines(d.stderr);
  }, 90_000);
});

describe('rules explain with an unreachable REDIS_URL', () => {
  it('says so in one line (no ioredis stack) and still explains', async () => {
    const port = await freePort();
    const main = "require('./apps/presence-sync/src/cli.ts').main(['node', 'presence-sync', ...process.argv.slice(1)]).then((code) => process.exit(code));";
    const r = await runProcess(process.execPath, ['-r', './test/support/ts-register.js', '-e', main, 'rules', 'explain', '--agent', 'a-1001', '--team', 'Tier 1', '--dir', 'rules', '--salesforce', 'Lunch'], {
      PATH: process.env.PATH ?? '', REDIS_URL: `redis://:pw-never-shown-123@127.0.0.1:${port}`,
      ACD_BASE_URL: `http://127.0.0.1:${port}`, ACD_TOKEN: TOKEN, ACD_WEBHOOK_SECRET: SECRET,
    });
    const redisLines = lines(r.stderr).filter((l) => /redis/i.test(l));
    expect(redisLines).toEqual([expect.stringMatching(/^warning: the previous ACD state could not be read: cannot reach Redis at redis:\/\/\*\*\*@127\.0\.0\.1:\d+: .*ECONNREFUSED/)]);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stderr).not.toContain('[ioredis]');
    expect(r.stderr).not.toContain('pw-never-shown-123');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^rule:\s+tier1-blended/m);
  }, 30_000);
});

describe('ops surface hardening: separate ops listener, read-only dashboard, throttled logins', () => {
  let h: DaemonHarness;
  let ops: string;
  const auth = { authorization: basic(ADMIN.ADMIN_USER, ADMIN.ADMIN_PASSWORD) };

  beforeAll(async () => {
    h = await DaemonHarness.start({ env: { ...ADMIN, OPS_HOST: '127.0.0.1', OPS_PORT: '0' } });
    const address = await h.app.get(OpsListener).listen(h.app.getHttpAdapter().getInstance());
    ops = `http://127.0.0.1:${address!.port}`;
  });
  afterAll(async () => { await h.stop(); });

  it('the webhook port serves the webhook and health only; the ops port everything else but the webhook', async () => {
    for (const path of ['/metrics', '/v1/status', '/v1/agents/a-1001/audit', '/admin/queues', '/admin/queues/api/queues']) {
      expect([path, (await fetch(`${h.url}${path}`, { headers: auth })).status]).toEqual([path, 404]);
    }
    expect((await fetch(`${h.url}/health`)).status).toBe(200);
    expect((await fetch(`${h.url}/ready`)).status).toBe(200);
    expect((await h.postEvents({ eventId: 'e-ops-1', occurredAt: new Date().toISOString(), agentId: 'a-1001', state: { state: 'Available' } })).status).toBe(202);

    expect((await fetch(`${ops}/metrics`)).status).toBe(200);
    expect((await fetch(`${ops}/v1/status`)).status).toBe(200);
    expect((await fetch(`${ops}/v1/agents/a-1001/audit`)).status).toBe(200);
    expect((await fetch(`${ops}/admin/queues/api/queues`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${ops}/v1/acd/events`, { method: 'POST', body: '{}' })).status).toBe(404);
  });

  it('the dashboard is read-only by default: it shows queues and refuses every change', async () => {
    const api = await fetch(`${ops}/admin/queues/api/queues`, { headers: auth });
    const queues = ((await api.json()) as { queues: { name: string; readOnlyMode: boolean }[] }).queues;
    expect(queues).toHaveLength(2 * h.config.sync.partitions);
    expect(queues.every((q) => q.readOnlyMode)).toBe(true);
    const changes: [string, string][] = [
      ['PUT', '/admin/queues/api/queues/p0-sync-salesforce/pause'],
      ['PUT', '/admin/queues/api/queues/pause'],
      ['PUT', '/admin/queues/api/queues/p0-sync-salesforce/retry/failed'],
      ['PUT', '/admin/queues/api/queues/p0-sync-salesforce/empty'],
      ['POST', '/admin/queues/api/queues/p0-sync-salesforce/add'],
      ['DELETE', '/admin/queues/api/queues/p0-sync-salesforce/obliterate'],
    ];
    for (const [method, path] of changes) {
      const r = await fetch(`${ops}${path}`, { method, headers: { ...auth, 'content-type': 'application/json' }, body: '{}' });
      expect([method, path, r.status]).toEqual([method, path, 405]);
    }
    expect(await h.queue('sync-salesforce').isPaused()).toBe(false);
  });

  it('failed logins are logged without the password and throttled per client (429), even with the right password', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    try {
      const guess = 'guess-password-7c6b5a';
      const statuses: number[] = [];
      for (let i = 0; i < 11; i++) statuses.push((await fetch(`${ops}/admin/queues`, { headers: { authorization: basic('ops', guess) } })).status);
      expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
      expect(statuses[10]).toBe(429);
      const right = await fetch(`${ops}/admin/queues`, { headers: auth });
      expect(right.status).toBe(429);
      expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0);
      const logged = warn.mock.calls.map(([line]) => line as { msg?: string });
      expect(logged).toContainEqual(expect.objectContaining({ msg: 'queue dashboard login failed', userMatches: true }));
      expect(logged).toContainEqual(expect.objectContaining({ msg: 'queue dashboard login throttled: too many failed logins' }));
      expect(JSON.stringify(warn.mock.calls)).not.toContain(guess);
      // One line per kind, not one per guess.
      expect(logged.filter((l) => l.msg === 'queue dashboard login failed')).toHaveLength(1);
    } finally {
      warn.mockRestore();
    }
  });
});

describe('ops surface: a writable dashboard when asked for', () => {
  let h: DaemonHarness;
  beforeAll(async () => { h = await DaemonHarness.start({ env: { ...ADMIN, ADMIN_DASHBOARD_READ_ONLY: 'false' } }); });
  afterAll(async () => { await h.stop(); });

  it('ADMIN_DASHBOARD_READ_ONLY=false lets the dashboard pause a queue; without OPS_PORT everything is on one port', async () => {
    const auth = { authorization: basic(ADMIN.ADMIN_USER, ADMIN.ADMIN_PASSWORD) };
    expect((await fetch(`${h.url}/metrics`)).status).toBe(200);
    const r = await fetch(`${h.url}/admin/queues/api/queues/p0-sync-acd/pause`, { method: 'PUT', headers: auth });
    expect(r.status).toBe(200);
    expect(await h.queue('sync-acd').isPaused()).toBe(true);
    await h.queue('sync-acd').resume();
  });
});
