#!/usr/bin/env node
// `npm run bench [-- --agents N --rate R --duration S --replicas N --cluster]`: the benchmark (apps/bench). Redis
// (throw-away unless REDIS_URL is set; a throw-away 3-master cluster with --cluster), the two emulators, the
// daemons as their own processes behind one webhook address, and the bare BullMQ baseline; prints the figures,
// the Redis commands and daemon CPU per change, and writes bench/results/<timestamp>.json. See docs/performance.md.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const entry = join(process.cwd(), 'dist/apps/bench/src/bench.main.js');
if (!existsSync(entry)) {
  console.error('presence-sync bench: not built yet: run `npm run build` (npm ci does it for you)');
  process.exit(1);
}
require(entry);
