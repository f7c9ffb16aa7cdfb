import { AmazonConnectConnector, type AwsCredentialProvider } from '@presence-sync/connector-amazon-connect';
import type { AcdState, SettableAcdState } from '@presence-sync/domain';
import { AMAZON_CONNECT_EMULATOR_CREDENTIALS, AmazonConnectEmulator, type AmazonConnectEmulatorOptions } from '../amazon-connect-emulator/amazon-connect-emulator';
import { RecordingSink, type ConformanceFault, type ConnectorHarness } from './connector-harness';
import { MemoryCheckpointStore } from './cxone.harness';

/**
 * Temporary credentials as the default chain hands them out (an assumed role, a pod identity): a new access key
 * on each call, valid one minute. That is inside the SDK's five-minute refresh window, so the SDK asks again
 * before each signing; a connector that resolved credentials once and kept them would sign with an old key.
 */
export function rotatingTestCredentials(): AwsCredentialProvider {
  let issued = 0;
  return async () => {
    issued++;
    return {
      ...AMAZON_CONNECT_EMULATOR_CREDENTIALS, accessKeyId: `ASIAEMULATOR${String(issued).padStart(6, '0')}`,
      sessionToken: `session-${issued}`, expiration: new Date(Date.now() + 60_000),
    };
  };
}

/** The Amazon Connect harness, with the emulator and the checkpoints for checks the suite does not make. */
export interface AmazonConnectHarness extends ConnectorHarness {
  readonly connector: AmazonConnectConnector;
  readonly emulator: AmazonConnectEmulator;
  readonly checkpoints: MemoryCheckpointStore;
}

const PROFILE = 'rp-0001-conformance';
const STATUS = { available: 'st-available', offline: 'st-offline', lunch: 'st-lunch', break: 'st-break', training: 'st-training' };

/** The seeded instance of the harness (also a template for specs). */
export function amazonConnectSeed(): AmazonConnectEmulatorOptions {
  return {
    statuses: [
      { id: STATUS.available, name: 'Available', type: 'ROUTABLE' },
      { id: STATUS.offline, name: 'Offline', type: 'OFFLINE' },
      { id: STATUS.lunch, name: 'Lunch', type: 'CUSTOM' },
      { id: STATUS.break, name: 'Break', type: 'CUSTOM' },
      { id: STATUS.training, name: 'Training', type: 'CUSTOM', state: 'DISABLED' },
    ],
    routingProfiles: [{ id: PROFILE, name: 'Conformance' }, { id: 'rp-0002-other', name: 'Other' }],
    users: [
      { id: 'a1b2c3d4-0000-4000-8000-000000000001', username: 'ada', email: 'ada.adams@example.com', routingProfileId: PROFILE },
      { id: 'a1b2c3d4-0000-4000-8000-000000000002', username: 'ben', email: 'ben.becker@example.com', routingProfileId: PROFILE },
      { id: 'a1b2c3d4-0000-4000-8000-000000000003', username: 'chloe', email: 'chloe.chen@example.com', routingProfileId: 'rp-0002-other', loggedIn: false },
    ],
    // Two per page: listings must page.
    pageSize: 2,
  };
}

/**
 * The Amazon Connect connector against the in-process Connect + Kinesis emulator, for the conformance suite. The
 * connector's source reads the stream every 40 ms into the harness's sink; the limiter allows 50 calls/s so the
 * suite does not wait on the production default (1.5/s), which the limiter's own spec covers.
 */
export async function makeAmazonConnectHarness(options: Partial<AmazonConnectEmulatorOptions> = {}): Promise<AmazonConnectHarness> {
  const emulator = new AmazonConnectEmulator({ ...amazonConnectSeed(), ...options });
  const { endpoint, kinesisEndpoint } = await emulator.start();
  const checkpoints = new MemoryCheckpointStore();
  const connector = new AmazonConnectConnector({
    instanceId: emulator.instanceId, region: emulator.region, agentEventStream: emulator.streamName,
    connectEndpoint: endpoint, kinesisEndpoint, credentials: rotatingTestCredentials(),
    requestsPerSecond: 50, burst: 50, pollIntervalMs: 40, checkpoints,
  });
  const received = new RecordingSink();
  await connector.start();
  await connector.source.start(received, received.onGap);
  const settle = async () => {
    await connector.source.afterNextRound();
    await connector.source.afterNextRound();
  };
  const agents = [
    { agentId: 'a1b2c3d4-0000-4000-8000-000000000001', email: 'ada.adams@example.com' },
    { agentId: 'a1b2c3d4-0000-4000-8000-000000000002', email: 'ben.becker@example.com' },
  ];
  const statusOf = (state: SettableAcdState): string => {
    if (state.state === 'Available') return STATUS.available;
    if (state.state === 'Offline') return STATUS.offline;
    const s = state.code ? emulator.statusByName(state.code) : undefined;
    if (!s) throw new Error(`makeAmazonConnectHarness: no status ${state.code ?? '(none)'}`);
    return s.id;
  };

  return {
    connector,
    emulator,
    checkpoints,
    received,
    agents,
    unknownAgentId: 'a1b2c3d4-0000-4000-8000-000000000999',
    team: { teamId: PROFILE, codes: ['Lunch', 'Break'], disabledCode: 'Training' },
    secrets: [AMAZON_CONNECT_EMULATOR_CREDENTIALS.secretAccessKey],
    reportsLogout: true,
    afterOutage: 'redelivers',
    async agentSets(agentId: string, state: SettableAcdState) {
      emulator.agentSetStatus(agentId, statusOf(state));
    },
    async startContact(agentId: string) {
      emulator.startContact(agentId);
    },
    async endContact(agentId: string, opts: { wrapUp?: boolean } = {}) {
      emulator.endContact(agentId, { acw: opts.wrapUp ?? false });
    },
    async endWrapUp(agentId: string) {
      emulator.endAcw(agentId);
    },
    async stateOf(agentId: string): Promise<AcdState> {
      return emulator.acdStateOf(agentId);
    },
    failNext(count: number, fault: ConformanceFault) {
      emulator.failNext(count, fault.status, 'retryAfterSec' in fault ? fault.retryAfterSec : undefined);
    },
    expireToken() {
      // AWS has no bearer token: the session credentials that signed so far expire, and the chain's renewal counts.
      emulator.expireAccessKeys();
    },
    interruptDelivery() {
      emulator.interruptStream();
    },
    async resumeDelivery() {
      const failed = () => emulator.requests.filter((r) => r.api === 'kinesis' && r.operation === 'GetRecords' && r.status === 500).length;
      const deadline = Date.now() + 10_000;
      while (failed() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      emulator.resumeStream();
    },
    duplicateNext() {
      emulator.duplicateNext();
    },
    reorderNext() {
      emulator.holdNext();
    },
    settle,
    async stop() {
      await connector.stop();
      await emulator.stop();
    },
  };
}
