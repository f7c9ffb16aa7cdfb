import { redactSalesforceSettings, type SalesforceSettings } from '@presence-sync/config';
import {
  checkPresenceVisibility, checkStreamingAllocations, checkWorkVisibility, describeFailure, queryAll, SalesforceSession, SalesforceSetup, soqlString,
  type SalesforceLogger, type SetupStep,
} from '@presence-sync/salesforce';
import type { CliIo } from './rules.commands';

/** Exit codes: 0 everything in place, 1 something missing or failing. */
const OK = 0;
const FAILED = 1;

export interface SalesforceCommandOptions {
  /** A session to use (tests); default: a new one from the settings. */
  session?: SalesforceSession;
  logger?: SalesforceLogger;
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

const line = (step: SetupStep): string => `${step.subject}: ${step.outcome}${step.detail ? ` — ${step.detail}` : ''}`;

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

/**
 * `presence-sync salesforce setup`: idempotent. Logs in, finds or creates the USP PushTopic (correcting a
 * drifted definition) and the `/u/…` command StreamingChannel, and checks that every status the rules name
 * exists in the org. Prints what it found and what it did; resolves 0 when everything is in place, else 1.
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

  for (const s of steps) io.out(line(s));
  const failed = steps.filter((s) => s.outcome === 'failed' || s.outcome === 'missing');
  io.out(failed.length === 0 ? 'setup: done' : `setup: ${failed.length} problem${failed.length === 1 ? '' : 's'}`);
  return failed.length === 0 ? OK : FAILED;
}

/**
 * `presence-sync salesforce check`: changes nothing. Login and identity, API usage (Sforce-Limit-Info),
 * whether the PushTopic (as wanted) and the command channel exist, whether the integration user may read every
 * agent's presence (View All Data or View All on UserServicePresence) and Omni-Channel work (AgentWork: a
 * problem only when a rule has a workload table, else a warning), a short streaming handshake +
 * subscribe, and the streaming allocations from `/limits`. Resolves 0 when all is well, else 1.
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
  steps.push(await setup.probeStreaming(options.streamingTimeoutMs));
  steps.push(await step('streaming allocations', () => checkStreamingAllocations(session, settings.requestTimeoutMs)));
  const usage = session.apiUsage;
  steps.push(usage
    ? {
      subject: 'API usage', outcome: usage.used / usage.limit >= 0.9 ? 'failed' : 'ok',
      detail: `${usage.used} of ${usage.limit} requests in the last 24 h (${((100 * usage.used) / usage.limit).toFixed(1)}%, Sforce-Limit-Info)`,
    }
    : { subject: 'API usage', outcome: 'ok', detail: 'not reported (no Sforce-Limit-Info header)' });

  for (const s of steps) io.out(line(s));
  const failed = steps.filter((s) => s.outcome === 'failed' || s.outcome === 'missing');
  io.out(failed.length === 0 ? 'check: ok' : `check: ${failed.length} problem${failed.length === 1 ? '' : 's'}`);
  return failed.length === 0 ? OK : FAILED;
}
