import { randomBytes } from 'node:crypto';
import { ConfigError } from '@presence-sync/domain';
import {
  decryptSecret, encryptSecret, ENCRYPTED_PREFIX, generateSecretsKey, isEncrypted, parseSecretsKey, revealSetting, SecretError,
} from './secrets';

const HEX_KEY = 'a'.repeat(64);
const B64_KEY = randomBytes(32).toString('base64');

describe(encryptSecret.name, () => {
  it.each([
    ['hex', HEX_KEY],
    ['base64', B64_KEY],
    ['base64 without padding', B64_KEY.replace(/=+$/, '')],
    ['base64url', randomBytes(32).toString('base64url')],
  ])('round-trips with a %s key', (_form, key) => {
    const plain = 'p@ss wörd: with ✓ unicode';
    const sealed = encryptSecret(plain, key);
    expect(sealed).toMatch(/^enc:v1:[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain(plain);
    expect(decryptSecret(sealed, key)).toBe(plain);
  });

  it('uses a fresh IV each time (same input, different output)', () => {
    expect(encryptSecret('x', HEX_KEY)).not.toBe(encryptSecret('x', HEX_KEY));
  });

  it('round-trips an empty string', () => {
    expect(decryptSecret(encryptSecret('', HEX_KEY), HEX_KEY)).toBe('');
  });

  it.each([
    ['missing', undefined],
    ['too short hex', 'ab'.repeat(16)],
    ['not hex nor base64', 'z'.repeat(64)],
    ['base64 of 16 bytes', randomBytes(16).toString('base64')],
  ])('rejects a key that is %s with a clear error', (_what, key) => {
    expect(() => parseSecretsKey(key)).toThrow(SecretError);
    expect(() => parseSecretsKey(key)).toThrow(/SECRETS_KEY/);
  });

  it('generates keys that parse', () => {
    expect(parseSecretsKey(generateSecretsKey())).toHaveLength(32);
  });
});

describe(decryptSecret.name, () => {
  const sealed = encryptSecret('the secret', HEX_KEY);

  it('fails with the wrong key and never shows the secret', () => {
    const other = 'b'.repeat(64);
    expect(() => decryptSecret(sealed, other, 'SALESFORCE_PASSWORD')).toThrow(/SALESFORCE_PASSWORD could not be decrypted with SECRETS_KEY/);
    try {
      decryptSecret(sealed, other);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect(String(e)).not.toContain('the secret');
      expect(String(e)).not.toContain(other);
    }
  });

  it.each([
    ['the ciphertext', 1],
    ['the tag', 2],
    ['the iv', 0],
  ])('detects tampering with %s', (_part, index) => {
    const parts = sealed.slice(ENCRYPTED_PREFIX.length).split('.');
    const bytes = Buffer.from(parts[index], 'base64url');
    bytes[0] ^= 0x01;
    parts[index] = bytes.toString('base64url');
    expect(() => decryptSecret(`${ENCRYPTED_PREFIX}${parts.join('.')}`, HEX_KEY)).toThrow(SecretError);
  });

  it.each([
    'enc:v1:only-one-part',
    'enc:v1:a.b',
    'enc:v1:a.b.c.d',
    'enc:v1:!!!.b.c',
    'plain text',
  ])('rejects the malformed value %s', (value) => {
    expect(() => decryptSecret(value, HEX_KEY)).toThrow(SecretError);
  });
});

describe(isEncrypted.name, () => {
  it('recognises the prefix only', () => {
    expect(isEncrypted('enc:v1:abc')).toBe(true);
    expect(isEncrypted('enc:v2:abc')).toBe(false);
    expect(isEncrypted(undefined)).toBe(false);
  });
});

describe(revealSetting.name, () => {
  it('returns plain values as they are and opens encrypted ones', () => {
    expect(revealSetting('X', 'plain', {})).toBe('plain');
    expect(revealSetting('X', encryptSecret('v', HEX_KEY), { SECRETS_KEY: HEX_KEY })).toBe('v');
  });

  it('names the setting when the key is missing', () => {
    expect(() => revealSetting('SALESFORCE_PASSWORD', encryptSecret('v', HEX_KEY), {})).toThrow(
      'SALESFORCE_PASSWORD is encrypted (enc:v1:) but SECRETS_KEY is not set',
    );
  });
});
