import { createHash } from 'node:crypto';
import type { AcdState } from '@presence-sync/domain';
import type { EmulatorAgentSeed, EmulatorTeam } from '../contact-center-emulator';
import type { SandboxAcd, SandboxAcdAgent } from '../sandbox-acd';
import { WebexEmulator } from './webex-emulator';
import type { WebexEmulatorAgent, WebexEmulatorAuxCode, WebexEmulatorOptions, WebexEmulatorProfile } from './webex-emulator.types';

/** The wrap-up codes every sandbox org has. */
export const WEBEX_SANDBOX_WRAP_UP_CODES = ['Resolved', 'Follow-up'] as const;
/** Where the sandbox's daemon says it can be reached; `daemonListening` routes this host to the daemon's real address. */
export const WEBEX_SANDBOX_WEBHOOK_ORIGIN = 'https://presence-sync.sandbox.invalid';
const SANDBOX_SECRET = 'sandbox-webex-subscription-secret-0123456789';
/** Only for the sandbox's throw-away Redis: seals the Webex refresh token there. */
const SANDBOX_SECRETS_KEY = 'a'.repeat(64);

/** A stable UUID-shaped id for a sandbox name, so ids survive restarts of the demo. */
export function webexIdOf(kind: string, name: string): string {
  const h = createHash('sha256').update(`webex-sandbox:${kind}:${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function names(email: string): { firstName: string; lastName: string } {
  const [first = 'agent', last = 'sandbox'] = email.split('@')[0].split('.');
  const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1).replace(/\d+$/, '');
  return { firstName: cap(first), lastName: cap(last) };
}

/**
 * The sandbox catalog (teams by name, agents by e-mail) as a Webex org: UUID ids, one idle code per distinct code
 * name, one desktop profile per team allowing exactly its codes, and the wrap-up codes.
 */
export function webexSeedOf(catalog: { teams: EmulatorTeam[]; agents: EmulatorAgentSeed[] }): Pick<WebexEmulatorOptions, 'codes' | 'teams' | 'profiles' | 'agents'> {
  const codes: WebexEmulatorAuxCode[] = [];
  const idleId = (name: string): string => {
    const id = webexIdOf('idle-code', name);
    if (!codes.some((c) => c.id === id)) codes.push({ id, name, workTypeCode: 'IDLE_CODE', active: true, defaultCode: codes.length === 0 });
    return id;
  };
  const profiles: WebexEmulatorProfile[] = [];
  const teamIds = new Map<string, string>();
  const profileOf = new Map<string, string>();
  const teams = catalog.teams.map((team) => {
    const id = webexIdOf('team', team.name);
    teamIds.set(team.teamId, id);
    const profile = { id: webexIdOf('desktop-profile', team.name), name: `${team.name} desktop`, accessIdleCode: 'SPECIFIC' as const, idleCodes: team.unavailableCodes.map(idleId) };
    profiles.push(profile);
    profileOf.set(id, profile.id);
    return { id, name: team.name };
  });
  for (const name of WEBEX_SANDBOX_WRAP_UP_CODES) codes.push({ id: webexIdOf('wrap-up-code', name), name, workTypeCode: 'WRAP_UP_CODE', active: true });
  const agents = catalog.agents.map((seed) => {
    const teamId = teamIds.get(seed.teamId);
    if (!teamId) throw new Error(`webexSeedOf: agent ${seed.agentId} has unknown team ${seed.teamId}`);
    const base = { id: webexIdOf('user', seed.email.toLowerCase()), email: seed.email, ...names(seed.email), teamId, agentProfileId: profileOf.get(teamId) as string };
    if (seed.state.state === 'Available') return { ...base, state: 'Available' as const };
    if (seed.state.state === 'Unavailable') {
      const code = seed.state.code ?? catalog.teams.find((t) => t.teamId === seed.teamId)?.unavailableCodes[0];
      return code ? { ...base, state: 'Idle' as const, idleCodeId: idleId(code) } : { ...base, state: 'Available' as const };
    }
    return { ...base, state: 'LoggedOut' as const };
  });
  return { codes, teams, profiles, agents };
}

/** The rule model's view of an emulator agent, independent of the connector's mapping. */
export function webexAcdViewOf(agent: Pick<WebexEmulatorAgent, 'loggedIn' | 'channelState' | 'idleCodeId'>, codeName: (id: string) => string | undefined): AcdState {
  if (!agent.loggedIn) return { state: 'Offline' };
  switch (agent.channelState) {
    case 'available':
      return { state: 'Available' };
    case 'connected':
      return { state: 'Busy' };
    case 'wrapup':
      return { state: 'AfterWork' };
    default: {
      const code = agent.idleCodeId ? codeName(agent.idleCodeId) : undefined;
      return code ? { state: 'Unavailable', code } : { state: 'Unavailable' };
    }
  }
}

/**
 * The sandbox's contact center as a Webex Contact Center org (SANDBOX_ACD=webex). The daemon's connector creates
 * its subscription at start with WEBEX_WEBHOOK_URL on a host that does not resolve; once the daemon listens,
 * `daemonListening` routes that host to it, the way DNS or a proxy would, and the deliveries held so far go out.
 */
export class WebexSandboxAcd implements SandboxAcd {
  readonly vendor = 'webex' as const;
  private wx?: WebexEmulator;

  constructor(private readonly options: Partial<Omit<WebexEmulatorOptions, 'codes' | 'teams' | 'profiles' | 'agents'>> = {}) {}

  async start(catalog: { teams: EmulatorTeam[]; agents: EmulatorAgentSeed[] }): Promise<void> {
    this.wx = new WebexEmulator({ ...this.options, ...webexSeedOf(catalog) });
    await this.wx.start();
  }

  get emulator(): WebexEmulator {
    if (!this.wx) throw new Error('WebexSandboxAcd: not started');
    return this.wx;
  }

  get url(): string {
    return this.wx?.url ?? '';
  }

  daemonEnv(): Record<string, string> {
    const wx = this.emulator;
    return {
      ACD_CONNECTOR: 'webex', WEBEX_API_BASE_URL: wx.url, WEBEX_TOKEN_URL: wx.tokenUrl, WEBEX_ORG_ID: wx.orgId,
      WEBEX_CLIENT_ID: wx.credentials.clientId, WEBEX_CLIENT_SECRET: wx.credentials.clientSecret, WEBEX_REFRESH_TOKEN: wx.credentials.refreshToken,
      WEBEX_WEBHOOK_URL: `${WEBEX_SANDBOX_WEBHOOK_ORIGIN}/v1/acd/webex/events`, WEBEX_WEBHOOK_SECRET: SANDBOX_SECRET, SECRETS_KEY: SANDBOX_SECRETS_KEY,
    };
  }

  async daemonListening(daemonUrl: string): Promise<void> {
    this.emulator.routeHost(WEBEX_SANDBOX_WEBHOOK_ORIGIN, daemonUrl);
  }

  agents(): SandboxAcdAgent[] {
    const wx = this.emulator;
    const codeName = (id: string) => wx.code(id)?.name;
    return wx.snapshot().map((a) => {
      const agent: SandboxAcdAgent = {
        agentId: a.id, email: a.email, teamId: a.teamId, teamName: wx.team(a.teamId)?.name ?? a.teamId, state: webexAcdViewOf(a, codeName), since: a.since,
      };
      if (a.pendingIdleCodeId) agent.next = webexAcdViewOf({ loggedIn: true, channelState: 'idle', idleCodeId: a.pendingIdleCodeId }, codeName);
      return agent;
    });
  }

  agentSetState(agentId: string, state: AcdState): void {
    const wx = this.emulator;
    if (state.state === 'Offline') return wx.agentLogout(agentId);
    if (state.state === 'Available') return wx.agentSetState(agentId, { state: 'Available' });
    if (state.state === 'Unavailable') {
      const agent = wx.getAgent(agentId);
      if (!agent) throw new Error(`WebexSandboxAcd: unknown agent ${agentId}`);
      const idleCodeId = state.code ? wx.codeIdOf(state.code) : wx.snapshot().find((a) => a.id === agentId)?.idleCodeId;
      if (!idleCodeId) throw new Error(`WebexSandboxAcd: no idle code ${state.code ?? '(default)'}`);
      return wx.agentSetState(agentId, { state: 'Idle', idleCodeId });
    }
    throw new Error(`agentSetState: ${state.state} comes from contacts; use startCall / endCall / endWrapUp`);
  }

  startCall(agentId: string): void {
    this.emulator.startContact(agentId);
  }

  endCall(agentId: string, options: { wrapUp?: boolean } = {}): void {
    this.emulator.endContact(agentId, { wrapUp: options.wrapUp ?? true });
  }

  endWrapUp(agentId: string): void {
    this.emulator.endWrapUp(agentId, this.emulator.codeIdOf(WEBEX_SANDBOX_WRAP_UP_CODES[0], 'WRAP_UP_CODE'));
  }

  failNext(count: number, status: number, options: { retryAfterSec?: number } = {}): void {
    this.emulator.failNext(count, status, { retryAfterSec: options.retryAfterSec, target: 'api' });
  }

  onStateChange(listener: (agentId: string) => void): void {
    this.emulator.on('state', (agentId: string) => listener(agentId));
  }

  async stop(): Promise<void> {
    await this.wx?.stop();
  }
}
