// The demo launcher's entry (`npm run demo` runs the built copy): starts the sandbox, prints its URLs and stops
// everything on Ctrl-C or SIGTERM. Settings come from the environment, as for the daemon.
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import type { ConnectorName } from '@presence-sync/domain';
import { Sandbox, SANDBOX_ACD_NAMES } from './sandbox';

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
  const sandbox = new Sandbox({
    acd: sandboxAcd(),
    redisUrl: process.env.REDIS_URL || undefined,
    redisPrefix: process.env.REDIS_PREFIX ?? 'ps-demo',
    rulesDir: process.env.RULES_DIR ?? 'rules',
    pagePort: port('SANDBOX_PORT') ?? 8080,
    daemonPort: port('HTTP_PORT') ?? 3000,
    daemonEnv: admin ? { ADMIN_DASHBOARD: 'on', ADMIN_USER: admin.user, ADMIN_PASSWORD: admin.password } : { ADMIN_DASHBOARD: 'off' },
  });
  let stopping = false;
  const stop = (): void => {
    if (stopping) {
      // A second Ctrl-C: the user will not wait (e.g. Redis died and a client still waits for it).
      console.log('stopping again: exiting now');
      process.exit(130);
    }
    stopping = true;
    console.log('\nstopping: page, daemon, emulators, redis');
    setTimeout(() => console.log('still stopping; Ctrl-C again exits at once'), 5000).unref();
    void sandbox.stop().then(() => process.exit(0), (error: unknown) => {
      console.error(`presence-sync demo: stop failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const u = await sandbox.start();
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
Edit a file in rules/: the daemon reloads it, or the page shows its errors. Ctrl-C stops everything.
`);
}

main().catch((error: unknown) => {
  console.error(`presence-sync demo: cannot start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
