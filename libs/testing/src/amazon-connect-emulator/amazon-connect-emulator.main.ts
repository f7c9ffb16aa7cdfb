/**
 * Runs the Amazon Connect emulator (the Connect API and the instance's agent event stream on Kinesis) as its own
 * process, for manual tries:
 *
 *   node dist/libs/testing/src/amazon-connect-emulator/amazon-connect-emulator.main.js [--port 8448]
 *        [--kinesis-port 8449] [--agents 20] [--shards 1]
 *
 * Seeds the sandbox catalog (the same teams and e-mails as the other emulators: teams as routing profiles, codes as
 * CUSTOM agent statuses, UUIDs) and prints the settings to give the daemon, AWS credentials included (any will do:
 * requests must be signed, the signature is not checked). Ctrl-C stops it.
 */
import { ContactCenterEmulator } from '../contact-center-emulator';
import { checkPort, readFlags, runEmulatorMain } from '../emulator-main.util';
import { AMAZON_CONNECT_EMULATOR_CREDENTIALS, AmazonConnectEmulator } from './amazon-connect-emulator';
import { amazonConnectSeedOf } from './amazon-connect-sandbox.acd';

interface Args {
  port: number;
  kinesisPort: number;
  agents: number;
  shards: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { port: 0, kinesisPort: 0, agents: 20, shards: 1 };
  readFlags(argv, {
    '--port': (v) => (args.port = Number(v)),
    '--kinesis-port': (v) => (args.kinesisPort = Number(v)),
    '--agents': (v) => (args.agents = Number(v)),
    '--shards': (v) => (args.shards = Number(v)),
  });
  checkPort('--port', args.port);
  checkPort('--kinesis-port', args.kinesisPort);
  if (args.port !== 0 && args.port === args.kinesisPort) throw new Error('--port and --kinesis-port must differ');
  if (!Number.isInteger(args.agents) || args.agents < 1 || args.agents > 100_000) throw new Error('--agents must be 1–100000');
  if (!Number.isInteger(args.shards) || args.shards < 1 || args.shards > 64) throw new Error('--shards must be 1–64');
  return args;
}

async function main(): Promise<AmazonConnectEmulator> {
  const args = parseArgs(process.argv.slice(2));
  const seed = amazonConnectSeedOf(ContactCenterEmulator.sandboxCatalog(args.agents));
  const emulator = new AmazonConnectEmulator({ ...seed, port: args.port, kinesisPort: args.kinesisPort, shards: args.shards });
  let endpoints: { endpoint: string; kinesisEndpoint: string };
  try {
    endpoints = await emulator.start();
  } catch (error) {
    // One endpoint may be up when the other's port is taken.
    await emulator.stop();
    throw error;
  }
  console.log([
    `Amazon Connect emulator: Connect API on ${endpoints.endpoint}, agent event stream (Kinesis, HTTP/2) on ${endpoints.kinesisEndpoint}`,
    `(instance ${emulator.instanceId}, ${seed.users.length} users, ${seed.routingProfiles.length} routing profiles, ${seed.statuses.length} agent statuses)`,
    '',
    'ACD_CONNECTOR=amazon-connect',
    `AMAZON_CONNECT_INSTANCE_ID=${emulator.instanceId}`,
    `AMAZON_CONNECT_REGION=${emulator.region}`,
    `AMAZON_CONNECT_AGENT_EVENT_STREAM=${emulator.streamName}`,
    `AMAZON_CONNECT_ENDPOINT=${endpoints.endpoint}`,
    `AMAZON_CONNECT_KINESIS_ENDPOINT=${endpoints.kinesisEndpoint}`,
    `AWS_ACCESS_KEY_ID=${AMAZON_CONNECT_EMULATOR_CREDENTIALS.accessKeyId}`,
    `AWS_SECRET_ACCESS_KEY=${AMAZON_CONNECT_EMULATOR_CREDENTIALS.secretAccessKey}`,
  ].join('\n'));
  return emulator;
}

runEmulatorMain('amazon-connect-emulator', main);
