import { CONNECTOR_NAMES } from '@presence-sync/domain';
import { loadConfig } from '@presence-sync/config';
import { connectorCapabilities, createContactCenter } from './contact-center.factory';

describe(connectorCapabilities.name, () => {
  it('knows every connector, and only Amazon Connect needs a code for Unavailable', () => {
    const needsCode = CONNECTOR_NAMES.filter((name) => connectorCapabilities(name).unavailableNeedsCode);
    expect(needsCode).toEqual(['amazon-connect']);
    for (const name of CONNECTOR_NAMES) expect(connectorCapabilities(name).settable.length).toBeGreaterThan(0);
  });

  it('is what the built connector says (no second list to drift)', () => {
    const config = loadConfig({ ACD_BASE_URL: 'http://cc.example', ACD_TOKEN: 't', ACD_WEBHOOK_SECRET: 'x'.repeat(16) });
    expect(createContactCenter(config).capabilities).toBe(connectorCapabilities('generic'));
  });
});
