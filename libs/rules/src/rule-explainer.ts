import { acdStateKey, type AcdState, type SettableAcdState, type SyncDirection } from '@presence-sync/domain';
import {
  matchPublisherRow,
  matchSubscriberRow,
  publish,
  subscribe,
  type PublishDecision,
  type SubscribeContext,
  type SubscribeDecision,
} from './rule-evaluator';
import type { AgentIdentity, ConflictPolicy, PreviousAcdTarget, RuleSet, RuleVia } from './rule-types';

/** A hypothetical change: a Salesforce status the agent picks, or an ACD state the agent enters. */
export type ExplainInput = { salesforce: string } | { acd: AcdState };

export type ExplainOutcome = 'write' | 'unmapped' | 'no-previous' | 'no-rule';

/** The row that decided, as in the file, with its reference (`subscriber[2]`). */
export type ExplainRow =
  | { ref: string; table: 'publisher'; index: number; acd: AcdState; salesforce: string }
  | { ref: string; table: 'subscriber'; index: number; salesforce: string; acd: SettableAcdState | PreviousAcdTarget };

/** Everything `explain` found out; plain data, so `JSON.stringify` is the JSON output. */
export interface ExplainResult {
  ruleSetVersion: string;
  agent: AgentIdentity;
  direction: SyncDirection;
  input: { side: 'salesforce'; status: string } | { side: 'acd'; state: AcdState };
  rule?: {
    name: string;
    file: string;
    via: RuleVia;
    conflictPolicy: ConflictPolicy;
    skipUnavailableCodeValidation: boolean;
  };
  table?: 'publisher' | 'subscriber';
  row?: ExplainRow;
  outcome: ExplainOutcome;
  /** The write the daemon would make (unless the other side already shows it). */
  write?: { side: 'salesforce'; status: string } | { side: 'acd'; state: SettableAcdState; via: 'row' | 'previous' | 'default-unavailable' };
  decision?: PublishDecision | SubscribeDecision;
  /** One sentence: why this write, or why nothing happens. */
  reason: string;
}

function describeAgent(agent: AgentIdentity): string {
  const parts = [agent.agentId];
  if (agent.email && agent.email.toLowerCase() !== agent.agentId.toLowerCase()) parts.push(`<${agent.email}>`);
  const team = agent.teamName ?? agent.teamId;
  if (team) parts.push(`team "${team}"`);
  return parts.join(' ');
}

/**
 * Answers "if this agent's Salesforce status became Y (or ACD state became X), what would the daemon do, and
 * why". Pure: the caller supplies the agent's identity and team, and the context (previous state, team codes).
 */
export function explain(ruleSet: RuleSet, agent: AgentIdentity, input: ExplainInput, ctx: SubscribeContext = {}): ExplainResult {
  const base = {
    ruleSetVersion: ruleSet.version,
    agent: { ...agent },
    direction: ('salesforce' in input ? 'salesforce->acd' : 'acd->salesforce') as SyncDirection,
    input:
      'salesforce' in input
        ? ({ side: 'salesforce', status: input.salesforce } as const)
        : ({ side: 'acd', state: { ...input.acd } } as const),
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
  return {
    ...base,
    rule: ruleInfo,
    table: 'subscriber',
    ...(row ? { row } : {}),
    outcome: decision.kind,
    ...(decision.kind === 'write' ? { write: { side: 'acd' as const, state: decision.state, via: decision.via } } : {}),
    decision,
    reason: decision.detail,
  };
}

/** A few readable lines for the terminal. */
export function formatExplain(result: ExplainResult): string {
  const lines: string[] = [];
  const label = (name: string, text: string) => lines.push(`${`${name}:`.padEnd(8)}${text}`);
  label('agent', describeAgent(result.agent));
  label(
    'change',
    result.input.side === 'salesforce'
      ? `Salesforce status becomes "${result.input.status}" (salesforce -> acd)`
      : `ACD state becomes ${acdStateKey(result.input.state)} (acd -> salesforce)`,
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
  if (result.write?.side === 'salesforce') label('result', `set Salesforce status "${result.write.status}"`);
  else if (result.write?.side === 'acd') label('result', `set ACD state ${acdStateKey(result.write.state)}`);
  else label('result', `nothing happens (${result.outcome})`);
  label('why', result.reason);
  return lines.join('\n');
}
