import { createServer } from 'node:net';
import { ConfigError } from '@presence-sync/domain';
import { loadRuleContext } from './rule-context';

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe(loadRuleContext.name, () => {
  it('with no settings at all: both sides "not configured", nothing read, no problem, and the default connector\'s limits', async () => {
    const context = await loadRuleContext({});
    expect(context.catalogs).toEqual({ salesforce: 'not configured', contactCenter: 'not configured' });
    expect(context.problems).toEqual([]);
    expect(context.options.catalog).toEqual({
      missing: { salesforce: 'not configured (SALESFORCE_MODE is not live)', contactCenter: 'not configured (no ACD_CONNECTOR, ACD_BASE_URL or ACD_TOKEN setting)' },
    });
    expect(context.options.connector).toEqual({ name: 'generic', settable: ['Available', 'Unavailable', 'Offline'], unavailableNeedsCode: false });
  });

  it('--offline: skips the catalogs on purpose, but still takes the connector, the default code and the limits from the settings', async () => {
    const context = await loadRuleContext({ ACD_CONNECTOR: 'amazon-connect', DEFAULT_UNAVAILABLE_CODE: 'Away', RULES_MAX_DEPTH: '8', SALESFORCE_MODE: 'live' }, { offline: true });
    expect(context.catalogs).toEqual({ salesforce: 'offline', contactCenter: 'offline' });
    expect(context.options).toMatchObject({
      catalog: { missing: { salesforce: 'skipped (--offline)', contactCenter: 'skipped (--offline)' } },
      connector: { name: 'amazon-connect', unavailableNeedsCode: true },
      defaultUnavailableCode: 'Away',
      limits: { maxDepth: 8 },
    });
  });

  it('a configured side that cannot be read is a problem naming it and why, and its catalog is "not reachable"', async () => {
    const port = await closedPort();
    const context = await loadRuleContext({ ACD_BASE_URL: `http://127.0.0.1:${port}`, ACD_TOKEN: 't', ACD_WEBHOOK_SECRET: 'x'.repeat(16), ACD_TIMEOUT_MS: '1000' });
    expect(context.catalogs).toEqual({ salesforce: 'not configured', contactCenter: 'not reachable' });
    expect(context.problems).toEqual([expect.stringMatching(/^contact-center catalogs \(generic connector\) not reachable: /)]);
    expect(context.options.catalog?.teams).toBeUndefined();
  });

  it('configured but with invalid settings: a problem (one line), not a pass', async () => {
    const context = await loadRuleContext({ ACD_CONNECTOR: 'cxone', SALESFORCE_MODE: 'live' });
    expect(context.catalogs).toEqual({ salesforce: 'not reachable', contactCenter: 'not reachable' });
    expect(context.problems).toEqual([
      expect.stringMatching(/^contact-center catalogs \(cxone connector\) not read: invalid setting CXONE_/),
      expect.stringMatching(/^Salesforce catalogs \(SALESFORCE_MODE=live\) not read: invalid setting SALESFORCE_/),
    ]);
    for (const problem of context.problems) expect(problem).not.toContain('\n');
  });

  it('a bad rule-check setting is a ConfigError naming it', async () => {
    await expect(loadRuleContext({ ACD_CONNECTOR: 'avaya' })).rejects.toThrow(ConfigError);
    await expect(loadRuleContext({ RULES_MAX_DEPTH: 'deep' })).rejects.toThrow(/^invalid setting RULES_MAX_DEPTH: /);
  });
});
