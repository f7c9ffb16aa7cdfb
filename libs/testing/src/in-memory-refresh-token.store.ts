import { RefreshTokenStore, type StoredRefreshToken } from '@presence-sync/domain';

/**
 * The refresh-token store in memory: one process, several sessions (the "replicas" of a unit or integration
 * test). `withLock` runs holders one after the other. No encryption: nothing leaves the process.
 */
export class InMemoryRefreshTokenStore extends RefreshTokenStore {
  private value?: StoredRefreshToken;
  private queue: Promise<unknown> = Promise.resolve();
  /** Successful writes, for tests that count refreshes. */
  writes = 0;

  async get(): Promise<StoredRefreshToken | undefined> {
    return this.value && { ...this.value };
  }

  async compareAndSet(expected: string | undefined, next: StoredRefreshToken): Promise<boolean> {
    if (this.value?.token !== expected) return false;
    this.value = { ...next };
    this.writes += 1;
    return true;
  }

  withLock<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
