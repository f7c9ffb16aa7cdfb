/** Base of every named error of the project. */
export class PresenceSyncError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * The `PermanentWriteError.reason` of a contact center that refuses a state write because the agent is on a
 * contact (it queues no next state): the engine holds the write and sends it when the contact ends.
 */
export const ON_CONTACT_REASON = 'on-contact';

/** The other side refused the write for good (unknown agent, bad code, logged out): no retry, audited. */
export class PermanentWriteError extends PresenceSyncError {
  constructor(readonly reason: string, message: string, readonly httpStatus?: number) {
    super(message);
  }
}

/** A passing failure (5xx, network, console not open yet): retried with backoff. */
export class RetryableWriteError extends PresenceSyncError {
  constructor(readonly reason: string, message: string, readonly httpStatus?: number) {
    super(message);
  }
}

/** The other side asked us to slow down; `retryAfterMs` is how long the whole queue should pause. */
export class RateLimitedError extends PresenceSyncError {
  constructor(readonly retryAfterMs: number, message: string) {
    super(message);
  }
}

/** A setting is missing or invalid; the message is one readable line naming the setting. */
export class ConfigError extends PresenceSyncError {}
