import { createHash } from 'node:crypto';

/** How much member `member` wants partition `partition` (rendezvous hashing): the first 48 bits of a SHA-1. */
function weight(member: string, partition: number): number {
  return parseInt(createHash('sha1').update(`${member}\n${partition}`).digest('hex').slice(0, 12), 16);
}

/**
 * Which live replica works each partition. Every replica computes this from the same member list and gets the
 * same answer, with no coordination beyond the list:
 * - each partition goes to exactly one member (none when there are no members);
 * - balanced: no member gets more than ⌈partitions / members⌉;
 * - stable: partitions go to the member that weighs them highest (rendezvous hashing) unless it is full, so a
 *   member joining or leaving moves few partitions besides its own share;
 * - independent of the order the members are listed in.
 * @returns the owner of partition n at index n (undefined without members)
 */
export function assignPartitions(partitions: number, members: readonly string[]): (string | undefined)[] {
  const live = [...new Set(members)].sort();
  if (live.length === 0) return Array.from({ length: partitions }, () => undefined);
  const cap = Math.ceil(partitions / live.length);
  const load = new Map(live.map((m) => [m, 0]));
  const owners: (string | undefined)[] = [];
  for (let p = 0; p < partitions; p++) {
    const ranked = live.map((m) => ({ m, w: weight(m, p) })).sort((a, b) => b.w - a.w || (a.m < b.m ? -1 : 1));
    const owner = ranked.find((r) => (load.get(r.m) ?? 0) < cap)?.m ?? ranked[0].m;
    load.set(owner, (load.get(owner) ?? 0) + 1);
    owners.push(owner);
  }
  return owners;
}

/** The partitions `member` works under {@link assignPartitions}. */
export function partitionsOf(member: string, owners: readonly (string | undefined)[]): number[] {
  const mine: number[] = [];
  owners.forEach((o, p) => {
    if (o === member) mine.push(p);
  });
  return mine;
}
