import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonHarness, ENGINE_RULES, waitFor } from '../support/daemon-harness';

interface Status { rules: { version: string; rules: number; errors: string[]; errorCount: number } }

describe('rules hot reload', () => {
  let h: DaemonHarness;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ps-rules-'));
    cpSync(ENGINE_RULES, dir, { recursive: true });
    h = await DaemonHarness.start({ env: { RULES_DIR: dir, RULES_WATCH: 'true' } });
  });
  afterAll(async () => {
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const status = async (): Promise<Status> => (await fetch(`${h.url}/v1/status`)).json() as Promise<Status>;

  it('keeps the last good rules on a bad edit, reports the error, and takes the fixed file', async () => {
    const good = await status();
    const file = join(dir, 'tiers.json');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, original.replace('"state": "Available" }, "salesforce": "Available_Chat"', '"state": "Avail" }, "salesforce": "Available_Chat"'));
    await waitFor(async () => (await status()).rules.errors.length > 0, 'the error is reported');
    const bad = await status();
    expect(bad.rules.version).toBe(good.rules.version);
    expect(bad.rules.errors[0]).toMatch(/tiers\.json:\d+:\d+ publisher\[0\]\.acd\.state: must be one of/);
    // The old rules stay in force: an ACD change is still synced.
    h.cc.agentSetState('a-1001', { state: 'Unavailable', code: 'Lunch' });
    await waitFor(() => h.sf.statusOf(h.userOf('a-1001')) === 'Lunch', 'still syncing with the last good rules');

    writeFileSync(file, original.replace('"salesforce": "Lunch" }', '"salesforce": "Break" }'));
    await waitFor(async () => (await status()).rules.version !== good.rules.version, 'the fixed rules are loaded');
    expect((await status()).rules.errors).toEqual([]);
  });

  it('survives a file of 2,000 nested brackets: one positioned error, the daemon answers, the last good rules stay', async () => {
    const good = await status();
    const file = join(dir, 'deep.json');
    writeFileSync(file, `{ "name": "deep",\n  "description": ${'['.repeat(2000)}${']'.repeat(2000)} }`);
    await waitFor(async () => (await status()).rules.errors.length > 0, 'the error is reported');
    const bad = await status();
    expect(bad.rules.version).toBe(good.rules.version);
    expect(bad.rules.errors).toEqual([expect.stringMatching(/deep\.json:2:\d+ description(\[0\]){31}: nested deeper than 32 levels/)]);
    expect((await fetch(`${h.url}/health`)).status).toBe(200);

    // Hot reload still works after it.
    rmSync(file);
    await waitFor(async () => (await status()).rules.errors.length === 0, 'the directory is good again');
    expect((await status()).rules.version).toBe(good.rules.version);
  });
});
