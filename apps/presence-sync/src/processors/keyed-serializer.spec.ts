import { KeyedSerializer } from './keyed-serializer';

const tick = () => new Promise((r) => setImmediate(r));

describe(KeyedSerializer.name, () => {
  it('runs the tasks of one key one at a time, in submission order, and other keys alongside', async () => {
    const s = new KeyedSerializer();
    const log: string[] = [];
    const gates = new Map<string, () => void>();
    const task = (name: string) => () => new Promise<string>((resolve) => {
      log.push(`start ${name}`);
      gates.set(name, () => { log.push(`end ${name}`); resolve(name); });
    });
    const a1 = s.run('a', task('a1'));
    const a2 = s.run('a', task('a2'));
    const b1 = s.run('b', task('b1'));
    await tick();
    expect(log).toEqual(['start a1', 'start b1']);
    gates.get('a1')!();
    await tick();
    expect(log).toEqual(['start a1', 'start b1', 'end a1', 'start a2']);
    gates.get('b1')!();
    gates.get('a2')!();
    await expect(Promise.all([a1, a2, b1])).resolves.toEqual(['a1', 'a2', 'b1']);
    await tick();
    expect(s.size).toBe(0);
  });

  it('a failing task rejects its own caller only; the next task of the key still runs', async () => {
    const s = new KeyedSerializer();
    const failed = s.run('a', () => Promise.reject(new Error('boom')));
    const next = s.run('a', () => Promise.resolve('ok'));
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ok');
  });
});
