import type { AcdState } from '@presence-sync/domain';
import type { EmulatorAgentSeed, EmulatorTeam } from '../contact-center-emulator';
import type { SandboxAcd, SandboxAcdAgent } from '../sandbox-acd';
import { GenesysEmulator, type GenesysEmulatorOptions, type GenesysEmulatorPresence } from './genesys-emulator';

const uuid = (kind: number, i: number) => `00000000-0000-4000-8${kind.toString(16).padStart(3, '0')}-${(i + 1).toString(16).padStart(12, '0')}`;

/**
 * The sandbox catalog as a Genesys Cloud org: teams become divisions, each distinct code a secondary presence
 * (scoped to the one division that uses it, or to every division), agents users in their team's division.
 */
export function genesysSeedOf(catalog: { teams: EmulatorTeam[]; agents: EmulatorAgentSeed[] }): Pick<GenesysEmulatorOptions, 'divisions' | 'presences' | 'users'> {
  const divisions = catalog.teams.map((t, i) => ({ id: uuid(1, i), name: t.name }));
  const divisionOf = new Map(catalog.teams.map((t, i) => [t.teamId, divisions[i].id]));
  const presences: GenesysEmulatorPresence[] = [
    { id: 'presence-on-queue', systemPresence: 'ON_QUEUE', label: 'On Queue' },
    { id: 'presence-available', systemPresence: 'AVAILABLE', label: 'Available' },
    { id: 'presence-offline', systemPresence: 'OFFLINE', label: 'Offline' },
    { id: 'presence-away', systemPresence: 'AWAY', label: 'Away' },
  ];
  const codes = [...new Set(catalog.teams.flatMap((t) => t.unavailableCodes))].filter((c) => c !== 'Away');
  codes.forEach((code, i) => {
    const users = catalog.teams.filter((t) => t.unavailableCodes.includes(code));
    const divisionId = users.length === 1 ? divisionOf.get(users[0].teamId) : undefined;
    presences.push({ id: uuid(2, i), systemPresence: 'BUSY', label: code, divisionId });
  });
  const presenceFor = (state: AcdState): string => {
    if (state.state === 'Offline') return 'presence-offline';
    if (state.state === 'Unavailable') return presences.find((p) => p.label === state.code)?.id ?? 'presence-away';
    return 'presence-on-queue';
  };
  const users = catalog.agents.map((a, i) => ({
    id: uuid(3, i), name: a.email.split('@')[0], email: a.email, divisionId: divisionOf.get(a.teamId) ?? divisions[0]?.id ?? uuid(1, 0), presenceId: presenceFor(a.state),
  }));
  return { divisions, presences, users };
}

/**
 * The sandbox's contact center as a Genesys Cloud org (SANDBOX_ACD=genesys): the daemon's Genesys connector holds
 * a notification channel to it; nothing is pushed to the daemon's webhook, so `daemonListening` has nothing to do.
 */
export class GenesysSandboxAcd implements SandboxAcd {
  readonly vendor = 'genesys' as const;
  private em?: GenesysEmulator;
  private baseUrl = '';

  constructor(private readonly options: Partial<Omit<GenesysEmulatorOptions, 'divisions' | 'presences' | 'users'>> = {}) {}

  async start(catalog: { teams: EmulatorTeam[]; agents: EmulatorAgentSeed[] }): Promise<void> {
    this.em = new GenesysEmulator({ ...this.options, ...genesysSeedOf(catalog) });
    this.baseUrl = (await this.em.start()).baseUrl;
  }

  get emulator(): GenesysEmulator {
    if (!this.em) throw new Error('GenesysSandboxAcd: not started');
    return this.em;
  }

  get url(): string {
    return this.baseUrl;
  }

  daemonEnv(): Record<string, string> {
    const c = this.emulator.credentials;
    return { ACD_CONNECTOR: 'genesys', GENESYS_API_BASE_URL: this.baseUrl, GENESYS_CLIENT_ID: c.clientId, GENESYS_CLIENT_SECRET: c.clientSecret };
  }

  async daemonListening(_daemonUrl: string): Promise<void> {
    // The connector opens its own WebSocket to the emulator.
  }

  agents(): SandboxAcdAgent[] {
    const em = this.emulator;
    return em.snapshot().map((u) => ({ agentId: u.id, email: u.email, teamId: u.divisionId, teamName: u.divisionName, state: em.acdStateOf(u.id), since: u.since }));
  }

  agentSetState(agentId: string, state: AcdState): void {
    if (state.state === 'Busy' || state.state === 'AfterWork') throw new Error(`agentSetState: ${state.state} comes from contacts; use startCall / endCall / endWrapUp`);
    this.emulator.agentSetsPresence(agentId, state.state === 'Available' ? 'ON_QUEUE' : state.state === 'Offline' ? 'OFFLINE' : (state.code ?? 'AWAY'));
  }

  startCall(agentId: string): void {
    this.emulator.startContact(agentId);
  }

  endCall(agentId: string, options: { wrapUp?: boolean } = {}): void {
    this.emulator.endContact(agentId, { wrapUp: options.wrapUp ?? true });
  }

  endWrapUp(agentId: string): void {
    this.emulator.endWrapUp(agentId);
  }

  failNext(count: number, status: number, options: { retryAfterSec?: number } = {}): void {
    this.emulator.failNext(count, status, options.retryAfterSec);
  }

  onStateChange(listener: (agentId: string) => void): void {
    this.emulator.onStateChange(listener);
  }

  async stop(): Promise<void> {
    await this.em?.stop();
  }
}
