import type { AcdState, AcdTeam, ConnectorCapabilities, SettableAcdState } from '@presence-sync/domain';

/** Who wins when a change arrives from one side while a sync toward that side is unconfirmed (rules.md). */
export const CONFLICT_POLICIES = ['latest', 'acd', 'salesforce'] as const;
export type ConflictPolicy = (typeof CONFLICT_POLICIES)[number];

/** One publisher row (contact center -> Salesforce). `index` is the row's position in the file's array. */
export interface PublisherRow {
  readonly index: number;
  readonly acd: Readonly<AcdState>;
  readonly salesforce: string;
}

/** The `{ "previous": true }` target of a subscriber row: restore the agent's previous ACD state. */
export interface PreviousAcdTarget {
  readonly previous: true;
}

/** One subscriber row (Salesforce -> contact center). `index` is the row's position in the file's array. */
export interface SubscriberRow {
  readonly index: number;
  readonly salesforce: string;
  readonly acd: Readonly<SettableAcdState> | PreviousAcdTarget;
}

export function isPreviousTarget(acd: SubscriberRow['acd']): acd is PreviousAcdTarget {
  return 'previous' in acd;
}

/**
 * One workload row (Salesforce work → contact center), e.g. "with any open work of channel sfdc_liveagent, the
 * ACD is Unavailable:Chat". A row matches when every condition it names holds: `channel` (at least one open
 * item of that service channel) and/or `atCapacity` (load ≥ configured capacity). The first matching row in
 * file order wins. While a row matches, an agent who would be Available on the ACD is set to the row's state
 * instead; when no row matches any more, the state the agent had before is restored (docs/rules.md).
 */
export interface WorkloadRow {
  readonly index: number;
  readonly channel?: string;
  readonly atCapacity?: boolean;
  readonly acd: Readonly<SettableAcdState>;
}

/** One rule file after validation, with every default applied. Deeply frozen. */
export interface CompiledRule {
  readonly name: string;
  /** The file the rule came from, as shown in issues (relative to the working directory when possible). */
  readonly file: string;
  readonly description?: string;
  readonly skipUnavailableCodeValidation: boolean;
  readonly conflictPolicy: ConflictPolicy;
  readonly publisher: readonly PublisherRow[];
  readonly subscriber: readonly SubscriberRow[];
  /** Empty when the file has no `workload` table. */
  readonly workload: readonly WorkloadRow[];
  /** As written in the file (team names or ids, agent ids or e-mails). */
  readonly assign: { readonly teams: readonly string[]; readonly users: readonly string[] };
}

/** What `ruleFor` needs to know about an agent; `AgentLink` from the domain fits. */
export interface AgentIdentity {
  agentId: string;
  email?: string;
  teamId?: string;
  teamName?: string;
}

/** How an agent got its rule: assigned by identity (`user`) or through its team (`team`). */
export type RuleVia = 'user' | 'team';

export interface RuleMatch {
  rule: CompiledRule;
  via: RuleVia;
}

/** A validated, compiled, immutable set of rules; what the engine evaluates against. */
export interface RuleSet {
  /** Short sha256 of the sorted file names and contents: equal texts give equal versions. */
  readonly version: string;
  /** Sorted by file name. */
  readonly rules: readonly CompiledRule[];
  readonly files: readonly string[];
  /** O(1). A user assignment (agent id or e-mail) beats a team assignment (team id or name). */
  ruleFor(agent: AgentIdentity): RuleMatch | undefined;
  ruleNamed(name: string): CompiledRule | undefined;
}

/** A contact-center agent as the validator sees it. */
export interface CatalogAgent {
  agentId: string;
  email?: string;
  teamId?: string;
}

/**
 * What the validator checks rule files against. A part left `undefined` was not read (`missing` says why; by
 * default it could not be reached): the checks that need it are skipped and one warning says so (a catalog not
 * read is never a pass).
 */
export interface Catalog {
  /** `ServicePresenceStatus` DeveloperNames. `Offline` is reserved and need not be listed. */
  salesforceStatuses?: string[];
  /** `ServiceChannel` DeveloperNames, checked against workload rows (an unknown one is a warning). */
  serviceChannels?: string[];
  teams?: AcdTeam[];
  agents?: CatalogAgent[];
  /**
   * Why the parts of a side are missing, in the words the warnings use, e.g. `not configured (SALESFORCE_MODE is
   * not live)` or `skipped (--offline)`. Default: `not reachable`.
   */
  missing?: { salesforce?: string; contactCenter?: string };
}

export type RuleIssueSeverity = 'error' | 'warning';

/**
 * One validation finding. `line` and `column` are 1-based; both are 0 when the issue concerns no position
 * (a directory, an unreachable catalog). `path` is like `publisher[2].acd.state`, `''` for the whole file.
 */
export interface RuleIssue {
  file: string;
  line: number;
  column: number;
  path: string;
  message: string;
  severity: RuleIssueSeverity;
}

/**
 * Bounds on what one validation may cost, so that a hostile or broken file gives an error instead of taking
 * the daemon down. The defaults are `DEFAULT_RULE_LIMITS`; the daemon takes them from its settings.
 */
export interface RuleLimits {
  /** Largest rule file, in bytes; a larger one is an error and is not read past the limit (RULES_MAX_FILE_BYTES). */
  maxFileBytes: number;
  /** Deepest nesting of `{` and `[`; a rule file needs 4 (RULES_MAX_DEPTH). */
  maxDepth: number;
  /** Errors, and warnings, kept in a result; the rest are only counted (RULES_MAX_ERRORS_SHOWN). */
  maxIssues: number;
}

export interface RuleSetLoadOptions {
  /** Live catalogs to check against; omitted (or a part omitted) = unreachable, reported as warnings. */
  catalog?: Catalog;
  /** The `DEFAULT_UNAVAILABLE_CODE` setting, checked against the teams of rules that skip code validation. */
  defaultUnavailableCode?: string;
  /** Any limit left out takes its default. */
  limits?: Partial<RuleLimits>;
  /**
   * What the chosen connector can set (`connectorLimits`): a subscriber or workload row that wants another state,
   * or plain Unavailable from a connector that needs a code, is an error. Omitted: not checked.
   */
  connector?: ConnectorLimits;
}

/** The part of a connector's capabilities validation needs, with its name for messages. */
export interface ConnectorLimits {
  name: string;
  /** `ConnectorCapabilities.settable`. */
  settable: readonly string[];
  /** `ConnectorCapabilities.unavailableNeedsCode`; default false. */
  unavailableNeedsCode?: boolean;
}

/** The limits of a connector, from its name and capabilities (an instance, or the class's static ones). */
export function connectorLimits(name: string, capabilities: Pick<ConnectorCapabilities, 'settable' | 'unavailableNeedsCode'>): ConnectorLimits {
  return { name, settable: capabilities.settable, unavailableNeedsCode: capabilities.unavailableNeedsCode };
}

export interface RuleFileText {
  /** The name shown in issues, e.g. `rules/tier1.json`. */
  file: string;
  text: string;
}

export interface ValidateRuleFilesOptions extends RuleSetLoadOptions {
  /** The directory named by directory-level issues (no rule file, unreachable catalog). Default `.`. */
  dir?: string;
}

export interface RuleSetLoadResult {
  /** Set only when there is no error. */
  ruleSet?: RuleSet;
  /** The first `maxIssues` errors (per file as found, then sorted); `errorCount` says how many there were. */
  errors: RuleIssue[];
  /** Like `errors`, for warnings. */
  warnings: RuleIssue[];
  errorCount: number;
  warningCount: number;
  /** The rule files that were read, as shown in issues. */
  files: string[];
}
