/**
 * Runs the Salesforce emulator as its own process, for the demo sandbox and manual tries:
 *
 *   node dist/libs/testing/src/salesforce-emulator/salesforce-emulator.main.js [--port 8443] [--users 20 | --users emails.txt]
 *        [--api-version 62.0] [--jwt-key-out key.pem] [--no-consoles]
 *
 * `--users <n>` creates the users of the contact-center emulator's sandbox catalog (same e-mails, so agents
 * link); `--users <file>` reads e-mails (one per line, or a JSON array). Every agent's console is opened
 * unless `--no-consoles`. Prints the URL and the settings to give the daemon; Ctrl-C stops it.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { ContactCenterEmulator } from '../contact-center-emulator';
import { checkPort, readFlags, runEmulatorMain } from '../emulator-main.util';
import { SalesforceEmulator } from './salesforce-emulator';
import { SANDBOX_SALESFORCE, salesforceEmulatorSandboxSeed } from './salesforce-emulator.seed';

interface Args {
  port: number;
  users: string;
  apiVersion: string;
  jwtKeyOut?: string;
  consoles: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { port: 0, users: '20', apiVersion: '62.0', consoles: true };
  readFlags(argv, {
    '--port': (v) => (args.port = Number(v)),
    '--users': (v) => (args.users = v),
    '--api-version': (v) => (args.apiVersion = v),
    '--jwt-key-out': (v) => (args.jwtKeyOut = v),
  }, { '--no-consoles': () => (args.consoles = false) });
  checkPort('--port', args.port);
  return args;
}

function emailsFrom(users: string): string[] {
  if (/^\d+$/.test(users)) return ContactCenterEmulator.sandboxCatalog(Number(users)).agents.map((a) => a.email);
  const text = readFileSync(users, 'utf8').trim();
  const list: unknown = text.startsWith('[') ? JSON.parse(text) : text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  if (!Array.isArray(list) || list.some((e) => typeof e !== 'string' || !e.includes('@'))) throw new Error(`${users}: expected e-mail addresses`);
  return list as string[];
}

async function main(): Promise<SalesforceEmulator> {
  const args = parseArgs(process.argv.slice(2));
  const emails = emailsFrom(args.users);
  const seed = salesforceEmulatorSandboxSeed(emails);
  let jwt: { consumerKey: string; publicKeyPem: string } | undefined;
  if (args.jwtKeyOut) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(args.jwtKeyOut, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    jwt = { consumerKey: SANDBOX_SALESFORCE.clientId, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
  }
  const emulator = new SalesforceEmulator({ ...seed, apiVersion: args.apiVersion, port: args.port, ...(jwt ? { jwt } : {}) });
  const { baseUrl } = await emulator.start();
  if (args.consoles) for (const email of emails) await emulator.openConsole(email);

  const lines = [
    `Salesforce emulator on ${baseUrl} (API ${args.apiVersion}, ${emails.length} agents, consoles ${args.consoles ? 'open' : 'closed'})`,
    '',
    `SALESFORCE_LOGIN_URL=${baseUrl}`,
    `SALESFORCE_API_VERSION=${args.apiVersion}`,
    'SALESFORCE_AUTH=password',
    `SALESFORCE_CLIENT_ID=${SANDBOX_SALESFORCE.clientId}`,
    `SALESFORCE_CLIENT_SECRET=${SANDBOX_SALESFORCE.clientSecret}`,
    `SALESFORCE_USERNAME=${SANDBOX_SALESFORCE.username}`,
    `SALESFORCE_PASSWORD=${SANDBOX_SALESFORCE.password}`,
    `SALESFORCE_SECURITY_TOKEN=${SANDBOX_SALESFORCE.securityToken}`,
  ];
  if (args.jwtKeyOut) lines.push('', '# or, JWT bearer:', 'SALESFORCE_AUTH=jwt', `SALESFORCE_PRIVATE_KEY_FILE=${args.jwtKeyOut}`);
  console.log(lines.join('\n'));
  return emulator;
}

runEmulatorMain('salesforce-emulator', main);
