import { KeyedRuns } from './keyed-runs';

const tick = () => new Promise((resolve) => setImmediate(resolve));

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => { open = resolve; });
  return { promise, open };
}

describe('KeyedRuns', () => {
  it('runs one task per key at a time; asks during a run collapse into one more run of the latest task', async () => {
    const runs = new KeyedRuns(4, () => undefined);
    const seen: string[] = [];
    const first = gate();
    runs.run('k', 0, async () => { seen.push('first'); await first.promise; });
    runs.run('k', 0, async () => { seen.push('second'); });
    runs.run('k', 0, async () => { seen.push('third'); });
    await tick();
    expect(seen).toEqual(['first']);
    first.open();
    await runs.idle();
    expect(seen).toEqual(['first', 'third']);
  });

  it('an ask that may be dropped is dropped while the key runs', async () => {
    const runs = new KeyedRuns(4, () => undefined);
    const seen: string[] = [];
    const first = gate();
    runs.run('k', 0, async () => { seen.push('first'); await first.promise; });
    runs.run('k', 0, async () => { seen.push('dropped'); }, false);
    first.open();
    await runs.idle();
    expect(seen).toEqual(['first']);
  });

  it('holds at most `limit` tasks at once; idle(group) waits for that group only', async () => {
    const runs = new KeyedRuns(2, () => undefined);
    const gates = [gate(), gate(), gate()];
    let running = 0;
    let most = 0;
    gates.forEach((g, i) => runs.run(`k${i}`, i === 2 ? 1 : 0, async () => {
      running++;
      most = Math.max(most, running);
      await g.promise;
      running--;
    }));
    await tick();
    expect(running).toBe(2);
    let group1Idle = false;
    const waiting = runs.idle(1).then(() => { group1Idle = true; });
    gates[0].open();
    gates[1].open();
    await tick();
    await tick();
    expect(group1Idle).toBe(false);
    gates[2].open();
    await waiting;
    await runs.idle();
    expect(most).toBe(2);
    expect(runs.size).toBe(0);
  });

  it('a failing task is reported and does not stop its key', async () => {
    const errors: string[] = [];
    const runs = new KeyedRuns(1, (key, e) => errors.push(`${key}: ${(e as Error).message}`));
    runs.run('k', 0, async () => { throw new Error('boom'); });
    await runs.idle();
    let ran = false;
    runs.run('k', 0, async () => { ran = true; });
    await runs.idle();
    expect({ errors, ran }).toEqual({ errors: ['k: boom'], ran: true });
  });
});
