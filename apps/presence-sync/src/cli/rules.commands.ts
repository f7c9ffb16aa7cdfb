import type { AppConfig } from '@presence-sync/config';
import { ACD_STATES, parseAcdStateKey, SALESFORCE_OFFLINE, type AcdState, type AcdTeam, type Workload } from '@presence-sync/domain';
import {
  compareIssues,
  explain,
  formatCount,
  formatExplain,
  formatIssue,
  formatIssues,
  listForMessage,
  loadRuleSet,
  suggest,
  type AgentIdentity,
  type CatalogAgent,
  type ExplainInput,
  type RuleSet,
  type RuleSetLoadOptions,
} from '@presence-sync/rules';
import type { CatalogState } from './rule-context';

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
 * What the rules are checked against (`loadRuleContext`: the daemon's options from the same settings): the options
 * of `loadRuleSet`, what became of each side's catalogs, and why a configured one could not be read.
 */
export interface RuleCheck {
  options: RuleSetLoadOptions;
  catalogs: { salesforce: CatalogState; contactCenter: CatalogState };
  problems: string[];
  /** The daemon's settings when they load (explain reads the previous state from its Redis). */
  config?: AppConfig;
}

export interface RulesValidateOptions {
  dir: string;
  json?: boolean;
  /** The catalogs were skipped on purpose (`--offline`): the summary says so. */
  offline?: boolean;
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
 * more there were. Resolves 0 when there is no error (warnings allowed) and every configured catalog was read
 * (or `--offline` skipped them), 1 otherwise: a configured catalog that cannot be read fails the check, so a
 * pipeline gate never passes a file the daemon would refuse.
 */
export async function runRulesValidate(opts: RulesValidateOptions, io: CliIo, check: () => Promise<RuleCheck>): Promise<number> {
  const { options, catalogs, problems } = await check();
  const result = await loadRuleSet(opts.dir, options);
  const { errors, errorCount, warnings, warningCount, files, ruleSet } = result;
  const ok = errorCount === 0 && problems.length === 0;

  if (opts.json) {
    const report = {
      ok,
      dir: opts.dir,
      version: ruleSet?.version ?? null,
      files,
      rules: ruleSet?.rules.map((r) => ({ name: r.name, file: r.file })) ?? [],
      // What each side's catalogs were: read, not configured, offline (skipped) or not reachable (see `problems`).
      catalogs,
      problems,
      // The first ones; the counts say how many there were in all.
      errors,
      errorCount,
      warnings,
      warningCount,
    };
    io.out(JSON.stringify(report, null, 2));
    return ok ? OK : FAILED;
  }

  for (const issue of [...errors, ...warnings].sort(compareIssues)) io.out(formatIssue(issue));
  const more = notShown(errorCount - errors.length, warningCount - warnings.length);
  if (more) io.out(more);
  for (const problem of problems) io.err(`error: ${problem}`);
  if (errorCount > 0) {
    io.out(`${plural(errorCount, 'error')}, ${plural(warningCount, 'warning')} in ${plural(files.length, 'file')} (${shownDir(opts.dir)})`);
    return FAILED;
  }
  const counts = `${plural(ruleSet?.rules.length ?? 0, 'rule')} in ${plural(files.length, 'file')}, ${plural(warningCount, 'warning')}`;
  if (problems.length > 0) {
    io.out(`not verified: ${counts}, but ${problems.length === 1 ? 'a configured catalog' : `${problems.length} configured catalogs`} could not be read; fix that, or give --offline to check without the catalogs`);
    return FAILED;
  }
  io.out(opts.offline ? `ok (offline: catalogs not checked): ${counts}` : `ok: ${counts}`);
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
  /** What the rules are checked against; default: nothing read (every catalog missing). */
  check?: () => Promise<RuleCheck>;
  /**
   * The previous ACD state the daemon keeps for an agent, from the Redis of `config`; undefined when none is
   * kept. Rejects with one line when Redis cannot be read.
   */
  loadPrevious?: (agentId: string, config: AppConfig) => Promise<AcdState | undefined>;
}

const STATE_USAGE = `use State[:Code], State one of ${ACD_STATES.join(', ')}`;

/** `State[:Code]` as typed after a flag; one line saying what is wrong otherwise. */
function parseAskedState(flag: string, text: string): AcdState | string {
  const parts = text.split(':');
  // A code is taken as typed: "Unavailable:Lunch:extra" is a typo more often than a code with a colon.
  if (parts.length > 2) return `${flag} "${text}" has more than one ":" (${STATE_USAGE})`;
  if (parts.length === 2 && parts[1].trim() === '') return `${flag} "${text}" has an empty code (${STATE_USAGE}; leave out ":" for no code)`;
  return parseAcdStateKey(text) ?? `${flag} "${text}" is not an ACD state (${STATE_USAGE})`;
}

function findAgent(agents: readonly CatalogAgent[] | undefined, ref: string): CatalogAgent | undefined {
  const key = ref.trim().toLowerCase();
  return agents?.find((a) => a.agentId.toLowerCase() === key) ?? agents?.find((a) => a.email?.toLowerCase() === key);
}

function findTeam(teams: readonly AcdTeam[] | undefined, ref: string): AcdTeam | undefined {
  const key = ref.trim().toLowerCase();
  return teams?.find((t) => t.teamId.toLowerCase() === key) ?? teams?.find((t) => t.name.toLowerCase() === key);
}

/** Every Salesforce status and every Unavailable code the rules name. */
function namedByRules(ruleSet: RuleSet): { statuses: Set<string>; codes: Set<string> } {
  const statuses = new Set<string>();
  const codes = new Set<string>();
  for (const rule of ruleSet.rules) {
    for (const row of [...rule.publisher, ...rule.subscriber]) statuses.add(row.salesforce);
    for (const row of rule.publisher) if (row.acd.state === 'Unavailable' && row.acd.code) codes.add(row.acd.code);
    for (const row of [...rule.subscriber, ...rule.workload]) if ('state' in row.acd && row.acd.state === 'Unavailable' && row.acd.code) codes.add(row.acd.code);
  }
  return { statuses, codes };
}

const closeTo = (word: string, known: Iterable<string>) => {
  const close = suggest(word, known);
  return close ? ` (did you mean "${close}"?)` : '';
};

/**
 * `presence-sync rules explain --agent <id|email> (--salesforce <Status> | --acd <State[:Code]>)`, or with
 * Omni-Channel work (`--work <channel>`, repeatable, and/or `--at-capacity`, alone or with `--salesforce`):
 * what the daemon would do, and why, from the same settings and catalogs as the daemon. Where the answer rests on
 * something that could not be read (a catalog, the previous state), a `note:` line says so. Resolves 0 when
 * explained (also when nothing would happen); 1 when the rules are invalid, the agent is unknown and no `--team`
 * is given, or the status is not in the org's catalog; 2 for usage errors.
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
    const acd = parseAskedState('--acd', opts.acd);
    if (typeof acd === 'string') return usage(acd);
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
    const asked = parseAskedState('--previous', opts.previous);
    if (typeof asked === 'string') return usage(asked);
    previous = asked;
  }

  const check: RuleCheck = deps.check ? await deps.check() : { options: {}, catalogs: { salesforce: 'not reachable', contactCenter: 'not reachable' }, problems: [] };
  for (const problem of check.problems) io.err(`warning: ${problem}`);
  const catalog = check.options.catalog;
  const loaded = await loadRuleSet(opts.dir, check.options);
  if (!loaded.ruleSet) {
    for (const line of formatIssues(loaded.errors, loaded.errorCount)) io.err(line);
    io.err(`error: the rules in ${shownDir(opts.dir)} are invalid (${plural(loaded.errorCount, 'error')}): nothing to explain`);
    return FAILED;
  }
  const ruleSet = loaded.ruleSet;
  if (loaded.warningCount > 0) {
    io.err(`note: ${plural(loaded.warningCount, 'warning')} in the rules (run "presence-sync rules validate ${opts.dir}" to see them)`);
  }

  const notes: string[] = [];
  const named = namedByRules(ruleSet);
  if ('salesforce' in input && input.salesforce !== SALESFORCE_OFFLINE) {
    const status = input.salesforce;
    if (catalog?.salesforceStatuses && !catalog.salesforceStatuses.includes(status)) {
      io.err(`error: unknown Salesforce status "${status}"${closeTo(status, catalog.salesforceStatuses) || ` (the org has ${listForMessage(catalog.salesforceStatuses)})`}`);
      return FAILED;
    }
    if (!catalog?.salesforceStatuses && !named.statuses.has(status)) {
      notes.push(`no rule names the Salesforce status "${status}"${closeTo(status, named.statuses)}, and the org's statuses were not read (${check.catalogs.salesforce}) to tell whether it exists`);
    }
  }
  if ('acd' in input && input.acd.state === 'Unavailable' && input.acd.code) {
    const code = input.acd.code;
    const teamCodes = catalog?.teams ? new Set(catalog.teams.flatMap((t) => t.unavailableCodes)) : undefined;
    if (teamCodes ? !teamCodes.has(code) : !named.codes.has(code)) {
      const where = teamCodes ? 'no team of the contact center has' : 'no rule names';
      notes.push(`${where} the Unavailable code "${code}"${closeTo(code, teamCodes ?? named.codes)}`);
    }
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
    const why = catalog?.agents ? 'is not in the contact-center agent list' : `cannot be looked up (the contact-center agent list is ${check.catalogs.contactCenter === 'not configured' ? 'not configured' : 'not reachable'})`;
    io.err(`error: agent "${opts.agent}" ${why}; give --team <team> to explain it by team${catalog?.agents ? '' : ', or the daemon\'s settings (the environment, or --settings-file <file>) to look it up'}`);
    return FAILED;
  }

  let previousUnknown: string | undefined;
  if (previous === undefined && 'salesforce' in input) {
    if (!check.config || !deps.loadPrevious) previousUnknown = 'the daemon\'s Redis settings were not loaded';
    else {
      try {
        previous = await deps.loadPrevious(agent.agentId, check.config);
      } catch (error) {
        previousUnknown = message(error);
        io.err(`warning: the previous ACD state could not be read: ${previousUnknown}`);
      }
    }
  }

  const result = explain(ruleSet, agent, input, {
    previous,
    teamCodes: team?.unavailableCodes,
    defaultUnavailableCode: check.options.defaultUnavailableCode,
  });
  if (previousUnknown && result.outcome === 'no-previous' && previous === undefined) {
    notes.push(`the previous ACD state the daemon keeps was not read (${previousUnknown}): the daemon may know one and restore it; give --previous <State[:Code]> to assume one`);
  }
  result.notes.push(...notes);
  if (opts.json) io.out(JSON.stringify(result, null, 2));
  else for (const line of formatExplain(result).split('\n')) io.out(line);
  return OK;
}
