import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Redis from 'ioredis';
import type { AuditRecord } from '@presence-sync/domain';
import { Sandbox } from '../../../apps/sandbox/src/sandbox';
import { dropPrefix, waitFor } from '../../support/daemon-harness';

/*
 * What docs/operations.md (section 5, "Where failures show up") says of a write to an agent whose Salesforce
 * console is closed: held, never failed, while the daemon watches consoles (SALESFORCE_CONSOLE_POLL_MS > 0, the
 * default); retried and then failed, into the sync-salesforce failed set, with SALESFORCE_CONSOLE_POLL_MS=0.
 */

interface Status {
  sync: { queues: Record<string, { failed: number }> };
}

async function withSandbox(env: Record<string, string>, run: (sandbox: Sandbox) => Promise<void>): Promise<void> {
  const prefix = `cc${randomUUID().slice(0, 8)}`;
  const sandbox = new Sandbox({
    redisUrl: process.env.REDIS_URL, redisPrefix: prefix, rulesDir: join(__dirname, '..', '..', '..', 'rules'), rulesWatch: false, logLevel: 'silent',
    daemonEnv: { DIRECTORY_REFRESH_INTERVAL_MS: '0', RECONCILE_INTERVAL_MS: '0', SYNC_BACKOFF_MS: '50', ...env },
  });
  try {
    await sandbox.start();
    await run(sandbox);
  } finally {
    await sandbox.stop();
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    await dropPrefix(redis, prefix);
    redis.disconnect();
  }
}

async function post(sandbox: Sandbox, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${sandbox.urls.page}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
}

async function audit(sandbox: Sandbox, agentId: string): Promise<AuditRecord[]> {
  return ((await (await fetch(`${sandbox.urls.daemon}/v1/agents/${agentId}/audit`)).json()) as { records: AuditRecord[] }).records;
}

async function failedSalesforceJobs(sandbox: Sandbox): Promise<number> {
  const status = (await (await fetch(sandbox.urls.status)).json()) as Status;
  return status.sync.queues['sync-salesforce'].failed;
}

describe('a write to a closed Salesforce console (docs/operations.md, section 5)', () => {
  it('is held while consoles are watched (the default): no attempt spent, nothing in the failed set', async () => {
    await withSandbox({ SYNC_ATTEMPTS: '2' }, async (sandbox) => {
      await post(sandbox, '/api/agents/a-1003/console', { open: false });
      await post(sandbox, '/api/agents/a-1003/acd', { state: 'Unavailable', code: 'Break' });
      await waitFor(async () => (await audit(sandbox, 'a-1003')).some((r) => r.outcome === 'held'), 'a-1003 held', 15_000);
      // A later write through the same queue lands: a retry of the held one (50 ms backoff) would have run by then.
      await post(sandbox, '/api/agents/a-1005/acd', { state: 'Unavailable', code: 'Lunch' });
      await waitFor(async () => (await audit(sandbox, 'a-1005')).some((r) => r.outcome === 'confirmed'), 'a-1005 confirmed', 15_000);
      const outcomes = (await audit(sandbox, 'a-1003')).map((r) => r.outcome);
      expect(outcomes).not.toContain('retrying');
      expect(outcomes).not.toContain('failed');
      expect(await failedSalesforceJobs(sandbox)).toBe(0);
    });
  }, 60_000);

  it('with SALESFORCE_CONSOLE_POLL_MS=0 is retried, then failed, and its job lands in the sync-salesforce failed set', async () => {
    await withSandbox({ SYNC_ATTEMPTS: '2', SALESFORCE_CONSOLE_POLL_MS: '0' }, async (sandbox) => {
      await post(sandbox, '/api/agents/a-1003/console', { open: false });
      await post(sandbox, '/api/agents/a-1003/acd', { state: 'Unavailable', code: 'Break' });
      await waitFor(async () => (await audit(sandbox, 'a-1003')).some((r) => r.outcome === 'failed'), 'a-1003 failed', 20_000);
      const records = await audit(sandbox, 'a-1003');
      expect(records.map((r) => r.outcome)).toContain('retrying');
      expect(records.find((r) => r.outcome === 'failed')?.detail).toMatch(/gave up after 2 attempts: .*console/);
      await waitFor(async () => (await failedSalesforceJobs(sandbox)) >= 1, 'the failed job in sync-salesforce', 10_000);
    });
  }, 60_000);
});
