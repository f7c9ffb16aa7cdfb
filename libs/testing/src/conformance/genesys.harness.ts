import { GenesysConnector, type GenesysSourceOptions } from '@presence-sync/connector-genesys';
import type { AcdState, SettableAcdState } from '@presence-sync/domain';
import { GenesysEmulator, type GenesysEmulatorOptions } from '../genesys-emulator/genesys-emulator';
import { RecordingSink, type ConformanceFault, type ConnectorHarness } from './connector-harness';

const DIVISION = 'd0000000-0000-4000-8000-000000000001';
const OTHER_DIVISION = 'd0000000-0000-4000-8000-000000000002';

/** The Genesys harness, with the emulator and the connector's own type for checks the suite does not make. */
export interface GenesysHarness extends ConnectorHarness {
  readonly connector: GenesysConnector;
  readonly emulator: GenesysEmulator;
}

/** The emulated org of the harness: three users in two divisions, system presences and three secondary ones (one deactivated). */
export function genesysConformanceOrg(): Omit<GenesysEmulatorOptions, 'port'> {
  return {
    divisions: [{ id: DIVISION, name: 'Conformance' }, { id: OTHER_DIVISION, name: 'Other' }],
    presences: [
      { id: 'p-on-queue', systemPresence: 'ON_QUEUE', label: 'On Queue' },
      { id: 'p-available', systemPresence: 'AVAILABLE', label: 'Available' },
      { id: 'p-offline', systemPresence: 'OFFLINE', label: 'Offline' },
      { id: 'p-away', systemPresence: 'AWAY', label: 'Away' },
      { id: 'p-lunch', systemPresence: 'MEAL', label: 'Lunch' },
      { id: 'p-break', systemPresence: 'BREAK', label: 'Break' },
      { id: 'p-training', systemPresence: 'TRAINING', label: 'Training', deactivated: true },
      { id: 'p-coaching', systemPresence: 'MEETING', label: 'Coaching', divisionId: OTHER_DIVISION },
    ],
    users: [
      { id: 'a1b2c3d4-0000-4000-8000-000000000001', name: 'Ada Adams', email: 'ada.adams@example.com', divisionId: DIVISION, presenceId: 'p-on-queue' },
      { id: 'a1b2c3d4-0000-4000-8000-000000000002', name: 'Ben Becker', email: 'ben.becker@example.com', divisionId: DIVISION, presenceId: 'p-on-queue' },
      { id: 'a1b2c3d4-0000-4000-8000-000000000003', name: 'Chloe Chen', email: 'chloe.chen@example.com', divisionId: OTHER_DIVISION, presenceId: 'p-on-queue' },
    ],
  };
}

/**
 * The Genesys connector against the Genesys emulator, for the connector conformance suite: the connector's change
 * source holds a notification channel (WebSocket) to the emulator and hands changes to the harness's
 * `RecordingSink`. Users are listed two per page, so listings must page. Reconnects are retried every 50–200 ms.
 */
export async function makeGenesysHarness(options: { emulator?: Partial<GenesysEmulatorOptions>; source?: Partial<GenesysSourceOptions> } = {}): Promise<GenesysHarness> {
  const emulator = new GenesysEmulator({ ...genesysConformanceOrg(), maxPageSize: 2, ...options.emulator });
  const { baseUrl } = await emulator.start();
  const c = emulator.credentials;
  const connector = new GenesysConnector({
    apiBaseUrl: baseUrl, clientId: c.clientId, clientSecret: c.clientSecret, pageSize: 2, timeoutMs: 5000,
    source: { reconnectMinMs: 50, reconnectMaxMs: 200, ...options.source },
  });
  const received = new RecordingSink();
  await connector.start();
  await connector.source.start(received, received.onGap);
  const [ada, ben] = genesysConformanceOrg().users;

  const waitFor = async (what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await probe())) {
      if (Date.now() > deadline) throw new Error(`makeGenesysHarness: waited ${timeoutMs} ms for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  const settle = () =>
    waitFor('the connector to handle every delivered event', async () =>
      (await connector.source.idle()) && connector.source.handledFrames >= emulator.deliveredEvents);

  return {
    connector,
    emulator,
    received,
    agents: [{ agentId: ada.id, email: ada.email }, { agentId: ben.id, email: ben.email }],
    unknownAgentId: 'a1b2c3d4-0000-4000-8000-0000000000ff',
    team: { teamId: DIVISION, codes: ['Lunch', 'Break'], disabledCode: 'Training' },
    get secrets(): readonly string[] {
      return [c.clientSecret, ...emulator.liveTokens()];
    },
    reportsLogout: true,
    afterOutage: 'redelivers',
    async agentSets(agentId: string, state: SettableAcdState) {
      emulator.agentSetsPresence(agentId, state.state === 'Available' ? 'ON_QUEUE' : state.state === 'Offline' ? 'OFFLINE' : (state.code ?? 'AWAY'));
    },
    async startContact(agentId: string) {
      emulator.startContact(agentId);
    },
    async endContact(agentId: string, opts: { wrapUp?: boolean } = {}) {
      emulator.endContact(agentId, opts);
    },
    async endWrapUp(agentId: string) {
      emulator.endWrapUp(agentId);
    },
    async stateOf(agentId: string): Promise<AcdState> {
      return emulator.acdStateOf(agentId);
    },
    failNext(count: number, fault: ConformanceFault) {
      emulator.failNext(count, fault.status, 'retryAfterSec' in fault ? fault.retryAfterSec : undefined);
    },
    expireToken() {
      emulator.revokeTokens();
    },
    interruptDelivery() {
      emulator.interruptDelivery();
    },
    async resumeDelivery() {
      const before = connector.source.connects;
      emulator.resumeDelivery();
      await waitFor('the source to reconnect and backfill', () => connector.source.connects > before);
    },
    duplicateNext() {
      emulator.duplicateNext();
    },
    reorderNext() {
      emulator.holdNext();
    },
    settle,
    async stop() {
      await connector.source.stop();
      await connector.stop();
      await emulator.stop();
    },
  };
}
