import type { AcdAgent, AcdTeam, AgentLink, SalesforceStatusDefinition, SalesforceUser } from '@presence-sync/domain';

/** One agent as the engine resolves it. */
export interface ResolvedAgent extends AgentLink {
  teamCodes?: string[];
}

export interface DirectoryInput {
  agents: AcdAgent[];
  teams: AcdTeam[];
  users: SalesforceUser[];
  statuses?: SalesforceStatusDefinition[];
  /** Explicit links that win over e-mail matching: agentId → Salesforce user id, username or e-mail. */
  explicitMap?: Record<string, string>;
}

export interface DirectoryStats {
  agents: number;
  linked: number;
  unlinked: number;
  teams: number;
  salesforceUsers: number;
  /** Explicit map entries that named no known agent or user. */
  mapProblems: string[];
}

/**
 * Links contact-center agents to Salesforce users: by the explicit map first, else by e-mail (case-
 * insensitive; also the user's FederationIdentifier). Immutable; rebuilt on every refresh.
 */
export class AgentDirectory {
  private readonly byAgentId = new Map<string, ResolvedAgent>();
  private readonly byUserId = new Map<string, string>();
  private readonly byEmail = new Map<string, string>();
  readonly stats: DirectoryStats;
  readonly teams: AcdTeam[];
  readonly statuses?: SalesforceStatusDefinition[];
  readonly builtAt: number;

  constructor(input: DirectoryInput, now = Date.now()) {
    this.builtAt = now;
    this.teams = input.teams;
    this.statuses = input.statuses;
    const teamById = new Map(input.teams.map((t) => [t.teamId, t]));
    const userByKey = new Map<string, SalesforceUser>();
    for (const u of input.users) {
      if (!u.active) continue;
      userByKey.set(u.userId, u);
      userByKey.set(u.username.toLowerCase(), u);
      if (u.email) userByKey.set(u.email.toLowerCase(), u);
      if (u.federationId) userByKey.set(u.federationId.toLowerCase(), u);
    }
    const mapProblems: string[] = [];
    const known = new Set(input.agents.map((a) => a.agentId));
    for (const [agentId, target] of Object.entries(input.explicitMap ?? {})) {
      if (!known.has(agentId)) mapProblems.push(`agent "${agentId}" in the map file is not in the contact center`);
      else if (!userByKey.has(target) && !userByKey.has(target.toLowerCase())) mapProblems.push(`Salesforce user "${target}" for agent "${agentId}" was not found (or is inactive)`);
    }
    let linked = 0;
    for (const a of input.agents) {
      const team = a.teamId ? teamById.get(a.teamId) : undefined;
      const mapped = input.explicitMap?.[a.agentId];
      let user = mapped
        ? userByKey.get(mapped) ?? userByKey.get(mapped.toLowerCase())
        : a.email ? userByKey.get(a.email.toLowerCase()) : undefined;
      // One Salesforce user can mirror one agent only; a second claim is reported and left unlinked.
      if (user && this.byUserId.has(user.userId)) {
        mapProblems.push(`Salesforce user "${user.username}" is linked to agent "${this.byUserId.get(user.userId)}" already; agent "${a.agentId}" is left unlinked`);
        user = undefined;
      }
      const resolved: ResolvedAgent = {
        agentId: a.agentId, email: a.email, teamId: a.teamId, teamName: team?.name,
        teamCodes: team?.unavailableCodes, salesforceUserId: user?.userId,
      };
      this.byAgentId.set(a.agentId, resolved);
      if (a.email) this.byEmail.set(a.email.toLowerCase(), a.agentId);
      if (user) { this.byUserId.set(user.userId, a.agentId); linked++; }
    }
    this.stats = { agents: input.agents.length, linked, unlinked: input.agents.length - linked, teams: input.teams.length, salesforceUsers: input.users.length, mapProblems };
  }

  static empty(): AgentDirectory {
    return new AgentDirectory({ agents: [], teams: [], users: [] }, 0);
  }

  byAgent(agentId: string): ResolvedAgent | undefined {
    return this.byAgentId.get(agentId);
  }

  /** An agent by id or e-mail. */
  find(idOrEmail: string): ResolvedAgent | undefined {
    return this.byAgentId.get(idOrEmail) ?? this.byAgentId.get(this.byEmail.get(idOrEmail.toLowerCase()) ?? '');
  }

  bySalesforceUser(userId: string): ResolvedAgent | undefined {
    const agentId = this.byUserId.get(userId);
    return agentId === undefined ? undefined : this.byAgentId.get(agentId);
  }

  agents(): IterableIterator<ResolvedAgent> {
    return this.byAgentId.values();
  }
}
