import type { AcdState, ConnectorName } from '@presence-sync/domain';
import type { EmulatorAgentSeed, EmulatorTeam } from './contact-center-emulator';

/** One agent as the sandbox page shows it, in the vendor's own ids. */
export interface SandboxAcdAgent {
  agentId: string;
  email: string;
  teamId: string;
  teamName: string;
  state: AcdState;
  /** Epoch ms since when `state` holds. */
  since: number;
  /** A state the vendor will apply after the current contact, when it queues one. */
  next?: AcdState;
}

/**
 * A contact center for the sandbox (`npm run demo`, setting SANDBOX_ACD): one vendor's emulator seeded with the
 * sandbox's teams (by name) and agents (by e-mail), in that vendor's own ids, shapes and codes. The sandbox page
 * drives it through these methods only, whichever vendor it is.
 */
export interface SandboxAcd {
  readonly vendor: ConnectorName;
  /** The emulator's base URL, shown on the page and by `npm run demo` (once started). */
  readonly url?: string;
  /** Starts the emulator with the sandbox catalog. */
  start(catalog: { teams: EmulatorTeam[]; agents: EmulatorAgentSeed[] }): Promise<void>;
  /** The settings that point the daemon's connector at this emulator (ACD_CONNECTOR and the vendor's own). */
  daemonEnv(): Record<string, string>;
  /**
   * Variables the vendor's SDK reads from the process environment itself, not through the daemon's config (the
   * AWS credential chain); `undefined` unsets one. The sandbox sets them before the daemon starts and puts the
   * previous values back on stop.
   */
  sdkEnv?(): Record<string, string | undefined>;
  /** The daemon listens at `daemonUrl`: a webhook vendor delivers its events there from now on. */
  daemonListening(daemonUrl: string): Promise<void>;
  agents(): SandboxAcdAgent[];
  /** The agent picks a state at their desktop (Available, Unavailable with a code, Offline). */
  agentSetState(agentId: string, state: AcdState): void;
  startCall(agentId: string): void;
  endCall(agentId: string, options?: { wrapUp?: boolean }): void;
  endWrapUp(agentId: string): void;
  /** The emulator answers the connector's next `count` API calls with `status` (429 with `Retry-After`). */
  failNext(count: number, status: number, options?: { retryAfterSec?: number }): void;
  /** Called with an agent id whenever that agent's state changes, whoever changed it. */
  onStateChange(listener: (agentId: string) => void): void;
  stop(): Promise<void>;
}
