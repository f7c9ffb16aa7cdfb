/** The engine's tunables (from the validated config; see docs/architecture.md). */
export abstract class EngineSettings {
  /** How long a state we wrote is recognised as our own when reported back, ms. */
  abstract readonly echoWindowMs: number;
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
}
