import { SALESFORCE_OFFLINE } from '@presence-sync/domain';
import type { CompiledRule, RuleSet } from '@presence-sync/rules';
import type { AgentStatusNeed } from '@presence-sync/salesforce';
import type { AgentDirectory } from '@presence-sync/sync';

/** The statuses of a rule: those its publisher rows set, and those only its subscriber rows map. Offline needs no access. */
function ruleStatuses(rule: CompiledRule): Pick<AgentStatusNeed, 'sets' | 'picks'> {
  const sets = [...new Set(rule.publisher.map((r) => r.salesforce))].filter((s) => s !== SALESFORCE_OFFLINE).sort();
  const picks = [...new Set(rule.subscriber.map((r) => r.salesforce))].filter((s) => s !== SALESFORCE_OFFLINE && !sets.includes(s)).sort();
  return { sets, picks };
}

/**
 * What each agent the daemon would sync needs in Salesforce: agents linked to a Salesforce user (as the
 * daemon's directory links them) and covered by a rule, with the statuses that rule sets or maps. Agents with
 * no link or no rule are not synced, so they need nothing.
 */
export function agentStatusNeeds(directory: AgentDirectory, rules: RuleSet): AgentStatusNeed[] {
  const byRule = new Map<CompiledRule, Pick<AgentStatusNeed, 'sets' | 'picks'>>();
  const needs: AgentStatusNeed[] = [];
  for (const agent of directory.agents()) {
    if (!agent.salesforceUserId) continue;
    const rule = rules.ruleFor(agent)?.rule;
    if (!rule) continue;
    let statuses = byRule.get(rule);
    if (!statuses) {
      statuses = ruleStatuses(rule);
      byRule.set(rule, statuses);
    }
    needs.push({ agentId: agent.agentId, ...(agent.email ? { email: agent.email } : {}), userId: agent.salesforceUserId, rule: rule.name, ...statuses });
  }
  return needs;
}
