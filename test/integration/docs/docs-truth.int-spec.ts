import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { parse as parseYaml } from 'yaml';
import { ContactCenterEmulator, SANDBOX_SALESFORCE, SANDBOX_SERVICE_CHANNELS, SANDBOX_STATUSES } from '@presence-sync/testing';
import { Sandbox } from '../../../apps/sandbox/src/sandbox';
import { dropPrefix } from '../../support/daemon-harness';
import { ROOT, runCliFromSource as cli } from '../../support/run-process';

/*
 * The docs stay true to what a new admin meets: the agents they name are the sandbox's, the rule files describe
 * whom they assign, the catalog rules/README.md lists is the emulators', and every `npx presence-sync rules …`
 * command the docs show runs against the sandbox (`npm run demo`) with the output they show.
 */

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const DOC_FILES = [
  'README.md', 'rules/README.md',
  ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`),
  ...readdirSync(join(ROOT, 'docs', 'connectors')).filter((f) => f.endsWith('.md')).map((f) => `docs/connectors/${f}`),
];
const RULE_FILES = readdirSync(join(ROOT, 'rules')).filter((f) => f.endsWith('.json') && f !== 'presence-rules.schema.json').map((f) => `rules/${f}`);

const CATALOG = ContactCenterEmulator.sandboxCatalog(20);
const AGENT_IDS = new Set(CATALOG.agents.map((a) => a.agentId));
const EMAILS = new Set(CATALOG.agents.map((a) => a.email.toLowerCase()));
const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
/** "Ada Adams" → ada.adams@example.com: how a description would name a sandbox agent. */
const FULL_NAMES = new Map(CATALOG.agents.map((a) => [a.email.split('@')[0].split('.').map(capital).join(' '), a.email.toLowerCase()]));
const FIRST_NAMES = new Set([...FULL_NAMES.keys()].map((n) => n.split(' ')[0]));

/** `file:line: what` for every match of `pattern` in the file's lines. */
function findAll(file: string, text: string, pattern: RegExp): { where: string; value: string }[] {
  const found: { where: string; value: string }[] = [];
  text.split('\n').forEach((line, i) => {
    for (const m of line.matchAll(pattern)) found.push({ where: `${file}:${i + 1}`, value: m[0] });
  });
  return found;
}

describe('the agents, rules and catalog the docs name', () => {
  it('every agent id and example.com address in the docs and rule files is a sandbox agent', () => {
    const unknown: string[] = [];
    for (const file of [...DOC_FILES, ...RULE_FILES]) {
      const text = read(file);
      for (const { where, value } of findAll(file, text, /\ba-\d{4}\b/g)) if (!AGENT_IDS.has(value)) unknown.push(`${where}: ${value}`);
      for (const { where, value } of findAll(file, text, /[A-Za-z0-9._%+-]+@example\.com\b/gi)) {
        const email = value.toLowerCase();
        if (!EMAILS.has(email) && email !== SANDBOX_SALESFORCE.username) unknown.push(`${where}: ${value}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  it.each(RULE_FILES)('%s: its description names only agents the rule assigns', (file) => {
    const rule = JSON.parse(read(file)) as { description?: string; assign?: { users?: string[] } };
    const assigned = new Set((rule.assign?.users ?? []).map((u) => u.toLowerCase()));
    const description = rule.description ?? '';
    const named: string[] = [];
    for (const m of description.matchAll(/[A-Za-z0-9._%+-]+@example\.com\b|\ba-\d{4}\b/gi)) named.push(m[0].toLowerCase());
    // A person's name: a sandbox first name and a capitalised word after it ("Maya Meyer").
    for (const m of description.matchAll(/\b([A-Z][a-z]+) ([A-Z][a-z]+)\b/g)) {
      if (FIRST_NAMES.has(m[1])) named.push(FULL_NAMES.get(`${m[1]} ${m[2]}`) ?? `${m[0]} (no such sandbox agent)`);
    }
    const byId = new Map(CATALOG.agents.map((a) => [a.agentId, a.email.toLowerCase()]));
    const notAssigned = named.filter((n) => !assigned.has(n) && !assigned.has(byId.get(n) ?? '') && ![...assigned].some((u) => byId.get(u) === n));
    expect(notAssigned).toEqual([]);
  });

  it('rules/README.md lists the sandbox catalog: statuses, service channels, and each team\'s codes', () => {
    const text = read('rules/README.md');
    const section = (label: string) => {
      const start = text.indexOf(`- **${label}**`);
      if (start < 0) throw new Error(`rules/README.md has no "${label}" item`);
      const end = text.indexOf('\n- **', start + 1);
      return text.slice(start, end < 0 ? undefined : end);
    };
    const ticked = (s: string) => [...s.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    expect(ticked(section('Salesforce statuses'))).toEqual([...SANDBOX_STATUSES.map((s) => s.developerName), 'Offline']);
    expect(ticked(section('Omni-Channel service channels'))).toEqual(SANDBOX_SERVICE_CHANNELS.map((c) => c.developerName));
    const teams = section('Contact-center teams');
    for (const team of CATALOG.teams) {
      const line = teams.split('\n').find((l) => l.includes(`\`${team.teamId}\` "${team.name}"`));
      expect(line && ticked(line.slice(line.indexOf(':') + 1))).toEqual(team.unavailableCodes);
    }
  });

  it('docker-compose.yml runs the daemon in the Salesforce mode the README and docs/operations.md name', () => {
    const compose = parseYaml(read('docker-compose.yml')) as { services: Record<string, { environment?: Record<string, string> }> };
    const mode = compose.services['presence-sync'].environment?.SALESFORCE_MODE;
    expect(mode).toBe('live');
    expect(read('docs/operations.md')).toContain(`The compose file runs the daemon with \`SALESFORCE_MODE=${mode}\``);
    expect(read('README.md')).toContain(`Compose runs the daemon with \`SALESFORCE_MODE=${mode}\``);
  });
});

/** A command the docs show: `$ npx presence-sync …` followed by its output, or a bare command line. */
interface DocCommand {
  where: string;
  args: string[];
  output?: string[];
}

/** The `npx presence-sync rules …` commands in the docs' code blocks that name real agents (no placeholders). */
function documentedCommands(): DocCommand[] {
  const commands: DocCommand[] = [];
  for (const file of DOC_FILES) {
    const lines = read(file).split('\n');
    let inBlock = false;
    let current: DocCommand | undefined;
    lines.forEach((line, i) => {
      if (line.startsWith('```')) {
        inBlock = !inBlock;
        current = undefined;
        return;
      }
      if (!inBlock) return;
      const m = /^(\$ )?npx presence-sync (rules .+)$/.exec(line);
      if (m) {
        current = undefined;
        // Placeholders (`<id|email>`, `[--json]`, `…`) are the synopsis, not a command to run.
        if (/[<[…]/.test(m[2])) return;
        current = { where: `${file}:${i + 1}`, args: m[2].trim().split(/\s+/), ...(m[1] ? { output: [] } : {}) };
        commands.push(current);
      } else if (current?.output) current.output.push(line);
    });
  }
  return commands;
}

describe('the CLI commands the docs show, run against the sandbox', () => {
  const prefix = `docs${randomUUID().slice(0, 8)}`;
  const commands = documentedCommands();
  let sandbox: Sandbox;
  let env: Record<string, string>;

  beforeAll(async () => {
    sandbox = new Sandbox({
      redisUrl: process.env.REDIS_URL, redisPrefix: prefix, rulesDir: join(ROOT, 'rules'), rulesWatch: false, logLevel: 'silent',
      daemonEnv: { DIRECTORY_REFRESH_INTERVAL_MS: '0', RECONCILE_INTERVAL_MS: '0' },
    });
    await sandbox.start();
    // What the demo writes to its settings file, less RULES_DIR: the CLI's default, `rules/` from the repository
    // root, prints the paths as the docs show them.
    const { RULES_DIR: _rulesDir, ...settings } = sandbox.cliSettings();
    env = { PATH: process.env.PATH ?? '', ...settings };
  });

  afterAll(async () => {
    await sandbox?.stop();
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    await dropPrefix(redis, prefix);
    redis.disconnect();
  });

  it('finds the documented commands (rules.md and operations.md show some)', () => {
    expect(commands.filter((c) => c.output).length).toBeGreaterThanOrEqual(4);
    expect(commands.some((c) => c.where.startsWith('docs/operations.md'))).toBe(true);
  });

  it('the demo runs the daemon in live mode against the Salesforce emulator, as docs/salesforce-setup.md says', () => {
    expect(sandbox.cliSettings()).toMatchObject({ SALESFORCE_MODE: 'live', SALESFORCE_LOGIN_URL: sandbox.urls.salesforce });
    expect(read('docs/salesforce-setup.md')).toContain('`npm run demo`, does not use `memory`: it runs the daemon in `live` mode against the Salesforce emulator');
  });

  it('every command runs (exit 0), and an example prints exactly the output shown under it', async () => {
    const wrong: string[] = [];
    for (const command of commands) {
      const r = await cli(command.args, env);
      const shown = `npx presence-sync ${command.args.join(' ')} (${command.where})`;
      if (r.code !== 0) wrong.push(`${shown}: exit ${r.code}: ${r.stderr.trim()}`);
      else if (command.output && r.stdout.trimEnd() !== command.output.join('\n').trimEnd()) {
        wrong.push(`${shown}: prints\n${r.stdout.trimEnd()}\n  but the docs show\n${command.output.join('\n')}`);
      }
    }
    expect(wrong).toEqual([]);
  }, 240_000);

  it('with skipUnavailableCodeValidation and no Offline row, a logout from Omni-Channel sets the default Unavailable (docs/rules.md)', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'ps-docs-rules-')), 'rules');
    try {
      cpSync(join(ROOT, 'rules'), dir, { recursive: true });
      const file = join(dir, 'back-office.json');
      const rule = JSON.parse(readFileSync(file, 'utf8')) as { skipUnavailableCodeValidation: boolean; subscriber: { salesforce: string }[] };
      expect(rule.skipUnavailableCodeValidation).toBe(true);
      rule.subscriber = rule.subscriber.filter((row) => row.salesforce !== 'Offline');
      writeFileSync(file, JSON.stringify(rule, null, 2));
      const r = await cli(['rules', 'explain', '--agent', 'rosa.rossi@example.com', '--salesforce', 'Offline', '--dir', dir], env);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('result: set ACD state Unavailable:System');
      expect(read('docs/rules.md')).toContain('Without the row, the same question answers `result: set ACD state Unavailable:System`');
    } finally {
      rmSync(join(dir, '..'), { recursive: true, force: true });
    }
  }, 90_000);
});
