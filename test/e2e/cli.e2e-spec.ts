import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import Redis from 'ioredis';
import { ContactCenterEmulator, freePort, type SalesforceEmulator } from '@presence-sync/testing';
import { writeSettingsFile } from '../../apps/sandbox/src/cli-settings.file';
import { Sandbox } from '../../apps/sandbox/src/sandbox';
import { waitFor } from '../support/daemon-harness';
import { liveSalesforceEnv, startLiveSalesforce } from '../support/live-salesforce';
import { ROOT, runProcess, type Run } from '../support/run-process';

/*
 * The `presence-sync` bin as a user runs it: `node bin/presence-sync.js …` on the built code (dist/), in a clean
 * environment (no ACD_* settings: the rule commands then have no catalogs and only warn about it).
 */

const BIN = join(ROOT, 'bin', 'presence-sync.js');
const TOKEN = 'cc-token-for-cli-tests';
const SECRET = 'webhook-secret-for-cli-tests-0123';
/** `file:line:col path: message`; a syntax error has no path (`file:line:col: message`). */
const ISSUE_LINE = /^(.+\.json):(\d+):(\d+)(?: (\S+))?: (.+)$/;

/** A clean environment: PATH only, plus the given settings. */
const cleanEnv = (extra: Record<string, string> = {}): Record<string, string> => ({ PATH: process.env.PATH ?? '', ...extra });

function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return runProcess(process.execPath, [BIN, ...args], cleanEnv(env));
}

const lines = (text: string) => text.split('\n').filter((l) => l.length > 0);

/** 1-based line and column of a character offset. */
function positionAt(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

/** Replaces one exact text in a file (fails when the fixture changed so the edit would not happen). */
function edit(file: string, from: string, to: string): string {
  const text = readFileSync(file, 'utf8');
  if (!text.includes(from)) throw new Error(`fixture: "${from}" not in ${file}`);
  const edited = text.replace(from, to);
  writeFileSync(file, edited);
  return edited;
}

describe('the presence-sync CLI (built bin)', () => {
  let tmp: string;
  let broken: string;
  /** Where the two errors of the broken copy are, as the validator must report them. */
  let badEnum: { file: string; line: number; column: number };
  let badSyntax: { file: string; line: number; column: number };

  beforeAll(async () => {
    // Always build: a build with type errors still writes dist/ (newer than the sources, but without the path
    // aliases resolved), so file times cannot tell whether dist/ is usable.
    const build = await runProcess('npm', ['run', '--silent', 'build'], { ...process.env } as Record<string, string>, 180_000);
    if (build.code !== 0) throw new Error(`npm run build failed (${build.code}):\n${build.stdout}\n${build.stderr}`);
    // A copy of rules/ with a bad enum value in one file and a syntax error in another.
    tmp = mkdtempSync(join(tmpdir(), 'presence-sync-cli-'));
    broken = join(tmp, 'rules');
    cpSync(join(ROOT, 'rules'), broken, { recursive: true });
    const tier1 = join(broken, 'tier1-blended.json');
    const tier1Text = edit(tier1, '"conflictPolicy": "latest"', '"conflictPolicy": "newest"');
    badEnum = { file: tier1, ...positionAt(tier1Text, tier1Text.indexOf('"newest"')) };
    const tier2 = join(broken, 'tier2-chat-first.json');
    const tier2Text = edit(tier2, '"name": "tier2-chat-first",', '"name": "tier2-chat-first"');
    // The parser stops at the first token after the value whose comma is missing.
    const after = tier2Text.indexOf('"name": "tier2-chat-first"') + '"name": "tier2-chat-first"'.length;
    badSyntax = { file: tier2, ...positionAt(tier2Text, after + tier2Text.slice(after).search(/\S/)) };
  }, 200_000);

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  describe('rules validate', () => {
    it('passes the shipped rules: exit 0 and a success summary (catalog warnings only)', async () => {
      const r = await cli(['rules', 'validate', 'rules']);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      const out = lines(r.stdout);
      expect(out[out.length - 1]).toMatch(/^ok: \d+ rules? in \d+ files?, \d+ warnings?$/);
      for (const line of out.slice(0, -1)) expect(line).toMatch(/: warning: /);
    });

    it('reports every error of a broken directory as file:line:col path: message and exits 1', async () => {
      const r = await cli(['rules', 'validate', broken]);
      expect(r.code).toBe(1);
      const issues = lines(r.stdout).filter((l) => ISSUE_LINE.test(l) && !l.includes(': warning: '));
      expect(issues).toHaveLength(2);
      const [enumLine, syntaxLine] = issues.map((l) => ISSUE_LINE.exec(l)!);
      expect(enumLine.slice(1, 5)).toEqual([badEnum.file, String(badEnum.line), String(badEnum.column), 'conflictPolicy']);
      expect(enumLine[5]).toMatch(/latest, acd, salesforce/);
      expect(syntaxLine.slice(1, 4)).toEqual([badSyntax.file, String(badSyntax.line), String(badSyntax.column)]);
      expect(syntaxLine[5]).toMatch(/","/);
      expect(lines(r.stdout).at(-1)).toMatch(/^2 errors, \d+ warnings? in 3 files \(/);
    });

    it('--json prints one parseable report (ok and broken)', async () => {
      const good = await cli(['rules', 'validate', 'rules', '--json']);
      expect(good.code).toBe(0);
      expect(JSON.parse(good.stdout)).toMatchObject({ ok: true, errors: [] });

      const bad = await cli(['rules', 'validate', broken, '--json']);
      expect(bad.code).toBe(1);
      const report = JSON.parse(bad.stdout) as { ok: boolean; errors: { file: string; line: number; column: number; path: string }[] };
      expect(report.ok).toBe(false);
      expect(report.errors.map((e) => [relative(broken, e.file), e.line, e.column, e.path])).toEqual([
        ['tier1-blended.json', badEnum.line, badEnum.column, 'conflictPolicy'],
        ['tier2-chat-first.json', badSyntax.line, badSyntax.column, ''],
      ]);
    });

    it('takes the rule-file limits from RULES_MAX_* and refuses a bad one in one line', async () => {
      const deep = join(tmp, 'deep');
      cpSync(join(ROOT, 'rules'), deep, { recursive: true });
      writeFileSync(join(deep, 'nested.json'), '{"name":"nested","description":[[[[[["x"]]]]]]}');
      const limited = await cli(['rules', 'validate', deep], { RULES_MAX_DEPTH: '5' });
      expect(limited.code).toBe(1);
      expect(limited.stdout).toMatch(/nested\.json:1:\d+ description.*nested deeper than 5 levels .*RULES_MAX_DEPTH/);
      const bad = await cli(['rules', 'validate', 'rules'], { RULES_MAX_DEPTH: 'deep' });
      expect(bad.code).toBe(1);
      expect(lines(bad.stderr)).toEqual([expect.stringMatching(/^presence-sync: invalid setting RULES_MAX_DEPTH: /)]);
    });
  });

  describe('rules explain', () => {
    const agent = ['rules', 'explain', '--agent', 'a-1001', '--team', 'Tier 1', '--dir', 'rules'];

    it('--salesforce: names the rule and the subscriber row, exit 0', async () => {
      const r = await cli([...agent, '--salesforce', 'Lunch']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^rule:\s+tier1-blended \(rules\/tier1-blended\.json\), assigned to team "Tier 1"$/m);
      expect(r.stdout).toMatch(/^row:\s+subscriber\[\d+\] \{"salesforce":"Lunch",/m);
      expect(r.stdout).toMatch(/^result:\s+set ACD state Unavailable:Lunch$/m);
    });

    it('--acd: names the rule and the publisher row, exit 0', async () => {
      const r = await cli([...agent, '--acd', 'Unavailable:Lunch']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^rule:\s+tier1-blended /m);
      expect(r.stdout).toMatch(/^row:\s+publisher\[\d+\] \{"acd":\{"state":"Unavailable","code":"Lunch"\}/m);
      expect(r.stdout).toMatch(/^result:\s+set Salesforce status "Lunch"$/m);
    });

    it('--json prints one parseable result', async () => {
      const r = await cli([...agent, '--salesforce', 'Lunch', '--json']);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({
        rule: { name: 'tier1-blended' }, table: 'subscriber', row: { ref: expect.stringMatching(/^subscriber\[\d+\]$/) },
        write: { side: 'acd', state: { state: 'Unavailable', code: 'Lunch' } },
      });
    });

    it('usage errors exit 2: neither or both of --salesforce / --acd, an unknown command', async () => {
      const neither = await cli(agent);
      expect(neither.code).toBe(2);
      expect(neither.stderr).toMatch(/give one of --salesforce <Status> or --acd <State\[:Code\]>, or Omni-Channel work/);
      const both = await cli([...agent, '--salesforce', 'Lunch', '--acd', 'Available']);
      expect(both.code).toBe(2);
      expect(both.stderr).toMatch(/exactly one of --salesforce/);
      const unknown = await cli(['frobnicate']);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/unknown command/);
    });

    it('--help exits 0 with the usage', async () => {
      const r = await cli(['--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: presence-sync /m);
      expect(r.stdout).toMatch(/\brules\b/);
      expect(r.stdout).toMatch(/\bstart\b/);
    });
  });

  describe('rules validate and explain against live catalogs (the emulators, SALESFORCE_MODE=live)', () => {
    let emulator: ContactCenterEmulator;
    let org: SalesforceEmulator;
    /** Where the test writes the settings, as `npm run demo` does. */
    let settingsFile: string;
    let live: Record<string, string>;

    beforeAll(async () => {
      const catalog = ContactCenterEmulator.sandboxCatalog(20);
      emulator = new ContactCenterEmulator({ token: TOKEN, ...catalog });
      const { baseUrl } = await emulator.start();
      org = await startLiveSalesforce(catalog.agents.map((a) => a.email));
      live = { ACD_BASE_URL: baseUrl, ACD_TOKEN: TOKEN, ACD_WEBHOOK_SECRET: SECRET, DEFAULT_UNAVAILABLE_CODE: 'System', ...liveSalesforceEnv(org) };
      settingsFile = join(tmp, 'demo.env');
    });

    afterAll(async () => {
      await emulator?.stop();
      await org?.stop();
    });

    it('refuses a status the org does not have, with a did-you-mean (exit 1), where it used to warn "not reachable" and pass', async () => {
      const dir = join(tmp, 'lunchh');
      cpSync(join(ROOT, 'rules'), dir, { recursive: true });
      edit(join(dir, 'tier1-blended.json'), '"salesforce": "Lunch",', '"salesforce": "Lunchh",');
      const r = await cli(['rules', 'validate', dir], live);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/tier1-blended\.json:\d+:\d+ subscriber\[2\]\.salesforce: unknown Salesforce status "Lunchh" \(did you mean "Lunch"\?\)$/m);
      expect(r.stdout).not.toMatch(/not reachable/);
      const good = await cli(['rules', 'validate', 'rules'], live);
      expect(good).toMatchObject({ code: 0, stderr: '' });
      expect(lines(good.stdout).at(-1)).toMatch(/^ok: 3 rules in 3 files, 0 warnings$/);
    });

    it('with no settings says "not configured"; --offline skips the catalogs and says so; an unreachable configured catalog fails', async () => {
      const none = await cli(['rules', 'validate', 'rules']);
      expect(none.code).toBe(0);
      expect(none.stdout).toMatch(/: warning: Salesforce status catalog not configured \(SALESFORCE_MODE is not live\): statuses not checked$/m);
      expect(none.stdout).not.toMatch(/not reachable/);

      const offline = await cli(['rules', 'validate', 'rules', '--offline'], live);
      expect(offline.code).toBe(0);
      expect(offline.stdout).toMatch(/: warning: contact-center team catalog skipped \(--offline\)/m);
      expect(lines(offline.stdout).at(-1)).toMatch(/^ok \(offline: catalogs not checked\): 3 rules in 3 files, \d+ warnings$/);

      const port = await freePort();
      const down = await cli(['rules', 'validate', 'rules'], { ...live, ACD_BASE_URL: `http://127.0.0.1:${port}`, ACD_TIMEOUT_MS: '500' });
      expect(down.code).toBe(1);
      expect(lines(down.stderr)).toEqual([expect.stringMatching(/^error: contact-center catalogs \(generic connector\) not reachable: /)]);
      expect(lines(down.stdout).at(-1)).toMatch(/^not verified: 3 rules in 3 files, \d+ warnings, but a configured catalog could not be read; fix that, or give --offline/);
    });

    it('explain with the settings file the demo writes, while the sandbox runs: the agent and team come from its contact center, as documented', async () => {
      const sandbox = new Sandbox({ redisUrl: process.env.REDIS_URL, redisPrefix: `cli${randomUUID().slice(0, 8)}`, rulesWatch: false, logLevel: 'silent' });
      try {
        await sandbox.start();
        writeSettingsFile(settingsFile, sandbox.cliSettings(), 'as npm run demo writes it');
        await explainAgainstDemo();
      } finally {
        await sandbox.stop();
      }
    }, 60_000);

    async function explainAgainstDemo(): Promise<void> {
      const r = await cli(['--settings-file', settingsFile, 'rules', 'explain', '--agent', 'a-1001', '--acd', 'Unavailable:Lunch']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^agent:\s+a-1001 <[^>]+> team "Tier 1"$/m);
      expect(r.stdout).toMatch(/^result:\s+set Salesforce status "Lunch"$/m);
      // A back-office agent choosing Training: the team lacks the code, so the daemon's default is set (no guess).
      const omar = await cli(['rules', 'explain', '--agent', 'a-1018', '--salesforce', 'Training', '--settings-file', settingsFile]);
      expect(omar.code).toBe(0);
      expect(omar.stdout).toMatch(/^result:\s+set ACD state Unavailable:System$/m);
      expect(omar.stdout).not.toMatch(/^note:/m);
      const validate = await cli(['rules', 'validate', '--settings-file', settingsFile]);
      expect(validate).toMatchObject({ code: 0, stderr: '' });
      expect(lines(validate.stdout)).toEqual(['ok: 3 rules in 3 files, 0 warnings']);
    }

    it('explain refuses --acd with two codes, and a status the org lacks with a did-you-mean', async () => {
      const extra = await cli(['rules', 'explain', '--agent', 'a-1001', '--acd', 'Unavailable:Lunch:extra'], live);
      expect(extra.code).toBe(2);
      expect(lines(extra.stderr)).toEqual([expect.stringMatching(/^error: --acd "Unavailable:Lunch:extra" has more than one ":"/)]);
      const typo = await cli(['rules', 'explain', '--agent', 'a-1001', '--salesforce', 'Lunchh'], live);
      expect(typo.code).toBe(1);
      expect(lines(typo.stderr)).toEqual(['error: unknown Salesforce status "Lunchh" (did you mean "Lunch"?)']);
    });

    it('a settings file that does not exist is one line, exit 1', async () => {
      const r = await cli(['--settings-file', join(tmp, 'nope.env'), 'rules', 'validate']);
      expect(r.code).toBe(1);
      expect(lines(r.stderr)).toEqual([`presence-sync: --settings-file ${join(tmp, 'nope.env')}: no such file`]);
    });
  });

  describe('start', () => {
    const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    const prefix = `cli${randomUUID().slice(0, 8)}`;
    let emulator: ContactCenterEmulator;
    let baseUrl: string;
    /** The Salesforce org `start` logs in to (SALESFORCE_MODE=live): the emulator, as in the sandbox. */
    let org: SalesforceEmulator;
    const children: ChildProcess[] = [];

    beforeAll(async () => {
      const catalog = ContactCenterEmulator.sandboxCatalog(20);
      emulator = new ContactCenterEmulator({ token: TOKEN, ...catalog });
      ({ baseUrl } = await emulator.start());
      org = await startLiveSalesforce(catalog.agents.map((a) => a.email));
    });

    afterAll(async () => {
      for (const child of children) {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      await emulator?.stop();
      await org?.stop();
      const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
      try {
        const keys = await redis.keys(`${prefix}:*`);
        if (keys.length) await redis.del(...keys);
      } finally {
        redis.disconnect();
      }
    });

    const settings = (extra: Record<string, string> = {}) => ({
      REDIS_URL: redisUrl, REDIS_PREFIX: prefix, ACD_BASE_URL: baseUrl, ACD_TOKEN: TOKEN, ACD_WEBHOOK_SECRET: SECRET,
      HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', LOG_LEVEL: 'silent', RULES_WATCH: 'false', ADMIN_DASHBOARD: 'off',
      DIRECTORY_REFRESH_INTERVAL_MS: '0', RECONCILE_INTERVAL_MS: '0', ...liveSalesforceEnv(org), ...extra,
    });
    /** Every setting but the given ones. */
    const without = (...names: string[]) => Object.fromEntries(Object.entries(settings()).filter(([k]) => !names.includes(k)));

    it('with no settings: exit 1 and exactly one line naming the setting, no stack trace', async () => {
      const r = await cli(['start']);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(lines(r.stderr)).toHaveLength(1);
      expect(r.stderr).toMatch(/^presence-sync: invalid setting [A-Z_]+: /);
    });

    it('with several bad settings: exit 1 and one line naming each of them, no stack trace', async () => {
      const r = await cli(['start'], settings({ HTTP_PORT: 'abc', LOG_LEVEL: 'loud', SYNC_ATTEMPTS: '0' }));
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(lines(r.stderr)).toEqual([
        expect.stringMatching(/^presence-sync: invalid setting HTTP_PORT: .*; got "abc"$/),
        expect.stringMatching(/^presence-sync: invalid setting SYNC_ATTEMPTS: .*; got "0"$/),
        expect.stringMatching(/^presence-sync: invalid setting LOG_LEVEL: .*; got "loud"$/),
      ]);
    });

    it('without SALESFORCE_MODE: exit 1 and one line naming the setting, its values and the sandbox', async () => {
      const r = await cli(['start'], without('SALESFORCE_MODE'));
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      const err = lines(r.stderr);
      expect(err).toHaveLength(1);
      expect(err[0]).toMatch(/^presence-sync: invalid setting SALESFORCE_MODE: required/);
      expect(err[0]).toMatch(/\blive\b/);
      expect(err[0]).toMatch(/\bmemory\b/);
      expect(err[0]).toContain('npm run demo');
    });

    it('with SALESFORCE_MODE=memory: exit 1 and one line saying the in-memory org is only for tests that bring their own', async () => {
      const r = await cli(['start'], settings({ SALESFORCE_MODE: 'memory' }));
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      const err = lines(r.stderr);
      expect(err).toHaveLength(1);
      expect(err[0]).toMatch(/^presence-sync: invalid setting SALESFORCE_MODE: /);
      expect(err[0]).toMatch(/memory is only for tests that hand the daemon their own in-memory org/);
      expect(err[0]).toMatch(/use live\b/);
      expect(err[0]).toContain('npm run demo');
    });

    it('with a broken rules directory: exit 1 and one line naming the rules problem at file:line:col', async () => {
      const r = await cli(['start'], settings({ RULES_DIR: broken }));
      expect(r.code).toBe(1);
      const err = lines(r.stderr);
      expect(err).toHaveLength(1);
      expect(err[0]).toMatch(/^presence-sync: cannot start: rules in .+ are invalid: /);
      expect(err[0]).toContain(`${badEnum.file}:${badEnum.line}:${badEnum.column} conflictPolicy: `);
      expect(err[0]).toMatch(/\(and 1 more\)/);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    });

    it('with valid settings: says where it listens, serves, and exits 0 on SIGTERM', async () => {
      const port = await freePort();
      const child = spawn(process.execPath, [BIN, 'start'], { cwd: ROOT, env: cleanEnv(settings({ RULES_DIR: 'rules', HTTP_PORT: String(port) })), stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let stderr = '';
      let stdout = '';
      child.stderr!.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
      child.stdout!.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
      let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      child.once('exit', (code, signal) => { exit = { code, signal }; });

      await waitFor(() => stderr.includes('\n') || exit !== undefined, 'the listening line', 20_000);
      expect(exit).toBeUndefined();
      expect(lines(stderr)).toEqual([`presence-sync: listening on http://127.0.0.1:${port} (rules in rules)`]);
      const health = await fetch(`http://127.0.0.1:${port}/health`);
      expect(health.status).toBe(200);

      const signalledAt = Date.now();
      child.kill('SIGTERM');
      await waitFor(() => exit !== undefined, 'exit after SIGTERM', 15_000);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(Date.now() - signalledAt).toBeLessThan(15_000);
      expect(lines(stderr).slice(1)).toEqual(['presence-sync: SIGTERM: stopping (intake, then workers, then Redis)']);
      expect(stdout).toBe('');
    }, 45_000);
  });
});
