import { assignPartitions, partitionsOf } from './partition-assignment';

const counts = (owners: (string | undefined)[]) => {
  const c = new Map<string, number>();
  for (const o of owners) if (o) c.set(o, (c.get(o) ?? 0) + 1);
  return c;
};

describe(assignPartitions.name, () => {
  it.each([
    // partitions, members, largest share allowed
    [1, ['a'], 1],
    [8, ['a'], 8],
    [8, ['a', 'b'], 4],
    [8, ['a', 'b', 'c'], 3],
    [16, ['r1', 'r2', 'r3', 'r4', 'r5'], 4],
    [3, ['a', 'b', 'c', 'd'], 1],
    [64, ['a', 'b', 'c'], 22],
  ])('%i partitions over %j: every partition has one owner, none has more than %i', (partitions, members, cap) => {
    const owners = assignPartitions(partitions, members);
    expect(owners).toHaveLength(partitions);
    expect(owners.every((o) => o !== undefined && members.includes(o))).toBe(true);
    for (const n of counts(owners).values()) expect(n).toBeLessThanOrEqual(cap);
  });

  it('gives nothing to nobody when no replica is alive', () => {
    expect(assignPartitions(4, [])).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('answers the same whatever order the members are listed in, and ignores repeats', () => {
    expect(assignPartitions(32, ['c', 'a', 'b', 'a'])).toEqual(assignPartitions(32, ['a', 'b', 'c']));
  });

  it('a replica joining takes about its share and moves little else', () => {
    const before = assignPartitions(60, ['a', 'b', 'c']);
    const after = assignPartitions(60, ['a', 'b', 'c', 'd']);
    const moved = before.filter((o, p) => o !== after[p]);
    const toNewcomer = after.filter((o, p) => o === 'd' && before[p] !== 'd').length;
    expect(toNewcomer).toBe(15);
    // Besides the newcomer's 15, a few may shift to keep the shares even; far from a reshuffle of all 60.
    expect(moved.length).toBeLessThan(30);
  });

  it('a replica leaving hands its partitions to the others; theirs mostly stay', () => {
    const before = assignPartitions(60, ['a', 'b', 'c', 'd']);
    const after = assignPartitions(60, ['a', 'b', 'c']);
    const stayed = before.filter((o, p) => o !== 'd' && o === after[p]).length;
    expect(stayed).toBeGreaterThan(30);
    expect(partitionsOf('d', after)).toEqual([]);
  });

  it('partitionsOf lists a member\'s partitions in order', () => {
    expect(partitionsOf('x', ['x', 'y', 'x', undefined])).toEqual([0, 2]);
  });
});
