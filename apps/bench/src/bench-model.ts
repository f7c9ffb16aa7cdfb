import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acdStateKey, type AcdState } from '@presence-sync/domain';
import type { EmulatorAgentSeed, EmulatorTeam } from '@presence-sync/testing';

/**
 * The benchmark's org: its teams, agents and the one rule table every generated rule file carries, so the
 * driver knows which write each change must cause. Calls (Busy, AfterWork) come from contacts; Offline is left
 * out of the mix (a logout's Offline is held for SALESFORCE_OFFLINE_HOLD_MS on purpose, which is not latency).
 */
export const BENCH_TEAMS: EmulatorTeam[] = [
  { teamId: 't-voice', name: 'Voice', unavailableCodes: ['Lunch', 'Break', 'System', 'Meeting'] },
  { teamId: 't-blended', name: 'Blended', unavailableCodes: ['Lunch', 'Break', 'System', 'Coaching'] },
  { teamId: 't-digital', name: 'Digital', unavailableCodes: ['Lunch', 'Break', 'System', 'Admin'] },
];

/** Contact center → Salesforce. */
const PUBLISHER: { acd: AcdState; salesforce: string }[] = [
  { acd: { state: 'Available' }, salesforce: 'Available_All' },
  { acd: { state: 'Unavailable', code: 'Lunch' }, salesforce: 'Lunch' },
  { acd: { state: 'Unavailable', code: 'Break' }, salesforce: 'Break' },
  { acd: { state: 'Unavailable' }, salesforce: 'Busy' },
  { acd: { state: 'Busy' }, salesforce: 'Busy_On_Call' },
  { acd: { state: 'AfterWork' }, salesforce: 'Busy' },
  { acd: { state: 'Offline' }, salesforce: 'Offline' },
];

/** Salesforce → contact center. */
const SUBSCRIBER: { salesforce: string; acd: AcdState }[] = [
  { salesforce: 'Available_All', acd: { state: 'Available' } },
  { salesforce: 'Available_Chat', acd: { state: 'Available' } },
  { salesforce: 'Lunch', acd: { state: 'Unavailable', code: 'Lunch' } },
  { salesforce: 'Break', acd: { state: 'Unavailable', code: 'Break' } },
  { salesforce: 'Busy', acd: { state: 'Unavailable', code: 'System' } },
  { salesforce: 'Training', acd: { state: 'Unavailable', code: 'System' } },
  { salesforce: 'Offline', acd: { state: 'Offline' } },
];

/** Statuses an agent picks in the console during the benchmark. */
export const AGENT_STATUSES = ['Available_All', 'Available_Chat', 'Lunch', 'Break', 'Busy', 'Training'] as const;
/** States an agent picks in the desktop (calls come on top). */
export const DESKTOP_STATES: AcdState[] = [
  { state: 'Available' }, { state: 'Unavailable', code: 'Lunch' }, { state: 'Unavailable', code: 'Break' }, { state: 'Unavailable', code: 'System' },
];

/** The Salesforce status the rules want for an ACD state (the most specific publisher row). */
export function publish(acd: AcdState): string {
  const row = PUBLISHER.find((r) => r.acd.state === acd.state && r.acd.code === acd.code)
    ?? PUBLISHER.find((r) => r.acd.state === acd.state && r.acd.code === undefined);
  if (!row) throw new Error(`bench rules: no publisher row for ${acdStateKey(acd)}`);
  return row.salesforce;
}

/** The ACD state the rules want for a Salesforce status. */
export function subscribe(status: string): AcdState {
  const row = SUBSCRIBER.find((r) => r.salesforce === status);
  if (!row) throw new Error(`bench rules: no subscriber row for ${status}`);
  return row.acd;
}

export interface BenchAgent extends EmulatorAgentSeed {
  /** Salesforce username (the e-mail in lower case). */
  username: string;
}

export function benchAgents(count: number): BenchAgent[] {
  return Array.from({ length: count }, (_, i) => {
    const email = `agent${String(i + 1).padStart(6, '0')}@bench.example.com`;
    return { agentId: `b-${i + 1}`, email, username: email, teamId: BENCH_TEAMS[i % BENCH_TEAMS.length].teamId, state: { state: 'Available' } };
  });
}

/**
 * Writes `count` rule files into `dir`: one for every team and `count - 1` per-user rules (the same tables,
 * assigned to single agents), as a large org grows them. Returns the directory.
 */
export function writeBenchRules(dir: string, count: number, agents: BenchAgent[]): string {
  mkdirSync(dir, { recursive: true });
  const table = { skipUnavailableCodeValidation: false, conflictPolicy: 'latest', publisher: PUBLISHER, subscriber: SUBSCRIBER };
  writeFileSync(join(dir, 'all-teams.json'), JSON.stringify({ name: 'all-teams', ...table, assign: { teams: BENCH_TEAMS.map((t) => t.name) } }, null, 2));
  // Spread over the agents, one rule per user at most (a user named by two rules is a conflict).
  const perUser = Math.min(count - 1, agents.length);
  for (let i = 1; i <= perUser; i++) {
    const agent = agents[Math.floor(((i - 1) * agents.length) / perUser)];
    writeFileSync(join(dir, `user-${i}.json`), JSON.stringify({ name: `user-${i}`, ...table, assign: { users: [agent.email] } }, null, 2));
  }
  return dir;
}
