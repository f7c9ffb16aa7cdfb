/**
 * Runs the Webex Contact Center emulator as its own process, for manual tries:
 *
 *   node dist/libs/testing/src/webex-emulator/webex-emulator.main.js [--port 8445] [--agents 20]
 *        [--rate-limit <requests per minute>] [--token-lifetime <s>] [--route <https origin>=<http url>]
 *
 * Seeds the sandbox catalog (the same teams and e-mails as the other emulators, Webex-style UUIDs) and prints the
 * settings to give the daemon. `--route` sends deliveries for an origin elsewhere (the daemon's local address).
 * Ctrl-C stops it.
 */
import { ContactCenterEmulator } from '../contact-center-emulator';
import { checkPort, readFlags, runEmulatorMain } from '../emulator-main.util';
import { WebexEmulator } from './webex-emulator';
import { webexSeedOf, WEBEX_SANDBOX_WEBHOOK_ORIGIN } from './webex-sandbox.acd';

interface Args {
  port: number;
  agents: number;
  rateLimit?: number;
  tokenLifetimeSec: number;
  routes: Array<[string, string]>;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { port: 0, agents: 20, tokenLifetimeSec: 43_199, routes: [] };
  readFlags(argv, {
    '--port': (v) => (args.port = Number(v)),
    '--agents': (v) => (args.agents = Number(v)),
    '--rate-limit': (v) => (args.rateLimit = Number(v)),
    '--token-lifetime': (v) => (args.tokenLifetimeSec = Number(v)),
    '--route': (v) => {
      const [from, to] = v.split('=');
      if (!from || !to) throw new Error('--route needs <origin>=<url>');
      args.routes.push([from, to]);
    },
  });
  checkPort('--port', args.port);
  if (!Number.isInteger(args.agents) || args.agents < 1 || args.agents > 100_000) throw new Error('--agents must be 1–100000');
  if (args.rateLimit !== undefined && !(Number.isInteger(args.rateLimit) && args.rateLimit > 0)) throw new Error('--rate-limit must be a positive integer');
  if (!(Number.isInteger(args.tokenLifetimeSec) && args.tokenLifetimeSec >= 60)) throw new Error('--token-lifetime must be at least 60');
  return args;
}

async function main(): Promise<WebexEmulator> {
  const args = parseArgs(process.argv.slice(2));
  const seed = webexSeedOf(ContactCenterEmulator.sandboxCatalog(args.agents));
  const emulator = new WebexEmulator({
    ...seed, port: args.port, accessTokenLifetimeSec: args.tokenLifetimeSec, ...(args.rateLimit ? { requestsPerMinute: args.rateLimit } : {}),
  });
  await emulator.start();
  for (const [from, to] of args.routes) emulator.routeHost(from, to);
  const c = emulator.credentials;
  console.log([
    `Webex Contact Center emulator on ${emulator.url} (org ${emulator.orgId}, ${seed.agents.length} agents, ${seed.teams.length} teams)`,
    '',
    'ACD_CONNECTOR=webex',
    `WEBEX_API_BASE_URL=${emulator.url}`,
    `WEBEX_TOKEN_URL=${emulator.tokenUrl}`,
    `WEBEX_ORG_ID=${emulator.orgId}`,
    `WEBEX_CLIENT_ID=${c.clientId}`,
    `WEBEX_CLIENT_SECRET=${c.clientSecret}`,
    `WEBEX_REFRESH_TOKEN=${c.refreshToken}`,
    `WEBEX_WEBHOOK_URL=${WEBEX_SANDBOX_WEBHOOK_ORIGIN}/v1/acd/webex/events   (start with --route ${WEBEX_SANDBOX_WEBHOOK_ORIGIN}=http://127.0.0.1:<daemon port>)`,
    'WEBEX_WEBHOOK_SECRET=<at least 32 characters of your choice>',
  ].join('\n'));
  return emulator;
}

runEmulatorMain('webex-emulator', main);
