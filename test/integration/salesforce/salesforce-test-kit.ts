import { generateKeyPairSync } from 'node:crypto';
import type { SalesforceAuthSettings, SalesforceSettings } from '@presence-sync/config';
import {
  CheckpointStore, InboundSink, type InboundChange, type IntakeResult, type SalesforceChange,
} from '@presence-sync/domain';
import { USP_PUSH_TOPIC_QUERY, type SalesforceLogger } from '@presence-sync/salesforce';
import { SalesforceEmulator } from '@presence-sync/testing';
import type { SalesforceEmulatorOptions } from '@presence-sync/testing';

export { SalesforceEmulator };

export const CLIENT_ID = '3MVG9.presence-sync.int.consumer';
export const CLIENT_SECRET = 'int-consumer-secret-7f3a9c';
export const INTEGRATION = { username: 'integration@acme.example', password: 'int-pass-4b8e', securityToken: 'INTTOKEN77' };
/** `SECRETS_KEY` of the refresh-token mode: seals the current refresh token in the token store. */
export const STORE_KEY = '5e'.repeat(32);
export const AGENTS = ['ana.silva@acme.example', 'omar.haddad@acme.example', 'maya.meyer@acme.example'];

const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
export const JWT_PRIVATE_KEY = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const JWT_PUBLIC_KEY = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();

/** The PushTopic definition `presence-sync salesforce setup` creates, provisioned up front for stream tests. */
export const PUSH_TOPIC = 'PresenceSyncUSP';
export const USP_QUERY = USP_PUSH_TOPIC_QUERY;

/**
 * A started emulator with three agents, the integration user (password + security token, client
 * credentials run-as user), a JWT-enabled connected app and, unless `bare`, the PushTopic and the command
 * channel already provisioned.
 */
export async function startEmulator(options: Partial<SalesforceEmulatorOptions> & { bare?: boolean } = {}): Promise<SalesforceEmulator> {
  const { bare, ...rest } = options;
  const emulator = new SalesforceEmulator({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    users: AGENTS.map((email) => ({ username: email, email })),
    integrationUser: { username: INTEGRATION.username, email: INTEGRATION.username, password: INTEGRATION.password, securityToken: INTEGRATION.securityToken },
    clientCredentialsUser: INTEGRATION.username,
    jwt: { consumerKey: CLIENT_ID, publicKeyPem: JWT_PUBLIC_KEY },
    // Keeps the long-poll short so a test that ends while a connect is held does not keep sockets for 110 s.
    cometdTimeoutMs: 5_000,
    ...(bare ? {} : {
      provision: {
        streamingChannels: ['/u/PresenceSyncCommand'],
        pushTopics: [{ name: PUSH_TOPIC, query: USP_QUERY, notifyForOperationDelete: false }],
      },
    }),
    ...rest,
  });
  await emulator.start();
  return emulator;
}

/** Settings for the emulator in one auth mode (defaults: password mode with the security token). */
export function settingsFor(emulator: SalesforceEmulator, auth?: Partial<SalesforceAuthSettings> & { mode?: SalesforceAuthSettings['mode'] }): SalesforceSettings {
  const mode = auth?.mode ?? 'password';
  let resolved: SalesforceAuthSettings;
  switch (mode) {
    case 'password':
      resolved = { mode, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, username: INTEGRATION.username, password: INTEGRATION.password, securityToken: INTEGRATION.securityToken, ...auth } as SalesforceAuthSettings;
      break;
    case 'client-credentials':
      resolved = { mode, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, ...auth } as SalesforceAuthSettings;
      break;
    case 'jwt':
      // The emulator plays a production org on its My Domain: the audience is the production login host, as the
      // settings default it for a non-sandbox login URL.
      resolved = { mode, clientId: CLIENT_ID, username: INTEGRATION.username, privateKey: JWT_PRIVATE_KEY, audience: 'https://login.salesforce.com', ...auth } as SalesforceAuthSettings;
      break;
    case 'refresh-token':
      resolved = {
        mode, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, refreshToken: emulator.issueRefreshToken(INTEGRATION.username), storeKey: STORE_KEY, ...auth,
      } as SalesforceAuthSettings;
      break;
  }
  return {
    loginUrl: emulator.baseUrl,
    apiVersion: '62.0',
    auth: resolved,
    pushTopic: PUSH_TOPIC,
    commandChannel: '/u/PresenceSyncCommand',
    offlineHoldMs: 300,
    rateLimitPauseMs: 60_000,
    dailyLimitPauseMs: 900_000,
    // Off unless a test is about it: every write pushes, as before the console poll existed.
    consolePollMs: 0,
    requestTimeoutMs: 10_000,
  };
}

/** Records what it accepted; `accept` can be made to fail or to wait. */
export class RecordingSink extends InboundSink {
  readonly accepted: SalesforceChange[] = [];
  failNext = 0;
  private listeners = new Set<() => void>();

  async accept(changes: InboundChange[]): Promise<IntakeResult> {
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('intake unavailable (test)');
    }
    for (const c of changes) if (c.side === 'salesforce') this.accepted.push(c);
    for (const l of this.listeners) l();
    return { accepted: changes.length, duplicates: 0 };
  }

  /** Statuses accepted for one user, in order. */
  statusesOf(userId: string): string[] {
    return this.accepted.filter((c) => c.userId === userId).map((c) => c.status);
  }

  eventIds(): string[] {
    return this.accepted.map((c) => c.eventId);
  }
}

export class MemoryCheckpoints extends CheckpointStore {
  readonly values = new Map<string, string>();
  readonly writes: [string, string][] = [];

  async get(key: string): Promise<string | undefined> {
    return this.values.get(key);
  }

  async set(key: string, value: string): Promise<void> {
    this.values.set(key, value);
    this.writes.push([key, value]);
  }
}

/** Waits for a condition, checking every 10 ms (no fixed sleeps). */
export async function until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A logger that keeps the lines (to see what happened when a test fails) and can print them. */
export function memoryLogger(print = process.env.SF_TEST_LOG === '1'): SalesforceLogger & { lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    const line = `${level} ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`;
    lines.push(line);
    if (print) process.stderr.write(`${line}\n`);
  };
  return { lines, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}
