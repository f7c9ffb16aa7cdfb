import { generateKeyPairSync, sign } from 'node:crypto';
import jsforce, { type Connection } from 'jsforce';
import {
  SalesforceEmulator, salesforceEmulatorSandboxSeed, SANDBOX_SALESFORCE,
  type BayeuxMessage, type FayeClient, type SalesforceEmulatorOptions,
} from '@presence-sync/testing';

export const API_VERSION = '62.0';
export const AGENTS = ['ada.adams@example.com', 'ben.becker@example.com', 'chloe.chen@example.com'];
export const PUSH_TOPIC_QUERY = 'SELECT Id, UserId, ServicePresenceStatusId, IsCurrentState, IsAway, StatusStartDate, StatusEndDate FROM UserServicePresence';
export const COMMAND_CHANNEL = '/u/PresenceSyncCommand';

/** The RSA key pair of the test's connected app (JWT bearer flow). */
export const JWT_KEYS = generateKeyPairSync('rsa', { modulusLength: 2048 });

export function newEmulator(overrides: Partial<SalesforceEmulatorOptions> = {}): SalesforceEmulator {
  return new SalesforceEmulator({
    ...salesforceEmulatorSandboxSeed(AGENTS),
    jwt: { consumerKey: SANDBOX_SALESFORCE.clientId, publicKeyPem: JWT_KEYS.publicKey.export({ type: 'spki', format: 'pem' }).toString() },
    ...overrides,
  });
}

/** A jsforce connection to the emulator; `oauth2` adds the connected app, `session` an existing session. */
export function connection(loginUrl: string, oauth2 = true, session: { accessToken?: string; refreshToken?: string } = {}): Connection {
  return new jsforce.Connection({
    loginUrl,
    version: API_VERSION,
    ...(oauth2 ? { oauth2: { loginUrl, clientId: SANDBOX_SALESFORCE.clientId, clientSecret: SANDBOX_SALESFORCE.clientSecret } } : {}),
    ...(session.accessToken !== undefined ? { instanceUrl: loginUrl, ...session } : {}),
  });
}

/** Logs in as the integration user with the OAuth username-password flow. */
export async function integrationLogin(loginUrl: string): Promise<Connection> {
  const conn = connection(loginUrl);
  await conn.login(SANDBOX_SALESFORCE.username, SANDBOX_SALESFORCE.password + SANDBOX_SALESFORCE.securityToken);
  return conn;
}

/** An RS256 JWT as the Salesforce JWT bearer flow wants it (signed with node:crypto). */
export function jwtAssertion(claims: Record<string, unknown>, privateKey = JWT_KEYS.privateKey): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'RS256' })}.${part(claims)}`;
  return `${unsigned}.${sign('RSA-SHA256', Buffer.from(unsigned), privateKey).toString('base64url')}`;
}

/** Runs `call`, expects it to throw, and returns the error. */
export async function failure(call: () => PromiseLike<unknown>): Promise<Error & { errorCode?: string; name: string }> {
  try {
    await call();
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`threw a non-error: ${String(error)}`);
  }
  throw new Error('expected a failure, got a result');
}

/** Records every message a faye client receives (meta replies and data), after extensions ran. */
export function recordIncoming(client: FayeClient): BayeuxMessage[] {
  const seen: BayeuxMessage[] = [];
  client.addExtension({
    incoming: (message, callback) => {
      seen.push(JSON.parse(JSON.stringify(message)) as BayeuxMessage);
      callback(message);
    },
  });
  return seen;
}

/** Sets `ext.replay` on subscribe, like jsforce's Replay extension but for any channel map. */
export function replayFrom(client: FayeClient, replay: Record<string, number>): void {
  client.addExtension({
    outgoing: (message, callback) => {
      if (message.channel === '/meta/subscribe') message.ext = { ...message.ext, replay };
      callback(message);
    },
  });
}

/** A faye subscription as a promise that rejects with the server's error string. */
export function subscribed(subscription: { then(ok?: () => void, fail?: (reason: { message?: string } | string) => void): unknown }): Promise<void> {
  return new Promise((resolve, reject) => {
    subscription.then(() => resolve(), (reason) => reject(new Error(typeof reason === 'string' ? reason : reason.message ?? 'subscribe failed')));
  });
}

/**
 * Disconnects faye clients and waits for each `/meta/disconnect` answer (refused ones too); the server forgets
 * a client before answering. A client still waiting for an answer when the emulator stops would retry forever.
 */
export async function disconnect(...clients: FayeClient[]): Promise<void> {
  await Promise.all(clients.map((client) => new Promise<void>((resolve) => {
    const leaving = client.disconnect();
    if (!leaving) return resolve();
    void leaving.then(() => resolve(), () => resolve());
  })));
}

export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
