// The demo launcher's entry (`npm run demo` runs the built copy): starts the sandbox, prints its URLs and stops
// everything on Ctrl-C, SIGTERM or SIGHUP, or when the process that started it goes away. Settings come from the
// environment, as for the daemon.
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { ConnectorName } from '@presence-sync/domain';
import { DEMO_SETTINGS_FILE, removeSettingsFile, writeSettingsFile } from './cli-settings.file';
import { DemoLog } from './demo-log';
import { findPortHolders, portInUseMessage, portIsFree } from './port-holder';
import { Sandbox, SANDBOX_ACD_NAMES } from './sandbox';

/** How often the demo checks that the process that started it is still there, ms. */
const PARENT_CHECK_MS = 500;

/** A port the demo needs that another process holds: one line naming the port and the holder. */
class PortInUseError extends Error {}

/** Fails with one line when one of the ports is taken, before anything is started. */
async function checkPorts(ports: { port: number; what: string }[]): Promise<void> {
  for (const { port, what } of ports) {
    if (port !== 0 && !(await portIsFree(port))) throw new PortInUseError(portInUseMessage(port, what, findPortHolders(port)));
  }
}

/** The listen error of a port taken after the check (another process was quicker), in the same words. */
function describeStartError(error: unknown, ports: { port: number; what: string }[]): string {
  const e = error as NodeJS.ErrnoException & { port?: number };
  if (e?.code === 'EADDRINUSE') {
    const port = typeof e.port === 'number' ? e.port : Number(/:(\d+)\s*$/.exec(e.message ?? '')?.[1]);
    const what = ports.find((p) => p.port === port)?.what ?? 'a port the demo listens on';
    if (Number.isInteger(port)) return portInUseMessage(port, what, findPortHolders(port));
  }
  return error instanceof Error ? error.message : String(error);
}

function port(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new Error(`${name} must be a port number, got ${raw}`);
  return n;
}

/** SANDBOX_ACD: which contact center the sandbox emulates. */
function sandboxAcd(): ConnectorName {
  const raw = process.env.SANDBOX_ACD?.trim() || 'generic';
  if (!(SANDBOX_ACD_NAMES as readonly string[]).includes(raw)) throw new Error(`SANDBOX_ACD must be one of ${SANDBOX_ACD_NAMES.join(', ')}, got ${raw}`);
  return raw as ConnectorName;
}

async function main(): Promise<void> {
  // The queue dashboard is part of what ops watch: unless told otherwise, the demo serves it with credentials
  // made up for this run and printed below (the daemon never serves it unprotected).
  const admin = process.env.ADMIN_DASHBOARD === 'off' ? undefined : {
    user: process.env.ADMIN_USER || 'admin',
    password: process.env.ADMIN_PASSWORD || randomBytes(9).toString('base64url'),
  };
  // Fixed default ports so bookmarks survive restarts; the servers release them on stop, so a second run works.
  const pagePort = port('SANDBOX_PORT') ?? 8080;
  const daemonPort = port('HTTP_PORT') ?? 3000;
  const ports = [{ port: daemonPort, what: 'HTTP_PORT, the daemon' }, { port: pagePort, what: 'SANDBOX_PORT, the agents page' }];
  await checkPorts(ports);
  // The daemon's log lines wait until the banner is out, then come as readable lines (not JSON).
  const log = new DemoLog();
  const sandbox = new Sandbox({
    acd: sandboxAcd(),
    redisUrl: process.env.REDIS_URL || undefined,
    redisPrefix: process.env.REDIS_PREFIX ?? 'ps-demo',
    rulesDir: process.env.RULES_DIR ?? 'rules',
    pagePort,
    daemonPort,
    logOut: log,
    daemonEnv: admin ? { ADMIN_DASHBOARD: 'on', ADMIN_USER: admin.user, ADMIN_PASSWORD: admin.password } : { ADMIN_DASHBOARD: 'off' },
  });
  // While the demo runs, the CLI reads the daemon's settings from this file (`--settings-file`).
  const settingsFile = join(process.cwd(), DEMO_SETTINGS_FILE);
  let stopping = false;
  const stop = (why: string): void => {
    removeSettingsFile(settingsFile);
    if (stopping) {
      // A second Ctrl-C: the user will not wait (e.g. Redis died and a client still waits for it).
      console.log('stopping again: exiting now');
      process.exit(130);
    }
    stopping = true;
    log.release();
    console.log(`\n${why}: stopping page, daemon, emulators, redis`);
    setTimeout(() => console.log('still stopping; Ctrl-C again exits at once'), 5000).unref();
    void sandbox.stop().then(() => process.exit(0), (error: unknown) => {
      console.error(`presence-sync demo: stop failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    });
  };
  // SIGTERM and SIGHUP too: IDE stop buttons and \`timeout\` send SIGTERM, a closed terminal SIGHUP.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => stop(signal));
  // \`npm run demo\` starts this process through \`sh -c\`, which dies of a SIGTERM sent to npm without passing
  // it on: when the parent goes away, this process stops too instead of holding the ports as an orphan.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) stop(`the process that started the demo (pid ${parent}) exited`);
  }, PARENT_CHECK_MS).unref();
  let u: Awaited<ReturnType<Sandbox['start']>>;
  try {
    u = await sandbox.start();
  } catch (error) {
    log.release();
    throw new Error(describeStartError(error, ports));
  }
  const explainLunch = `npx presence-sync --settings-file ${DEMO_SETTINGS_FILE} rules explain --agent a-1001 --acd Unavailable:Lunch`;
  writeSettingsFile(settingsFile, sandbox.cliSettings(), `The running presence-sync demo's settings (pid ${process.pid}), for the CLI:\n  ${explainLunch}\nRemoved when the demo stops.`);
  console.log(`
presence-sync sandbox is running
  agents page     ${u.page}
  daemon          ${u.daemon}
  status          ${u.status}
  queues          ${admin ? `${u.daemon}/admin/queues  (user ${admin.user}, password ${admin.password})` : 'off (ADMIN_DASHBOARD=off)'}
  metrics         ${u.daemon}/metrics
  audit (agent)   ${u.daemon}/v1/agents/${encodeURIComponent(sandbox.rows()[0]?.agentId ?? 'a-1001')}/audit
  contact center  ${u.contactCenter}  (${u.acd} emulator; SANDBOX_ACD=${SANDBOX_ACD_NAMES.join('|')})
  salesforce      ${u.salesforce}  (emulator)
  redis           ${u.redis}${u.redisThrowAway ? ' (throw-away)' : ''}
  CLI             ${explainLunch}
                  (${DEMO_SETTINGS_FILE}: the daemon's settings for the CLI, removed on stop)
Edit a file in rules/: the daemon reloads it, or the page shows its errors. Ctrl-C stops everything.
The daemon's log lines follow (warnings and errors; LOG_LEVEL=info for more).
`);
  log.release();
}

main().catch((error: unknown) => {
  console.error(`presence-sync demo: cannot start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
