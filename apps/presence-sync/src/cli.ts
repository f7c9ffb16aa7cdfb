import 'reflect-metadata';
import { Command, CommanderError } from 'commander';
import { loadConfig, loadRuleCheckSettings, loadSalesforceSettings, salesforceModeProblem, type AppConfig } from '@presence-sync/config';
import { ConfigError, type AcdState } from '@presence-sync/domain';
import { connectRedis, parseAgentRecord, RedisKeys, RedisRefreshTokenStore } from '@presence-sync/redis';
import { SalesforceSession } from '@presence-sync/salesforce';
import { loadRuleSet } from '@presence-sync/rules';
import { loadRuleContext, type OpenSalesforceSession, type RuleContext } from './cli/rule-context';
import { runRulesExplain, runRulesValidate } from './cli/rules.commands';
import { runSalesforceCheck, runSalesforceSetup, statusAccessSource } from './cli/salesforce.commands';
import { readAllStdin, runSecretsEncrypt, runSecretsGenerateKey } from './cli/secrets.commands';
import { startDaemon } from './daemon.bootstrap';
import { DeadlineExceeded, withDeadline } from './deadline';
import { OpsListener } from './http/ops-listener';
import { routeConsoleToLogger } from './logging/console-bridge';
import { LifecycleService } from './services/lifecycle.service';
import { RulesBootError } from './services/rules.service';

const io = { out: (line: string) => process.stdout.write(`${line}\n`), err: (line: string) => process.stderr.write(`${line}\n`) };

/** Bad settings: one line per setting (the error names each), never a stack; exit code 1. */
function settingsError(e: ConfigError): number {
  for (const line of e.message.split('\n')) io.err(`presence-sync: ${line}`);
  return 1;
}

/** The config if the environment has one (the `salesforce` commands in refresh-token mode need its Redis). */
function optionalConfig(): AppConfig | undefined {
  try {
    return loadConfig();
  } catch {
    return undefined;
  }
}

/** The agent's previous ACD state as the daemon keeps it in its Redis; rejects with one line when Redis cannot be reached. */
async function loadPrevious(agentId: string, config: AppConfig): Promise<AcdState | undefined> {
  // A refused connection is one line for explain to report (its message never holds the password).
  const redis = await connectRedis(config.redis, { timeoutMs: 1500 });
  try {
    const [rev, doc] = await redis.hmget(new RedisKeys(config.redis.prefix, config.sync.partitions).agent(agentId), 'rev', 'doc');
    return parseAgentRecord(rev, doc).prevAcd?.state;
  } finally {
    redis.disconnect();
  }
}

/**
 * `--settings-file <file>`: settings from a file of `NAME=value` lines (the demo writes one), for the settings the
 * environment does not set; the environment wins, as with `node --env-file`. A file that cannot be read is one line.
 */
function loadSettingsFile(file: string): void {
  try {
    process.loadEnvFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(`--settings-file ${file}: ${code === 'ENOENT' ? 'no such file' : e instanceof Error ? e.message : String(e)}`);
  }
}

/** What the rules are checked against, read as the daemon reads it from the same settings. */
function ruleCheck(offline: boolean): () => Promise<RuleContext> {
  return () => loadRuleContext(process.env, { offline, openSalesforce: openSalesforceSession });
}

/** Runs a command that needs the Salesforce settings; a bad setting is one line and exit 1. */
async function withSalesforceSettings(run: (settings: ReturnType<typeof loadSalesforceSettings>) => Promise<number>): Promise<number> {
  let settings: ReturnType<typeof loadSalesforceSettings>;
  try {
    settings = loadSalesforceSettings();
  } catch (e) {
    if (e instanceof ConfigError) return settingsError(e);
    throw e;
  }
  return run(settings);
}

/**
 * The session a command logs in with. In refresh-token mode the current refresh token is the one the daemon
 * keeps in Redis (rotation makes each one single use): refreshing with the configured one, which the daemon may
 * have spent already, would make Salesforce revoke every token, the daemon's included.
 */
const openSalesforceSession: OpenSalesforceSession = async (settings) => {
  if (settings.auth.mode !== 'refresh-token') return { session: new SalesforceSession(settings), close: () => undefined };
  const config = optionalConfig();
  if (!config) {
    return { problem: 'SALESFORCE_AUTH=refresh-token: this command needs the daemon\'s settings (REDIS_URL, REDIS_PREFIX) to use the refresh token the daemon keeps; the configured one may be spent, and using it would revoke the daemon\'s session' };
  }
  let redis: Awaited<ReturnType<typeof connectRedis>>;
  try {
    redis = await connectRedis(config.redis, { timeoutMs: 3000 });
  } catch (e) {
    return { problem: `SALESFORCE_AUTH=refresh-token needs the daemon's Redis for the current refresh token: ${e instanceof Error ? e.message : String(e)}` };
  }
  const refreshTokens = new RedisRefreshTokenStore(redis, new RedisKeys(config.redis.prefix), settings.auth.storeKey);
  return { session: new SalesforceSession(settings, undefined, { refreshTokens }), close: () => redis.disconnect() };
};

/** Runs a `salesforce` command with the session `openSalesforceSession` gives; no session is one line and exit 1. */
async function withSalesforceSession(settings: ReturnType<typeof loadSalesforceSettings>, run: (session?: SalesforceSession) => Promise<number>): Promise<number> {
  if (settings.auth.mode !== 'refresh-token') return run(undefined);
  const opened = await openSalesforceSession(settings);
  if ('problem' in opened) {
    io.err(`presence-sync: ${opened.problem}`);
    return 1;
  }
  try {
    return await run(opened.session);
  } finally {
    opened.close();
  }
}

/** Every Salesforce status the rules name (the reserved Offline aside), for `salesforce setup` to check. */
async function statusesNamedByRules(dir: string): Promise<string[] | undefined> {
  const result = await loadRuleSet(dir);
  if (!result.ruleSet) {
    io.err(`warning: the rules in ${dir} are invalid; statuses not checked (run "presence-sync rules validate ${dir}")`);
    return undefined;
  }
  const names = new Set<string>();
  for (const rule of result.ruleSet.rules) {
    for (const row of [...rule.publisher, ...rule.subscriber]) if (row.salesforce !== 'Offline') names.add(row.salesforce);
  }
  return [...names].sort();
}

/** Whether some rule of the directory has a workload table (invalid or missing rules: no). */
async function rulesUseWorkload(dir: string): Promise<boolean> {
  const result = await loadRuleSet(dir);
  return result.ruleSet?.rules.some((rule) => rule.workload.length > 0) ?? false;
}

async function start(): Promise<number> {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) return settingsError(e);
    throw e;
  }
  // Before anything connects: start never runs against an org it made up (SALESFORCE_MODE unset or memory).
  const modeProblem = salesforceModeProblem(config, false);
  if (modeProblem) { io.err(`presence-sync: ${modeProblem}`); return 1; }
  let app: Awaited<ReturnType<typeof startDaemon>>;
  try {
    app = await startDaemon(config);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    io.err(`presence-sync: cannot start: ${e instanceof RulesBootError ? message : message.split('\n')[0]}`);
    return 1;
  }
  // From here on a library's console line (BullMQ's Redis warnings) is a JSON log line like every other.
  routeConsoleToLogger();
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  const ops = app.get(OpsListener).address();
  const opsNote = ops && config.ops ? `; operator endpoints on http://${config.ops.host}:${ops.port}` : '';
  io.err(`presence-sync: listening on http://${config.http.host}:${port} (rules in ${config.rules.dir})${opsNote}`);
  return new Promise<number>((resolve) => {
    let stopping = false;
    const close = (signal: string) => {
      // Whatever hangs (Redis away, a hook of a library), the process exits within SHUTDOWN_TIMEOUT_MS.
      const ms = config.shutdownTimeoutMs;
      // A little before the limit: writing the last line and exiting take a moment too.
      withDeadline(app.close(), Math.max(ms - 200, ms * 0.9)).then(() => resolve(0), (e: Error) => {
        if (e instanceof DeadlineExceeded) {
          const open = app.get(LifecycleService).stillOpen();
          io.err(`presence-sync: ${signal}: not stopped within SHUTDOWN_TIMEOUT_MS (${ms} ms); exiting without closing ${open.length > 0 ? open.join(', ') : 'the HTTP server and the queue connections'}`);
        } else {
          io.err(`presence-sync: shutdown error: ${e.message.split('\n')[0]}`);
        }
        resolve(1);
      });
    };
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      const drainMs = config.shutdownDrainMs;
      // First not ready but still taking changes (SHUTDOWN_DRAIN_MS): a load balancer or Kubernetes takes the
      // replica out a moment after the signal, and requests routed here meanwhile must not be refused.
      if (drainMs > 0) io.err(`presence-sync: ${signal}: draining for ${drainMs} ms (not ready, still taking changes), then stopping (intake, then workers, then Redis)`);
      else io.err(`presence-sync: ${signal}: stopping (intake, then workers, then Redis)`);
      void app.get(LifecycleService).drain(drainMs).then(() => close(signal));
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

/** Runs the CLI; resolves the exit code (0 ok, 1 findings or errors, 2 usage). */
export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = new Command('presence-sync')
    .description('Keeps contact-center agent state and Salesforce Omni-Channel presence in step, both ways.')
    .option('--settings-file <file>', 'read settings from a file of NAME=value lines (the environment wins), e.g. the one `npm run demo` writes')
    .hook('preAction', (command) => {
      const file = command.opts<{ settingsFile?: string }>().settingsFile;
      if (file) loadSettingsFile(file);
    })
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });
  const rules = program.command('rules').description('validate and dry-run rule files');
  rules.command('validate [dir]')
    .description('validate every rule file of a directory (default: RULES_DIR or rules/) as the daemon would, against the live catalogs')
    .option('--json', 'print a JSON report')
    .option('--offline', 'skip the live catalogs on purpose (only the files, the settings and the connector are checked)')
    .action(async (dir: string | undefined, opts: { json?: boolean; offline?: boolean }) => {
      const settings = loadRuleCheckSettings();
      code = await runRulesValidate({ dir: dir ?? settings.dir, json: opts.json, offline: opts.offline }, io, ruleCheck(opts.offline === true));
    });
  rules.command('explain')
    .description('what would happen if an agent\'s Salesforce status, ACD state or Omni-Channel work changed')
    .requiredOption('--agent <id|email>', 'the agent, by ACD agent id or e-mail')
    .option('--salesforce <Status>', 'a Salesforce status DeveloperName, or Offline')
    .option('--acd <State[:Code]>', 'an ACD state, e.g. Unavailable:Lunch')
    .option('--team <team>', 'the agent\'s team, when the contact center cannot be reached')
    .option('--previous <State[:Code]>', 'the previous ACD state to assume (default: as the daemon keeps it)')
    .option('--work <channel>', 'Omni-Channel work: one open item of this service channel (DeveloperName); repeat for more', (value: string, all: string[]) => [...all, value], [] as string[])
    .option('--at-capacity', 'Omni-Channel work: the agent\'s open work uses all of the configured capacity')
    .option('--dir <dir>', 'the rules directory (default: RULES_DIR or rules/)')
    .option('--json', 'print JSON')
    .action(async (opts: { agent: string; salesforce?: string; acd?: string; team?: string; previous?: string; work?: string[]; atCapacity?: boolean; dir?: string; json?: boolean }) => {
      const settings = loadRuleCheckSettings();
      code = await runRulesExplain({ ...opts, dir: opts.dir ?? settings.dir }, io, { check: ruleCheck(false), loadPrevious });
    });
  const salesforce = program.command('salesforce').description('prepare and check the Salesforce org (SALESFORCE_* settings)');
  salesforce.command('setup')
    .description('create the PushTopic and the command channel if missing; check the statuses the rules name and the agents\' access to them')
    .option('--dir <dir>', 'the rules directory (default: RULES_DIR or rules/)')
    .action(async (opts: { dir?: string }) => {
      const dir = opts.dir ?? process.env.RULES_DIR ?? 'rules';
      const requiredStatuses = await statusesNamedByRules(dir);
      const statusAccess = await statusAccessSource(dir);
      code = await withSalesforceSettings((settings) => withSalesforceSession(settings, (session) => runSalesforceSetup(settings, io, { requiredStatuses, session, statusAccess })));
    });
  salesforce.command('check')
    .description('connectivity, API usage, streaming and the agents\' access to the statuses the rules set, without changing anything')
    .option('--dir <dir>', 'the rules directory (default: RULES_DIR or rules/): with a workload table, unreadable Omni-Channel work is a problem')
    .action(async (opts: { dir?: string }) => {
      const dir = opts.dir ?? process.env.RULES_DIR ?? 'rules';
      const workloadRules = await rulesUseWorkload(dir);
      const statusAccess = await statusAccessSource(dir);
      code = await withSalesforceSettings((settings) => withSalesforceSession(settings, (session) => runSalesforceCheck(settings, io, { session, workloadRules, statusAccess })));
    });
  const secrets = program.command('secrets').description('encrypt settings at rest (enc:v1:…, key in SECRETS_KEY)');
  secrets.command('encrypt')
    .description('encrypt a value read from standard input (or --value) with SECRETS_KEY')
    .option('--value <value>', 'the value (prefer standard input: it stays out of shell history)')
    .action(async (opts: { value?: string }) => {
      code = await runSecretsEncrypt(opts, { ...io, readStdin: () => readAllStdin() }, process.env);
    });
  secrets.command('generate-key').description('print a new random SECRETS_KEY').action(() => {
    code = runSecretsGenerateKey(io);
  });
  program.command('start').description('run the daemon (settings from the environment; see README)').action(async () => {
    code = await start();
  });
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    // A bad setting is the user's to fix: one line, never a stack.
    if (e instanceof ConfigError) return settingsError(e);
    throw e;
  }
  return code;
}
