/**
 * The refresh token currently valid for the org, with where it came from. With refresh-token rotation on,
 * Salesforce answers every refresh with a new token and invalidates the one used, so this value changes on
 * every refresh and must survive restarts and be shared by replicas.
 */
export interface StoredRefreshToken {
  /** The refresh token itself (a secret: never logged, never put in a job or an error). */
  token: string;
  /**
   * A fingerprint of the configured token the stored one descends from. When the operator configures a new
   * token (after a revocation, say), its fingerprint differs and the configured token supersedes the stored one.
   */
  origin: string;
}

/**
 * Where the daemon keeps "the current refresh token" (`SALESFORCE_AUTH=refresh-token`). Salesforce's refresh
 * token rotation makes each token single use, and reusing a rotated-out token revokes the current one and every
 * access token issued from it: so a refresh reads the stored token, exchanges it and stores the new one, all
 * while holding `withLock`, which excludes every other holder in every replica.
 */
export abstract class RefreshTokenStore {
  /** The stored token, or undefined when nothing is stored yet. */
  abstract get(): Promise<StoredRefreshToken | undefined>;

  /**
   * Stores `next` if the stored token is still `expected` (undefined: nothing stored); returns whether it did.
   * Under the lock it always should; false means another holder got in (a lock lost to a long pause).
   */
  abstract compareAndSet(expected: string | undefined, next: StoredRefreshToken): Promise<boolean>;

  /**
   * Runs `fn` while holding the lock shared by every replica, waiting for it if another holds it. Waiting
   * longer than the store's bound throws `RetryableWriteError('refresh-lock')`.
   */
  abstract withLock<T>(fn: () => Promise<T>): Promise<T>;
}
