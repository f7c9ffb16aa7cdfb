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
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--port') args.port = Number(value());
    else if (flag === '--kinesis-port') args.kinesisPort = Number(value());
    else if (flag === '--agents') args.agents = Number(value());
    else if (flag === '--shards') args.shards = Number(value());
    else throw new Error(`unknown argument ${flag}`);
  }
  for (const [flag, port] of [['--port', args.port], ['--kinesis-port', args.kinesisPort]] as const) {
    if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`${flag} must be 0–65535`);
  }
  if (args.port !== 0 && args.port === args.kinesisPort) throw new Error('--port and --kinesis-port must differ');
  if (!Number.isInteger(args.agents) || args.agents < 1 || args.agents > 100_000) throw new Error('--agents must be 1–100000');
  if (!Number.isInteger(args.shards) || args.shards < 1 || args.shards > 64) throw new Error('--shards must be 1–64');
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const seed = amazonConnectSeedOf(ContactCenterEmulator.sandboxCatalog(args.agents));
  const emulator = new AmazonConnectEmulator({ ...seed, port: args.port, kinesisPort: args.kinesisPort, shards: args.shards });
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void emulator.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
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
}

main().catch((error: unknown) => {
  console.error(`amazon-connect-emulator: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
