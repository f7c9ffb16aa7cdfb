import { settledWithin } from '../deadline';

/**
 * Names what is being closed until its close settles, so a shutdown that runs out of time can say what it
 * could not close instead of just hanging or exiting silently.
 */
export class OpenResources {
  private readonly pending = new Set<string>();

  /** Starts tracking each `[name, close]` and waits at most `ms` for all of them: true when all settled in time. */
  within(ms: number, ...closes: (readonly [string, Promise<unknown>])[]): Promise<boolean> {
    const all = closes.map(([name, close]) => {
      this.pending.add(name);
      return close.then(() => undefined, () => undefined).finally(() => this.pending.delete(name));
    });
    return settledWithin(Promise.all(all), ms);
  }

  /** The names whose close has not settled yet, in the order they were started. */
  open(): string[] {
    return [...this.pending];
  }
}
