import type { AcdState } from '@presence-sync/domain';
import type { EmulatorAgentSeed, EmulatorTeam } from '../contact-center-emulator';
import type { SandboxAcd, SandboxAcdAgent } from '../sandbox-acd';
import {
  AMAZON_CONNECT_EMULATOR_CREDENTIALS, AmazonConnectEmulator, type AmazonConnectEmulatorOptions, type EmulatedStatus, type EmulatedUser,
} from './amazon-connect-emulator';

/** Connect ids are UUIDs; the sandbox's are fixed (bookmarked audit links survive a restart), one prefix per kind. */
const connectId = (kind: string, i: number) => `${kind}-0000-4000-8000-${String(i + 1).padStart(12, '0')}`;
const PROFILE = 'c0ffee01';
const STATUS = 'c0ffee02';
const USER = 'c0ffee03';
const ROUTABLE_NAME = 'Available';
const OFFLINE_NAME = 'Offline';

/**
 * The sandbox catalog as an Amazon Connect instance: teams become routing profiles (by name), every distinct code a
 * CUSTOM agent status (statuses are instance-wide in Connect, so every team can pick every one), agents users in
 * their team's routing profile, logged out when the catalog has them Offline.
 *
 * @throws Error for a seed Connect cannot hold: Unavailable without a code (Connect has no Unavailable without a
 *   CUSTOM status), Busy or AfterWork (they come from contacts), a code named like the ROUTABLE or OFFLINE status
 */
export function amazonConnectSeedOf(catalog: { teams: EmulatorTeam[]; agents: EmulatorAgentSeed[] }): Pick<AmazonConnectEmulatorOptions, 'statuses' | 'routingProfiles' | 'users'> {
  const routingProfiles = catalog.teams.map((t, i) => ({ id: connectId(PROFILE, i), name: t.name }));
  const profileOf = new Map(catalog.teams.map((t, i) => [t.teamId, routingProfiles[i].id]));
  const codes = [...new Set(catalog.teams.flatMap((t) => t.unavailableCodes))];
  const clash = codes.find((c) => c === ROUTABLE_NAME || c === OFFLINE_NAME);
  if (clash) throw new Error(`amazonConnectSeedOf: code ${clash} has the name of Connect's ${clash === ROUTABLE_NAME ? 'ROUTABLE' : 'OFFLINE'} status`);
  const statuses: EmulatedStatus[] = [
    { id: connectId(STATUS, 0), name: ROUTABLE_NAME, type: 'ROUTABLE' },
    { id: connectId(STATUS, 1), name: OFFLINE_NAME, type: 'OFFLINE' },
    ...codes.map((name, i): EmulatedStatus => ({ id: connectId(STATUS, i + 2), name, type: 'CUSTOM' })),
  ];
  const users = catalog.agents.map((a, i): EmulatedUser => {
    const user: EmulatedUser = { id: connectId(USER, i), username: a.email.split('@')[0], email: a.email, routingProfileId: profileOf.get(a.teamId) ?? routingProfiles[0]?.id ?? connectId(PROFILE, 0) };
    const s = a.state;
    if (s.state === 'Offline') return { ...user, loggedIn: false };
    if (s.state === 'Available') return { ...user, statusId: statuses[0].id };
    if (s.state === 'Unavailable' && s.code) {
      const status = statuses.find((x) => x.type === 'CUSTOM' && x.name === s.code);
      if (!status) throw new Error(`amazonConnectSeedOf: agent ${a.email} starts in ${s.code}, which no team has as a code`);
      return { ...user, statusId: status.id };
    }
    throw new Error(`amazonConnectSeedOf: agent ${a.email} cannot start ${s.state}${s.state === 'Unavailable' ? ' without a code (Connect has no Unavailable without a CUSTOM status)' : ' (it comes from contacts)'}`);
  });
  return { statuses, routingProfiles, users };
}

/** Options of {@link AmazonConnectSandboxAcd}. */
export interface AmazonConnectSandboxAcdOptions {
  /**
   * The daemon's Connect API rate (AMAZON_CONNECT_REQUESTS_PER_SECOND and AMAZON_CONNECT_BURST). Default 10 and 20:
   * the emulator enforces no quota, and at the production default (1.5/s) the boot's reads for the sandbox's 20 agents
   * (about 40 calls) would take some 25 s before the page syncs anything.
   */
  requestsPerSecond?: number;
  burst?: number;
  /** Emulator settings beyond the catalog (ports, shards, page size). */
  emulator?: Partial<Omit<AmazonConnectEmulatorOptions, 'statuses' | 'routingProfiles' | 'users'>>;
}

/**
 * The sandbox's contact center as an Amazon Connect instance (SANDBOX_ACD=amazon-connect): the Connect API and the
 * agent event stream (Kinesis) of the in-process emulator. The daemon's connector reads the stream and calls the
 * API; nothing is pushed to the daemon's webhook, so `daemonListening` has nothing to do. AWS credentials reach the
 * daemon's SDK through the standard chain: `sdkEnv` gives the emulator's as AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
 *
 * Connect's rules show on the page: Unavailable needs a code (a CUSTOM status); a status picked during a contact
 * or after-contact work is the agent's next status (`next`), applied when the contacts end.
 */
export class AmazonConnectSandboxAcd implements SandboxAcd {
  readonly vendor = 'amazon-connect' as const;
  private em?: AmazonConnectEmulator;
  private endpoints?: { endpoint: string; kinesisEndpoint: string };

  constructor(private readonly options: AmazonConnectSandboxAcdOptions = {}) {}

  async start(catalog: { teams: EmulatorTeam[]; agents: EmulatorAgentSeed[] }): Promise<void> {
    this.em = new AmazonConnectEmulator({ ...this.options.emulator, ...amazonConnectSeedOf(catalog) });
    this.endpoints = await this.em.start();
  }

  get emulator(): AmazonConnectEmulator {
    if (!this.em) throw new Error('AmazonConnectSandboxAcd: not started');
    return this.em;
  }

  /** The Connect API's base URL (the Kinesis endpoint is in `daemonEnv`). */
  get url(): string {
    return this.endpoints?.endpoint ?? '';
  }

  daemonEnv(): Record<string, string> {
    const em = this.emulator;
    const o = this.options;
    return {
      ACD_CONNECTOR: 'amazon-connect', AMAZON_CONNECT_INSTANCE_ID: em.instanceId, AMAZON_CONNECT_REGION: em.region,
      AMAZON_CONNECT_AGENT_EVENT_STREAM: em.streamName, AMAZON_CONNECT_ENDPOINT: this.endpoints?.endpoint ?? '',
      AMAZON_CONNECT_KINESIS_ENDPOINT: this.endpoints?.kinesisEndpoint ?? '',
      AMAZON_CONNECT_REQUESTS_PER_SECOND: String(o.requestsPerSecond ?? 10), AMAZON_CONNECT_BURST: String(o.burst ?? 20),
    };
  }

  /** The emulator's static credentials for the SDK's credential chain; a session token of the caller's is unset. */
  sdkEnv(): Record<string, string | undefined> {
    return {
      AWS_ACCESS_KEY_ID: AMAZON_CONNECT_EMULATOR_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: AMAZON_CONNECT_EMULATOR_CREDENTIALS.secretAccessKey,
      AWS_SESSION_TOKEN: undefined,
    };
  }

  async daemonListening(_daemonUrl: string): Promise<void> {
    // The connector reads the agent event stream itself.
  }

  agents(): SandboxAcdAgent[] {
    return this.emulator.snapshot().map((u) => {
      const agent: SandboxAcdAgent = { agentId: u.id, email: u.email ?? u.username, teamId: u.routingProfileId, teamName: u.routingProfileName, state: u.state, since: u.since };
      if (u.next) agent.next = u.next;
      return agent;
    });
  }

  /**
   * The agent picks a status in the CCP: Available (the ROUTABLE status), Unavailable with a code (that CUSTOM
   * status), Offline (logs out). On a contact or in after-contact work the pick is the next status.
   */
  agentSetState(agentId: string, state: AcdState): void {
    const em = this.emulator;
    const user = em.user(agentId);
    if (state.state === 'Busy' || state.state === 'AfterWork') throw new Error(`agentSetState: ${state.state} comes from contacts; use startCall / endCall / endWrapUp`);
    if (state.state === 'Unavailable' && !state.code) throw new Error('Amazon Connect has no Unavailable without a status: pick a code (a CUSTOM agent status)');
    const name = state.state === 'Available' ? ROUTABLE_NAME : state.state === 'Offline' ? OFFLINE_NAME : (state.code as string);
    const status = em.statusByName(name);
    if (!status) throw new Error(`Amazon Connect has no agent status ${name}`);
    if (user.contacts.length > 0) return em.setNextStatus(agentId, status.id);
    if (state.state === 'Offline' && !user.loggedIn) return;
    em.agentSetStatus(agentId, status.id);
  }

  startCall(agentId: string): void {
    const user = this.emulator.user(agentId);
    if (!user.loggedIn) throw new Error(`${agentId} is logged out: Connect routes no contact to them`);
    if (user.contacts.length > 0) throw new Error(`${agentId} is already on a contact`);
    this.emulator.startContact(agentId);
  }

  /** The call ends into after-contact work (the default), or with `wrapUp: false` straight to the next status. */
  endCall(agentId: string, options: { wrapUp?: boolean } = {}): void {
    if (!this.emulator.user(agentId).contacts.some((c) => c.state === 'CONNECTED')) throw new Error(`${agentId} is not on a call`);
    this.emulator.endContact(agentId, { acw: options.wrapUp ?? true });
  }

  endWrapUp(agentId: string): void {
    const contacts = this.emulator.user(agentId).contacts;
    if (contacts.length === 0 || contacts.some((c) => c.state === 'CONNECTED')) throw new Error(`${agentId} is not in after-contact work`);
    this.emulator.endAcw(agentId);
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
