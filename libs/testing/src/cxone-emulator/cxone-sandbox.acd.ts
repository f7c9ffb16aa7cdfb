import type { AcdState } from '@presence-sync/domain';
import type { EmulatorAgentSeed, EmulatorTeam } from '../contact-center-emulator';
import type { SandboxAcd, SandboxAcdAgent } from '../sandbox-acd';
import { CxoneEmulator } from './cxone-emulator';
import { acdViewOf, cxoneSeedOf } from './cxone-sandbox.catalog';
import type { CxoneEmulatorOptions } from './cxone-emulator.types';

/**
 * The sandbox's contact center as a NiCE CXone tenant (SANDBOX_ACD=cxone): the same teams (by name) and agents
 * (by e-mail) as the other vendors, with CXone's numeric ids, unavailable codes per team and a Wrap-up ACW state.
 * The daemon's CXone connector polls it; nothing is pushed, so `daemonListening` has nothing to do.
 */
export class CxoneSandboxAcd implements SandboxAcd {
  readonly vendor = 'cxone' as const;
  private cx?: CxoneEmulator;
  private baseUrl = '';

  /** `options`: emulator settings beyond the catalog (a rate limit, what a write during a contact does). */
  constructor(private readonly options: Partial<Omit<CxoneEmulatorOptions, 'codes' | 'teams' | 'agents'>> = {}) {}

  async start(catalog: { teams: EmulatorTeam[]; agents: EmulatorAgentSeed[] }): Promise<void> {
    const { codes, teams, agents } = cxoneSeedOf(catalog);
    this.cx = new CxoneEmulator({ ...this.options, codes, teams, agents });
    this.baseUrl = (await this.cx.start()).baseUrl;
  }

  get emulator(): CxoneEmulator {
    if (!this.cx) throw new Error('CxoneSandboxAcd: not started');
    return this.cx;
  }

  get url(): string {
    return this.baseUrl;
  }

  daemonEnv(): Record<string, string> {
    const c = this.emulator.credentials;
    return {
      ACD_CONNECTOR: 'cxone', CXONE_AUTH_URL: this.baseUrl, CXONE_CLIENT_ID: c.clientId, CXONE_CLIENT_SECRET: c.clientSecret,
      CXONE_ACCESS_KEY_ID: c.accessKeyId, CXONE_ACCESS_KEY_SECRET: c.accessKeySecret,
    };
  }

  async daemonListening(_daemonUrl: string): Promise<void> {
    // CXone is polled by the connector; there is no webhook to point anywhere.
  }

  agents(): SandboxAcdAgent[] {
    const cx = this.emulator;
    const codeName = (id: number) => cx.code(id)?.name;
    return cx.snapshot().map((a) => {
      const agent: SandboxAcdAgent = {
        agentId: String(a.agentId), email: a.emailAddress, teamId: String(a.teamId), teamName: cx.team(a.teamId)?.teamName ?? String(a.teamId),
        state: acdViewOf(a, codeName), since: a.startDate,
      };
      if (a.next) agent.next = acdViewOf({ state: a.next.state, isAcw: false, outStateId: a.next.outStateId }, codeName);
      return agent;
    });
  }

  agentSetState(agentId: string, state: AcdState): void {
    const cx = this.emulator;
    const id = Number(agentId);
    const agent = cx.getAgent(id);
    if (!agent) throw new Error(`CxoneSandboxAcd: unknown agent ${agentId}`);
    if (state.state === 'Offline') return cx.agentLogout(id);
    if (state.state === 'Available') return cx.agentSetState(id, { state: 'Available' });
    if (state.state === 'Unavailable') {
      if (!state.code) return cx.agentSetState(id, { state: 'Unavailable' });
      const outStateId = cx.codeIdOf(agent.teamId, state.code);
      if (outStateId === undefined) throw new Error(`code ${state.code} is not an unavailable code of team ${agent.teamId}`);
      return cx.agentSetState(id, { state: 'Unavailable', outStateId });
    }
    throw new Error(`agentSetState: ${state.state} comes from contacts; use startCall / endCall / endWrapUp`);
  }

  startCall(agentId: string): void {
    this.emulator.startContact(Number(agentId));
  }

  endCall(agentId: string, options: { wrapUp?: boolean } = {}): void {
    this.emulator.endContact(Number(agentId), { acw: options.wrapUp ?? true });
  }

  endWrapUp(agentId: string): void {
    this.emulator.endAcw(Number(agentId));
  }

  failNext(count: number, status: number, options: { retryAfterSec?: number } = {}): void {
    this.emulator.failNext(count, status, { retryAfterSec: options.retryAfterSec, target: 'api' });
  }

  onStateChange(listener: (agentId: string) => void): void {
    this.emulator.on('state', (agentId) => listener(String(agentId)));
  }

  async stop(): Promise<void> {
    await this.cx?.stop();
  }
}
