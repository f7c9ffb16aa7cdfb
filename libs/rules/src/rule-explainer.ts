import { acdStateKey, type AcdState, type SettableAcdState, type SyncDirection, type Workload } from '@presence-sync/domain';
import {
  isAtCapacity,
  matchPublisherRow,
  matchSubscriberRow,
  matchWorkload,
  publish,
  subscribe,
  workloadRowRef,
  type PublishDecision,
  type SubscribeContext,
  type SubscribeDecision,
} from './rule-evaluator';
import type { AgentIdentity, CompiledRule, ConflictPolicy, PreviousAcdTarget, RuleSet, RuleVia, WorkloadRow } from './rule-types';

/**
 * A hypothetical change: a Salesforce status the agent picks (optionally while having this Omni-Channel work),
 * an ACD state the agent enters, or Omni-Channel work alone ("what if this agent had open chats").
 */
export type ExplainInput = { salesforce: string; workload?: Workload } | { acd: AcdState } | { workload: Workload };

export type ExplainOutcome = 'write' | 'unmapped' | 'no-previous' | 'no-rule';

/** A workload row as in the file, with its reference (`workload[0]`). */
export interface ExplainWorkloadRow {
  ref: string;
  table: 'workload';
  index: number;
  channel?: string;
  atCapacity?: boolean;
  acd: SettableAcdState;
}

/** The row that decided, as in the file, with its reference (`subscriber[2]`). */
export type ExplainRow =
  | { ref: string; table: 'publisher'; index: number; acd: AcdState; salesforce: string }
  | { ref: string; table: 'subscriber'; index: number; salesforce: string; acd: SettableAcdState | PreviousAcdTarget }
  | ExplainWorkloadRow;

/** The work asked about, with what the rules read from it. */
export interface ExplainWork {
  workload: Workload;
  atCapacity: boolean;
}

/** How a workload table acted on a Salesforce change (`--salesforce` together with work). */
export interface ExplainWorkloadEffect {
  /** The workload row that matches the work, if any. */
  row?: ExplainWorkloadRow;
  /** Whether it replaced the subscriber's state: only an Available one is replaced. */
  applied: boolean;
  detail: string;
}

/** Everything `explain` found out; plain data, so `JSON.stringify` is the JSON output. */
export interface ExplainResult {
  ruleSetVersion: string;
  agent: AgentIdentity;
  direction: SyncDirection;
  input:
    | { side: 'salesforce'; status: string; work?: ExplainWork }
    | { side: 'acd'; state: AcdState }
    | { side: 'workload'; work: ExplainWork };
  rule?: {
    name: string;
    file: string;
    via: RuleVia;
    conflictPolicy: ConflictPolicy;
    skipUnavailableCodeValidation: boolean;
  };
  table?: 'publisher' | 'subscriber' | 'workload';
  row?: ExplainRow;
  /** With a Salesforce status and work: what the workload table did to the subscriber's decision. */
  workload?: ExplainWorkloadEffect;
  outcome: ExplainOutcome;
  /**
   * The write the daemon would make (unless the other side already shows it). `via: 'workload'`: a workload
   * row's state, set in place of Available while the row matches.
   */
  write?:
    | { side: 'salesforce'; status: string }
    | { side: 'acd'; state: SettableAcdState; via: 'row' | 'previous' | 'default-unavailable' | 'workload' };
  decision?: PublishDecision | SubscribeDecision;
  /** One sentence: why this write, or why nothing happens. */
  reason: string;
  /**
   * What the answer rests on that was not known (a catalog not read, a state not found): where the daemon, which
   * knows it, may decide otherwise. Empty when the answer rests on nothing missing.
   */
  notes: string[];
}

function describeAgent(agent: AgentIdentity): string {
  const parts = [agent.agentId];
  if (agent.email && agent.email.toLowerCase() !== agent.agentId.toLowerCase()) parts.push(`<${agent.email}>`);
  const team = agent.teamName ?? agent.teamId;
  if (team) parts.push(`team "${team}"`);
  return parts.join(' ');
}

function explainWork(workload: Workload): ExplainWork {
  return { workload: { channels: { ...workload.channels }, load: workload.load, capacity: workload.capacity }, atCapacity: isAtCapacity(workload) };
}

/** `1 open "sfdc_liveagent", at capacity (load 3 of 3)`; `no open work, not at capacity (load 0 of 3)`. */
export function describeWork(work: ExplainWork): string {
  const items = Object.entries(work.workload.channels).filter(([, n]) => n > 0);
  const open = items.length > 0 ? items.map(([channel, n]) => `${n} open "${channel}"`).join(', ') : 'no open work';
  const capacity = work.workload.capacity > 0 ? ` (load ${work.workload.load} of ${work.workload.capacity})` : ' (capacity unknown)';
  return `${open}, ${work.atCapacity ? 'at capacity' : 'not at capacity'}${capacity}`;
}

function workloadRowView(row: WorkloadRow): ExplainWorkloadRow {
  return {
    ref: workloadRowRef(row),
    table: 'workload',
    index: row.index,
    ...(row.channel === undefined ? {} : { channel: row.channel }),
    ...(row.atCapacity ? { atCapacity: true } : {}),
    acd: { ...row.acd },
  };
}

function workloadConditions(row: WorkloadRow): string {
  const parts = [row.channel === undefined ? '' : `open "${row.channel}" work`, row.atCapacity ? 'at capacity' : ''];
  return parts.filter(Boolean).join(' and ');
}

/** Why no workload row matches this work (or why the rule cannot react to work at all). */
function noWorkloadRow(rule: CompiledRule, work: ExplainWork): string {
  if (rule.workload.length === 0) return 'the rule has no workload table: Omni-Channel work does not change the ACD state';
  return `no workload row matches ${describeWork(work)}: the ACD state is left as the other rows decide`;
}

/**
 * Answers "if this agent's Salesforce status became Y (or ACD state became X, or the agent had this Omni-Channel
 * work), what would the daemon do, and why". Pure: the caller supplies the agent's identity and team, and the
 * context (previous state, team codes).
 */
export function explain(ruleSet: RuleSet, agent: AgentIdentity, input: ExplainInput, ctx: SubscribeContext = {}): ExplainResult {
  const asked = 'acd' in input ? undefined : input.workload;
  const work = asked === undefined ? undefined : explainWork(asked);
  const base = {
    notes: [] as string[],
    ruleSetVersion: ruleSet.version,
    agent: { ...agent },
    direction: ('acd' in input ? 'acd->salesforce' : 'salesforce->acd') as SyncDirection,
    input:
      'salesforce' in input
        ? ({ side: 'salesforce', status: input.salesforce, ...(work ? { work } : {}) } as const)
        : 'acd' in input
          ? ({ side: 'acd', state: { ...input.acd } } as const)
          : ({ side: 'workload', work: work! } as const),
  };
  const match = ruleSet.ruleFor(agent);
  if (!match) {
    return { ...base, outcome: 'no-rule', reason: `no rule is assigned to ${describeAgent(agent)} (by user or team): the agent is not synced` };
  }
  const { rule, via } = match;
  const ruleInfo = {
    name: rule.name,
    file: rule.file,
    via,
    conflictPolicy: rule.conflictPolicy,
    skipUnavailableCodeValidation: rule.skipUnavailableCodeValidation,
  };

  if ('acd' in input) {
    const decision = publish(rule, input.acd);
    const row = matchPublisherRow(rule, input.acd);
    const shown = acdStateKey(input.acd);
    if (decision.kind === 'unmapped' || !row) {
      return {
        ...base,
        rule: ruleInfo,
        table: 'publisher',
        outcome: 'unmapped',
        decision,
        reason: `no publisher row matches ${shown}: the Salesforce status is not changed`,
      };
    }
    const how =
      row.acd.code !== undefined
        ? `matches ${shown} exactly`
        : input.acd.code
          ? `matches any ${row.acd.state} (no row for code "${input.acd.code}")`
          : `matches ${row.acd.state}`;
    return {
      ...base,
      rule: ruleInfo,
      table: 'publisher',
      row: { ref: decision.row, table: 'publisher', index: row.index, acd: { ...row.acd }, salesforce: row.salesforce },
      outcome: 'write',
      write: { side: 'salesforce', status: decision.status },
      decision,
      reason: `${decision.row} ${how}, so Salesforce shows "${decision.status}"`,
    };
  }

  if (!('salesforce' in input)) {
    // Work alone: which row applies, and what it does to an agent who would be Available.
    const matched = matchWorkload(rule, input.workload);
    if (!matched) {
      return { ...base, rule: ruleInfo, table: 'workload', outcome: 'unmapped', reason: noWorkloadRow(rule, work!) };
    }
    const ref = workloadRowRef(matched);
    return {
      ...base,
      rule: ruleInfo,
      table: 'workload',
      row: workloadRowView(matched),
      outcome: 'write',
      write: { side: 'acd', state: { ...matched.acd }, via: 'workload' },
      reason: `${ref} matches (${workloadConditions(matched)}): while it does, an agent who would be Available on the ACD is set to ${acdStateKey(matched.acd)} instead (other states are left alone); when no row matches any more, the state from before is restored`,
    };
  }

  const decision = subscribe(rule, input.salesforce, ctx);
  // The row `subscribe` used, if any (a status with no row falls back without one).
  const matched = 'row' in decision && decision.row ? matchSubscriberRow(rule, input.salesforce) : undefined;
  const row: ExplainRow | undefined = matched && {
    ref: `subscriber[${matched.index}]`,
    table: 'subscriber',
    index: matched.index,
    salesforce: matched.salesforce,
    acd: { ...matched.acd },
  };
  const result: ExplainResult = {
    ...base,
    rule: ruleInfo,
    table: 'subscriber',
    ...(row ? { row } : {}),
    outcome: decision.kind,
    ...(decision.kind === 'write' ? { write: { side: 'acd' as const, state: decision.state, via: decision.via } } : {}),
    decision,
    reason: decision.detail,
  };
  const trustedCode = decision.kind === 'write' && decision.via === 'row' && rule.skipUnavailableCodeValidation ? decision.state.code : undefined;
  if (trustedCode !== undefined && ctx.teamCodes === undefined) {
    // `subscribe` trusts every code when the team's codes are unknown; the daemon knows them and may fall back.
    const fallback = ctx.defaultUnavailableCode ? `Unavailable:${ctx.defaultUnavailableCode}` : 'Unavailable';
    result.notes.push(
      `the Unavailable codes of the agent's team are not known here, so code "${trustedCode}" was taken as enabled; if the team lacks it, the daemon sets the default ${fallback} instead`,
    );
  }
  if (!input.workload) return result;

  // The workload overlay replaces only an Available outcome: it never overrides a status the agent chose.
  const overlay = matchWorkload(rule, input.workload);
  if (!overlay) {
    result.workload = { applied: false, detail: noWorkloadRow(rule, work!) };
    return result;
  }
  const ref = workloadRowRef(overlay);
  const wouldBeAvailable = decision.kind === 'write' && decision.state.state === 'Available';
  if (!wouldBeAvailable) {
    const what = decision.kind === 'write' ? `sets ${acdStateKey(decision.state)}, not Available` : 'sets no ACD state';
    result.workload = {
      row: workloadRowView(overlay),
      applied: false,
      detail: `${ref} matches (${workloadConditions(overlay)}), but it only replaces Available and the subscriber ${what}`,
    };
    return result;
  }
  const detail = `${ref} matches (${workloadConditions(overlay)}), so ${acdStateKey(overlay.acd)} is set in place of Available until no workload row matches`;
  result.workload = { row: workloadRowView(overlay), applied: true, detail };
  result.write = { side: 'acd', state: { ...overlay.acd }, via: 'workload' };
  result.reason = `${decision.detail}; ${detail}`;
  return result;
}

/** A few readable lines for the terminal. */
export function formatExplain(result: ExplainResult): string {
  const lines: string[] = [];
  const label = (name: string, text: string) => lines.push(`${`${name}:`.padEnd(8)}${text}`);
  label('agent', describeAgent(result.agent));
  const input = result.input;
  label(
    'change',
    input.side === 'salesforce'
      ? `Salesforce status becomes "${input.status}"${input.work ? ` with ${describeWork(input.work)}` : ''} (salesforce -> acd)`
      : input.side === 'acd'
        ? `ACD state becomes ${acdStateKey(input.state)} (acd -> salesforce)`
        : `Omni-Channel work becomes ${describeWork(input.work)} (salesforce -> acd)`,
  );
  if (result.rule) {
    const via =
      result.rule.via === 'user'
        ? 'assigned to the user'
        : `assigned to team "${result.agent.teamName ?? result.agent.teamId ?? '?'}"`;
    label('rule', `${result.rule.name} (${result.rule.file}), ${via}`);
  } else {
    label('rule', 'none');
  }
  if (result.row) {
    const { ref: _ref, table: _table, index: _index, ...row } = result.row;
    label('row', `${result.row.ref} ${JSON.stringify(row)}`);
  } else if (result.table) {
    label('row', `no ${result.table} row`);
  }
  if (result.workload) {
    const overlay = result.workload.row;
    if (overlay) {
      const { ref: _ref, table: _table, index: _index, ...row } = overlay;
      label('work', `${overlay.ref} ${JSON.stringify(row)}${result.workload.applied ? '' : ' (not applied)'}`);
    } else {
      label('work', 'no workload row');
    }
  }
  const inPlace = result.input.side === 'workload' ? ' in place of Available' : '';
  if (result.write?.side === 'salesforce') label('result', `set Salesforce status "${result.write.status}"`);
  else if (result.write?.side === 'acd') label('result', `set ACD state ${acdStateKey(result.write.state)}${inPlace}`);
  else label('result', `nothing happens (${result.outcome})`);
  label('why', result.reason);
  for (const note of result.notes) label('note', note);
  return lines.join('\n');
}
