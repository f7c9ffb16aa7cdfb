import type { FayeClient, FayeClientOptions, FayeModule } from './faye.types';

// faye has no types of its own and jsforce's ambient ones are incomplete (faye.types.d.ts says why), so the
// module is loaded with require and given the local types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const faye = require('faye') as FayeModule;

/**
 * A raw faye client against a CometD endpoint, sending `Authorization: OAuth <token>` on every request as
 * jsforce does. For tests that need what jsforce hides (meta replies, advice, re-handshakes).
 */
export function createFayeClient(endpoint: string, accessToken: string | undefined, options: FayeClientOptions = {}): FayeClient {
  const client = new faye.Client(endpoint, options);
  if (accessToken !== undefined) client.setHeader('Authorization', `OAuth ${accessToken}`);
  return client;
}
