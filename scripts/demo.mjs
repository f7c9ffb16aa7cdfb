#!/usr/bin/env node
// `npm run demo`: the sandbox (apps/sandbox) — a throw-away Redis (unless REDIS_URL is set), the contact-center
// and Salesforce emulators, the daemon in SALESFORCE_MODE=live with the example rules, and the live agents page.
// This file only checks the build and runs the built entry, which prints the URLs and stops everything on Ctrl-C.
// Ports: SANDBOX_PORT (page, default 8080) and HTTP_PORT (daemon, default 3000).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const entry = join(process.cwd(), 'dist/apps/sandbox/src/sandbox.main.js');
if (!existsSync(entry)) {
  console.error('presence-sync demo: not built yet: run `npm run build` (npm ci does it for you)');
  process.exit(1);
}
require(entry);
