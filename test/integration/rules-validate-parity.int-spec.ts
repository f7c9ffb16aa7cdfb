import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import Redis from 'ioredis';
import { loadConfig } from '@presence-sync/config';
import { ContactCenterEmulator, type SalesforceEmulator } from '@presence-sync/testing';
import { loadRuleContext } from '../../apps/presence-sync/src/cli/rule-context';
import { runRulesValidate } from '../../apps/presence-sync/src/cli/rules.commands';
import { createDaemon } from '../../apps/presence-sync/src/daemon.bootstrap';
import { RulesService } from '../../apps/presence-sync/src/services/rules.service';
import { dropPrefix, SECRET, TOKEN } from '../support/daemon-harness';
import { liveSalesforceEnv, startLiveSalesforce } from '../support/live-salesforce';
import { ROOT } from '../support/run-process';

/*
 * Issue 14, point 1: `rules validate` accepts exactly what the daemon accepts. The daemon runs in
 * SALESFORCE_MODE=live against the Salesforce emulator and the contact-center emulator; `rules validate` runs
 * with the same settings. For each rules directory the daemon's verdict (its reload) and the command's (exit
 * code, error and warning lines) must be the same, both ways: what one refuses the other refuses, what one
 * accepts the other accepts, with the same words.
 */

/** The back-office rule's assignment, and the same with a Tier 1 agent added (users beat teams: no conflict). */
const BACK_OFFICE = '"assign": { "teams": ["Back Office"] }';
const WITH_ANA = '"assign": { "teams": ["Back Office"], "users": ["a-1001"] }';

const ISSUE = /^\S.*?(:\d+:\d+)? \S*: |: (warning: )?/;

describe('rules validate and the daemon accept the same rule files', () => {
  let cc: ContactCenterEmulator;
  let org: SalesforceEmulator;
  let app: INestApplication;
  let redis: Redis;
  let dir: string;
  let env: Record<string, string>;
  const prefix = `t${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    const catalog = ContactCenterEmulator.sandboxCatalog(20);
    cc = new ContactCenterEmulator({ token: TOKEN, ...catalog });
    const { baseUrl } = await cc.start();
    org = await startLiveSalesforce(catalog.agents.map((a) => a.email));
    dir = mkdtempSync(join(tmpdir(), 'ps-parity-'));
    cpSync(join(ROOT, 'rules'), dir, { recursive: true });
    env = {
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', REDIS_PREFIX: prefix, ACD_BASE_URL: baseUrl, ACD_TOKEN: TOKEN, ACD_WEBHOOK_SECRET: SECRET,
      HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', RULES_DIR: dir, RULES_WATCH: 'false', ADMIN_DASHBOARD: 'off', LOG_LEVEL: 'silent',
      DIRECTORY_REFRESH_INTERVAL_MS: '0', RECONCILE_INTERVAL_MS: '0',
      // Only Back Office has Admin: a skip rule assigned elsewhere gets the daemon's default-code warning.
      DEFAULT_UNAVAILABLE_CODE: 'Admin',
      ...liveSalesforceEnv(org),
    };
    app = await createDaemon(loadConfig(env));
    await app.listen(0, '127.0.0.1');
    redis = new Redis(env.REDIS_URL);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await org?.stop();
    await cc?.stop();
    if (redis) {
      await dropPrefix(redis, prefix);
      redis.disconnect();
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Replaces the directory's rule files with the example rules, edited. */
  function rules(edit: (files: Record<string, string>) => void): void {
    for (const name of readdirSync(dir)) if (name.endsWith('.json') && name !== 'presence-rules.schema.json') rmSync(join(dir, name));
    const files: Record<string, string> = {};
    for (const name of readdirSync(join(ROOT, 'rules'))) if (name !== 'presence-rules.schema.json') files[name] = readFileSync(join(ROOT, 'rules', name), 'utf8');
    edit(files);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  }

  const replace = (from: string, to: string) => (files: Record<string, string>) => {
    const name = Object.keys(files).find((n) => files[n].includes(from));
    if (!name) throw new Error(`fixture: "${from}" is in no example rule`);
    files[name] = files[name].replace(from, to);
  };

  /** The daemon's verdict: a load as on every reload, with the catalogs it read at boot. */
  async function daemon(): Promise<{ ok: boolean; errors: string[]; warnings: string[] }> {
    const service = app.get(RulesService);
    const ok = await service.load();
    return { ok, errors: ok ? [] : service.status.errors, warnings: service.status.warnings };
  }

  /** The command's verdict, with the same settings (read from them as `presence-sync rules validate` does). */
  async function validate(): Promise<{ ok: boolean; errors: string[]; warnings: string[]; stderr: string[] }> {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const code = await runRulesValidate({ dir }, { out: (l) => stdout.push(l), err: (l) => stderr.push(l) }, () => loadRuleContext(env));
    const issues = stdout.filter((l) => ISSUE.test(l) && !/^(ok|not verified|\d[\d,]* errors?)\b/.test(l));
    return { ok: code === 0, errors: issues.filter((l) => !l.includes(': warning: ')), warnings: issues.filter((l) => l.includes(': warning: ')), stderr };
  }

  it.each<[string, (files: Record<string, string>) => void, boolean]>([
    ['the example rules', () => undefined, true],
    ['a Salesforce status the org does not have ("Lunchh")', replace('"salesforce": "Lunch",', '"salesforce": "Lunchh",'), false],
    ['an Unavailable code no team has', replace('"code": "Lunch" }, "salesforce": "Lunch"', '"code": "Brake" }, "salesforce": "Lunch"'), false],
    ['a team the contact center does not have', replace('"teams": ["Tier 1"]', '"teams": ["Tier 9"]'), false],
    ['a user the contact center does not have', replace('"users": ["maya.meyer@example.com"]', '"users": ["nobody@example.com"]'), false],
    ['a skip rule with a user whose team lacks DEFAULT_UNAVAILABLE_CODE (a warning only)', replace(BACK_OFFICE, WITH_ANA), true],
  ])('%s: the same verdict and the same lines', async (_name, edit, accepted) => {
    rules(edit);
    const fromDaemon = await daemon();
    const fromCommand = await validate();
    expect(fromCommand.stderr).toEqual([]);
    expect(fromDaemon.ok).toBe(accepted);
    expect(fromCommand.ok).toBe(accepted);
    expect(fromCommand.errors).toEqual(fromDaemon.errors);
    expect(fromCommand.warnings).toEqual(fromDaemon.warnings);
    if (!accepted) expect(fromCommand.errors.length).toBeGreaterThan(0);
  });

  it('names the misspelt status with a did-you-mean, in live mode, where it used to warn "not reachable" and pass', async () => {
    rules(replace('"salesforce": "Lunch",', '"salesforce": "Lunchh",'));
    const fromCommand = await validate();
    expect(fromCommand.errors).toEqual([expect.stringMatching(/ subscriber\[\d+\]\.salesforce: unknown Salesforce status "Lunchh" \(did you mean "Lunch"\?\)$/)]);
    expect(fromCommand.warnings.join('\n')).not.toMatch(/not reachable/);
  });

  it('checks DEFAULT_UNAVAILABLE_CODE against the teams as the daemon does', async () => {
    rules(replace(BACK_OFFICE, WITH_ANA));
    const fromCommand = await validate();
    expect(fromCommand.warnings).toEqual([
      expect.stringMatching(/skipUnavailableCodeValidation: warning: DEFAULT_UNAVAILABLE_CODE "Admin" is not enabled for team "Tier 1": fallback writes for its agents will fail$/),
    ]);
  });
});
