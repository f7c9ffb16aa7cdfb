import type { AcdTeam, SalesforceStatusDefinition } from '@presence-sync/domain';
import type { Catalog, CatalogAgent, ConnectorLimits, RuleLimits, RuleSetLoadOptions } from '@presence-sync/rules';

/*
 * Rule validation as the daemon does it (boot and every reload). `rules validate` and `rules explain` build their
 * options with the same two functions from the same settings, so the CLI cannot accept a file the daemon refuses,
 * nor refuse one it accepts.
 */

/** What was read of each side; a side left out was not read (`missing` in `ruleCatalog` says why). */
export interface CatalogRead {
  acd?: { agents: Iterable<CatalogAgent>; teams: AcdTeam[] };
  /** `serviceChannels` undefined: they could not be read (workload channels are then not checked). */
  salesforce?: { statuses: readonly SalesforceStatusDefinition[]; serviceChannels?: readonly string[] };
}

/** The catalog rules are checked against, from what was read. */
export function ruleCatalog(read: CatalogRead, missing?: Catalog['missing']): Catalog {
  const catalog: Catalog = {};
  if (read.acd) {
    catalog.teams = read.acd.teams;
    catalog.agents = [...read.acd.agents].map((a) => ({ agentId: a.agentId, email: a.email, teamId: a.teamId }));
  }
  if (read.salesforce) {
    catalog.salesforceStatuses = read.salesforce.statuses.map((s) => s.developerName);
    if (read.salesforce.serviceChannels) catalog.serviceChannels = [...read.salesforce.serviceChannels];
  }
  if (missing && (missing.salesforce || missing.contactCenter)) catalog.missing = missing;
  return catalog;
}

/** The settings validation depends on besides the catalogs (`RULES_MAX_*`, `DEFAULT_UNAVAILABLE_CODE`). */
export interface RuleCheckSettingsPart {
  defaultUnavailableCode?: string;
  limits: RuleLimits;
}

/** The options of `loadRuleSet`: the catalog, the default code, the limits and what the connector can set. */
export function ruleCheckOptions(settings: RuleCheckSettingsPart, connector: ConnectorLimits | undefined, catalog: Catalog): RuleSetLoadOptions {
  return { catalog, defaultUnavailableCode: settings.defaultUnavailableCode, limits: settings.limits, connector };
}
