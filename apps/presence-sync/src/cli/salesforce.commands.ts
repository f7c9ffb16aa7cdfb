import { loadConfig, redactSalesforceSettings, type AppConfig, type SalesforceSettings } from '@presence-sync/config';
import type { AcdAgent, AcdTeam } from '@presence-sync/domain';
import { loadRuleSet, type RuleSet } from '@presence-sync/rules';
import {
  checkPresenceVisibility, checkStreamingAllocations, checkWorkVisibility, describeFailure, findStatusAccessGaps, queryAll, readAgentUsers,
  readStatusAccess, readUserProfiles, salesforceErrorCode, SalesforceSession, SalesforceSetup, soqlString, STATUS_CATALOG_SOQL, statusAccessReport,
  type SalesforceLogger, type SetupStep, type StatusAccess, type StatusRef,
} from '@presence-sync/salesforce';
import { AgentDirectory } from '@presence-sync/sync';
import { createContactCenter } from '../contact-center.factory';
import { readAgentMapFile } from '../services/agent-map.file';
import type { CliIo } from './rules.commands';
import { agentStatusNeeds } from './status-needs';

/** Exit codes: 0 everything in place, 1 something missing or failing. */
const OK = 0;
const FAILED = 1;

/** The contact center's agents and teams and the explicit map: what the daemon's directory links to Salesforce users. */
export interface ContactCenterAgents {
  agents: AcdAgent[];
  teams: AcdTeam[];
  explicitMap?: Record<string, string>;
}

/**
 * What the status access check needs: the rules and a way to read the contact center's agents, or why it
 * cannot run (reported as a warning).
 */
export type StatusAccessSource = { rules: RuleSet; contactCenter: () => Promise<ContactCenterAgents> } | { skipped: string };

export interface SalesforceCommandOptions {
  /** A session to use (tests); default: a new one from the settings. */
  session?: SalesforceSession;
  logger?: SalesforceLogger;
  /**
   * Check that every mapped agent may use the statuses its rule sets (a problem) or maps (a warning).
   * Omitted: not checked (no line).
   */
  statusAccess?: StatusAccessSource;
}

export interface SalesforceSetupOptions extends SalesforceCommandOptions {
  /** Status DeveloperNames the rules name (publisher `salesforce` and subscriber `salesforce` values). */
  requiredStatuses?: readonly string[];
}

export interface SalesforceCheckOptions extends SalesforceCommandOptions {
  /** How long the streaming handshake + subscribe test may take (ms). */
  streamingTimeoutMs?: number;
  /**
   * Some rule has a workload table: Omni-Channel work (AgentWork) that cannot be read, or only the integration
   * user's own, is then a problem. Otherwise it is reported as a warning (exit code unaffected).
   */
  workloadRules?: boolean;
}

/** A step's line, and the lines of its report indented under it. */
const lines = (step: SetupStep): string[] => [
  `${step.subject}: ${step.outcome}${step.detail ? ` — ${step.detail}` : ''}`,
  ...(step.lines ?? []).map((l) => `  ${l}`),
];

async function login(session: SalesforceSession, settings: SalesforceSettings, io: CliIo): Promise<boolean> {
  try {
    const id = await session.connect();
    io.out(`login: ok (SALESFORCE_AUTH=${settings.auth.mode}) user ${id.userId} org ${id.organizationId} at ${id.instanceUrl}`);
    return true;
  } catch (e) {
    io.out(`login: failed — ${e instanceof Error ? e.message : String(e)}`);
    return false;
  }
}

/** Runs one step; a failing Salesforce call becomes a `failed` line instead of ending the command. */
async function step(subject: string, run: () => Promise<SetupStep>): Promise<SetupStep> {
  try {
    return await run();
  } catch (e) {
    return { subject, outcome: 'failed', detail: describeFailure(e) };
  }
}

const STATUS_ACCESS = 'status access';

/**
 * Whether every agent the daemon would sync may use the statuses its rule sets (Service Presence Status
 * Access): the agents linked as the daemon links them (contact-center agents, the org's users, the map file),
 * the statuses of each agent's rule, then what the org grants (libs/salesforce `readStatusAccess`). A missing
 * status a rule sets fails the step; one a rule only maps is a warning. Changes nothing in the org.
 */
async function checkStatusAccess(session: SalesforceSession, settings: SalesforceSettings, source: StatusAccessSource): Promise<SetupStep> {
  const subject = STATUS_ACCESS;
  if ('skipped' in source) return { subject, outcome: 'warning', detail: `not checked: ${source.skipped}` };
  let agents: ContactCenterAgents;
  try {
    agents = await source.contactCenter();
  } catch (e) {
    return { subject, outcome: 'failed', detail: `not checked: the contact center's agents could not be read (${e instanceof Error ? e.message : String(e)})` };
  }
  const timeout = settings.requestTimeoutMs;
  const users = await readAgentUsers(session, timeout);
  const needs = agentStatusNeeds(new AgentDirectory({ ...agents, users }), source.rules);
  const catalog: StatusRef[] = (await queryAll<{ Id: string; DeveloperName: string }>(session, STATUS_CATALOG_SOQL, timeout)).map((r) => ({ id: r.Id, developerName: r.DeveloperName }));
  const named = new Set(needs.flatMap((n) => [...n.sets, ...n.picks]));
  let access: StatusAccess;
  try {
    access = await readStatusAccess(session, timeout, catalog.filter((s) => named.has(s.developerName)).map((s) => s.id), needs.map((n) => n.userId));
  } catch (e) {
    const hint = salesforceErrorCode(e) === 'INVALID_TYPE' ? ': reading SetupEntityAccess needs "View Setup and Configuration" (the integration permission set has it)' : '';
    return { subject, outcome: 'failed', detail: `could not read the status grants (${describeFailure(e)})${hint}` };
  }
  const findings = findStatusAccessGaps(needs, catalog, access);
  // The profiles of the agents without a status say where to grant it; a failed look-up only shortens the report.
  const lacking = [...new Set(findings.gaps.flatMap((g) => g.agents.map((a) => a.userId)))];
  const profiles = await readUserProfiles(session, timeout, lacking).catch(() => new Map<string, string>());
  const report = statusAccessReport(findings, needs.length, profiles);
  return { subject, outcome: report.outcome, detail: report.detail, lines: report.lines };
}

/**
 * The status access check's inputs as the CLI finds them: the rules of `dir` and the contact center of the
 * daemon's settings (with the map file). Invalid rules or settings that do not load: skipped, and why.
 */
export async function statusAccessSource(dir: string): Promise<StatusAccessSource> {
  const loaded = await loadRuleSet(dir);
  if (!loaded.ruleSet) return { skipped: `the rules in ${dir} are invalid (run "presence-sync rules validate ${dir}")` };
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (e) {
    // A bad setting is a ConfigError (one line); anything else is reported the same way, never as a stack.
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    return { skipped: `the agents are unknown without the daemon's contact-center settings (${why})` };
  }
  const rules = loaded.ruleSet;
  return {
    rules,
    contactCenter: async () => {
      const client = createContactCenter(config);
      const [agents, teams] = await Promise.all([client.listAgents(), client.listTeams()]);
      const file = config.directory.agentMapFile;
      return { agents, teams, ...(file ? { explicitMap: await readAgentMapFile(file) } : {}) };
    },
  };
}

/**
 * `presence-sync salesforce setup`: idempotent. Logs in, finds or creates the USP PushTopic (correcting a
 * drifted definition) and the `/u/…` command StreamingChannel, and checks that every status the rules name
 * exists in the org and (with `statusAccess`) that the mapped agents may use them; access is reported with
 * what to grant, never granted. Prints what it found and what it did; resolves 0 when everything is in place, else 1.
 */
export async function runSalesforceSetup(settings: SalesforceSettings, io: CliIo, options: SalesforceSetupOptions = {}): Promise<number> {
  const session = options.session ?? new SalesforceSession(settings, options.logger);
  if (!(await login(session, settings, io))) return FAILED;
  const setup = new SalesforceSetup(session, settings);
  const steps: SetupStep[] = [];

  steps.push(await step(`PushTopic ${settings.pushTopic}`, () => setup.ensurePushTopic()));
  steps.push(await step(`StreamingChannel ${settings.commandChannel}`, () => setup.ensureCommandChannel()));
  steps.push(await step('statuses', async () => {
    const required = [...new Set(options.requiredStatuses ?? [])];
    const { known, missing } = await setup.checkStatuses(required);
    if (missing.length > 0) {
      return { subject: 'statuses', outcome: 'missing', detail: `the rules name ${missing.join(', ')}, which the org does not have (its DeveloperNames: ${known.join(', ') || 'none'})` };
    }
    return { subject: 'statuses', outcome: 'ok', detail: `${known.length} in the org; ${required.length === 0 ? 'no rule statuses given to check' : `all ${required.length} the rules name exist`}` };
  }));

  if (options.statusAccess) steps.push(await step(STATUS_ACCESS, () => checkStatusAccess(session, settings, options.statusAccess as StatusAccessSource)));

  for (const s of steps) for (const l of lines(s)) io.out(l);
  const failed = steps.filter((s) => s.outcome === 'failed' || s.outcome === 'missing');
  io.out(failed.length === 0 ? 'setup: done' : `setup: ${failed.length} problem${failed.length === 1 ? '' : 's'}`);
  return failed.length === 0 ? OK : FAILED;
}

/**
 * `presence-sync salesforce check`: changes nothing. Login and identity, API usage (Sforce-Limit-Info),
 * whether the PushTopic (as wanted) and the command channel exist, whether the integration user may read every
 * agent's presence (View All Data or View All on UserServicePresence) and Omni-Channel work (AgentWork: a
 * problem only when a rule has a workload table, else a warning), with `statusAccess` whether every mapped agent
 * may use the statuses its rule sets, a short streaming handshake + subscribe, and the streaming allocations
 * from `/limits`. Resolves 0 when all is well, else 1.
 */
export async function runSalesforceCheck(settings: SalesforceSettings, io: CliIo, options: SalesforceCheckOptions = {}): Promise<number> {
  const shown = redactSalesforceSettings(settings);
  io.out(`settings: ${shown.loginUrl}, API ${shown.apiVersion}, SALESFORCE_AUTH=${shown.auth.mode}, topic ${shown.pushTopic}, channel ${shown.commandChannel}${shown.proxyUrl ? `, proxy ${shown.proxyUrl}` : ''}`);
  const session = options.session ?? new SalesforceSession(settings, options.logger);
  if (!(await login(session, settings, io))) return FAILED;
  const setup = new SalesforceSetup(session, settings);
  const steps: SetupStep[] = [];

  steps.push(await step('identity', async () => {
    const id = session.identity;
    const rows = id?.userId
      ? await queryAll<{ Username: string }>(session, `SELECT Username FROM User WHERE Id = ${soqlString(id.userId)}`, settings.requestTimeoutMs)
      : [];
    return { subject: 'identity', outcome: 'ok', detail: rows[0] ? `running as ${rows[0].Username}` : 'user not readable' };
  }));
  steps.push(await step(`PushTopic ${settings.pushTopic}`, async () => {
    const topic = await setup.findPushTopic();
    if (!topic) return { subject: `PushTopic ${settings.pushTopic}`, outcome: 'missing', detail: 'run `presence-sync salesforce setup`' };
    const drift = setup.pushTopicDrift(topic);
    return drift.length === 0
      ? { subject: `PushTopic ${settings.pushTopic}`, outcome: 'found', detail: `exists (${topic.Id}) as wanted` }
      : { subject: `PushTopic ${settings.pushTopic}`, outcome: 'failed', detail: `exists (${topic.Id}) but its ${drift.join(', ')} differ: run \`presence-sync salesforce setup\`` };
  }));
  steps.push(await step(`StreamingChannel ${settings.commandChannel}`, async () => {
    const channel = await setup.findCommandChannel();
    return channel
      ? { subject: `StreamingChannel ${settings.commandChannel}`, outcome: 'found', detail: `exists (${channel.Id})` }
      : { subject: `StreamingChannel ${settings.commandChannel}`, outcome: 'missing', detail: 'run `presence-sync salesforce setup`' };
  }));
  steps.push(await step('presence visibility', () => checkPresenceVisibility(session, settings.requestTimeoutMs)));
  steps.push(await step('Omni-Channel work', () => checkWorkVisibility(session, settings.requestTimeoutMs, options.workloadRules === true)));
  if (options.statusAccess) steps.push(await step(STATUS_ACCESS, () => checkStatusAccess(session, settings, options.statusAccess as StatusAccessSource)));
  steps.push(await setup.probeStreaming(options.streamingTimeoutMs));
  steps.push(await step('streaming allocations', () => checkStreamingAllocations(session, settings.requestTimeoutMs)));
  const usage = session.apiUsage;
  steps.push(usage
    ? {
      subject: 'API usage', outcome: usage.used / usage.limit >= 0.9 ? 'failed' : 'ok',
      detail: `${usage.used} of ${usage.limit} requests in the last 24 h (${((100 * usage.used) / usage.limit).toFixed(1)}%, Sforce-Limit-Info)`,
    }
    : { subject: 'API usage', outcome: 'ok', detail: 'not reported (no Sforce-Limit-Info header)' });

  for (const s of steps) for (const l of lines(s)) io.out(l);
  const failed = steps.filter((s) => s.outcome === 'failed' || s.outcome === 'missing');
  io.out(failed.length === 0 ? 'check: ok' : `check: ${failed.length} problem${failed.length === 1 ? '' : 's'}`);
  return failed.length === 0 ? OK : FAILED;
}
