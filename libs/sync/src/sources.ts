import type { RuleSet } from '@presence-sync/rules';
import type { AgentDirectory } from './agent-directory';

/** The rule set in force (hot reload swaps it). */
export abstract class RuleSetSource {
  abstract current(): RuleSet | undefined;
}

/** The agent directory in force (refreshed on a schedule). */
export abstract class DirectorySource {
  abstract current(): AgentDirectory;
}
