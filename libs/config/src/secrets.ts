import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ConfigError } from '@presence-sync/domain';

/**
 * Secrets at rest: a setting's value may be `enc:v1:<iv>.<ciphertext>.<tag>` (each part base64url), sealed
 * with AES-256-GCM under the key in `SECRETS_KEY`. GCM authenticates the ciphertext, so a wrong key or an
 * edited value fails to open instead of yielding garbage.
 */
export const ENCRYPTED_PREFIX = 'enc:v1:';

/** The environment variable that holds the key; named in messages so an operator knows what to set. */
export const SECRETS_KEY_SETTING = 'SECRETS_KEY';

const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
/** 96-bit IVs are GCM's native size (no extra GHASH step); a random one per value. */
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Binds the ciphertext to this format version: a v1 value cannot be replayed as a later format. */
const AAD = Buffer.from('presence-sync:enc:v1', 'utf8');

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** A secret could not be sealed or opened. The message never contains the secret or the key. */
export class SecretError extends ConfigError {}

export function isEncrypted(value: string | undefined): value is string {
  return typeof value === 'string' && value.startsWith(ENCRYPTED_PREFIX);
}

/**
 * Parses `SECRETS_KEY`: 32 bytes written as 64 hex characters, or as base64 / base64url (44 or 43 characters).
 * Anything else is a `SecretError` that says which forms are accepted (the value itself is never shown).
 */
export function parseSecretsKey(text: string | undefined): Buffer {
  const value = text?.trim();
  if (!value) throw new SecretError(`${SECRETS_KEY_SETTING} is not set`);
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(value)) {
    const key = Buffer.from(value.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''), 'base64url');
    if (key.length === KEY_BYTES) return key;
  }
  throw new SecretError(`${SECRETS_KEY_SETTING} must be 32 bytes written as 64 hex characters or as base64 (44 characters)`);
}

/** A new random key in the hex form `SECRETS_KEY` accepts. */
export function generateSecretsKey(): string {
  return randomBytes(KEY_BYTES).toString('hex');
}

/** Seals `plain` with the key (a parsed key or the `SECRETS_KEY` text). */
export function encryptSecret(plain: string, key: Buffer | string): string {
  const keyBytes = typeof key === 'string' ? parseSecretsKey(key) : checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, keyBytes, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(AAD);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return `${ENCRYPTED_PREFIX}${iv.toString('base64url')}.${body.toString('base64url')}.${tag.toString('base64url')}`;
}

/**
 * Opens an `enc:v1:` value. A malformed value, a wrong key or a tampered value all throw `SecretError`;
 * `label` (e.g. the setting name) is put in the message so the operator knows which value failed.
 */
export function decryptSecret(value: string, key: Buffer | string, label = 'the value'): string {
  if (!isEncrypted(value)) throw new SecretError(`${label} is not an ${ENCRYPTED_PREFIX} value`);
  const parts = value.slice(ENCRYPTED_PREFIX.length).split('.');
  if (parts.length !== 3 || !parts.every((p) => BASE64URL.test(p))) {
    throw new SecretError(`${label} is not a well-formed ${ENCRYPTED_PREFIX} value (expected ${ENCRYPTED_PREFIX}<iv>.<ciphertext>.<tag>)`);
  }
  const [iv, body, tag] = parts.map((p) => Buffer.from(p, 'base64url'));
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
    throw new SecretError(`${label} is not a well-formed ${ENCRYPTED_PREFIX} value (bad iv or tag length)`);
  }
  const keyBytes = typeof key === 'string' ? parseSecretsKey(key) : checkKey(key);
  try {
    const decipher = createDecipheriv(ALGORITHM, keyBytes, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(AAD);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  } catch {
    // GCM does not say whether the key or the data is wrong; both mean the same to an operator.
    throw new SecretError(`${label} could not be decrypted with ${SECRETS_KEY_SETTING} (wrong key, or the value was altered)`);
  }
}

/**
 * The plain text of a setting: `enc:v1:` values are opened with `SECRETS_KEY` from `env`, anything else is
 * returned as is. An encrypted value without a key is a `SecretError` naming the setting.
 */
export function revealSetting(name: string, value: string | undefined, env: Record<string, string | undefined>): string | undefined {
  if (!isEncrypted(value)) return value;
  if (!env[SECRETS_KEY_SETTING]?.trim()) {
    throw new SecretError(`${name} is encrypted (${ENCRYPTED_PREFIX}) but ${SECRETS_KEY_SETTING} is not set`);
  }
  return decryptSecret(value, env[SECRETS_KEY_SETTING] as string, name);
}

/**
 * The set (non-empty) values of `names` in `env`, with the `secrets` among them opened (`enc:v1:…`). A secret that
 * cannot be opened is a `ConfigError` of one line naming it, never showing its value.
 */
export function readSettings(env: Record<string, string | undefined>, names: readonly string[], secrets: readonly string[]): Record<string, string> {
  const input: Record<string, string> = {};
  for (const key of names) {
    const raw = env[key];
    if (raw === undefined || raw === '') continue;
    if (!secrets.includes(key) || !isEncrypted(raw)) {
      input[key] = raw;
      continue;
    }
    if (!env[SECRETS_KEY_SETTING]?.trim()) {
      throw new ConfigError(`invalid setting ${key}: the value is encrypted (${ENCRYPTED_PREFIX}) but ${SECRETS_KEY_SETTING} is not set; set the key the value was encrypted with`);
    }
    try {
      input[key] = revealSetting(key, raw, env) ?? raw;
    } catch (e) {
      throw new ConfigError(`invalid setting ${key}: ${e instanceof Error ? e.message : String(e)}; the value given is not shown`);
    }
  }
  return input;
}

function checkKey(key: Buffer): Buffer {
  if (key.length !== KEY_BYTES) throw new SecretError(`${SECRETS_KEY_SETTING} must be ${KEY_BYTES} bytes`);
  return key;
}
