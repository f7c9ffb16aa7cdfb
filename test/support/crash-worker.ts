/**
 * A daemon in its own process, for tests that kill it (test/integration/engine/engine-crash.int-spec.ts).
 * Run with the TypeScript hook:
 *
 *   node -r ./test/support/ts-register.js test/support/crash-worker.ts
 *
 * Settings come from the environment exactly as for `presence-sync start` (loadConfig), plus
 * `CRASH_WORKER_EMAILS`: a JSON array of e-mails for the in-memory Salesforce org (one user per e-mail, ids
 * `005…` in this order, as the sandbox mirrors the contact center's agents).
 *
 * Prints one JSON line `{ "ready": true, "pid": …, "url": … }` on stdout once it listens. Stops cleanly on
 * SIGTERM / SIGINT, or when its stdin closes (the test process went away), and exits 0.
 */
import 'reflect-metadata';
import { loadConfig } from '@presence-sync/config';
import { InMemorySalesforce } from '@presence-sync/testing';
import { createDaemon } from '../../apps/presence-sync/src/daemon.bootstrap';

async function main(): Promise<void> {
  const emails = JSON.parse(process.env.CRASH_WORKER_EMAILS ?? '[]') as string[];
  const salesforce = new InMemorySalesforce();
  salesforce.addUsersForEmails(emails);
  const config = loadConfig(process.env);
  const app = await createDaemon(config, { salesforce });
  await app.listen(config.http.port, config.http.host);
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');

  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`crash-worker: ${why}: stopping\n`);
    app.close().then(
      () => process.exit(0),
      (e: Error) => {
        process.stderr.write(`crash-worker: shutdown error: ${e.message}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  process.stdin.once('end', () => stop('stdin closed'));
  process.stdin.resume();

  process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid, url })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`crash-worker: cannot start: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
