import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@presence-sync/domain';
import { loadSalesforceSettings, redactSalesforceSettings, SALESFORCE_SETTING_NAMES } from './salesforce-settings';
import { encryptSecret } from './secrets';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const EC_PEM = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const KEY = 'c'.repeat(64);

const SECRET_VALUES = ['cs-very-secret', 'pw-very-secret', 'tok-very-secret', 'rt-very-secret'];
const modes = {
  jwt: { SALESFORCE_AUTH: 'jwt', SALESFORCE_CLIENT_ID: '3MVG9-client', SALESFORCE_USERNAME: 'integration@example.com', SALESFORCE_PRIVATE_KEY: PEM },
  'client-credentials': {
    SALESFORCE_AUTH: 'client-credentials', SALESFORCE_LOGIN_URL: 'https://acme.my.salesforce.com', SALESFORCE_CLIENT_ID: '3MVG9-client', SALESFORCE_CLIENT_SECRET: 'cs-very-secret',
  },
  password: {
    SALESFORCE_AUTH: 'password', SALESFORCE_CLIENT_ID: '3MVG9-client', SALESFORCE_CLIENT_SECRET: 'cs-very-secret',
    SALESFORCE_USERNAME: 'integration@example.com', SALESFORCE_PASSWORD: 'pw-very-secret', SALESFORCE_SECURITY_TOKEN: 'tok-very-secret',
  },
  'refresh-token': { SALESFORCE_AUTH: 'refresh-token', SALESFORCE_CLIENT_ID: '3MVG9-client', SALESFORCE_REFRESH_TOKEN: 'rt-very-secret', SECRETS_KEY: 'c'.repeat(64) },
} satisfies Record<string, Record<string, string>>;

function errorOf(env: Record<string, string | undefined>): Error {
  try {
    loadSalesforceSettings(env);
  } catch (e) {
    if (e instanceof Error) return e;
  }
  throw new Error('expected loadSalesforceSettings to throw');
}

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'sf-settings-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

describe(loadSalesforceSettings.name, () => {
  it('applies the defaults', () => {
    const s = loadSalesforceSettings(modes.password);
    expect(s).toMatchObject({
      loginUrl: 'https://login.salesforce.com', apiVersion: '62.0', pushTopic: 'PresenceSyncUSP',
      commandChannel: '/u/PresenceSyncCommand', offlineHoldMs: 2000, rateLimitPauseMs: 60_000, dailyLimitPauseMs: 900_000, consolePollMs: 30_000,
      proxyUrl: undefined,
    });
    expect(loadSalesforceSettings(modes['client-credentials']).auth).toEqual({ mode: 'client-credentials', clientId: '3MVG9-client', clientSecret: 'cs-very-secret' });
  });

  describe('the JWT audience', () => {
    it.each([
      ['a My Domain login URL', 'https://acme.my.salesforce.com', 'https://login.salesforce.com'],
      ['the production login URL', 'https://login.salesforce.com', 'https://login.salesforce.com'],
      ['a sandbox My Domain login URL', 'https://acme--uat.sandbox.my.salesforce.com', 'https://test.salesforce.com'],
      ['the sandbox login URL', 'https://test.salesforce.com', 'https://test.salesforce.com'],
      ['any other host (an emulator)', 'http://127.0.0.1:4321', 'https://login.salesforce.com'],
    ])('defaults to the audience Salesforce accepts for %s, never the My Domain URL', (_what, loginUrl, audience) => {
      expect(loadSalesforceSettings({ ...modes.jwt, SALESFORCE_LOGIN_URL: loginUrl }).auth).toMatchObject({ audience });
    });

    it('keeps an explicit audience (an Experience Cloud site)', () => {
      const s = loadSalesforceSettings({ ...modes.jwt, SALESFORCE_LOGIN_URL: 'https://acme.my.salesforce.com', SALESFORCE_JWT_AUDIENCE: 'https://acme.my.site.com/partners/' });
      expect(s.auth).toMatchObject({ audience: 'https://acme.my.site.com/partners' });
    });

    it('refuses a My Domain audience with one line naming the setting', () => {
      const e = errorOf({ ...modes.jwt, SALESFORCE_JWT_AUDIENCE: 'https://acme.my.salesforce.com' });
      expect(e).toBeInstanceOf(ConfigError);
      expect(e.message).toMatch(/^invalid setting SALESFORCE_JWT_AUDIENCE: must be https:\/\/login\.salesforce\.com, https:\/\/test\.salesforce\.com or an Experience Cloud site URL.*; got "https:\/\/acme\.my\.salesforce\.com"$/);
      expect(e.message.split('\n')).toHaveLength(1);
    });
  });

  describe('client credentials and the login host', () => {
    it.each([
      ['https://login.salesforce.com', 'got "https://login.salesforce.com"'],
      ['https://test.salesforce.com/', 'got "https://test.salesforce.com"'],
      [undefined, 'it is not set (the default is https://login.salesforce.com)'],
    ])('refuses SALESFORCE_LOGIN_URL=%s with one line', (loginUrl, shown) => {
      const e = errorOf({ ...modes['client-credentials'], SALESFORCE_LOGIN_URL: loginUrl });
      expect(e).toBeInstanceOf(ConfigError);
      expect(e.message).toBe(
        'invalid setting SALESFORCE_LOGIN_URL: SALESFORCE_AUTH=client-credentials needs the org\'s My Domain login URL ' +
        '(e.g. https://acme.my.salesforce.com); Salesforce refuses the client credentials flow on login.salesforce.com and test.salesforce.com; ' + shown,
      );
    });

    it('accepts a sandbox My Domain', () => {
      expect(loadSalesforceSettings({ ...modes['client-credentials'], SALESFORCE_LOGIN_URL: 'https://acme--uat.sandbox.my.salesforce.com' }).loginUrl)
        .toBe('https://acme--uat.sandbox.my.salesforce.com');
    });
  });

  describe('the refresh-token mode', () => {
    it('needs SECRETS_KEY: the rotated refresh token is kept encrypted in Redis', () => {
      const e = errorOf({ ...modes['refresh-token'], SECRETS_KEY: undefined });
      expect(e.message).toBe(
        'invalid setting SECRETS_KEY: required when SALESFORCE_AUTH=refresh-token (the current refresh token is kept encrypted in Redis with it); it is not set',
      );
    });

    it('refuses a malformed SECRETS_KEY without showing it', () => {
      const e = errorOf({ ...modes['refresh-token'], SECRETS_KEY: 'short-key-value' });
      expect(e.message).toMatch(/^invalid setting SECRETS_KEY: SECRETS_KEY must be 32 bytes/);
      expect(e.message).not.toContain('short-key-value');
    });

    it('carries the key for the token store, and redaction hides it', () => {
      const s = loadSalesforceSettings(modes['refresh-token']);
      expect(s.auth).toMatchObject({ mode: 'refresh-token', storeKey: 'c'.repeat(64) });
      expect(JSON.stringify(redactSalesforceSettings(s))).not.toContain('c'.repeat(64));
    });
  });

  it.each(Object.entries(modes))('reads the %s mode', (mode, env) => {
    expect(loadSalesforceSettings(env).auth.mode).toBe(mode);
  });

  it('keeps the security token optional in password mode', () => {
    const { SALESFORCE_SECURITY_TOKEN: _omit, ...env } = modes.password;
    expect(loadSalesforceSettings(env).auth).toMatchObject({ mode: 'password', securityToken: undefined });
  });

  it('normalises URLs and reads the optional settings', () => {
    const s = loadSalesforceSettings({
      ...modes['refresh-token'], SALESFORCE_LOGIN_URL: 'https://acme.my.salesforce.com/', SALESFORCE_API_VERSION: '60.0',
      SALESFORCE_INSTANCE_URL: 'https://acme.my.salesforce.com', SALESFORCE_PROXY_URL: 'http://proxy:3128',
      SALESFORCE_PUSH_TOPIC: 'MyTopic', SALESFORCE_COMMAND_CHANNEL: '/u/Mine', SALESFORCE_OFFLINE_HOLD_MS: '500',
    });
    expect(s).toMatchObject({
      loginUrl: 'https://acme.my.salesforce.com', apiVersion: '60.0', proxyUrl: 'http://proxy:3128', pushTopic: 'MyTopic',
      commandChannel: '/u/Mine', offlineHoldMs: 500, auth: { instanceUrl: 'https://acme.my.salesforce.com' },
    });
  });

  it.each([
    ['jwt', 'SALESFORCE_CLIENT_ID'],
    ['jwt', 'SALESFORCE_USERNAME'],
    ['jwt', 'SALESFORCE_PRIVATE_KEY'],
    ['client-credentials', 'SALESFORCE_CLIENT_ID'],
    ['client-credentials', 'SALESFORCE_CLIENT_SECRET'],
    ['password', 'SALESFORCE_CLIENT_ID'],
    ['password', 'SALESFORCE_CLIENT_SECRET'],
    ['password', 'SALESFORCE_USERNAME'],
    ['password', 'SALESFORCE_PASSWORD'],
    ['refresh-token', 'SALESFORCE_CLIENT_ID'],
    ['refresh-token', 'SALESFORCE_REFRESH_TOKEN'],
  ] as const)('%s mode names a missing %s', (mode, missing) => {
    const env: Record<string, string | undefined> = { ...modes[mode], [missing]: undefined };
    const e = errorOf(env);
    expect(e).toBeInstanceOf(ConfigError);
    const named = missing === 'SALESFORCE_PRIVATE_KEY' ? 'SALESFORCE_PRIVATE_KEY_FILE' : missing;
    expect(e.message).toMatch(new RegExp(`^invalid setting ${named}: required when SALESFORCE_AUTH=${mode}`));
    expect(e.message).toMatch(/it is not set$/);
  });

  it.each([
    [{ SALESFORCE_AUTH: 'magic' }, /^invalid setting SALESFORCE_AUTH: must be one of jwt, client-credentials, password, refresh-token; got "magic"/],
    [{ SALESFORCE_AUTH: undefined }, /^invalid setting SALESFORCE_AUTH: required; it is not set/],
    [{ SALESFORCE_API_VERSION: '62' }, /^invalid setting SALESFORCE_API_VERSION: must look like 62.0 \(NN.N\); got "62"/],
    [{ SALESFORCE_API_VERSION: '30.0' }, /^invalid setting SALESFORCE_API_VERSION: must be 37.0 or later/],
    [{ SALESFORCE_LOGIN_URL: 'login.salesforce.com' }, /^invalid setting SALESFORCE_LOGIN_URL: must be an http\(s\) URL/],
    [{ SALESFORCE_PUSH_TOPIC: 'A'.repeat(26) }, /^invalid setting SALESFORCE_PUSH_TOPIC: must be at most 25 characters/],
    [{ SALESFORCE_PUSH_TOPIC: 'bad name' }, /^invalid setting SALESFORCE_PUSH_TOPIC: must start with a letter/],
    [{ SALESFORCE_COMMAND_CHANNEL: '/topic/X' }, /^invalid setting SALESFORCE_COMMAND_CHANNEL: must be a generic streaming channel/],
  ])('rejects a bad setting with one readable line (%#)', (patch, message) => {
    const e = errorOf({ ...modes['client-credentials'], ...patch });
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(message);
    expect(e.message.split('\n')).toHaveLength(1);
  });

  it('never echoes a secret in an error', () => {
    const e = errorOf({ ...modes.password, SALESFORCE_PROXY_URL: 'not a url with pw-very-secret' });
    expect(e.message).toMatch(/^invalid setting SALESFORCE_PROXY_URL: must be an http\(s\) URL.*; the value given is not valid$/);
    for (const secret of SECRET_VALUES) expect(e.message).not.toContain(secret);
  });

  describe('the JWT key', () => {
    it('reads the key from a file', () => {
      const file = join(tmp, 'server.key');
      writeFileSync(file, PEM);
      const { SALESFORCE_PRIVATE_KEY: _omit, ...env } = modes.jwt;
      expect(loadSalesforceSettings({ ...env, SALESFORCE_PRIVATE_KEY_FILE: file }).auth).toMatchObject({ privateKey: PEM.trim() });
    });

    it('accepts a key with \\n escapes, as env files often carry it', () => {
      const s = loadSalesforceSettings({ ...modes.jwt, SALESFORCE_PRIVATE_KEY: PEM.trim().replace(/\n/g, '\\n') });
      expect(s.auth).toMatchObject({ privateKey: PEM.trim() });
    });

    it('names a file that cannot be read', () => {
      const { SALESFORCE_PRIVATE_KEY: _omit, ...env } = modes.jwt;
      expect(errorOf({ ...env, SALESFORCE_PRIVATE_KEY_FILE: join(tmp, 'none.key') }).message).toMatch(
        /^invalid setting SALESFORCE_PRIVATE_KEY_FILE: cannot read the key file \(ENOENT\); got ".*none\.key"$/,
      );
    });

    it.each([
      ['garbage', 'not a key at all'],
      ['an EC key', EC_PEM],
    ])('rejects %s without showing it', (_what, value) => {
      const e = errorOf({ ...modes.jwt, SALESFORCE_PRIVATE_KEY: value });
      expect(e.message).toMatch(/^invalid setting SALESFORCE_PRIVATE_KEY: must be/);
      expect(e.message).not.toContain(value.slice(0, 40));
    });

    it('opens an encrypted key file', () => {
      const file = join(tmp, 'server.key.enc');
      writeFileSync(file, encryptSecret(PEM, KEY));
      const { SALESFORCE_PRIVATE_KEY: _omit, ...env } = modes.jwt;
      expect(loadSalesforceSettings({ ...env, SALESFORCE_PRIVATE_KEY_FILE: file, SECRETS_KEY: KEY }).auth).toMatchObject({ privateKey: PEM });
    });
  });

  describe('encrypted values', () => {
    const sealed = { ...modes.password, SALESFORCE_CLIENT_SECRET: encryptSecret('cs-very-secret', KEY), SALESFORCE_PASSWORD: encryptSecret('pw-very-secret', KEY) };

    it('opens enc:v1: values with SECRETS_KEY', () => {
      expect(loadSalesforceSettings({ ...sealed, SECRETS_KEY: KEY }).auth).toMatchObject({ clientSecret: 'cs-very-secret', password: 'pw-very-secret' });
    });

    it('names the setting when SECRETS_KEY is missing', () => {
      expect(errorOf(sealed).message).toBe(
        'invalid setting SALESFORCE_CLIENT_SECRET: the value is encrypted (enc:v1:) but SECRETS_KEY is not set; set the key the value was encrypted with',
      );
    });

    it('names the setting when the key is wrong, without any secret', () => {
      const e = errorOf({ ...sealed, SECRETS_KEY: 'd'.repeat(64) });
      expect(e.message).toMatch(/^invalid setting SALESFORCE_CLIENT_SECRET: the value could not be decrypted with SECRETS_KEY/);
      expect(e.message).not.toContain('d'.repeat(64));
    });

    it('reports a malformed SECRETS_KEY', () => {
      expect(errorOf({ ...sealed, SECRETS_KEY: 'short' }).message).toMatch(/^invalid setting SALESFORCE_CLIENT_SECRET: SECRETS_KEY must be 32 bytes/);
    });
  });
});

describe(redactSalesforceSettings.name, () => {
  it('hides every secret', () => {
    const shown = JSON.stringify(redactSalesforceSettings(loadSalesforceSettings({ ...modes.password, SALESFORCE_PROXY_URL: 'http://u:proxy-pw@proxy:3128' })));
    for (const secret of [...SECRET_VALUES, 'proxy-pw']) expect(shown).not.toContain(secret);
    expect(shown).toContain('integration@example.com');
    const jwt = JSON.stringify(redactSalesforceSettings(loadSalesforceSettings(modes.jwt)));
    expect(jwt).not.toContain('PRIVATE KEY');
  });
});

describe('SALESFORCE_SETTING_NAMES', () => {
  it('lists every variable', () => {
    expect(SALESFORCE_SETTING_NAMES).toEqual(expect.arrayContaining(['SALESFORCE_AUTH', 'SALESFORCE_PRIVATE_KEY_FILE', 'SALESFORCE_COMMAND_CHANNEL']));
  });
});
