/**
 * Runs tasks in process, at most `limit` at once, one at a time per key: a task asked for again while its key
 * runs is run once more after it (asks in between collapse into the latest one), unless the ask says it may be
 * dropped. Tasks are grouped (a partition), so giving a group up can wait for its running tasks.
 */
export class KeyedRuns {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly active = new Map<string, { next?: () => Promise<void>; group: number; done: Promise<void> }>();

  constructor(private limit: number, private readonly onError: (key: string, e: unknown) => void) {}

  /** How many tasks run now. */
  get size(): number {
    return this.active.size;
  }

  setLimit(limit: number): void {
    this.limit = Math.max(1, limit);
    this.wake();
  }

  /** Whether a task of a key not running now would start without waiting for a slot. */
  get hasRoom(): boolean {
    return this.active.size < this.limit;
  }

  /** Whether the key runs now. */
  has(key: string): boolean {
    return this.active.has(key);
  }

  /**
   * Runs `task` under `key`. @param repeat run it again after a current run of the key (else a current run is
   * enough: the ask is dropped)
   */
  run(key: string, group: number, task: () => Promise<void>, repeat = true): void {
    const current = this.active.get(key);
    if (current) {
      if (repeat) current.next = task;
      return;
    }
    const entry: { next?: () => Promise<void>; group: number; done: Promise<void> } = { next: task, group, done: Promise.resolve() };
    this.active.set(key, entry);
    entry.done = (async () => {
      while (entry.next) {
        const run = entry.next;
        entry.next = undefined;
        await this.slot();
        try {
          await run();
        } catch (e) {
          this.onError(key, e);
        } finally {
          this.release();
        }
      }
      this.active.delete(key);
    })();
  }

  /** Waits for the running tasks of a group (all groups without one). */
  async idle(group?: number): Promise<void> {
    for (;;) {
      const runs = [...this.active.values()].filter((r) => group === undefined || r.group === group).map((r) => r.done);
      if (runs.length === 0) return;
      await Promise.all(runs);
    }
  }

  /** Waits until one more task may run. */
  slot(): Promise<void> {
    if (this.running < this.limit) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(() => {
      this.running++;
      resolve();
    }));
  }

  release(): void {
    this.running--;
    this.wake();
  }

  private wake(): void {
    while (this.running < this.limit && this.waiting.length > 0) this.waiting.shift()?.();
  }
}
