import type { SalesforceSession } from './salesforce-session';
import { queryAll, soqlString } from './soql';

/*
 * Presence status access ("Service Presence Status Access" of a profile or permission set), as Salesforce
 * stores it: every grant is a SetupEntityAccess row whose ParentId is a permission set and whose
 * SetupEntityId is the ServicePresenceStatus id; a profile's grants sit under the permission set the profile
 * owns (PermissionSet.IsOwnedByProfile); users reach permission sets through PermissionSetAssignment
 * (AssigneeId, PermissionSetId), their profile's included. Reading SetupEntityAccess needs "View Setup and
 * Configuration". Omni-Channel's toolkit sets only a status the agent has access to, so a status a rule sets
 * for an agent without access fails in the agent's console and surfaces only as an unconfirmed write.
 */

/**
 * At most this many users in one assignments query's `AssigneeId IN (…)`: a REST query is a GET, and 300
 * quoted 18-character ids keep its URL near 10 KB, well under the 16,384 bytes Salesforce accepts. More mapped
 * agents than this: the assignments are read without the filter (paged at 2,000 rows), which costs fewer
 * calls than many filtered queries.
 */
export const ASSIGNEE_FILTER_MAX = 300;

/** At most this many users lacking a status get their profile named (one query). */
export const PROFILE_LOOKUP_MAX = 200;

/** A status of the org's catalog. */
export interface StatusRef {
  id: string;
  developerName: string;
}

/** Who has which status, from one read of the grants and the assignments to the granting permission sets. */
export interface StatusAccess {
  /** Status id (15 characters) → where it is granted: `profile "Agent"`, `permission set "Lunch Access"`. */
  grantedBy: Map<string, string[]>;
  /** User id (15 characters) → the status ids (15 characters) the user may use. */
  userStatuses: Map<string, Set<string>>;
}

const id15 = (id: string): string => id.slice(0, 15);
const idList = (ids: readonly string[]): string => [...new Set(ids)].map(soqlString).join(', ');

/** The grants of the statuses: one row per permission set (a profile's included) and status. */
export function statusGrantsSoql(statusIds: readonly string[]): string {
  return `SELECT ParentId, Parent.Label, Parent.IsOwnedByProfile, Parent.Profile.Name, SetupEntityId FROM SetupEntityAccess WHERE SetupEntityId IN (${idList(statusIds)})`;
}

/**
 * Assignments to the permission sets that grant any of the statuses, through a semi-join on SetupEntityAccess
 * (so the query's length does not grow with the number of granting sets); narrowed to `userIds` when given.
 */
export function statusAssignmentsSoql(statusIds: readonly string[], userIds?: readonly string[]): string {
  const users = userIds ? ` AND AssigneeId IN (${idList(userIds)})` : '';
  return `SELECT AssigneeId, PermissionSetId FROM PermissionSetAssignment WHERE PermissionSetId IN (SELECT ParentId FROM SetupEntityAccess WHERE SetupEntityId IN (${idList(statusIds)}))${users}`;
}

/** The profile of each user, for the report (at most `PROFILE_LOOKUP_MAX` users). */
export function userProfilesSoql(userIds: readonly string[]): string {
  return `SELECT Id, Profile.Name FROM User WHERE Id IN (${idList(userIds)})`;
}

interface GrantRow {
  ParentId: string;
  SetupEntityId: string;
  Parent?: { Label?: string | null; IsOwnedByProfile?: boolean; Profile?: { Name?: string | null } | null } | null;
}

/** How a permission set is named to an admin: its profile's name, or its label. */
function grantSource(row: GrantRow): string {
  const parent = row.Parent;
  if (parent?.IsOwnedByProfile) return `profile "${parent.Profile?.Name ?? row.ParentId}"`;
  return `permission set "${parent?.Label ?? row.ParentId}"`;
}

/**
 * Which of `userIds` may use which of `statusIds`: the grants (one query, one page for any realistic org),
 * then the assignments to granting sets (one query of the users when they fit `ASSIGNEE_FILTER_MAX`, else
 * every assignment to a granting set, paged). No grant at all: no second query.
 */
export async function readStatusAccess(session: SalesforceSession, timeoutMs: number, statusIds: readonly string[], userIds: readonly string[]): Promise<StatusAccess> {
  const access: StatusAccess = { grantedBy: new Map(), userStatuses: new Map() };
  if (statusIds.length === 0 || userIds.length === 0) return access;
  const grants = await queryAll<GrantRow>(session, statusGrantsSoql(statusIds), timeoutMs);
  if (grants.length === 0) return access;
  const setStatuses = new Map<string, Set<string>>();
  for (const row of grants) {
    const status = id15(row.SetupEntityId);
    const sources = access.grantedBy.get(status) ?? [];
    const source = grantSource(row);
    if (!sources.includes(source)) sources.push(source);
    access.grantedBy.set(status, sources);
    const set = id15(row.ParentId);
    setStatuses.set(set, (setStatuses.get(set) ?? new Set()).add(status));
  }
  for (const sources of access.grantedBy.values()) sources.sort();
  const wanted = new Set(userIds.map(id15));
  const filter = wanted.size <= ASSIGNEE_FILTER_MAX ? [...userIds] : undefined;
  const assignments = await queryAll<{ AssigneeId: string; PermissionSetId: string }>(session, statusAssignmentsSoql(statusIds, filter), timeoutMs);
  for (const a of assignments) {
    const user = id15(a.AssigneeId);
    if (!wanted.has(user)) continue;
    const has = access.userStatuses.get(user) ?? new Set<string>();
    for (const status of setStatuses.get(id15(a.PermissionSetId)) ?? []) has.add(status);
    access.userStatuses.set(user, has);
  }
  return access;
}

/** User id (15 characters) → profile name, for up to `PROFILE_LOOKUP_MAX` users (the rest are left out). */
export async function readUserProfiles(session: SalesforceSession, timeoutMs: number, userIds: readonly string[]): Promise<Map<string, string>> {
  const ids = [...new Set(userIds.map(id15))].slice(0, PROFILE_LOOKUP_MAX);
  const names = new Map<string, string>();
  if (ids.length === 0) return names;
  const rows = await queryAll<{ Id: string; Profile?: { Name?: string | null } | null }>(session, userProfilesSoql(ids), timeoutMs);
  for (const row of rows) if (row.Profile?.Name) names.set(id15(row.Id), row.Profile.Name);
  return names;
}

/** The statuses one mapped agent needs, from the rule that covers it. */
export interface AgentStatusNeed {
  agentId: string;
  email?: string;
  /** The agent's Salesforce user. */
  userId: string;
  /** The rule's name. */
  rule: string;
  /** Statuses a publisher row of the rule sets: the daemon writes them through the agent's console. */
  sets: readonly string[];
  /** Statuses only a subscriber row maps: the agent picks them (the widget offers only those it has). */
  picks: readonly string[];
}

/** One status some agents lack. */
export interface StatusAccessGap {
  status: string;
  /** A rule sets it for these agents (their writes of it fail); false: they could only never pick it. */
  set: boolean;
  /** Sorted by agent id. */
  agents: AgentStatusNeed[];
  /** The rules of those agents, sorted. */
  rules: string[];
  /** Where the org grants the status now (to others): `profile "…"`, `permission set "…"`. */
  grantedBy: string[];
}

export interface StatusAccessFindings {
  /** Set gaps first, then by the number of agents (most first), then by status. */
  gaps: StatusAccessGap[];
  /** Statuses the rules name that the org's catalog lacks (not checkable). */
  unknown: string[];
  /** Distinct statuses checked. */
  checked: number;
}

/** Compares what each agent needs with what it has. Pure. */
export function findStatusAccessGaps(needs: readonly AgentStatusNeed[], catalog: readonly StatusRef[], access: StatusAccess): StatusAccessFindings {
  const idOf = new Map(catalog.map((s) => [s.developerName, id15(s.id)]));
  const unknown = new Set<string>();
  const checked = new Set<string>();
  const groups = new Map<string, StatusAccessGap>();
  for (const need of needs) {
    const has = access.userStatuses.get(id15(need.userId));
    for (const [statuses, set] of [[need.sets, true], [need.picks, false]] as const) {
      for (const status of statuses) {
        const id = idOf.get(status);
        if (id === undefined) { unknown.add(status); continue; }
        checked.add(status);
        if (has?.has(id)) continue;
        const key = `${set ? 'set' : 'pick'}:${status}`;
        const gap = groups.get(key) ?? { status, set, agents: [], rules: [], grantedBy: access.grantedBy.get(id) ?? [] };
        gap.agents.push(need);
        if (!gap.rules.includes(need.rule)) gap.rules.push(need.rule);
        groups.set(key, gap);
      }
    }
  }
  const gaps = [...groups.values()];
  for (const gap of gaps) {
    gap.agents.sort((a, b) => a.agentId.localeCompare(b.agentId));
    gap.rules.sort();
  }
  gaps.sort((a, b) => Number(b.set) - Number(a.set) || b.agents.length - a.agents.length || a.status.localeCompare(b.status));
  return { gaps, unknown: [...unknown].sort(), checked: checked.size };
}

/** How much of a large org's findings the report shows. */
export interface StatusAccessReportLimits {
  /** Status groups shown; the rest are counted. Default 10. */
  maxStatuses?: number;
  /** Agents named per status; the rest are counted. Default 5. */
  maxAgents?: number;
}

/** What a report says: one line for the step and the lines under it. */
export interface StatusAccessReport {
  outcome: 'ok' | 'failed' | 'warning';
  detail: string;
  lines: string[];
}

const plural = (n: number, word: string, words = `${word}s`): string => `${n} ${n === 1 ? word : words}`;

function agentName(need: AgentStatusNeed): string {
  return need.email ? `${need.agentId} (${need.email})` : need.agentId;
}

/** The profiles of a gap's agents, most common first: `Restricted Agent (38), Tier 2 (2)`. */
function profileCounts(agents: readonly AgentStatusNeed[], profiles: ReadonlyMap<string, string>): string | undefined {
  const counts = new Map<string, number>();
  for (const a of agents) {
    const name = profiles.get(id15(a.userId));
    if (name) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  if (counts.size === 0) return undefined;
  return [...counts].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0])).map(([name, n]) => `${name} (${n})`).join(', ');
}

/**
 * The report of `salesforce check` / `setup`: grouped by status, capped for large orgs (`limits`), with counts
 * of what is not shown, the lacking agents' profiles (`profiles`, user id → name, as far as looked up) and
 * where each status is granted now. `mapped`: agents linked to a Salesforce user and covered by a rule.
 */
export function statusAccessReport(findings: StatusAccessFindings, mapped: number, profiles: ReadonlyMap<string, string>, limits: StatusAccessReportLimits = {}): StatusAccessReport {
  const maxStatuses = limits.maxStatuses ?? 10;
  const maxAgents = limits.maxAgents ?? 5;
  const { gaps, unknown } = findings;
  if (mapped === 0) {
    return { outcome: 'warning', detail: 'no contact-center agent is both linked to a Salesforce user and covered by a rule: nothing to check', lines: [] };
  }
  const lacking = (set: boolean): number => new Set(gaps.filter((g) => g.set === set).flatMap((g) => g.agents.map((a) => a.agentId))).size;
  const setLacking = lacking(true);
  const pickLacking = lacking(false);
  const lines: string[] = [];
  for (const gap of gaps.slice(0, maxStatuses)) {
    const shown = gap.agents.slice(0, maxAgents).map(agentName).join(', ');
    const more = gap.agents.length > maxAgents ? `, and ${gap.agents.length - maxAgents} more` : '';
    const role = gap.set ? `set by rule ${gap.rules.join(', ')}` : `picked, not set, in rule ${gap.rules.join(', ')}: that subscriber row never applies to them`;
    const theirProfiles = profileCounts(gap.agents, profiles);
    const granted = gap.grantedBy.length > 0 ? `granted now by ${gap.grantedBy.join(', ')}` : 'granted by no profile or permission set';
    lines.push(`${gap.status} (${role}): ${plural(gap.agents.length, 'agent')} without it — ${shown}${more}${theirProfiles ? `; their profiles: ${theirProfiles}` : ''}; ${granted}`);
  }
  if (gaps.length > maxStatuses) {
    const rest = gaps.slice(maxStatuses);
    const agents = new Set(rest.flatMap((g) => g.agents.map((a) => a.agentId))).size;
    lines.push(`and ${plural(rest.length, 'more status', 'more statuses')} lacked by ${plural(agents, 'agent')}`);
  }
  if (unknown.length > 0) lines.push(`not in the org's status catalog, so not checked: ${unknown.join(', ')} (\`presence-sync salesforce setup\` names them too)`);
  if (gaps.length > 0) {
    // Not the relay's permission set: a redeploy of it must not take grants away (docs/salesforce-setup.md, step 2).
    lines.push('to fix: in Setup, open these agents\' profile, or a permission set of your own assigned to them, Service Presence Status Access → Edit, '
      + 'and enable the statuses above; or assign them a permission set that already grants them. presence-sync grants nothing itself');
  }
  const checked = plural(findings.checked, 'status', 'statuses');
  if (setLacking > 0) {
    return {
      outcome: 'failed',
      detail: `${setLacking} of ${plural(mapped, 'mapped agent')} lack a status their rule sets: Omni-Channel refuses it in their console, so those writes fail${pickLacking > 0 ? `; ${pickLacking} cannot pick a status their rule maps` : ''}`,
      lines,
    };
  }
  if (unknown.length > 0) return { outcome: 'failed', detail: `the rules name statuses the org does not have; the ${checked} it has are granted to all ${plural(mapped, 'mapped agent')}`, lines };
  if (pickLacking > 0) {
    return { outcome: 'warning', detail: `${pickLacking} of ${plural(mapped, 'mapped agent')} cannot pick a status their rule maps (no status a rule sets is missing)`, lines };
  }
  return { outcome: 'ok', detail: `${mapped === 1 ? 'the mapped agent' : `all ${mapped} mapped agents`} may use every status their rules set or map (${checked} checked)`, lines };
}
