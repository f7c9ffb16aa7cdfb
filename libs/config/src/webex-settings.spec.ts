import { ConfigError } from '@presence-sync/domain';
import { loadConfig } from './app-config';
import { encryptSecret, generateSecretsKey } from './secrets';
import { loadWebexSettings, WEBEX_REGIONS } from './webex-settings';

const KEY = generateSecretsKey();
const base = {
  WEBEX_CLIENT_ID: 'C0123', WEBEX_CLIENT_SECRET: 'client-secret-value', WEBEX_REFRESH_TOKEN: 'refresh-token-value', WEBEX_ORG_ID: 'f53c8b54-46ca-43f6',
  WEBEX_WEBHOOK_URL: 'https://sync.example.com/v1/acd/webex/events', WEBEX_WEBHOOK_SECRET: 'x'.repeat(40), SECRETS_KEY: KEY,
};

describe('loadWebexSettings', () => {
  it('reads the settings, with the region picking the API root', () => {
    const s = loadWebexSettings({ ...base, WEBEX_REGION: 'eu2' });
    expect(s.apiBaseUrl).toBe(WEBEX_REGIONS.eu2);
    expect(s.tokenUrl).toBe('https://webexapis.com/v1/access_token');
    expect(s.subscriptionName).toBe('presence-sync');
    expect(s.availableAuxCodeId).toBe('0');
    expect(loadWebexSettings({ ...base, WEBEX_API_BASE_URL: 'https://api.example.com/' }).apiBaseUrl).toBe('https://api.example.com');
  });

  it('opens enc:v1: secrets with SECRETS_KEY', () => {
    const s = loadWebexSettings({ ...base, WEBEX_CLIENT_SECRET: encryptSecret('sealed-secret', KEY) });
    expect(s.clientSecret).toBe('sealed-secret');
  });

  it.each([
    [{ WEBEX_CLIENT_ID: undefined }, /^invalid setting WEBEX_CLIENT_ID: required with ACD_CONNECTOR=webex; it is not set$/],
    [{ WEBEX_REGION: 'mars1' }, /^invalid setting WEBEX_REGION: must be one of us1, eu1, eu2, anz1, ca1, jp1; got "mars1"$/],
    [{ WEBEX_WEBHOOK_URL: 'http://sync.example.com/hook' }, /^invalid setting WEBEX_WEBHOOK_URL: must be the daemon's public https:\/\/ URL/],
    [{ WEBEX_WEBHOOK_SECRET: 'short-secret' }, /^invalid setting WEBEX_WEBHOOK_SECRET: must be at least 32 characters; the value given is not valid$/],
    [{ SECRETS_KEY: undefined }, /^invalid setting SECRETS_KEY: required with ACD_CONNECTOR=webex/],
  ])('one readable line for a bad setting: %j', (change, message) => {
    let error: unknown;
    try {
      loadWebexSettings({ ...base, ...change });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('short-secret');
  });

  it('is loaded by loadConfig only with ACD_CONNECTOR=webex', () => {
    expect(loadConfig({ ...base, ACD_CONNECTOR: 'webex' }).acd.webex?.orgId).toBe(base.WEBEX_ORG_ID);
    expect(() => loadConfig({ ACD_CONNECTOR: 'webex' })).toThrow(/WEBEX_CLIENT_ID/);
  });
});
