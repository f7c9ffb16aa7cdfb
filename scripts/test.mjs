#!/usr/bin/env node
// `npm test`: static checks (lint with import boundaries and no cycles, type check), then every jest tier
// (unit, integration, e2e) in one jest run against real Redis. Ends with one summary line.
// Extra arguments go to jest, e.g. `npm test -- --selectProjects unit`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const jestArgs = process.argv.slice(2);
const bin = (name) => join(process.cwd(), 'node_modules', '.bin', name);
const run = (label, cmd, args) => {
  process.stdout.write(`\n== ${label}\n`);
  const started = Date.now();
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: process.env });
  const ok = r.status === 0;
  process.stdout.write(`== ${label}: ${ok ? 'ok' : 'FAILED'} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  return ok;
};

const checks = [];
if (!process.env.PS_SKIP_STATIC) {
  checks.push(['lint', run('lint (eslint, import boundaries, no cycles)', 'npm', ['run', '--silent', 'lint'])]);
  checks.push(['typecheck', run('type check (tsc --noEmit)', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit'])]);
}

const dir = mkdtempSync(join(tmpdir(), 'presence-sync-jest-'));
const out = join(dir, 'result.json');
// --forceExit: once every test has run and the results are written, a handle some test left behind (a timer, a
// client retrying a Redis the teardown stopped) must not hold the run until CI's deadline. `npx jest` without
// this script still reports such a leak ("Jest did not exit one second after the test run has completed").
const jestOk = run('jest (unit, integration, e2e)', bin('jest'), ['--json', `--outputFile=${out}`, '--forceExit', ...jestArgs]);
let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const result = JSON.parse(readFileSync(out, 'utf8'));
  passed = result.numPassedTests;
  failed = result.numFailedTests + (result.numRuntimeErrorTestSuites ?? 0);
  skipped = result.numPendingTests + result.numTodoTests;
  if (!jestOk && failed === 0) failed = 1;
} catch {
  failed += 1;
}
rmSync(dir, { recursive: true, force: true });
for (const [name, ok] of checks) {
  if (ok) passed++;
  else failed++;
  process.stdout.write(`check ${name}: ${ok ? 'passed' : 'failed'}\n`);
}
process.stdout.write(`\ntests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
