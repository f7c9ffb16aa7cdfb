import type { AcdState } from '@presence-sync/domain';
import { ContactCenterEmulator, type EmulatorAgentSeed, type EmulatorTeam } from './contact-center-emulator';
import type { SandboxAcd, SandboxAcdAgent } from './sandbox-acd';

const TOKEN = 'sandbox-token';
const SECRET = 'sandbox-webhook-secret-0123456789';

/** The sandbox's contact center speaking the generic contract v1 (SANDBOX_ACD=generic, the default). */
export class GenericSandboxAcd implements SandboxAcd {
  readonly vendor = 'generic' as const;
  private cc?: ContactCenterEmulator;
  private baseUrl = '';
  private readonly teamNames = new Map<string, string>();

  async start(catalog: { teams: EmulatorTeam[]; agents: EmulatorAgentSeed[] }): Promise<void> {
    for (const team of catalog.teams) this.teamNames.set(team.teamId, team.name);
    this.cc = new ContactCenterEmulator({ token: TOKEN, ...catalog });
    this.baseUrl = (await this.cc.start()).baseUrl;
  }

  /** The emulator itself, for tests that drive the generic contract directly. */
  get emulator(): ContactCenterEmulator {
    if (!this.cc) throw new Error('GenericSandboxAcd: not started');
    return this.cc;
  }

  get url(): string {
    return this.baseUrl;
  }

  daemonEnv(): Record<string, string> {
    return { ACD_CONNECTOR: 'generic', ACD_BASE_URL: this.baseUrl, ACD_TOKEN: TOKEN, ACD_WEBHOOK_SECRET: SECRET };
  }

  async daemonListening(daemonUrl: string): Promise<void> {
    this.emulator.setWebhook({ url: `${daemonUrl}/v1/acd/events`, secret: SECRET });
  }

  agents(): SandboxAcdAgent[] {
    return this.emulator.snapshot().map((a) => ({
      agentId: a.agentId, email: a.email, teamId: a.teamId, teamName: this.teamNames.get(a.teamId) ?? a.teamId, state: a.state, since: a.since,
      ...(a.next ? { next: a.next } : {}),
    }));
  }

  agentSetState(agentId: string, state: AcdState): void {
    this.emulator.agentSetState(agentId, state);
  }

  startCall(agentId: string): void {
    this.emulator.startCall(agentId);
  }

  endCall(agentId: string, options: { wrapUp?: boolean } = {}): void {
    this.emulator.endCall(agentId, options);
  }

  endWrapUp(agentId: string): void {
    this.emulator.endWrapUp(agentId);
  }

  failNext(count: number, status: number, options: { retryAfterSec?: number } = {}): void {
    this.emulator.failNext(count, status, options);
  }

  onStateChange(listener: (agentId: string) => void): void {
    this.emulator.on('state', (agentId) => listener(agentId));
  }

  async stop(): Promise<void> {
    await this.cc?.stop();
  }
}
