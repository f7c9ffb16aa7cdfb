import { CxoneConnector } from '@presence-sync/connector-cxone';
import type { AcdState, CheckpointStore, SettableAcdState } from '@presence-sync/domain';
import { CxoneEmulator } from '../cxone-emulator/cxone-emulator';
import { acdViewOf } from '../cxone-emulator/cxone-sandbox.catalog';
import type { CxoneEmulatorOptions } from '../cxone-emulator/cxone-emulator.types';
import { RecordingSink, type ConformanceFault, type ConnectorHarness } from './connector-harness';

const TEAM_ID = 1_300_001;
const OTHER_TEAM_ID = 1_300_002;
const CODES = { lunch: 401, break: 402, training: 403, wrapUp: 404 };

/** The CXone harness, with the emulator, the checkpoints and the connector's own type for checks the suite does not make. */
export interface CxoneHarness extends ConnectorHarness {
  readonly connector: CxoneConnector;
  readonly emulator: CxoneEmulator;
  readonly checkpoints: MemoryCheckpointStore;
}

/** Checkpoints in memory, observable by tests. */
export class MemoryCheckpointStore implements CheckpointStore {
  readonly values = new Map<string, string>();
  async get(key: string): Promise<string | undefined> {
    return this.values.get(key);
  }
  async set(key: string, value: string): Promise<void> {
    this.values.set(key, value);
  }
}

/** How many extra polls `settle` makes at most while the emulator still holds back or repeats an answer. */
const SETTLE_EXTRA_POLLS = 6;

/**
 * The CXone connector against the CXone emulator, for the connector conformance suite: the connector's change
 * source polls the emulator every 40 ms into the harness's `RecordingSink`. Faults injected with `failNext` hit
 * directory reads and state writes, not the background polls (which would otherwise swallow them at random);
 * `interruptDelivery` takes the poll endpoint down instead.
 *
 * CXone reports each agent's current state, not a history: a state that lasts less than one poll interval is never
 * seen. A person's state lasts seconds at least, so every simulated action here waits for the next poll before it
 * returns, as a real agent's clicks are slower than the connector's polls.
 */
export async function makeCxoneHarness(options: Partial<Omit<CxoneEmulatorOptions, 'codes' | 'teams' | 'agents'>> = {}): Promise<CxoneHarness> {
  const agents = [
    { agentId: '30130001', email: 'ada.adams@example.com' },
    { agentId: '30130002', email: 'ben.becker@example.com' },
  ];
  const emulator = new CxoneEmulator({
    ...options,
    codes: [
      { id: CODES.lunch, name: 'Lunch' }, { id: CODES.break, name: 'Break' }, { id: CODES.training, name: 'Training' },
      { id: CODES.wrapUp, name: 'Wrap-up', isAcw: true },
    ],
    teams: [
      { teamId: TEAM_ID, teamName: 'Conformance', codeIds: [CODES.lunch, CODES.break, CODES.wrapUp], acwCodeId: CODES.wrapUp },
      { teamId: OTHER_TEAM_ID, teamName: 'Other', codeIds: [CODES.lunch, CODES.training, CODES.wrapUp], acwCodeId: CODES.wrapUp },
    ],
    agents: [
      { agentId: 30130001, firstName: 'Ada', lastName: 'Adams', emailAddress: agents[0].email, teamId: TEAM_ID, state: 'Available' },
      { agentId: 30130002, firstName: 'Ben', lastName: 'Becker', emailAddress: agents[1].email, teamId: TEAM_ID, state: 'Available' },
      { agentId: 30130003, firstName: 'Chloe', lastName: 'Chen', emailAddress: 'chloe.chen@example.com', teamId: OTHER_TEAM_ID, state: 'Available' },
    ],
    // Two records per page: listings must page to find everyone.
    pageSize: 2,
  });
  const { baseUrl } = await emulator.start();
  const checkpoints = new MemoryCheckpointStore();
  const c = emulator.credentials;
  const connector = new CxoneConnector({
    authUrl: baseUrl, clientId: c.clientId, clientSecret: c.clientSecret, accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret,
    pollIntervalMs: 40, checkpoints, pageSize: 2,
  });
  const received = new RecordingSink();
  await connector.start();
  await connector.source.start(received, received.onGap);
  const codeName = (id: number) => emulator.code(id)?.name;
  const id = (agentId: string) => Number(agentId);

  const refusedPolls = () => emulator.requests.filter((r) => r.route.toLowerCase() === '/agents/states' && r.status === 503).length;
  let refusedBefore = 0;
  const polled = () => connector.source.afterNextPoll(true);
  const settle = async () => {
    await connector.source.afterNextPoll(true);
    for (let i = 0; i < SETTLE_EXTRA_POLLS && emulator.pendingDelivery; i++) await connector.source.afterNextPoll(true);
  };

  return {
    connector,
    emulator,
    checkpoints,
    received,
    agents,
    unknownAgentId: '39999999',
    team: { teamId: String(TEAM_ID), codes: ['Lunch', 'Break'], disabledCode: 'Training' },
    get secrets(): readonly string[] {
      return [c.clientSecret, c.accessKeySecret, ...emulator.liveTokens()];
    },
    reportsLogout: true,
    afterOutage: 'redelivers',
    async agentSets(agentId: string, state: SettableAcdState) {
      if (state.state === 'Offline') emulator.agentLogout(id(agentId));
      else if (state.state === 'Available') emulator.agentSetState(id(agentId), { state: 'Available' });
      else {
        const outStateId = state.code ? emulator.codeIdOf(TEAM_ID, state.code) : undefined;
        if (state.code && outStateId === undefined) throw new Error(`makeCxoneHarness: no code ${state.code}`);
        emulator.agentSetState(id(agentId), outStateId === undefined ? { state: 'Unavailable' } : { state: 'Unavailable', outStateId });
      }
      await polled();
    },
    async startContact(agentId: string) {
      emulator.startContact(id(agentId));
      await polled();
    },
    async endContact(agentId: string, opts: { wrapUp?: boolean } = {}) {
      emulator.endContact(id(agentId), { acw: opts.wrapUp ?? false });
      await polled();
    },
    async endWrapUp(agentId: string) {
      emulator.endAcw(id(agentId));
      await polled();
    },
    async stateOf(agentId: string): Promise<AcdState> {
      const agent = emulator.getAgent(id(agentId));
      if (!agent) throw new Error(`makeCxoneHarness: unknown agent ${agentId}`);
      return acdViewOf(agent, codeName);
    },
    failNext(count: number, fault: ConformanceFault) {
      emulator.failNext(count, fault.status, { target: 'not-poll', ...('retryAfterSec' in fault ? { retryAfterSec: fault.retryAfterSec } : {}) });
    },
    expireToken() {
      emulator.revokeTokens();
    },
    interruptDelivery() {
      refusedBefore = refusedPolls();
      emulator.interruptPolls();
    },
    async resumeDelivery() {
      // The outage must have cost a poll, or the case proves nothing about what was missed.
      await emulator.waitFor(() => refusedPolls() > refusedBefore, 10_000, 'a poll refused during the interruption');
      emulator.resumePolls();
    },
    duplicateNext() {
      emulator.repeatNextPoll();
    },
    reorderNext() {
      emulator.holdNextPoll();
    },
    settle,
    async stop() {
      await connector.source.stop();
      await connector.stop();
      await emulator.stop();
    },
  };
}
