/**
 * Runs the NiCE CXone emulator as its own process, for the demo sandbox and manual tries:
 *
 *   node dist/libs/testing/src/cxone-emulator/cxone-emulator.main.js [--port 8444] [--agents 20]
 *        [--rate-limit <calls per minute>] [--on-contact next-state|conflict] [--token-lifetime <s>]
 *
 * Seeds the sandbox catalog (the same teams and e-mails as the other emulators, CXone's numeric ids) and prints
 * the settings to give the daemon. Ctrl-C stops it.
 */
import { ContactCenterEmulator } from '../contact-center-emulator';
import { checkPort, readFlags, runEmulatorMain } from '../emulator-main.util';
import { CxoneEmulator } from './cxone-emulator';
import { cxoneSeedOf } from './cxone-sandbox.catalog';
import type { CxoneOnContactWrite } from './cxone-emulator.types';

interface Args {
  port: number;
  agents: number;
  rateLimit?: number;
  onContact: CxoneOnContactWrite;
  tokenLifetimeSec: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { port: 0, agents: 20, onContact: 'next-state', tokenLifetimeSec: 3600 };
  readFlags(argv, {
    '--port': (v) => (args.port = Number(v)),
    '--agents': (v) => (args.agents = Number(v)),
    '--rate-limit': (v) => (args.rateLimit = Number(v)),
    '--on-contact': (v) => {
      if (v !== 'next-state' && v !== 'conflict') throw new Error('--on-contact must be next-state or conflict');
      args.onContact = v;
    },
    '--token-lifetime': (v) => (args.tokenLifetimeSec = Number(v)),
  });
  checkPort('--port', args.port);
  if (!Number.isInteger(args.agents) || args.agents < 1 || args.agents > 100_000) throw new Error('--agents must be 1–100000');
  if (args.rateLimit !== undefined && !(Number.isInteger(args.rateLimit) && args.rateLimit > 0)) throw new Error('--rate-limit must be a positive integer');
  if (!(Number.isInteger(args.tokenLifetimeSec) && args.tokenLifetimeSec >= 60)) throw new Error('--token-lifetime must be at least 60');
  return args;
}

async function main(): Promise<CxoneEmulator> {
  const args = parseArgs(process.argv.slice(2));
  const { codes, teams, agents } = cxoneSeedOf(ContactCenterEmulator.sandboxCatalog(args.agents));
  const emulator = new CxoneEmulator({
    codes, teams, agents, port: args.port, onContactWrite: args.onContact, tokenLifetimeSec: args.tokenLifetimeSec,
    ...(args.rateLimit ? { requestsPerMinute: args.rateLimit } : {}),
  });
  const { baseUrl } = await emulator.start();
  const c = emulator.credentials;
  console.log([
    `CXone emulator on ${baseUrl} (tenant ${emulator.tenantId}, ${agents.length} agents, ${teams.length} teams)`,
    '',
    'ACD_CONNECTOR=cxone',
    `CXONE_AUTH_URL=${baseUrl}`,
    `CXONE_CLIENT_ID=${c.clientId}`,
    `CXONE_CLIENT_SECRET=${c.clientSecret}`,
    `CXONE_ACCESS_KEY_ID=${c.accessKeyId}`,
    `CXONE_ACCESS_KEY_SECRET=${c.accessKeySecret}`,
  ].join('\n'));
  return emulator;
}

runEmulatorMain('cxone-emulator', main);
