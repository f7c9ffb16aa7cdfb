import type { AcdState } from '@presence-sync/domain';
import type { EmulatorAgentSeed, EmulatorTeam } from '../contact-center-emulator';
import type { CxoneEmulatorAgent, CxoneEmulatorAgentSeed, CxoneEmulatorCode, CxoneEmulatorOptions, CxoneEmulatorTeam } from './cxone-emulator.types';

/** The ACW state every sandbox team's agents enter after a contact. */
export const CXONE_SANDBOX_ACW_STATE = 'Wrap-up';
const FIRST_TEAM_ID = 1_204_001;
const FIRST_CODE_ID = 301;
const FIRST_AGENT_ID = 30_120_001;

/** Ids of a catalog turned into CXone's: numeric agent, team and code ids, keyed by the catalog's ids. */
export interface CxoneCatalogIds {
  agentIds: Map<string, number>;
  teamIds: Map<string, number>;
}

function names(email: string): { firstName: string; lastName: string } {
  const [first = 'agent', last = 'sandbox'] = email.split('@')[0].split('.');
  const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1).replace(/\d+$/, '');
  return { firstName: cap(first), lastName: cap(last) };
}

/**
 * The sandbox catalog (teams by name, agents by e-mail) as a CXone tenant: numeric ids as CXone gives them, one
 * unavailable code per distinct code name assigned to the teams that use it, and an ACW state per team.
 */
export function cxoneSeedOf(catalog: { teams: EmulatorTeam[]; agents: EmulatorAgentSeed[] }): Pick<CxoneEmulatorOptions, 'codes' | 'teams' | 'agents'> & CxoneCatalogIds {
  const codes: CxoneEmulatorCode[] = [];
  const codeIds = new Map<string, number>();
  const codeId = (name: string, isAcw = false): number => {
    const key = `${isAcw ? 'acw' : 'code'}:${name}`;
    let id = codeIds.get(key);
    if (id === undefined) {
      id = FIRST_CODE_ID + codes.length;
      codeIds.set(key, id);
      codes.push({ id, name, isAcw, agentTimeoutMins: isAcw ? 2 : 0 });
    }
    return id;
  };
  const acwId = codeId(CXONE_SANDBOX_ACW_STATE, true);
  const teamIds = new Map<string, number>();
  const teams: CxoneEmulatorTeam[] = catalog.teams.map((team, i) => {
    const teamId = FIRST_TEAM_ID + i;
    teamIds.set(team.teamId, teamId);
    return { teamId, teamName: team.name, codeIds: [...team.unavailableCodes.map((c) => codeId(c)), acwId], acwCodeId: acwId };
  });
  const agentIds = new Map<string, number>();
  const agents: CxoneEmulatorAgentSeed[] = catalog.agents.map((seed, i) => {
    const agentId = FIRST_AGENT_ID + i;
    agentIds.set(seed.agentId, agentId);
    const teamId = teamIds.get(seed.teamId);
    if (teamId === undefined) throw new Error(`cxoneSeedOf: agent ${seed.agentId} has unknown team ${seed.teamId}`);
    const base = { agentId, ...names(seed.email), emailAddress: seed.email, teamId };
    switch (seed.state.state) {
      case 'Available':
        return { ...base, state: 'Available' as const };
      case 'Unavailable':
        return { ...base, state: 'Unavailable' as const, ...(seed.state.code ? { outStateId: codeId(seed.state.code) } : {}) };
      default:
        return { ...base, state: 'LoggedOut' as const };
    }
  });
  return { codes, teams, agents, agentIds, teamIds };
}

/**
 * The rule model's view of an emulator agent, independent of the connector's mapping so that tests compare two
 * readings of the same vendor state: contact states are Busy, ACW is AfterWork with the ACW state's name.
 */
export function acdViewOf(agent: Pick<CxoneEmulatorAgent, 'state' | 'isAcw' | 'outStateId'>, codeName: (id: number) => string | undefined): AcdState {
  const code = agent.outStateId !== undefined ? codeName(agent.outStateId) : undefined;
  switch (agent.state) {
    case 'Available':
      return { state: 'Available' };
    case 'LoggedOut':
      return { state: 'Offline' };
    case 'Unavailable':
    case 'LoggedIn': {
      const state = agent.isAcw ? 'AfterWork' : 'Unavailable';
      return code ? { state, code } : { state };
    }
    default:
      return { state: 'Busy' };
  }
}
