import type { AcdTeam } from '@presence-sync/domain';
import type { Catalog, CatalogAgent } from './rule-types';

/** Team names and ids, agent ids and e-mails are matched without regard to case (admins type them by hand). */
export function identityKey(value: string): string {
  return value.trim().toLowerCase();
}

/** Why a catalog part is missing when the caller does not say. */
const NOT_REACHABLE = 'not reachable';

/**
 * The catalog as maps, built once per validation so that 500 rules against 50,000 agents stay linear.
 * Each part is `undefined` when the catalog could not reach it, exactly like `Catalog`.
 */
export class CatalogIndex {
  readonly statuses?: ReadonlySet<string>;
  /** Service channel DeveloperNames, for workload rows. */
  readonly serviceChannels?: ReadonlySet<string>;
  readonly teams?: readonly AcdTeam[];
  /** Every Unavailable code enabled for at least one team. */
  readonly codes?: ReadonlySet<string>;
  private readonly teamCodes = new Map<string, ReadonlySet<string>>();
  private readonly teamByKey?: Map<string, AcdTeam>;
  private readonly agentByKey?: Map<string, CatalogAgent>;
  private readonly teamById = new Map<string, AcdTeam>();
  /** Why a side's parts are missing, as the warnings say it (`Catalog.missing`). */
  readonly missing: { readonly salesforce: string; readonly contactCenter: string };

  constructor(catalog: Catalog | undefined) {
    this.missing = { salesforce: catalog?.missing?.salesforce ?? NOT_REACHABLE, contactCenter: catalog?.missing?.contactCenter ?? NOT_REACHABLE };
    if (catalog?.salesforceStatuses) this.statuses = new Set(catalog.salesforceStatuses);
    if (catalog?.serviceChannels) this.serviceChannels = new Set(catalog.serviceChannels);
    if (catalog?.teams) {
      this.teams = catalog.teams;
      const byKey = new Map<string, AcdTeam>();
      const codes = new Set<string>();
      // Ids first, so that a team named like another team's id cannot shadow it.
      for (const team of catalog.teams) byKey.set(identityKey(team.teamId), team);
      for (const team of catalog.teams) {
        if (!byKey.has(identityKey(team.name))) byKey.set(identityKey(team.name), team);
        this.teamById.set(team.teamId, team);
        this.teamCodes.set(team.teamId, new Set(team.unavailableCodes));
        for (const code of team.unavailableCodes) codes.add(code);
      }
      this.teamByKey = byKey;
      this.codes = codes;
    }
    if (catalog?.agents) {
      const byKey = new Map<string, CatalogAgent>();
      for (const agent of catalog.agents) byKey.set(identityKey(agent.agentId), agent);
      for (const agent of catalog.agents) {
        if (agent.email && !byKey.has(identityKey(agent.email))) byKey.set(identityKey(agent.email), agent);
      }
      this.agentByKey = byKey;
    }
  }

  get hasTeams(): boolean {
    return this.teamByKey !== undefined;
  }

  get hasAgents(): boolean {
    return this.agentByKey !== undefined;
  }

  /** A team by id or name. */
  team(ref: string): AcdTeam | undefined {
    return this.teamByKey?.get(identityKey(ref));
  }

  /** An agent by agent id or e-mail. */
  agent(ref: string): CatalogAgent | undefined {
    return this.agentByKey?.get(identityKey(ref));
  }

  teamWithId(teamId: string | undefined): AcdTeam | undefined {
    return teamId === undefined ? undefined : this.teamById.get(teamId);
  }

  codeEnabled(team: AcdTeam, code: string): boolean {
    return this.teamCodes.get(team.teamId)?.has(code) ?? false;
  }
}
