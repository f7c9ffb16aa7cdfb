import { ConfigError } from '@presence-sync/domain';
import { loadGenesysSettings, redactGenesysSettings } from './genesys-settings';

describe(loadGenesysSettings.name, () => {
  const base = { GENESYS_CLIENT_ID: 'client-1', GENESYS_CLIENT_SECRET: 's3cret-value' };

  it('defaults the region and normalises a pasted host', () => {
    expect(loadGenesysSettings(base)).toEqual({ region: 'mypurecloud.com', apiBaseUrl: undefined, clientId: 'client-1', clientSecret: 's3cret-value', afterCallWork: true });
    expect(loadGenesysSettings({ ...base, GENESYS_REGION: 'https://api.mypurecloud.de/' }).region).toBe('mypurecloud.de');
    expect(loadGenesysSettings({ ...base, GENESYS_API_BASE_URL: 'http://127.0.0.1:9000/' }).apiBaseUrl).toBe('http://127.0.0.1:9000');
  });

  it('reads GENESYS_AFTER_CALL_WORK as a boolean and refuses anything else', () => {
    expect(loadGenesysSettings({ ...base, GENESYS_AFTER_CALL_WORK: 'false' }).afterCallWork).toBe(false);
    expect(loadGenesysSettings({ ...base, GENESYS_AFTER_CALL_WORK: ' TRUE ' }).afterCallWork).toBe(true);
    expect(() => loadGenesysSettings({ ...base, GENESYS_AFTER_CALL_WORK: 'no' })).toThrow(new ConfigError('invalid setting GENESYS_AFTER_CALL_WORK: must be true or false; got "no"'));
  });

  it('names a missing setting and never shows the secret', () => {
    expect(() => loadGenesysSettings({ GENESYS_CLIENT_ID: 'x' })).toThrow(new ConfigError('invalid setting GENESYS_CLIENT_SECRET: required with ACD_CONNECTOR=genesys; it is not set'));
    expect(() => loadGenesysSettings({ ...base, GENESYS_REGION: 'not a host' })).toThrow(/invalid setting GENESYS_REGION/);
    expect(redactGenesysSettings(loadGenesysSettings(base)).clientSecret).toBe('***');
  });
});
