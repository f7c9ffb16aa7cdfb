export { PRESENCE_RULES_SCHEMA, presenceRulesSchemaText } from './presence-rules.schema';
export { compareIssues, formatCount, formatIssue, formatIssues, formatPath, listForMessage, suggest } from './rule-issue';
export { DEFAULT_RULE_LIMITS } from './rule-limits';
export { isRuleFileName, loadRuleSet, RULES_SCHEMA_FILE_NAME, validateRuleFiles } from './rule-loader';
export { ruleSetVersion } from './rule-compiler';
export {
  isAtCapacity,
  matchPublisherRow,
  matchSubscriberRow,
  matchWorkload,
  workloadRowMatches,
  workloadRowRef,
  publish,
  subscribe,
  type PublishDecision,
  type SubscribeContext,
  type SubscribeDecision,
} from './rule-evaluator';
export {
  describeWork,
  explain,
  formatExplain,
  type ExplainInput,
  type ExplainOutcome,
  type ExplainResult,
  type ExplainRow,
  type ExplainWork,
  type ExplainWorkloadEffect,
  type ExplainWorkloadRow,
} from './rule-explainer';
export {
  CONFLICT_POLICIES,
  connectorLimits,
  isPreviousTarget,
  type AgentIdentity,
  type Catalog,
  type CatalogAgent,
  type CompiledRule,
  type ConnectorLimits,
  type ConflictPolicy,
  type PreviousAcdTarget,
  type PublisherRow,
  type RuleFileText,
  type RuleIssue,
  type RuleIssueSeverity,
  type RuleLimits,
  type RuleMatch,
  type RuleSet,
  type RuleSetLoadOptions,
  type RuleSetLoadResult,
  type RuleVia,
  type SubscriberRow,
  type ValidateRuleFilesOptions,
  type WorkloadRow,
} from './rule-types';
