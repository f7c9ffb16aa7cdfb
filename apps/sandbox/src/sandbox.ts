import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { watch, type FSWatcher } from 'chokidar';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { loadConfig } from '@presence-sync/config';
import { USP_PUSH_TOPIC_QUERY } from '@presence-sync/salesforce';
import { SETTABLE_ACD_STATES, type AcdState, type AuditRecord, type ConnectorName } from '@presence-sync/domain';
import {
  AmazonConnectSandboxAcd, BodyTooLargeError, ContactCenterEmulator, CxoneSandboxAcd, GenericSandboxAcd, GenesysSandboxAcd, WebexSandboxAcd, readBoundedBody, SalesforceEmulator, salesforceEmulatorSandboxSeed, SANDBOX_SALESFORCE, SANDBOX_STATUSES,
  SANDBOX_CAPACITY, SANDBOX_SERVICE_CHANNELS, startRedisServer, toId18, type EmulatorTeam, type SandboxAcd, type SandboxAcdAgent,
} from '@presence-sync/testing';
// The sandbox boots the real daemon; apps may use another app's bootstrap (the import boundaries only fence libs).
import { startDaemon } from '../../presence-sync/src/daemon.bootstrap';
import type { LineStream } from '../../presence-sync/src/logging/secret-masking.stream';
import { SANDBOX_FAVICON_SVG, sandboxPage } from './sandbox.page';

const MAX_BODY_BYTES = 16 * 1024;
/** Audit records read to find the agent's last rule decision. */
const DECISION_LOOKBACK = 10;
/** Faults the page may inject into the contact center: rate limiting and the usual server errors. */
const INJECTABLE_STATUSES = [429, 500, 502, 503] as const;
/** The chat channel the page's "Assign a chat" control routes work on. */
const CHAT_CHANNEL = 'sfdc_liveagent';
/** What an agent can pick in the emulated Omni-Channel widget: the sandbox catalog, and Offline (logged out). */
const SALESFORCE_STATUSES: readonly string[] = [...SANDBOX_STATUSES.map((s) => s.developerName), 'Offline'];
/** Longest wait for the daemon's status when the page is loaded, ms (past it the page shows the last one). */
const STATUS_FETCH_TIMEOUT_MS = 2_000;
/** After a rule file changed: how long the daemon's reload is awaited, and how often its status is asked, ms. */
const RELOAD_WATCH_MS = 5_000;
const RELOAD_POLL_MS = 100;

/** The contact centers the sandbox can emulate (setting SANDBOX_ACD). */
export const SANDBOX_ACD_NAMES: readonly ConnectorName[] = ['generic', 'webex', 'cxone', 'genesys', 'amazon-connect'];

/** A fresh emulated contact center of the given kind. */
export function createSandboxAcd(vendor: ConnectorName): SandboxAcd {
  switch (vendor) {
    case 'generic':
      return new GenericSandboxAcd();
    case 'webex':
      return new WebexSandboxAcd();
    case 'cxone':
      return new CxoneSandboxAcd();
    case 'genesys':
      return new GenesysSandboxAcd();
    case 'amazon-connect':
      return new AmazonConnectSandboxAcd();
    default:
      throw new Error(`SANDBOX_ACD=${vendor} has no emulator in the sandbox yet; use one of ${SANDBOX_ACD_NAMES.join(', ')}`);
  }
}

export interface SandboxOptions {
  /** Which contact center to emulate (SANDBOX_ACD). Default `generic` (contract v1). */
  acd?: ConnectorName;
  /** Redis to use; default: a throw-away redis-server. */
  redisUrl?: string;
  redisPrefix?: string;
  /** Agents of the emulated contact center (and Salesforce users). Default 20. */
  agentCount?: number;
  rulesDir?: string;
  rulesWatch?: boolean;
  /** Ports on 127.0.0.1; 0 (default) picks a free one. */
  pagePort?: number;
  daemonPort?: number;
  logLevel?: string;
  /** More daemon settings (environment-variable names), e.g. for faster retries in tests. */
  daemonEnv?: Record<string, string>;
  /** Where the daemon's log lines go. Default stdout (JSON lines). */
  logOut?: LineStream;
  /**
   * How often the page gets the daemon's status (rules, sync latency, queue depths), ms. Default 3000. A change
   * of a rule file is shown at once regardless (the sandbox watches the directory while `rulesWatch` is on).
   */
  statusIntervalMs?: number;
}

export interface SandboxUrls {
  /** The emulated contact center's kind (SANDBOX_ACD). */
  acd: ConnectorName;
  page: string;
  daemon: string;
  status: string;
  contactCenter: string;
  salesforce: string;
  redis: string;
  redisThrowAway: boolean;
}

/** The agent's last audited decision (the newest record naming a rule, else the newest record), as the page shows it. */
export interface SandboxDecision {
  at: number;
  direction: string;
  outcome: string;
  rule?: string;
  row?: string;
  latencyMs?: number;
  detail?: string;
  /** The agent's newest audit record when it is not the decision itself (e.g. the echo of our write). */
  latest?: { at: number; outcome: string; detail?: string };
}

export interface SandboxAgentRow {
  agentId: string;
  email: string;
  teamId: string;
  team: string;
  unavailableCodes: string[];
  /** `work`: the agent's open Omni-Channel work (chats, and the load against the configured capacity). */
  salesforce: { status: string; consoleOpen: boolean; work: { chats: number; load: number; capacity: number } };
  acd: AcdState & { pendingAfterContact?: AcdState };
  lastDecision: SandboxDecision | null;
  auditUrl: string;
}

/** A page request that cannot be done: answered with `status` and the reason. */
class HttpProblem extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpProblem(400, 'body must be a JSON object');
  return body as Record<string, unknown>;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The demo sandbox (issue 4): Redis (throw-away unless given), the contact-center and Salesforce emulators,
 * the daemon in SALESFORCE_MODE=live against the Salesforce emulator, and the live agents page. `start()` and
 * `stop()` are idempotent; a stopped sandbox is not restarted (make a new one), as the emulators work that way.
 */
export class Sandbox {
  private readonly catalog: ReturnType<typeof ContactCenterEmulator.sandboxCatalog>;
  private readonly teams = new Map<string, EmulatorTeam>();
  /** Salesforce user id (18 characters) → agent id, to place presence changes on the right row. */
  private readonly agentBySfUser = new Map<string, string>();
  private readonly decisions = new Map<string, SandboxDecision | null>();
  private readonly sseClients = new Set<ServerResponse>();
  private readonly refreshTimers = new Map<string, NodeJS.Timeout[]>();
  private readonly cc: SandboxAcd;
  private sf?: SalesforceEmulator;
  private redis?: { url: string; stop(): Promise<void> };
  private daemon?: NestExpressApplication;
  private server?: Server;
  private statusTimer?: NodeJS.Timeout;
  private lastStatus: unknown = null;
  private lastStatusJson = 'null';
  private rulesWatcher?: FSWatcher;
  /** Until when the status is asked for often: a rule file changed and the daemon's reload is awaited. */
  private reloadWatchUntil = 0;
  private reloadWatch?: Promise<void>;
  private starting?: Promise<SandboxUrls>;
  private stopping?: Promise<void>;
  private urlsValue?: SandboxUrls;
  private cliSettingsValue?: Record<string, string>;
  /** The process environment's values that `sdkEnv` replaced, put back on stop. */
  private replacedEnv?: Record<string, string | undefined>;

  constructor(private readonly options: SandboxOptions = {}) {
    this.catalog = ContactCenterEmulator.sandboxCatalog(options.agentCount ?? 20);
    // By name: each vendor's emulator gives the teams ids of its own.
    for (const team of this.catalog.teams) this.teams.set(team.name, team);
    this.cc = createSandboxAcd(options.acd ?? 'generic');
  }

  /** Starts everything; calling it again returns the same URLs. On failure, what was started is stopped. */
  start(): Promise<SandboxUrls> {
    if (this.stopping) return Promise.reject(new Error('Sandbox: stopped; create a new one'));
    this.starting ??= this.boot().catch(async (error: unknown) => {
      await this.shutdown();
      throw error;
    });
    return this.starting;
  }

  /** Stops the page, the daemon, the emulators and the throw-away Redis. Safe to call twice (or before start). */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.starting?.catch(() => undefined);
      await this.shutdown();
    })();
    return this.stopping;
  }

  get urls(): SandboxUrls {
    if (!this.urlsValue) throw new Error('Sandbox: not started');
    return this.urlsValue;
  }

  /**
   * The settings the CLI needs to explain and validate against this sandbox (`--settings-file`): the emulators,
   * their credentials, Redis and the rules, as the daemon has them; no dashboard password, no ports of its own.
   */
  cliSettings(): Record<string, string> {
    if (!this.cliSettingsValue) throw new Error('Sandbox: not started');
    return { ...this.cliSettingsValue };
  }

  private async boot(): Promise<SandboxUrls> {
    const o = this.options;
    if (!o.redisUrl) this.redis = await startRedisServer();
    const redisUrl = o.redisUrl ?? (this.redis as { url: string }).url;

    const cc = this.cc;
    await cc.start(this.catalog);
    const ccUrl = cc.url ?? '';

    const seed = salesforceEmulatorSandboxSeed(this.catalog.agents.map((a) => a.email), {
      initialStatus: (_email, i) => (this.catalog.agents[i].state.state === 'Offline' ? undefined : 'Available_Chat'),
    });
    // The PushTopic is what `presence-sync salesforce setup` creates in a real org.
    const sf = new SalesforceEmulator({ ...seed, provision: { ...seed.provision, pushTopics: [{ name: 'PresenceSyncUSP', query: USP_PUSH_TOPIC_QUERY }] } });
    this.sf = sf;
    await sf.start();
    for (const a of cc.agents()) {
      this.agentBySfUser.set(toId18(sf.userId(a.email.toLowerCase())), a.agentId);
      if (a.state.state !== 'Offline') await sf.openConsole(a.email.toLowerCase());
    }

    const settings: Record<string, string> = {
      REDIS_URL: redisUrl, REDIS_PREFIX: o.redisPrefix ?? 'ps-demo', ...cc.daemonEnv(),
      HTTP_HOST: '127.0.0.1', HTTP_PORT: String(o.daemonPort ?? 0), RULES_DIR: o.rulesDir ?? 'rules',
      RULES_WATCH: o.rulesWatch === false ? 'false' : 'true', DEFAULT_UNAVAILABLE_CODE: 'System',
      RECONCILE_INTERVAL_MS: process.env.RECONCILE_INTERVAL_MS ?? '60000', LOG_LEVEL: o.logLevel ?? process.env.LOG_LEVEL ?? 'warn',
      // A console reopened on the page resumes its held writes within seconds (the lowest poll the daemon takes).
      SALESFORCE_CONSOLE_POLL_MS: process.env.SALESFORCE_CONSOLE_POLL_MS ?? '5000',
      SALESFORCE_MODE: 'live', SALESFORCE_LOGIN_URL: sf.baseUrl, SALESFORCE_AUTH: 'password',
      SALESFORCE_CLIENT_ID: SANDBOX_SALESFORCE.clientId, SALESFORCE_CLIENT_SECRET: SANDBOX_SALESFORCE.clientSecret,
      SALESFORCE_USERNAME: SANDBOX_SALESFORCE.username, SALESFORCE_PASSWORD: SANDBOX_SALESFORCE.password,
      SALESFORCE_SECURITY_TOKEN: SANDBOX_SALESFORCE.securityToken,
      // The queue dashboard needs credentials; the sandbox has none unless the environment gives them.
      ADMIN_DASHBOARD: process.env.ADMIN_DASHBOARD ?? (process.env.ADMIN_USER && process.env.ADMIN_PASSWORD ? 'on' : 'off'),
      ...o.daemonEnv,
    };
    const config = loadConfig({ ...process.env, ...settings });
    // The vendor's SDK reads these itself (the AWS credential chain), so they go into this process's environment.
    const sdkEnv = cc.sdkEnv?.() ?? {};
    this.replaceEnv(sdkEnv);
    // What the CLI needs to reach the same emulators, Redis and rules (`rules explain`, `rules validate`).
    const forCli = { ...settings, ...sdkEnv };
    for (const key of ['ADMIN_USER', 'ADMIN_PASSWORD', 'ADMIN_DASHBOARD', 'HTTP_HOST', 'HTTP_PORT', 'LOG_LEVEL']) delete forCli[key];
    this.cliSettingsValue = Object.fromEntries(Object.entries(forCli).filter((e): e is [string, string] => e[1] !== undefined));
    this.daemon = await startDaemon(config, { logOut: o.logOut });
    const { port: daemonPort } = this.daemon.getHttpServer().address() as AddressInfo;
    const daemonUrl = `http://127.0.0.1:${daemonPort}`;
    await cc.daemonListening(daemonUrl);

    cc.onStateChange((agentId) => this.changed(agentId));
    sf.on('usp', (change) => {
      const agentId = this.agentBySfUser.get(toId18(change.row.userId));
      if (agentId) this.changed(agentId);
    });
    // A command the console applied or dropped, or a push to a closed console, may come with a new decision.
    sf.on('push', (push) => {
      for (const userId of push.userIds) {
        const agentId = this.agentBySfUser.get(toId18(userId));
        if (agentId) this.changed(agentId);
      }
    });

    this.server = createServer((req, res) => void this.handle(req, res));
    const server = this.server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.pagePort ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const pageUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.urlsValue = {
      acd: cc.vendor, page: pageUrl, daemon: daemonUrl, status: `${daemonUrl}/v1/status`, contactCenter: ccUrl, salesforce: sf.baseUrl,
      redis: redisUrl, redisThrowAway: this.redis !== undefined,
    };
    await this.pollStatus();
    this.statusTimer = setInterval(() => void this.pollStatus(), o.statusIntervalMs ?? 3_000);
    this.statusTimer.unref();
    if (o.rulesWatch !== false) await this.watchRules(o.rulesDir ?? 'rules');
    return this.urlsValue;
  }

  /**
   * A rule file changed: the daemon reloads it after its own short debounce, so its status is asked for every
   * RELOAD_POLL_MS until it moved (or RELOAD_WATCH_MS passed), and the page shows the outcome at once instead of
   * at the next regular poll.
   */
  private async watchRules(dir: string): Promise<void> {
    const watcher = watch(dir, { ignoreInitial: true, depth: 0 });
    this.rulesWatcher = watcher;
    watcher.on('all', () => this.awaitReload());
    watcher.on('error', () => undefined);
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  }

  private awaitReload(): void {
    if (this.stopping) return;
    this.reloadWatchUntil = Date.now() + RELOAD_WATCH_MS;
    this.reloadWatch ??= (async () => {
      const rulesOf = (status: unknown) => JSON.stringify((status as { rules?: unknown } | null)?.rules ?? null);
      const before = rulesOf(this.lastStatus);
      while (!this.stopping && Date.now() < this.reloadWatchUntil) {
        await new Promise((resolve) => setTimeout(resolve, RELOAD_POLL_MS));
        await this.pollStatus();
        if (rulesOf(this.lastStatus) !== before) break;
      }
    })().finally(() => {
      this.reloadWatch = undefined;
    });
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.statusTimer);
    await this.rulesWatcher?.close();
    for (const timers of this.refreshTimers.values()) for (const t of timers) clearTimeout(t);
    this.refreshTimers.clear();
    for (const res of this.sseClients) res.end();
    this.sseClients.clear();
    const server = this.server;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    await this.daemon?.close().catch(() => undefined);
    await this.cc.stop();
    await this.sf?.stop();
    await this.redis?.stop();
    this.restoreEnv();
  }

  private replaceEnv(values: Record<string, string | undefined>): void {
    this.replacedEnv = {};
    for (const [key, value] of Object.entries(values)) {
      this.replacedEnv[key] = process.env[key];
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }

  private restoreEnv(): void {
    for (const [key, value] of Object.entries(this.replacedEnv ?? {})) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    this.replacedEnv = undefined;
  }

  /** The emulated contact center (its emulator's controls and request log, for tests). */
  get contactCenter(): SandboxAcd {
    return this.cc;
  }

  // ---- rows and live updates ----------------------------------------------------------------------------

  rows(): SandboxAgentRow[] {
    return this.cc.agents().map((a) => this.rowOf(a));
  }

  row(agentId: string): SandboxAgentRow {
    const agent = this.cc.agents().find((a) => a.agentId === agentId);
    if (!agent) throw new HttpProblem(404, `no agent ${agentId}`);
    return this.rowOf(agent);
  }

  private rowOf(agent: SandboxAcdAgent): SandboxAgentRow {
    const agentId = agent.agentId;
    const sf = this.sf as SalesforceEmulator;
    const username = agent.email.toLowerCase();
    const team = this.teams.get(agent.teamName);
    return {
      agentId,
      email: agent.email,
      teamId: agent.teamId,
      team: agent.teamName,
      unavailableCodes: team?.unavailableCodes ?? [],
      salesforce: { status: sf.statusOf(username), consoleOpen: sf.isConsoleOpen(username), work: this.workOf(username) },
      acd: { ...agent.state, ...(agent.next ? { pendingAfterContact: agent.next } : {}) },
      lastDecision: this.decisions.get(agentId) ?? null,
      auditUrl: `${this.urlsValue?.daemon ?? ''}/v1/agents/${encodeURIComponent(agentId)}/audit`,
    };
  }

  /**
   * Either side changed an agent: the row goes out at once, and the daemon's last decision is fetched a little
   * later and again after a second, since the daemon audits after it processed the change (not when it happened).
   */
  private changed(agentId: string): void {
    if (this.stopping) return;
    this.broadcast('agent', this.row(agentId));
    for (const t of this.refreshTimers.get(agentId) ?? []) clearTimeout(t);
    this.refreshTimers.set(agentId, [150, 1_000, 3_000].map((ms) => setTimeout(() => void this.refreshDecision(agentId), ms)));
  }

  private async refreshDecision(agentId: string): Promise<void> {
    if (this.stopping || !this.urlsValue) return;
    try {
      // A few records, not one: the newest is often the echo of our own write, which names no rule; the page shows
      // the newest record that does (the decision), and the newest outcome next to it.
      const res = await fetch(`${this.urlsValue.daemon}/v1/agents/${encodeURIComponent(agentId)}/audit?limit=${DECISION_LOOKBACK}`);
      if (!res.ok) return;
      const body = (await res.json()) as { records?: AuditRecord[] };
      const records = body.records ?? [];
      const newest = records[0];
      const r = records.find((x) => x.rule !== undefined) ?? newest;
      const decision: SandboxDecision | null = r
        ? {
          at: r.at, direction: r.direction, outcome: r.outcome, rule: r.rule, row: r.row, latencyMs: r.latencyMs, detail: r.detail,
          ...(newest && newest !== r ? { latest: { at: newest.at, outcome: newest.outcome, detail: newest.detail } } : {}),
        }
        : null;
      const before = JSON.stringify(this.decisions.get(agentId) ?? null);
      this.decisions.set(agentId, decision);
      if (!this.stopping && JSON.stringify(decision) !== before) this.broadcast('agent', this.row(agentId));
    } catch {
      // The daemon is stopping or busy; the next change or refresh tries again.
    }
  }

  /** Reads the daemon's status; the page gets it only when it changed. */
  private async pollStatus(): Promise<void> {
    if (this.stopping || !this.urlsValue) return;
    try {
      const res = await fetch(this.urlsValue.status, { signal: AbortSignal.timeout(STATUS_FETCH_TIMEOUT_MS) });
      this.lastStatus = await res.json();
    } catch (error) {
      this.lastStatus = { error: `daemon status unavailable: ${message(error)}` };
    }
    const json = JSON.stringify(this.lastStatus);
    if (json === this.lastStatusJson || this.stopping) return;
    this.lastStatusJson = json;
    this.broadcast('status', this.lastStatus);
  }

  /** What the page's live updates start with: every row, the daemon's status and the URLs. */
  private snapshot(): { agents: SandboxAgentRow[]; status: unknown; urls?: SandboxUrls } {
    return { agents: this.rows(), status: this.lastStatus, urls: this.urlsValue };
  }

  private broadcast(event: string, data: unknown): void {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of this.sseClients) res.write(frame);
  }

  // ---- actions (what the page's controls do) ----------------------------------------------------------------

  setSalesforceStatus(agentId: string, body: unknown): SandboxAgentRow {
    const { status } = objectBody(body);
    const allowed = SALESFORCE_STATUSES;
    if (typeof status !== 'string' || !allowed.includes(status)) throw new HttpProblem(400, `status must be one of ${allowed.join(', ')}`);
    const email = this.row(agentId).email.toLowerCase();
    (this.sf as SalesforceEmulator).agentSetStatus(email, status);
    return this.row(agentId);
  }

  setAcdState(agentId: string, body: unknown): SandboxAgentRow {
    const { state, code } = objectBody(body);
    const row = this.row(agentId);
    if (typeof state !== 'string' || !(SETTABLE_ACD_STATES as readonly string[]).includes(state)) {
      throw new HttpProblem(400, `state must be one of ${SETTABLE_ACD_STATES.join(', ')} (Busy and AfterWork come from calls)`);
    }
    if (code !== undefined && code !== '' && (typeof code !== 'string' || state !== 'Unavailable')) {
      throw new HttpProblem(400, 'code must be a string, and only with Unavailable');
    }
    if (typeof code === 'string' && code !== '' && !row.unavailableCodes.includes(code)) {
      throw new HttpProblem(400, `code ${code} is not enabled for team ${row.team} (${row.unavailableCodes.join(', ')})`);
    }
    const wanted = (typeof code === 'string' && code !== '' ? { state, code } : { state }) as AcdState;
    try {
      this.cc.agentSetState(agentId, wanted);
    } catch (error) {
      // The vendor does not offer that state (e.g. Amazon Connect's Unavailable without a status).
      throw new HttpProblem(409, message(error));
    }
    return this.row(agentId);
  }

  call(agentId: string, body: unknown): SandboxAgentRow {
    const { action } = objectBody(body);
    this.row(agentId);
    const cc = this.cc;
    try {
      if (action === 'start') cc.startCall(agentId);
      else if (action === 'end') cc.endCall(agentId);
      else if (action === 'wrapup-end') cc.endWrapUp(agentId);
      else throw new HttpProblem(400, 'action must be start, end or wrapup-end');
    } catch (error) {
      if (error instanceof HttpProblem) throw error;
      // The agent is not in a state where that happens (e.g. ending a call nobody is on).
      throw new HttpProblem(409, message(error));
    }
    return this.row(agentId);
  }

  async console(agentId: string, body: unknown): Promise<SandboxAgentRow> {
    const { open } = objectBody(body);
    if (typeof open !== 'boolean') throw new HttpProblem(400, 'open must be true or false');
    const email = this.row(agentId).email.toLowerCase();
    const sf = this.sf as SalesforceEmulator;
    if (open) await sf.openConsole(email);
    else await sf.closeConsole(email);
    // Opening or closing a console changes no presence row, so no emulator event announces it.
    this.changed(agentId);
    return this.row(agentId);
  }

  private workOf(username: string): { chats: number; load: number; capacity: number } {
    const open = (this.sf as SalesforceEmulator).openWork(username);
    return {
      chats: open.filter((w) => w.channel === CHAT_CHANNEL).length,
      load: open.reduce((sum, w) => sum + (w.capacityWeight ?? 0), 0),
      capacity: SANDBOX_CAPACITY,
    };
  }

  /** Omni-Channel routes a chat to the agent, or the agent closes one (their oldest open chat). */
  work(agentId: string, body: unknown): SandboxAgentRow {
    const { action, channel } = objectBody(body);
    const wanted = channel ?? CHAT_CHANNEL;
    if (typeof wanted !== 'string' || !SANDBOX_SERVICE_CHANNELS.some((c) => c.developerName === wanted)) {
      throw new HttpProblem(400, `channel must be one of ${SANDBOX_SERVICE_CHANNELS.map((c) => c.developerName).join(', ')}`);
    }
    const email = this.row(agentId).email.toLowerCase();
    const sf = this.sf as SalesforceEmulator;
    try {
      if (action === 'assign') sf.assignWork(email, wanted);
      else if (action === 'close') {
        const item = sf.openWork(email).find((w) => w.channel === wanted);
        if (!item) throw new HttpProblem(409, `${agentId} has no open ${wanted} work`);
        sf.closeWork(item.id);
      } else throw new HttpProblem(400, 'action must be assign or close');
    } catch (error) {
      if (error instanceof HttpProblem) throw error;
      throw new HttpProblem(409, message(error));
    }
    this.changed(agentId);
    return this.row(agentId);
  }

  /** The integration user's session expires: the daemon's next REST call and its stream must log in again. */
  expireSession(): { revokedTokens: number } {
    return { revokedTokens: (this.sf as SalesforceEmulator).revokeTokens(SANDBOX_SALESFORCE.username) };
  }

  failContactCenter(body: unknown): { count: number; status: number; retryAfterSec?: number } {
    const { count, status, retryAfterSec } = objectBody(body);
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 100) throw new HttpProblem(400, 'count must be an integer from 1 to 100');
    if (typeof status !== 'number' || !(INJECTABLE_STATUSES as readonly number[]).includes(status)) {
      throw new HttpProblem(400, `status must be one of ${INJECTABLE_STATUSES.join(', ')}`);
    }
    if (retryAfterSec !== undefined && (typeof retryAfterSec !== 'number' || !Number.isInteger(retryAfterSec) || retryAfterSec < 0 || retryAfterSec > 3600)) {
      throw new HttpProblem(400, 'retryAfterSec must be an integer from 0 to 3600');
    }
    this.cc.failNext(count, status, retryAfterSec === undefined ? {} : { retryAfterSec });
    return { count, status, ...(retryAfterSec === undefined ? {} : { retryAfterSec }) };
  }

  // ---- HTTP ----------------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const path = new URL(req.url ?? '/', 'http://sandbox').pathname;
      const method = req.method ?? 'GET';
      if (method === 'GET') {
        if (path === '/') {
          // A fresh status (latency and queues move between polls), rendered into the page's first paint.
          await this.pollStatus();
          return this.send(res, 200, sandboxPage(SALESFORCE_STATUSES, this.snapshot()), 'text/html; charset=utf-8');
        }
        if (path === '/favicon.svg' || path === '/favicon.ico') return this.send(res, 200, SANDBOX_FAVICON_SVG, 'image/svg+xml');
        if (path === '/api/agents') return this.json(res, 200, this.snapshot());
        if (path === '/api/events') return this.events(req, res);
      }
      if (method === 'POST') {
        const body = await this.readJson(req);
        const agentRoute = /^\/api\/agents\/([^/]+)\/(salesforce|acd|call|console|work)$/.exec(path);
        if (agentRoute) {
          const agentId = decodeURIComponent(agentRoute[1]);
          const action = agentRoute[2];
          const row = action === 'salesforce' ? this.setSalesforceStatus(agentId, body)
            : action === 'acd' ? this.setAcdState(agentId, body)
              : action === 'call' ? this.call(agentId, body)
                : action === 'work' ? this.work(agentId, body)
                : await this.console(agentId, body);
          return this.json(res, 200, row);
        }
        if (path === '/api/salesforce/expire-session') return this.json(res, 200, this.expireSession());
        if (path === '/api/contact-center/fail') return this.json(res, 200, this.failContactCenter(body));
      }
      this.json(res, 404, { error: `no route ${method} ${path}` });
    } catch (error) {
      if (error instanceof HttpProblem) return this.json(res, error.status, { error: error.message });
      this.json(res, 500, { error: message(error) });
    }
  }

  private events(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    // Everything the page needs up front, so a reconnecting page is never stale.
    res.write(`event: snapshot\ndata: ${JSON.stringify(this.snapshot())}\n\n`);
    this.sseClients.add(res);
    req.on('close', () => this.sseClients.delete(res));
  }

  private async readJson(req: IncomingMessage): Promise<unknown> {
    let raw: string;
    try {
      raw = await readBoundedBody(req, MAX_BODY_BYTES);
    } catch (error) {
      if (error instanceof BodyTooLargeError) throw new HttpProblem(413, error.message);
      throw error;
    }
    if (raw.trim() === '') return {};
    try {
      return JSON.parse(raw);
    } catch {
      throw new HttpProblem(400, 'body must be JSON');
    }
  }


  private json(res: ServerResponse, status: number, body: unknown): void {
    this.send(res, status, JSON.stringify(body), 'application/json');
  }

  private send(res: ServerResponse, status: number, body: string, type: string): void {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
    res.end(body);
  }
}
