import type { AcdState } from '@presence-sync/domain';
import type { Rng } from './seeded-random';

/**
 * ACD states and the Salesforce statuses they map to one-to-one under the engine test rules (Tier 1 and Tier 2
 * agents), so a change from either side has exactly one expected state on the other.
 */
export const STATE_PAIRS: readonly { acd: AcdState; sf: string }[] = [
  { acd: { state: 'Available' }, sf: 'Available_Chat' },
  { acd: { state: 'Unavailable', code: 'Lunch' }, sf: 'Lunch' },
  { acd: { state: 'Unavailable', code: 'Break' }, sf: 'Break' },
];

export const sameState = (a: AcdState | undefined, b: AcdState): boolean => a?.state === b.state && a?.code === b.code;

/** Paces a load generator between rounds; never used to wait for a result (that is `waitFor`). */
export const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Picks the agent's next pair (seeded), always a different one from its last, and remembers it. */
export function nextPair(rng: Rng, agent: { last: number }): { acd: AcdState; sf: string } {
  let next = Math.floor(rng() * STATE_PAIRS.length);
  if (next === agent.last) next = (next + 1) % STATE_PAIRS.length;
  agent.last = next;
  return STATE_PAIRS[next];
}
