import { GenesysConnector } from '@presence-sync/connector-genesys';
import { RecordingSink } from '../conformance/connector-harness';
import { GenesysSandboxAcd } from './genesys-sandbox.acd';

describe(GenesysSandboxAcd.name, () => {
  it('seeds the sandbox catalog as a Genesys org the connector reads, streams and writes', async () => {
    const acd = new GenesysSandboxAcd();
    await acd.start({
      teams: [{ teamId: 't1', name: 'Sales', unavailableCodes: ['Lunch', 'Break'] }, { teamId: 't2', name: 'Support', unavailableCodes: ['Lunch', 'Training'] }],
      agents: [
        { agentId: 'x1', email: 'ann@example.com', teamId: 't1', state: { state: 'Available' } },
        { agentId: 'x2', email: 'bob@example.com', teamId: 't2', state: { state: 'Unavailable', code: 'Training' } },
      ],
    });
    const env = acd.daemonEnv();
    const connector = new GenesysConnector({ apiBaseUrl: env.GENESYS_API_BASE_URL, clientId: env.GENESYS_CLIENT_ID, clientSecret: env.GENESYS_CLIENT_SECRET });
    const sink = new RecordingSink();
    const changed: string[] = [];
    acd.onStateChange((id) => changed.push(id));
    try {
      await connector.start();
      await connector.source.start(sink, sink.onGap);
      const teams = await connector.listTeams();
      expect(teams.find((t) => t.name === 'Sales')?.unavailableCodes.sort()).toEqual(['Away', 'Break', 'Lunch']);
      expect(teams.find((t) => t.name === 'Support')?.unavailableCodes.sort()).toEqual(['Away', 'Lunch', 'Training']);
      const [ann, bob] = acd.agents();
      expect(ann).toMatchObject({ email: 'ann@example.com', teamName: 'Sales', state: { state: 'Available' } });
      expect(bob.state).toEqual({ state: 'Unavailable', code: 'Training' });

      acd.agentSetState(ann.agentId, { state: 'Unavailable', code: 'Break' });
      expect(changed).toContain(ann.agentId);
      const deadline = Date.now() + 5000;
      while (!sink.of(ann.agentId).some((c) => c.side === 'acd' && c.state.code === 'Break')) {
        if (Date.now() > deadline) throw new Error('no streamed change');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await connector.setState({ agentId: bob.agentId, state: { state: 'Available' }, requestId: 'r' });
      expect(acd.agents()[1].state).toEqual({ state: 'Available' });
    } finally {
      await connector.stop();
      await acd.stop();
    }
  });
});
