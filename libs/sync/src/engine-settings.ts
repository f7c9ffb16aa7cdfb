import type { CoreSettings } from './agent-transitions';

/** The engine's tunables (from the validated config; see docs/architecture.md). */
export abstract class EngineSettings implements CoreSettings {
  /** How long a state we wrote is recognised as our own when reported back, ms. */
  abstract readonly echoWindowMs: number;
  /** How long a write the contact center deferred (agent on a contact) is expected to land, ms. */
  abstract readonly deferredWindowMs: number;
  /** Per agent and side, at most one write per this window while changes keep coming, ms (0 = no damping). */
  abstract readonly burstWindowMs: number;
  /** The code of the system-default Unavailable (skipUnavailableCodeValidation), or none. */
  abstract readonly defaultUnavailableCode?: string;
  /** Attempts of an outbound write before it is failed. */
  abstract readonly syncAttempts: number;
  /** How long the presence stream has to show a status we sent, ms. */
  abstract readonly confirmTimeoutMs: number;
  /** Sends of one Salesforce command before it is failed. */
  abstract readonly confirmAttempts: number;
  /** How long a console command stays valid, ms. */
  abstract readonly commandTtlMs: number;
  /** A write held for a closed console is tried again after this long even if no return was announced, ms. */
  abstract readonly consoleRecheckMs: number;
  /** The connector refuses writes during a contact (`onContact: 'refused'`): the engine holds them until it ends. */
  abstract readonly acdRefusesOnContact?: boolean;
  /** The sync backoff: a write whose attempt failed is not sent again before it (SYNC_BACKOFF_MS × 2^(attempt-1)), ms. */
  abstract readonly retryBackoffMs?: number;
}
