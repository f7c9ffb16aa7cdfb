import { ConfigError } from '@presence-sync/domain';
import { loadCxoneSettings, redactCxoneSettings } from './cxone-settings';
import { encryptSecret, generateSecretsKey } from './secrets';

const env = {
  CXONE_CLIENT_ID: 'app@tenant', CXONE_CLIENT_SECRET: 'client-secret-value', CXONE_ACCESS_KEY_ID: 'KEYID123', CXONE_ACCESS_KEY_SECRET: 'access-key-secret-value',
};

describe('loadCxoneSettings', () => {
  it('applies the defaults', () => {
    expect(loadCxoneSettings(env)).toEqual({
      authUrl: 'https://cxone.niceincontact.com', clientId: 'app@tenant', clientSecret: 'client-secret-value', accessKeyId: 'KEYID123',
      accessKeySecret: 'access-key-secret-value', tenantId: undefined, apiBaseUrl: undefined, apiVersion: 'v34.0', pollIntervalMs: 1000, resumeMaxAgeMs: 3_600_000,
    });
  });

  it('reads overrides and normalises the version', () => {
    const s = loadCxoneSettings({ ...env, CXONE_AUTH_URL: 'https://cxone.dev.niceincontact.com/', CXONE_API_BASE_URL: 'https://api-eu1.niceincontact.com', CXONE_API_VERSION: '33.0', CXONE_TENANT_ID: 'abc-123', CXONE_POLL_INTERVAL_MS: '1500' });
    expect(s).toMatchObject({ authUrl: 'https://cxone.dev.niceincontact.com', apiBaseUrl: 'https://api-eu1.niceincontact.com', apiVersion: 'v33.0', tenantId: 'abc-123', pollIntervalMs: 1500 });
  });

  it.each([
    [{ CXONE_ACCESS_KEY_ID: undefined }, 'invalid setting CXONE_ACCESS_KEY_ID: required with ACD_CONNECTOR=cxone; it is not set'],
    [{ CXONE_POLL_INTERVAL_MS: '100' }, 'invalid setting CXONE_POLL_INTERVAL_MS: must be at least 250; got "100"'],
    [{ CXONE_API_VERSION: 'latest' }, 'invalid setting CXONE_API_VERSION: must look like v34.0; got "latest"'],
    [{ CXONE_AUTH_URL: 'ftp://x' }, 'invalid setting CXONE_AUTH_URL'],
  ])('refuses %j in one line', (change, message) => {
    let error: unknown;
    try {
      loadCxoneSettings({ ...env, ...change });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('opens enc:v1: secrets with SECRETS_KEY and never echoes a secret', () => {
    const key = generateSecretsKey();
    const s = loadCxoneSettings({ ...env, SECRETS_KEY: key, CXONE_ACCESS_KEY_SECRET: encryptSecret('sealed-secret-value', key) });
    expect(s.accessKeySecret).toBe('sealed-secret-value');
    expect(() => loadCxoneSettings({ ...env, CXONE_ACCESS_KEY_SECRET: encryptSecret('sealed-secret-value', key) })).toThrow(/CXONE_ACCESS_KEY_SECRET: the value is encrypted/);
    expect(JSON.stringify(redactCxoneSettings(s))).not.toMatch(/sealed-secret-value|client-secret-value/);
  });
});
