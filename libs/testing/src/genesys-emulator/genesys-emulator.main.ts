/**
 * Runs the Genesys Cloud CX emulator as its own process, for manual tries:
 *
 *   node dist/libs/testing/src/genesys-emulator/genesys-emulator.main.js [--port 8447] [--agents 20]
 *        [--heartbeat <s>]
 *
 * Seeds the sandbox catalog (the same teams and e-mails as the other emulators: teams as divisions, codes as
 * secondary presences, Genesys-style UUIDs) and prints the settings to give the daemon. Ctrl-C stops it.
 */
import { ContactCenterEmulator } from '../contact-center-emulator';
import { checkPort, readFlags, runEmulatorMain } from '../emulator-main.util';
import { GenesysEmulator } from './genesys-emulator';
import { genesysSeedOf } from './genesys-sandbox.acd';

interface Args {
  port: number;
  agents: number;
  heartbeatSec: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { port: 0, agents: 20, heartbeatSec: 30 };
  readFlags(argv, {
    '--port': (v) => (args.port = Number(v)),
    '--agents': (v) => (args.agents = Number(v)),
    '--heartbeat': (v) => (args.heartbeatSec = Number(v)),
  });
  checkPort('--port', args.port);
  if (!Number.isInteger(args.agents) || args.agents < 1 || args.agents > 100_000) throw new Error('--agents must be 1–100000');
  if (!Number.isInteger(args.heartbeatSec) || args.heartbeatSec < 1 || args.heartbeatSec > 3_600) throw new Error('--heartbeat must be 1–3600 seconds');
  return args;
}

async function main(): Promise<GenesysEmulator> {
  const args = parseArgs(process.argv.slice(2));
  const seed = genesysSeedOf(ContactCenterEmulator.sandboxCatalog(args.agents));
  const emulator = new GenesysEmulator({ ...seed, port: args.port, heartbeatMs: args.heartbeatSec * 1000 });
  const { baseUrl } = await emulator.start();
  const c = emulator.credentials;
  console.log([
    `Genesys Cloud CX emulator on ${baseUrl} (${seed.users.length} users, ${seed.divisions.length} divisions, ${seed.presences.length} presence definitions)`,
    '',
    'ACD_CONNECTOR=genesys',
    `GENESYS_API_BASE_URL=${baseUrl}`,
    `GENESYS_CLIENT_ID=${c.clientId}`,
    `GENESYS_CLIENT_SECRET=${c.clientSecret}`,
  ].join('\n'));
  return emulator;
}

runEmulatorMain('genesys-emulator', main);
