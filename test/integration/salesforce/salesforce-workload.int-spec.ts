import { JsforceSalesforceAdapter, SalesforceSession } from '@presence-sync/salesforce';
import type { CliIo } from '../../../apps/presence-sync/src/cli/rules.commands';
import { runSalesforceCheck, runSalesforceSetup } from '../../../apps/presence-sync/src/cli/salesforce.commands';
import {
  AGENTS, INTEGRATION, memoryLogger, MemoryCheckpoints, RecordingSink, SalesforceEmulator, settingsFor, startEmulator, until, USP_QUERY,
} from './salesforce-test-kit';

/** The query the PushTopic had before capacity-driven sync (no capacity fields). */
const OLD_QUERY = 'SELECT Id, UserId, ServicePresenceStatusId, IsCurrentState, IsAway, StatusStartDate, StatusEndDate FROM UserServicePresence';

function capture(): CliIo & { text(): string } {
  const lines: string[] = [];
  return { out: (l) => lines.push(l), err: (l) => lines.push(`ERR ${l}`), text: () => lines.join('\n') };
}

const emulators: SalesforceEmulator[] = [];
const adapters: JsforceSalesforceAdapter[] = [];
afterEach(async () => {
  for (const a of adapters.splice(0)) await a.stop();
  for (const e of emulators.splice(0)) await e.stop();
});

async function emulatorWith(options: Parameters<typeof startEmulator>[0] = {}): Promise<SalesforceEmulator> {
  const emulator = await startEmulator(options);
  emulators.push(emulator);
  return emulator;
}

function adapterFor(emulator: SalesforceEmulator): JsforceSalesforceAdapter {
  const adapter = new JsforceSalesforceAdapter({ settings: settingsFor(emulator), checkpoints: new MemoryCheckpoints(), logger: memoryLogger(), stream: { retryMinMs: 50, retryMaxMs: 500 } });
  adapters.push(adapter);
  return adapter;
}

describe('capacity-driven sync: the Salesforce side', () => {
  it('turns each load change into a change with the same status and the read workload; a logout empties it', async () => {
    const emulator = await emulatorWith();
    const adapter = adapterFor(emulator);
    const sink = new RecordingSink();
    await adapter.start(sink);
    const ana = emulator.userId(AGENTS[0]);
    const last = () => sink.accepted[sink.accepted.length - 1];

    emulator.agentSetStatus(AGENTS[0], 'Available_Chat');
    await until(() => sink.accepted.length === 1, 'the login');
    expect(sink.accepted[0].workload).toBeUndefined();

    const chat = emulator.assignWork(AGENTS[0], 'sfdc_liveagent');
    await until(() => sink.accepted.length === 2, 'the first load change');
    expect(last()).toMatchObject({ userId: ana, status: 'Available_Chat', workload: { channels: { sfdc_liveagent: 1 }, load: 1, capacity: 10 } });
    expect(last().eventId).toMatch(/^usp:0Bz\w+:work:\d+:\d+$/);

    emulator.assignWork(AGENTS[0], 'sfdc_case');
    await until(() => sink.accepted.length === 3, 'the second load change');
    expect(last().workload).toEqual({ channels: { sfdc_liveagent: 1, sfdc_case: 1 }, load: 3, capacity: 10 });

    // Accepting work takes no further capacity: the presence row is not touched, nothing is reported.
    emulator.acceptWork(chat);
    emulator.closeWork(chat);
    await until(() => sink.accepted.length === 4, 'the load going down');
    expect(last().workload).toEqual({ channels: { sfdc_case: 1 }, load: 2, capacity: 10 });

    emulator.agentSetStatus(AGENTS[0], 'Offline');
    await until(() => sink.accepted.length === 5, 'the logout');
    expect(last()).toMatchObject({ status: 'Offline', workload: { channels: {}, load: 0, capacity: 0 } });
    expect(new Set(sink.eventIds()).size).toBe(5);
  });

  it('reads the service channels by DeveloperName, for checking the workload rows', async () => {
    const emulator = await emulatorWith();
    const channels = await adapterFor(emulator).listServiceChannels();
    expect([...channels].sort()).toEqual(['sfdc_case', 'sfdc_liveagent']);
  });

  it('gives every snapshot row its workload from one query of all open work', async () => {
    const emulator = await emulatorWith();
    const adapter = adapterFor(emulator);
    emulator.agentSetStatus(AGENTS[0], 'Available_Chat');
    emulator.agentSetStatus(AGENTS[1], 'Lunch');
    emulator.assignWork(AGENTS[0], 'sfdc_liveagent');
    emulator.assignWork(AGENTS[0], 'sfdc_liveagent');
    const snapshot = await adapter.currentPresence();
    const byUser = new Map(snapshot.map((s) => [s.userId, s]));
    expect(byUser.get(emulator.userId(AGENTS[0]))?.workload).toEqual({ channels: { sfdc_liveagent: 2 }, load: 2, capacity: 10 });
    expect(byUser.get(emulator.userId(AGENTS[1]))?.workload).toEqual({ channels: {}, load: 0, capacity: 10 });
  });

  it('setup brings an existing PushTopic up to the query with the capacity fields', async () => {
    const emulator = await emulatorWith({ provision: { pushTopics: [{ name: 'PresenceSyncUSP', query: OLD_QUERY }], streamingChannels: ['/u/PresenceSyncCommand'] } });
    const io = capture();
    expect(await runSalesforceSetup(settingsFor(emulator), io)).toBe(0);
    expect(io.text()).toMatch(/^PushTopic PresenceSyncUSP: updated — existed \(0IF\w+\) with a different Query(, \w+)*: updated$/m);
    expect(emulator.records('PushTopic')[0].Query).toBe(USP_QUERY);
  });

  it('salesforce check: Omni-Channel work must be readable for workload rules, and is a warning otherwise', async () => {
    const emulator = await emulatorWith();
    const settings = settingsFor(emulator);
    const ok = capture();
    await runSalesforceSetup(settings, capture());
    expect(await runSalesforceCheck(settings, ok, { session: new SalesforceSession(settings), workloadRules: true })).toBe(0);
    expect(ok.text()).toMatch(/^Omni-Channel work: ok — View All Data: every agent's open work \(AgentWork\) is readable$/m);

    // Presence stays readable (View All on it), but the integration user would see only its own work.
    emulator.setPermissions(INTEGRATION.username, { viewAllData: false, viewAllPresence: true });
    const needed = capture();
    expect(await runSalesforceCheck(settings, needed, { workloadRules: true })).toBe(1);
    expect(needed.text()).toMatch(/^Omni-Channel work: failed — AgentWork can be queried, but the integration user may see only its own work .*"View All" on Agent Work \(AgentWork\)/m);
    const notNeeded = capture();
    expect(await runSalesforceCheck(settings, notNeeded, { workloadRules: false })).toBe(0);
    expect(notNeeded.text()).toMatch(/^Omni-Channel work: warning — .*\(no rule has a workload table yet, so nothing needs it now\)$/m);

    emulator.setPermissions(INTEGRATION.username, { viewAllAgentWork: true });
    const fixed = capture();
    expect(await runSalesforceCheck(settings, fixed, { workloadRules: true })).toBe(0);
    expect(fixed.text()).toMatch(/^Omni-Channel work: ok — View All on AgentWork/m);
  });
});
