/**
 * Runs tasks one after another per key, in the order they were submitted; different keys run side by side.
 * The inbound worker takes jobs in queue order but runs up to its concurrency at once: two changes of one
 * agent (say the echo of our write and the agent's next click, queued together from one stream batch) would
 * otherwise race, and the later one could be observed first.
 */
export class KeyedSerializer {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.then(() => undefined, () => undefined);
    this.tails.set(key, tail);
    // The map holds only keys with work queued: the last task of a key removes it.
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Keys with a task running or waiting. */
  get size(): number {
    return this.tails.size;
  }
}
