import { SalesforceSession } from '@presence-sync/salesforce';
import { runSalesforceCheck, runSalesforceSetup } from '../../../apps/presence-sync/src/cli/salesforce.commands';
import type { CliIo } from '../../../apps/presence-sync/src/cli/rules.commands';
import { AGENTS, INTEGRATION, SalesforceEmulator, settingsFor, startEmulator, USP_QUERY } from './salesforce-test-kit';

function capture(): CliIo & { stdout: string[]; text(): string } {
  const stdout: string[] = [];
  return { stdout, out: (l) => stdout.push(l), err: (l) => stdout.push(`ERR ${l}`), text: () => stdout.join('\n') };
}

let emulator: SalesforceEmulator;
beforeEach(async () => {
  emulator = await startEmulator({ bare: true });
});
afterEach(() => emulator.stop());

describe(runSalesforceSetup.name, () => {
  it('creates the PushTopic and the command channel, then finds them on a second run', async () => {
    const settings = settingsFor(emulator, { mode: 'jwt' });
    const io = capture();
    expect(await runSalesforceSetup(settings, io, { requiredStatuses: ['Available_Chat', 'Lunch', 'Offline'] })).toBe(0);
    expect(io.text()).toMatch(/^login: ok \(SALESFORCE_AUTH=jwt\)/m);
    expect(io.text()).toMatch(/^PushTopic PresenceSyncUSP: created/m);
    expect(io.text()).toMatch(/^StreamingChannel \/u\/PresenceSyncCommand: created/m);
    expect(io.text()).toMatch(/^statuses: ok — \d+ in the org; all 3 the rules name exist/m);
    const [topic] = emulator.records('PushTopic');
    expect(topic).toMatchObject({
      Name: 'PresenceSyncUSP', ApiVersion: 62, NotifyForOperationCreate: true, NotifyForOperationUpdate: true, NotifyForFields: 'Referenced',
    });
    expect(String(topic.Query)).toBe(USP_QUERY);
    expect(emulator.records('StreamingChannel').map((c) => c.Name)).toEqual(['/u/PresenceSyncCommand']);

    const again = capture();
    expect(await runSalesforceSetup(settings, again)).toBe(0);
    expect(again.text()).toMatch(/^PushTopic PresenceSyncUSP: found/m);
    expect(again.text()).toMatch(/^StreamingChannel \/u\/PresenceSyncCommand: found/m);
    expect(emulator.records('PushTopic')).toHaveLength(1);
    expect(emulator.records('StreamingChannel')).toHaveLength(1);
    // After setup, consoles can listen on the channel the daemon pushes to.
    await emulator.openConsole(AGENTS[0]);
  });

  it('corrects a PushTopic whose definition drifted', async () => {
    const settings = settingsFor(emulator);
    await runSalesforceSetup(settings, capture());
    const io = capture();
    expect(await runSalesforceSetup({ ...settings, apiVersion: '63.0' }, io)).toBe(0);
    expect(io.text()).toMatch(/^PushTopic PresenceSyncUSP: updated — existed \(\w+\) with a different ApiVersion: updated/m);
    expect(emulator.records('PushTopic')[0].ApiVersion).toBe(63);
  });

  it('says how to recover when the integration user may not edit the drifted PushTopic', async () => {
    const settings = settingsFor(emulator);
    await runSalesforceSetup(settings, capture());
    emulator.failNext(1, { status: 403, method: 'PATCH', body: [{ errorCode: 'INSUFFICIENT_ACCESS_OR_READONLY', message: 'insufficient access rights on object id' }] });
    const io = capture();
    expect(await runSalesforceSetup({ ...settings, apiVersion: '63.0' }, io)).toBe(1);
    expect(io.text()).toMatch(/^PushTopic PresenceSyncUSP: failed — exists \(\w+\) with a different ApiVersion and could not be updated \(INSUFFICIENT_ACCESS_OR_READONLY: .*\): delete it and run setup again/m);
  });

  it('exits 1 naming the statuses the org lacks', async () => {
    const io = capture();
    expect(await runSalesforceSetup(settingsFor(emulator), io, { requiredStatuses: ['Lunch', 'Coffee_Break', 'Nap'] })).toBe(1);
    expect(io.text()).toMatch(/^statuses: missing — the rules name Coffee_Break, Nap, which the org does not have/m);
    expect(io.text()).toMatch(/^setup: 1 problem$/m);
  });

  it('exits 1 with the login error and changes nothing when the credentials are wrong', async () => {
    const io = capture();
    expect(await runSalesforceSetup(settingsFor(emulator, { mode: 'password', password: 'nope' }), io)).toBe(1);
    expect(io.text()).toMatch(/^login: failed — Salesforce login failed \(SALESFORCE_AUTH=password\): invalid_grant/m);
    expect(io.text()).not.toContain(INTEGRATION.securityToken);
    expect(emulator.records('PushTopic')).toHaveLength(0);
  });
});

describe(runSalesforceCheck.name, () => {
  it('reports what is missing before setup and changes nothing', async () => {
    const io = capture();
    expect(await runSalesforceCheck(settingsFor(emulator), io)).toBe(1);
    expect(io.text()).toMatch(/^PushTopic PresenceSyncUSP: missing/m);
    expect(io.text()).toMatch(/^StreamingChannel \/u\/PresenceSyncCommand: missing/m);
    expect(io.text()).toMatch(/^streaming \/topic\/PresenceSyncUSP: failed — subscribe refused: 400::The channel you requested to subscribe to does not exist/m);
    expect(emulator.records('PushTopic')).toHaveLength(0);
    expect(emulator.records('StreamingChannel')).toHaveLength(0);
  });

  it('passes after setup: identity, API usage, topic, channel and a streaming handshake', async () => {
    const settings = settingsFor(emulator, { mode: 'client-credentials' });
    await runSalesforceSetup(settings, capture());
    const io = capture();
    const session = new SalesforceSession(settings);
    expect(await runSalesforceCheck(settings, io, { session })).toBe(0);
    expect(io.text()).toMatch(/^settings: http:\/\/127\.0\.0\.1:\d+, API 62\.0, SALESFORCE_AUTH=client-credentials/m);
    expect(io.text()).toMatch(new RegExp(`^identity: ok — running as ${INTEGRATION.username}`, 'm'));
    expect(io.text()).toMatch(/^API usage: ok — \d+ of 100000 requests in the last 24 h/m);
    expect(io.text()).toMatch(/^streaming \/topic\/PresenceSyncUSP: ok — handshake and subscribe ok/m);
    expect(io.text()).toMatch(/^presence visibility: ok — View All Data/m);
    expect(io.text()).toMatch(/^streaming allocations: ok — PushTopic events \d+ of 200000 in 24 h \(DailyDurableStreamingApiEvents\); generic events \d+ of 200000 in 24 h \(DailyDurableGenericStreamingApiEvents\); CometD clients \d+ of 1000 \(DurableStreamingApiConcurrentClients\)/m);
    expect(io.text()).toMatch(/^check: ok$/m);
    // The probe's client is gone again.
    expect(emulator.streamingClients(INTEGRATION.username)).toEqual([]);
  });

  it('names the permission to add when the integration user cannot read every presence row', async () => {
    const settings = settingsFor(emulator);
    await runSalesforceSetup(settings, capture());
    emulator.setPermissions(INTEGRATION.username, { viewAllData: false });
    const io = capture();
    expect(await runSalesforceCheck(settings, io)).toBe(1);
    expect(io.text()).toMatch(/^presence visibility: failed — .*add "View All Data".*or "View All" on User Presence \(UserServicePresence\)/m);

    emulator.setPermissions(INTEGRATION.username, { viewAllPresence: true });
    const again = capture();
    expect(await runSalesforceCheck(settings, again)).toBe(0);
    expect(again.text()).toMatch(/^presence visibility: ok — View All on UserServicePresence/m);
  });
});
