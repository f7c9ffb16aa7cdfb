import { ACD_STATES, parseAcdStateKey, type AcdState, type AcdTeam, type Workload } from '@presence-sync/domain';
import {
  compareIssues,
  explain,
  formatCount,
  formatExplain,
  formatIssue,
  formatIssues,
  loadRuleSet,
  type AgentIdentity,
  type Catalog,
  type CatalogAgent,
  type ConnectorLimits,
  type ExplainInput,
  type RuleIssue,
  type RuleLimits,
} from '@presence-sync/rules';

/** Where a command writes: one line per call, without the newline. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

/** Exit codes: 0 done, 1 invalid rules or unknown agent, 2 usage error. */
const OK = 0;
const FAILED = 1;
const USAGE = 2;

const plural = (n: number, word: string) => `${formatCount(n)} ${word}${n === 1 ? '' : 's'}`;
const message = (error: unknown) => (error instanceof Error ? error.message : String(error));
const shownDir = (dir: string) => (dir.endsWith('/') ? dir : `${dir}/`);

/**
 * The catalogs, or none when loading them failed. A failed load is reported, and the validator then warns
 * per catalog: an unreachable catalog is never a pass.
 */
async function catalogOrWarning(dir: string, loadCatalog: (() => Promise<Catalog>) | undefined): Promise<{ catalog?: Catalog; warning?: RuleIssue }> {
  if (!loadCatalog) return {};
  try {
    return { catalog: await loadCatalog() };
  } catch (error) {
    return {
      catalog: {},
      warning: { file: dir, line: 0, column: 0, path: '', message: `catalogs could not be loaded: ${message(error)}`, severity: 'warning' },
    };
  }
}

export interface RulesValidateOptions {
  dir: string;
  json?: boolean;
  /** As the daemon has them (RULES_MAX_*), so both accept the same files; defaults otherwise. */
  limits?: Partial<RuleLimits>;
  /** The configured connector's name and settable states: rows it could never carry out are errors, as in the daemon. */
  connector?: ConnectorLimits;
}

/** `(and 950 more errors and 2 more warnings not shown)`, or nothing when every issue was shown. */
function notShown(errors: number, warnings: number): string | undefined {
  const parts = [errors > 0 ? `${formatCount(errors)} more ${errors === 1 ? 'error' : 'errors'}` : '', warnings > 0 ? `${formatCount(warnings)} more ${warnings === 1 ? 'warning' : 'warnings'}` : ''];
  const text = parts.filter(Boolean).join(' and ');
  return text ? `(and ${text} not shown)` : undefined;
}

/**
 * `presence-sync rules validate [dir]`: the errors and warnings (compiler style, or one JSON document), then
 * a summary line with the full counts. At most RULES_MAX_ERRORS_SHOWN of each are printed, then how many
 * more there were. Resolves 0 when there is no error (warnings allowed), 1 otherwise.
 */
export async function runRulesValidate(opts: RulesValidateOptions, io: CliIo, loadCatalog?: () => Promise<Catalog>): Promise<number> {
  const { catalog, warning } = await catalogOrWarning(opts.dir, loadCatalog);
  const result = await loadRuleSet(opts.dir, { catalog, limits: opts.limits, connector: opts.connector });
  const warnings = warning ? [warning, ...result.warnings].sort(compareIssues) : result.warnings;
  const warningCount = result.warningCount + (warning ? 1 : 0);
  const { errors, errorCount, files, ruleSet } = result;

  if (opts.json) {
    const report = {
      ok: errorCount === 0,
      dir: opts.dir,
      version: ruleSet?.version ?? null,
      files,
      rules: ruleSet?.rules.map((r) => ({ name: r.name, file: r.file })) ?? [],
      // The first ones; the counts say how many there were in all.
      errors,
      errorCount,
      warnings,
      warningCount,
    };
    io.out(JSON.stringify(report, null, 2));
    return errorCount === 0 ? OK : FAILED;
  }

  for (const issue of [...errors, ...warnings].sort(compareIssues)) io.out(formatIssue(issue));
  const more = notShown(errorCount - errors.length, warningCount - warnings.length);
  if (more) io.out(more);
  if (errorCount > 0) {
    io.out(`${plural(errorCount, 'error')}, ${plural(warningCount, 'warning')} in ${plural(files.length, 'file')} (${shownDir(opts.dir)})`);
    return FAILED;
  }
  io.out(`ok: ${plural(ruleSet?.rules.length ?? 0, 'rule')} in ${plural(files.length, 'file')}, ${plural(warningCount, 'warning')}`);
  return OK;
}

export interface RulesExplainOptions {
  dir: string;
  /** ACD agent id or e-mail. */
  agent: string;
  salesforce?: string;
  /** `State[:Code]`. */
  acd?: string;
  json?: boolean;
  /** The agent's team (id or name) when the agent catalog cannot tell. */
  team?: string;
  /** `State[:Code]`: the previous ACD state to assume instead of the one the daemon keeps. */
  previous?: string;
  /** Service channel DeveloperNames: one open work item each (weight 1); a channel given twice counts two. */
  work?: string[];
  /** Assume the agent's open work uses all of the configured capacity. */
  atCapacity?: boolean;
}

/**
 * The work asked about as the rules read it: each `--work` one item of weight 1; at capacity exactly when
 * `--at-capacity` is given (the capacity is chosen so: the load, or one more than it).
 */
function askedWorkload(work: readonly string[], atCapacity: boolean): Workload {
  const channels: Record<string, number> = {};
  for (const channel of work) channels[channel] = (channels[channel] ?? 0) + 1;
  const load = atCapacity ? Math.max(work.length, 1) : work.length;
  return { channels, load, capacity: atCapacity ? load : load + 1 };
}

export interface RulesExplainDeps {
  loadCatalog?: () => Promise<Catalog>;
  /** The previous ACD state the daemon keeps for an agent (Redis); undefined when none or unreachable. */
  loadPrevious?: (agentId: string) => Promise<AcdState | undefined>;
  /** The `DEFAULT_UNAVAILABLE_CODE` setting, for rules that skip code validation. */
  defaultUnavailableCode?: string;
  /** As the daemon has them (RULES_MAX_*); defaults otherwise. */
  limits?: Partial<RuleLimits>;
}

const STATE_USAGE = `use State[:Code], State one of ${ACD_STATES.join(', ')}`;

function findAgent(agents: readonly CatalogAgent[] | undefined, ref: string): CatalogAgent | undefined {
  const key = ref.trim().toLowerCase();
  return agents?.find((a) => a.agentId.toLowerCase() === key) ?? agents?.find((a) => a.email?.toLowerCase() === key);
}

function findTeam(teams: readonly AcdTeam[] | undefined, ref: string): AcdTeam | undefined {
  const key = ref.trim().toLowerCase();
  return teams?.find((t) => t.teamId.toLowerCase() === key) ?? teams?.find((t) => t.name.toLowerCase() === key);
}

/**
 * `presence-sync rules explain --agent <id|email> (--salesforce <Status> | --acd <State[:Code]>)`, or with
 * Omni-Channel work (`--work <channel>`, repeatable, and/or `--at-capacity`, alone or with `--salesforce`):
 * what the daemon would do, and why. Resolves 0 when explained (also when nothing would happen), 1 when the rules are
 * invalid or the agent is unknown and no `--team` is given, 2 for usage errors.
 */
export async function runRulesExplain(opts: RulesExplainOptions, io: CliIo, deps: RulesExplainDeps = {}): Promise<number> {
  const usage = (text: string) => {
    io.err(`error: ${text}`);
    return USAGE;
  };
  if (!opts.agent?.trim()) return usage('--agent needs an ACD agent id or e-mail');
  const work = (opts.work ?? []).map((channel) => channel.trim());
  const hasWork = work.length > 0 || opts.atCapacity === true;
  if (opts.salesforce !== undefined && opts.acd !== undefined) {
    return usage('give exactly one of --salesforce <Status> or --acd <State[:Code]>');
  }
  if (opts.salesforce === undefined && opts.acd === undefined && !hasWork) {
    return usage('give one of --salesforce <Status> or --acd <State[:Code]>, or Omni-Channel work (--work <channel>, --at-capacity)');
  }
  if (opts.acd !== undefined && hasWork) {
    return usage('--work and --at-capacity are Omni-Channel work (salesforce -> acd): give them alone or with --salesforce, not with --acd');
  }
  if (work.some((channel) => !channel)) return usage('--work needs a service channel DeveloperName, e.g. sfdc_liveagent');
  const workload = hasWork ? askedWorkload(work, opts.atCapacity === true) : undefined;
  let input: ExplainInput;
  if (opts.acd !== undefined) {
    const acd = parseAcdStateKey(opts.acd);
    if (!acd) return usage(`--acd "${opts.acd}" is not an ACD state (${STATE_USAGE})`);
    input = { acd };
  } else if (opts.salesforce !== undefined) {
    const status = opts.salesforce.trim();
    if (!status) return usage('--salesforce needs a status DeveloperName, or Offline');
    input = workload ? { salesforce: status, workload } : { salesforce: status };
  } else {
    input = { workload: workload! };
  }
  let previous: AcdState | undefined;
  if (opts.previous !== undefined) {
    previous = parseAcdStateKey(opts.previous);
    if (!previous) return usage(`--previous "${opts.previous}" is not an ACD state (${STATE_USAGE})`);
  }

  const { catalog, warning } = await catalogOrWarning(opts.dir, deps.loadCatalog);
  if (warning) io.err(formatIssue(warning));
  const loaded = await loadRuleSet(opts.dir, { catalog, defaultUnavailableCode: deps.defaultUnavailableCode, limits: deps.limits });
  if (!loaded.ruleSet) {
    for (const line of formatIssues(loaded.errors, loaded.errorCount)) io.err(line);
    io.err(`error: the rules in ${shownDir(opts.dir)} are invalid (${plural(loaded.errorCount, 'error')}): nothing to explain`);
    return FAILED;
  }
  const ruleSet = loaded.ruleSet;
  if (loaded.warningCount > 0) {
    io.err(`note: ${plural(loaded.warningCount, 'warning')} in the rules (run "presence-sync rules validate ${opts.dir}" to see them)`);
  }

  const known = findAgent(catalog?.agents, opts.agent);
  let team: AcdTeam | undefined;
  const email = known?.email ?? (opts.agent.includes('@') ? opts.agent.trim() : undefined);
  const agent: AgentIdentity = { agentId: known?.agentId ?? opts.agent.trim(), ...(email ? { email } : {}) };
  if (opts.team !== undefined) {
    // --team wins over the catalog: it is how an admin asks "what if this agent were in that team".
    team = findTeam(catalog?.teams, opts.team);
    if (team) Object.assign(agent, { teamId: team.teamId, teamName: team.name });
    else {
      if (catalog?.teams) io.err(`warning: team "${opts.team}" is not in the contact-center team list`);
      agent.teamName = opts.team;
    }
  } else if (known?.teamId) {
    team = catalog?.teams?.find((t) => t.teamId === known.teamId);
    agent.teamId = known.teamId;
    if (team) agent.teamName = team.name;
  }

  // Without the agent list and without --team, only a user assignment can still explain this agent.
  if (!known && opts.team === undefined && ruleSet.ruleFor(agent)?.via !== 'user') {
    const why = catalog?.agents ? 'is not in the contact-center agent list' : 'cannot be looked up (agent list not reachable)';
    io.err(`error: agent "${opts.agent}" ${why}; give --team <team> to explain it by team`);
    return FAILED;
  }

  if (previous === undefined && 'salesforce' in input && deps.loadPrevious) {
    try {
      previous = await deps.loadPrevious(agent.agentId);
    } catch (error) {
      io.err(`warning: the previous ACD state could not be read: ${message(error)}`);
    }
  }

  const result = explain(ruleSet, agent, input, {
    previous,
    teamCodes: team?.unavailableCodes,
    defaultUnavailableCode: deps.defaultUnavailableCode,
  });
  if (opts.json) io.out(JSON.stringify(result, null, 2));
  else for (const line of formatExplain(result).split('\n')) io.out(line);
  return OK;
}
