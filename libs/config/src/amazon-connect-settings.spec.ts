import { loadAmazonConnectSettings } from './amazon-connect-settings';

const base = {
  AMAZON_CONNECT_INSTANCE_ID: '0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0',
  AMAZON_CONNECT_REGION: 'eu-central-1',
  AMAZON_CONNECT_AGENT_EVENT_STREAM: 'connect-agent-events',
};

describe('loadAmazonConnectSettings', () => {
  it('applies defaults under the account quota (2 req/s, burst 5)', () => {
    const s = loadAmazonConnectSettings(base);
    expect(s).toMatchObject({ instanceId: base.AMAZON_CONNECT_INSTANCE_ID, region: 'eu-central-1', agentEventStream: 'connect-agent-events', pollIntervalMs: 500 });
    expect(s.requestsPerSecond).toBeLessThan(2);
    expect(s.burst).toBeLessThan(5);
  });

  it('reduces an instance ARN to its id and accepts a stream ARN and endpoint overrides', () => {
    const s = loadAmazonConnectSettings({
      ...base,
      AMAZON_CONNECT_INSTANCE_ID: `arn:aws:connect:eu-central-1:123456789012:instance/${base.AMAZON_CONNECT_INSTANCE_ID}`,
      AMAZON_CONNECT_AGENT_EVENT_STREAM: 'arn:aws:kinesis:eu-central-1:123456789012:stream/agents',
      AMAZON_CONNECT_ENDPOINT: 'http://127.0.0.1:4566/',
    });
    expect(s.instanceId).toBe(base.AMAZON_CONNECT_INSTANCE_ID);
    expect(s.agentEventStream).toMatch(/stream\/agents$/);
    expect(s.connectEndpoint).toBe('http://127.0.0.1:4566');
  });

  it.each([
    [{ AMAZON_CONNECT_REGION: undefined }, /AMAZON_CONNECT_REGION: required/],
    [{ AMAZON_CONNECT_INSTANCE_ID: 'my-instance' }, /AMAZON_CONNECT_INSTANCE_ID: must be the instance id/],
    [{ AMAZON_CONNECT_REQUESTS_PER_SECOND: '0' }, /AMAZON_CONNECT_REQUESTS_PER_SECOND/],
    [{ AMAZON_CONNECT_POLL_INTERVAL_MS: '50' }, /AMAZON_CONNECT_POLL_INTERVAL_MS/],
  ])('refuses %j with one line naming the setting', (extra, message) => {
    expect(() => loadAmazonConnectSettings({ ...base, ...extra })).toThrow(message);
  });
});
