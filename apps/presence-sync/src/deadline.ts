/** Thrown by `withDeadline` when the work did not settle in time. */
export class DeadlineExceeded extends Error {}

/**
 * The work's result, or a `DeadlineExceeded` (with `message`) once `ms` passed. The work itself goes on; its
 * late outcome is ignored. For calls that would otherwise wait on a reconnect that may never come.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, message = `no answer within ${ms} ms`): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded(message)), ms);
    timer.unref();
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** Waits for the work at most `ms`: true when it finished in time (whether it succeeded or failed). */
export function settledWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  return withDeadline(work.then(() => true, () => true), ms).catch(() => false);
}
